-- Hand-made input for follow_up_7d and follow_up_30d (follow_up_30d's
-- fixture.sql includes this file; each expect.csv reads it with its own
-- window). Day k is the
-- k-th calendar day after the discharge date (day 0), whatever the hours.
--
-- The data's horizon is 2025-06-30 (EHR run data_as_of 2025-06-30 18:00).
-- A later CRM-only run (2025-09-30) and a failed EHR run (2025-08-31) must
-- not move it, nor the value-set load the runner adds. So a discharge counts
-- for 7 days when its date + 7 <= 2025-06-30 (discharged by 2025-06-23), for
-- 30 days when its date + 30 <= 2025-06-30 (discharged by 2025-05-31).
--
-- Each patient fNN has one scenario. Stays are class inpatient, status
-- finished, disposition home, clinic hosp-a unless said otherwise; visits
-- are class ambulatory, status finished.
--
--  pat  discharge (day 0)      what follows                           7d        30d
--  f01  2025-01-05 20:00       visit 01-12 08:00 = day 7              1 (7)     1 (7)
--  f02  2025-01-05 20:00 hosp-b visit 01-13 09:00 = day 8             0         1 (8)
--  f03  2025-01-06 10:00       telehealth 02-05 = day 30              0         1 (30)
--  f04  2025-01-06 10:00       visit 02-06 = day 31                   0         0
--  f05  2025-01-07 11:00       visit 01-07 15:00 = day 0 only         0         0
--  f06  2025-01-08 23:50 hosp-b visit 01-09 00:10 = day 1             1 (1)     1 (1)
--  f07  2025-01-10 12:00       visits cancelled (day 2), planned      0         1 (20)
--                              (day 3), entered-in-error (day 4), an
--                              emergency visit (day 5): none counts;
--                              visit arrived 01-30 = day 20
--  f08  2025-01-10 12:00       visit in-progress (no end) day 3,      1 (3)     1 (3)
--                              another day 5: the first is day 3
--  f09  2025-01-12 09:00       died 2025-01-12 (deceased_date =       excluded  excluded
--                              discharge date); visit day 2
--  f10  2025-01-12 09:00 exp   disposition expired, no death date     excluded  excluded
--  f11  2025-01-14 09:00       died 2025-01-20, after the discharge   0         0
--                              day: stays in, no visit
--  f12  2025-01-14 other-hcf   transfer to another hospital; visit    excluded  excluded
--                              day 2
--  f13  2025-01-14 snf         skilled nursing; visit day 2           excluded  excluded
--  f19  2025-01-14 hosp        hospice; visit day 1                   excluded  excluded
--  f14  2025-01-14 aadvice hosp-b  left against advice: stays;        1 (4)     1 (4)
--                              visit day 4
--  f15  A 2025-01-15 10:00     visit day 2 (01-17), readmitted        excluded  excluded
--                              01-20 (day 5)
--       B 2025-01-23 15:00     (stay 01-20..01-23) visit 02-02 =      0         1 (10)
--                              day 10 (the 01-17 visit is before it)
--  f16  A 2025-01-16 10:00     visit day 3 (01-19), readmitted        1 (3)     excluded
--                              01-28 (day 12: after 7, within 30)
--       B 2025-01-30 15:00     (stay 01-28..01-30) no visit after     0         0
--  f17  A 2025-01-25 10:00     another stay starts 01-25 12:00 (day   excluded  excluded
--                              0: a transfer)
--       B 2025-01-28 16:00     visit 02-04 = day 7                    1 (7)     1 (7)
--  f18  no discharge: a stay in-progress without an end, a finished   -         -
--       stay without an end, an entered-in-error stay with an end, a
--       finished emergency visit
--  f24  2025-02-10 09:00       not in patients, no clinic, no         1 (7)     1 (7)
--                              disposition; telehealth day 7
--  f25  2025-02-15 09:00       a planned stay (day 3) and a           1 (6)     1 (6)
--                              cancelled stay (day 4) never happened:
--                              not readmissions; visit day 6
--  f26  A 2025-03-05 12:00     stay B (03-04..03-08) overlaps the     excluded  excluded
--                              discharge: never left hospital
--       B 2025-03-08 12:00     no visit                               0         0
--  f27  2025-03-10 14:00       stay without a start: still a          1 (1)     1 (1)
--                              discharge; a visit without a start
--                              never counts; visit 03-11 = day 1
--  f22  2025-05-31 09:00       visit 06-30 10:00 = day 30             0         1 (30)
--  f23  2025-06-01 09:00       no visit; 30 days end 07-01, after     0         too recent
--                              the horizon
--  f20  2025-06-23 09:00       visit 06-30 08:00 = day 7 (the         1 (7)     too recent
--                              horizon's day counts as seen)
--  f21  2025-06-24 09:00       day 7 = 07-01 is after the horizon     too recent too recent
--
-- follow_up_7d, rows by discharge month (numerator/denominator):
--   2025-01: f01 f02 f03 f04 f05 f06 f07 f08 f11 f14 f15B f16A f16B f17B
--            = 14; numerator f01 f06 f08 f14 f16A f17B = 6        -> 6/14
--   2025-02: f24 f25                                              -> 2/2
--   2025-03: f26B (0) f27 (1)                                     -> 1/2
--   2025-05: f22 (0)                                              -> 0/1
--   2025-06: f23 (0) f20 (1)                                      -> 1/2
--   total                                                         -> 10/21
-- follow_up_30d:
--   2025-01: f01 f02 f03 f04 f05 f06 f07 f08 f11 f14 f15B f16B f17B
--            = 13; numerator f01 f02 f03 f06 f07 f08 f14 f15B f17B
--            = 9                                                  -> 9/13
--   2025-02: f24 f25                                              -> 2/2
--   2025-03: f26B (0) f27 (1)                                     -> 1/2
--   2025-05: f22 (1)                                              -> 1/1
--   total                                                         -> 13/18
--
-- Dimensions. Patients are female, born 1960-01-01 (65-74 in 2025), ZIP3
-- 021, Medicare since 2024, except:
--   f02  male, born 1990-05-05 (18-44), ZIP3 100, commercial
--   f06  male, born 1960-01-09: 64 on the discharge date 2025-01-08 (45-64);
--        commercial until 2025-01-08, Medicare from 2025-01-09 (the day of
--        the visit): payer on the discharge date is commercial
--   f24  not in patients: unknown age band, sex, payer, ZIP3
--   f27  male, age_90_plus (90+), no ZIP3, no coverage (payer unknown)
-- clinic: hosp-b for f02, f06, f14; unknown for f24; hosp-a otherwise.
-- January by clinic: 7d hosp-a 4/11 (f01 f08 f16A f17B of f01 f03 f04 f05
-- f07 f08 f11 f15B f16A f16B f17B), hosp-b 2/3 (f06 f14 of f02 f06 f14);
-- 30d hosp-a 6/10 (f16A out: f01 f03 f07 f08 f15B f17B of f01 f03 f04 f05
-- f07 f08 f11 f15B f16B f17B), hosp-b 3/3.
-- disposition, whole year: 7d aadvice 1/1 (f14), unknown 1/1 (f24), home
-- 8/19; 30d aadvice 1/1, unknown 1/1, home 11/16.
-- age band, sex, payer, ZIP3, whole year: 18-44 male commercial 100: 7d 0/1,
-- 30d 1/1 (f02); 45-64 male commercial 021: 1/1 both (f06); 90+ male
-- unknown unknown: 1/1 both (f27); unknown x4: 1/1 both (f24); 65-74 female
-- medicare 021: the rest, 7d 7/17, 30d 9/14.

INSERT INTO etl_runs (run_id, snapshot_id, job, status, deid_profile, started_at, finished_at, duration_ms,
                      rows_read, rows_loaded, rows_quarantined, error, data_as_of) VALUES
    ('run-ehr', 1, 'files', 'succeeded', 'limited', '2025-07-01 02:00', '2025-07-01 02:10', 600000, 0, 0, 0, NULL, '2025-06-30 18:00:00'),
    ('run-ehr-failed', NULL, 'files', 'failed', 'limited', '2025-09-01 02:00', '2025-09-01 02:01', 60000, 0, 0, 0, 'boom', '2025-08-31 18:00:00'),
    ('run-crm', 2, 'crm', 'succeeded', 'limited', '2025-10-01 02:00', '2025-10-01 02:05', 300000, 0, 0, 0, NULL, '2025-09-30 12:00:00');
INSERT INTO etl_run_counts (run_id, source, entity, rows_read, rows_loaded, rows_quarantined, rows_skipped) VALUES
    ('run-ehr', 'ehr', 'Encounter', 0, 0, 0, 0),
    ('run-ehr-failed', 'ehr', 'Encounter', 0, 0, 0, 0),
    ('run-crm', 'crm', 'messages', 0, 0, 0, 0);

INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, zip3, deceased_date, source)
SELECT 'f' || lpad(CAST(i AS VARCHAR), 2, '0'), DATE '1960-01-01', 1960, false, 'female', '021', NULL, 'ehr'
FROM range(1, 28) AS t(i)
WHERE i NOT IN (2, 6, 24, 27);
UPDATE patients SET deceased_date = DATE '2025-01-12' WHERE patient_id = 'f09';
UPDATE patients SET deceased_date = DATE '2025-01-20' WHERE patient_id = 'f11';
INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, zip3, deceased_date, source) VALUES
    ('f02', '1990-05-05', 1990, false, 'male', '100', NULL, 'ehr'),
    ('f06', '1960-01-09', 1960, false, 'male', '021', NULL, 'ehr'),
    ('f27', NULL, NULL, true, 'male', NULL, NULL, 'ehr');

INSERT INTO coverage (coverage_key, patient_id, status, payer_type, period_start, period_end)
SELECT 'cov-' || patient_id, patient_id, 'active', 'medicare', DATE '2024-01-01', NULL
FROM patients WHERE patient_id NOT IN ('f02', 'f06', 'f27');
INSERT INTO coverage (coverage_key, patient_id, status, payer_type, period_start, period_end) VALUES
    ('cov-f02', 'f02', 'active', 'commercial', '2020-01-01', NULL),
    ('cov-f06-1', 'f06', 'active', 'commercial', '2020-01-01', '2025-01-08'),
    ('cov-f06-2', 'f06', 'active', 'medicare', '2025-01-09', NULL);

-- Stays (inpatient, IMP). Disposition system: HL7 discharge-disposition.
INSERT INTO encounters (encounter_key, patient_id, class, status, class_code, start_ts, end_ts, clinic_id, discharge_system, discharge_code)
SELECT k, p, 'inpatient', s, 'IMP', CAST(st AS TIMESTAMP), CAST(en AS TIMESTAMP), c,
       CASE WHEN d IS NULL THEN NULL ELSE 'http://terminology.hl7.org/CodeSystem/discharge-disposition' END, d
FROM (VALUES
    ('s01',  'f01', 'finished', '2025-01-02 08:00', '2025-01-05 20:00', 'hosp-a', 'home'),
    ('s02',  'f02', 'finished', '2025-01-02 08:00', '2025-01-05 20:00', 'hosp-b', 'home'),
    ('s03',  'f03', 'finished', '2025-01-03 08:00', '2025-01-06 10:00', 'hosp-a', 'home'),
    ('s04',  'f04', 'finished', '2025-01-03 08:00', '2025-01-06 10:00', 'hosp-a', 'home'),
    ('s05',  'f05', 'finished', '2025-01-04 08:00', '2025-01-07 11:00', 'hosp-a', 'home'),
    ('s06',  'f06', 'finished', '2025-01-05 08:00', '2025-01-08 23:50', 'hosp-b', 'home'),
    ('s07',  'f07', 'finished', '2025-01-07 08:00', '2025-01-10 12:00', 'hosp-a', 'home'),
    ('s08',  'f08', 'finished', '2025-01-07 08:00', '2025-01-10 12:00', 'hosp-a', 'home'),
    ('s09',  'f09', 'finished', '2025-01-09 08:00', '2025-01-12 09:00', 'hosp-a', 'home'),
    ('s10',  'f10', 'finished', '2025-01-09 08:00', '2025-01-12 09:00', 'hosp-a', 'exp'),
    ('s11',  'f11', 'finished', '2025-01-11 08:00', '2025-01-14 09:00', 'hosp-a', 'home'),
    ('s12',  'f12', 'finished', '2025-01-11 08:00', '2025-01-14 09:00', 'hosp-a', 'other-hcf'),
    ('s13',  'f13', 'finished', '2025-01-11 08:00', '2025-01-14 09:00', 'hosp-a', 'snf'),
    ('s19',  'f19', 'finished', '2025-01-11 08:00', '2025-01-14 09:00', 'hosp-a', 'hosp'),
    ('s14',  'f14', 'finished', '2025-01-11 08:00', '2025-01-14 09:00', 'hosp-b', 'aadvice'),
    ('s15a', 'f15', 'finished', '2025-01-12 08:00', '2025-01-15 10:00', 'hosp-a', 'home'),
    ('s15b', 'f15', 'finished', '2025-01-20 08:00', '2025-01-23 15:00', 'hosp-a', 'home'),
    ('s16a', 'f16', 'finished', '2025-01-13 08:00', '2025-01-16 10:00', 'hosp-a', 'home'),
    ('s16b', 'f16', 'finished', '2025-01-28 08:00', '2025-01-30 15:00', 'hosp-a', 'home'),
    ('s17a', 'f17', 'finished', '2025-01-20 08:00', '2025-01-25 10:00', 'hosp-a', 'home'),
    ('s17b', 'f17', 'finished', '2025-01-25 12:00', '2025-01-28 16:00', 'hosp-a', 'home'),
    ('s18a', 'f18', 'in-progress', '2025-01-10 08:00', NULL, 'hosp-a', NULL),
    ('s18b', 'f18', 'finished', '2025-02-10 08:00', NULL, 'hosp-a', 'home'),
    ('s18c', 'f18', 'entered-in-error', '2025-03-10 08:00', '2025-03-12 08:00', 'hosp-a', 'home'),
    ('s24',  'f24', 'finished', '2025-02-07 08:00', '2025-02-10 09:00', NULL, NULL),
    ('s25',  'f25', 'finished', '2025-02-12 08:00', '2025-02-15 09:00', 'hosp-a', 'home'),
    ('s25p', 'f25', 'planned', '2025-02-18 08:00', '2025-02-19 08:00', 'hosp-a', NULL),
    ('s25c', 'f25', 'cancelled', '2025-02-19 08:00', '2025-02-20 08:00', 'hosp-a', NULL),
    ('s26a', 'f26', 'finished', '2025-03-01 08:00', '2025-03-05 12:00', 'hosp-a', 'home'),
    ('s26b', 'f26', 'finished', '2025-03-04 08:00', '2025-03-08 12:00', 'hosp-a', 'home'),
    ('s27',  'f27', 'finished', NULL, '2025-03-10 14:00', 'hosp-a', 'home'),
    ('s22',  'f22', 'finished', '2025-05-28 08:00', '2025-05-31 09:00', 'hosp-a', 'home'),
    ('s23',  'f23', 'finished', '2025-05-29 08:00', '2025-06-01 09:00', 'hosp-a', 'home'),
    ('s20',  'f20', 'finished', '2025-06-20 08:00', '2025-06-23 09:00', 'hosp-a', 'home'),
    ('s21',  'f21', 'finished', '2025-06-21 08:00', '2025-06-24 09:00', 'hosp-a', 'home')
) AS t(k, p, s, st, en, c, d);

-- Visits after the stays.
INSERT INTO encounters (encounter_key, patient_id, class, status, class_code, start_ts, end_ts, clinic_id)
SELECT k, p, cl, s, CASE cl WHEN 'ambulatory' THEN 'AMB' WHEN 'telehealth' THEN 'VR' ELSE 'EMER' END,
       CAST(st AS TIMESTAMP), CAST(en AS TIMESTAMP), 'clinic-01'
FROM (VALUES
    ('v01',  'f01', 'ambulatory', 'finished', '2025-01-12 08:00', '2025-01-12 08:30'),
    ('v02',  'f02', 'ambulatory', 'finished', '2025-01-13 09:00', '2025-01-13 09:30'),
    ('v03',  'f03', 'telehealth', 'finished', '2025-02-05 09:00', '2025-02-05 09:20'),
    ('v04',  'f04', 'ambulatory', 'finished', '2025-02-06 09:00', '2025-02-06 09:30'),
    ('v05',  'f05', 'ambulatory', 'finished', '2025-01-07 15:00', '2025-01-07 15:30'),
    ('v06',  'f06', 'ambulatory', 'finished', '2025-01-09 00:10', '2025-01-09 00:40'),
    ('v07a', 'f07', 'ambulatory', 'cancelled', '2025-01-12 09:00', NULL),
    ('v07b', 'f07', 'ambulatory', 'planned', '2025-01-13 09:00', NULL),
    ('v07c', 'f07', 'ambulatory', 'entered-in-error', '2025-01-14 09:00', '2025-01-14 09:30'),
    ('v07d', 'f07', 'emergency', 'finished', '2025-01-15 09:00', '2025-01-15 13:00'),
    ('v07e', 'f07', 'ambulatory', 'arrived', '2025-01-30 09:00', NULL),
    ('v08a', 'f08', 'ambulatory', 'in-progress', '2025-01-13 09:00', NULL),
    ('v08b', 'f08', 'ambulatory', 'finished', '2025-01-15 09:00', '2025-01-15 09:30'),
    ('v09',  'f09', 'ambulatory', 'finished', '2025-01-14 09:00', '2025-01-14 09:30'),
    ('v12',  'f12', 'ambulatory', 'finished', '2025-01-16 09:00', '2025-01-16 09:30'),
    ('v13',  'f13', 'ambulatory', 'finished', '2025-01-16 09:00', '2025-01-16 09:30'),
    ('v19',  'f19', 'ambulatory', 'finished', '2025-01-15 09:00', '2025-01-15 09:30'),
    ('v14',  'f14', 'ambulatory', 'finished', '2025-01-18 09:00', '2025-01-18 09:30'),
    ('v15a', 'f15', 'ambulatory', 'finished', '2025-01-17 09:00', '2025-01-17 09:30'),
    ('v15b', 'f15', 'ambulatory', 'finished', '2025-02-02 09:00', '2025-02-02 09:30'),
    ('v16',  'f16', 'ambulatory', 'finished', '2025-01-19 09:00', '2025-01-19 09:30'),
    ('v17',  'f17', 'ambulatory', 'finished', '2025-02-04 09:00', '2025-02-04 09:30'),
    ('v18',  'f18', 'emergency', 'finished', '2025-04-01 09:00', '2025-04-01 12:00'),
    ('v24',  'f24', 'telehealth', 'finished', '2025-02-17 09:00', '2025-02-17 09:20'),
    ('v25',  'f25', 'ambulatory', 'finished', '2025-02-21 09:00', '2025-02-21 09:30'),
    ('v27a', 'f27', 'ambulatory', 'finished', NULL, '2025-03-11 08:00'),
    ('v27b', 'f27', 'ambulatory', 'finished', '2025-03-11 09:00', '2025-03-11 09:30'),
    ('v22',  'f22', 'ambulatory', 'finished', '2025-06-30 10:00', '2025-06-30 10:30'),
    ('v20',  'f20', 'ambulatory', 'finished', '2025-06-30 08:00', '2025-06-30 08:30')
) AS t(k, p, cl, s, st, en);
