-- Hand-made input for readmission_30d. Day k is the k-th calendar day after
-- the discharge date (day 0), whatever the hours. A readmission is another
-- inpatient stay that took place (arrived, triaged, in-progress, onleave,
-- finished) starting on days 1..30.
--
-- The data's horizon is 2025-06-30 (EHR run data_as_of 2025-06-30 18:00);
-- a later CRM-only run (2025-09-30) and a failed EHR run (2025-08-31) do not
-- move it, nor does the value-set load the runner adds. So a discharge is an
-- index stay only when its date + 30 <= 2025-06-30 (discharged by
-- 2025-05-31).
--
-- Each patient rNN has one scenario. Stays are class inpatient, status
-- finished, disposition home, clinic hosp-a unless said otherwise.
--
--  pat  stay                          what follows                     row
--  r01  A ..2025-01-05 15:00          B starts 02-04 = day 30          A 1 (30)
--       B 02-04..02-07                nothing                          B 0
--  r02  A ..2025-01-05 15:00          B starts 02-05 = day 31          A 0
--       B 02-05.. in-progress         (no end: not a discharge)        -
--  r03  A ..2025-01-06 23:50 hosp-b   B starts 01-07 00:10 = day 1     A 1 (1)
--       B 01-07..01-10 hosp-b         nothing                          B 0
--  r04  A ..2025-01-08 10:00 hosp-b   B starts 01-08 18:00 = day 0: a  not index
--                                     transfer, not a readmission
--       B ..01-12 hosp-b              C starts 01-20 = day 8           B 1 (8)
--       C 01-20..01-22 hosp-b         nothing                          C 0
--  r05  A ..2025-01-10                died 2025-01-10 (the discharge   not index
--                                     date); readmission-like stay
--                                     01-12 in-progress
--  r06  A ..2025-01-10 exp            disposition expired              not index
--  r07  A ..2025-01-10 other-hcf      transfer to another hospital;    not index
--                                     B starts 01-15 (day 5)
--       B 01-15..01-17                nothing                          B 0
--  r08  A ..2025-01-15 snf            skilled nursing stays an index;  A 1 (10)
--                                     C 01-25 (day 10) in-progress
--  r09  A ..2025-01-16                stays planned (day 5), cancelled A 0
--                                     (day 6), entered-in-error (day
--                                     7): none took place
--  r10  A ..2025-01-18 aadvice        left against advice stays an     A 1 (2)
--                                     index; B 01-20 (day 2) arrived
--  r11  A ..2025-01-20                emergency visit day 3, office    A 0
--                                     visit day 4: not inpatient
--  r19  A ..2025-01-25 hosp           hospice stays an index; nothing  A 0
--  r12  A 02-01..2025-02-05 12:00     B 02-04..02-08 overlaps A's      not index
--                                     discharge: never left hospital
--       B ..2025-02-08 12:00          nothing                          B 0
--  r13  A ..2025-02-10                S: a stay without a start, ended A 0
--                                     02-20: not a readmission (its
--                                     start is unknown)
--       S (no start)..2025-02-20      a discharge like any other       S 0
--  r14  A ..2025-02-14                died 2025-02-20, after the       A 0
--                                     discharge day: stays an index
--  r17  A ..2025-03-03, no clinic,    not in patients; B 03-17 (day    A 1 (14)
--       no disposition                14) in-progress
--  r15  A ..2025-05-31                B 06-30 (day 30, the horizon's   A 1 (30)
--                                     day) in-progress
--  r16  A ..2025-06-01                day 30 = 07-01 is after the      too recent
--                                     horizon; B 06-05 in-progress
--  r18  no discharge: a stay in-progress without an end, a finished    -
--       stay without an end, an entered-in-error stay with an end
--
-- Rows by discharge month (numerator/denominator):
--   2025-01: r01A r02A r03A r03B r04B r04C r07B r08A r09A r10A r11A r19A
--            = 12; numerator r01A r03A r04B r08A r10A = 5          -> 5/12
--   2025-02: r01B r12B r13A r13S r14A                              -> 0/5
--   2025-03: r17A                                                  -> 1/1
--   2025-05: r15A                                                  -> 1/1
--   total                                                          -> 7/19
-- value (days to readmission): r01A 30, r03A 1, r04B 8, r08A 10, r10A 2,
-- r17A 14, r15A 30; NULL for the others.
--
-- Dimensions. Patients are female, born 1960-01-01 (65-74 in 2025), ZIP3
-- 021, Medicare since 2024, except r03: male, born 1990-05-05 (18-44), ZIP3
-- 100, commercial; r17 is not in patients (all unknown).
--   clinic, January: hosp-b (r03, r04) 2/4 (r03A r04B of r03A r03B r04B
--   r04C), hosp-a 3/8.
--   disposition, whole year: snf 1/1 (r08A), aadvice 1/1 (r10A), hosp 0/1
--   (r19A), unknown 1/1 (r17A), home 4/15 (r01A r03A r04B r15A).
--   age band, sex, payer, ZIP3, whole year: 18-44 male commercial 100: 1/2
--   (r03); unknown x4: 1/1 (r17); 65-74 female medicare 021: 5/16.

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
SELECT 'r' || lpad(CAST(i AS VARCHAR), 2, '0'), DATE '1960-01-01', 1960, false, 'female', '021', NULL, 'ehr'
FROM range(1, 20) AS t(i)
WHERE i NOT IN (3, 17);
UPDATE patients SET deceased_date = DATE '2025-01-10' WHERE patient_id = 'r05';
UPDATE patients SET deceased_date = DATE '2025-02-20' WHERE patient_id = 'r14';
INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, zip3, deceased_date, source) VALUES
    ('r03', '1990-05-05', 1990, false, 'male', '100', NULL, 'ehr');

INSERT INTO coverage (coverage_key, patient_id, status, payer_type, period_start, period_end)
SELECT 'cov-' || patient_id, patient_id, 'active',
       CASE patient_id WHEN 'r03' THEN 'commercial' ELSE 'medicare' END, DATE '2024-01-01', NULL
FROM patients;

INSERT INTO encounters (encounter_key, patient_id, class, status, class_code, start_ts, end_ts, clinic_id, discharge_system, discharge_code)
SELECT k, p, 'inpatient', s, 'IMP', CAST(st AS TIMESTAMP), CAST(en AS TIMESTAMP), c,
       CASE WHEN d IS NULL THEN NULL ELSE 'http://terminology.hl7.org/CodeSystem/discharge-disposition' END, d
FROM (VALUES
    ('s01a', 'r01', 'finished', '2025-01-02 08:00', '2025-01-05 15:00', 'hosp-a', 'home'),
    ('s01b', 'r01', 'finished', '2025-02-04 08:00', '2025-02-07 15:00', 'hosp-a', 'home'),
    ('s02a', 'r02', 'finished', '2025-01-02 08:00', '2025-01-05 15:00', 'hosp-a', 'home'),
    ('s02b', 'r02', 'in-progress', '2025-02-05 08:00', NULL, 'hosp-a', NULL),
    ('s03a', 'r03', 'finished', '2025-01-03 08:00', '2025-01-06 23:50', 'hosp-b', 'home'),
    ('s03b', 'r03', 'finished', '2025-01-07 00:10', '2025-01-10 12:00', 'hosp-b', 'home'),
    ('s04a', 'r04', 'finished', '2025-01-05 08:00', '2025-01-08 10:00', 'hosp-b', 'home'),
    ('s04b', 'r04', 'finished', '2025-01-08 18:00', '2025-01-12 12:00', 'hosp-b', 'home'),
    ('s04c', 'r04', 'finished', '2025-01-20 08:00', '2025-01-22 12:00', 'hosp-b', 'home'),
    ('s05a', 'r05', 'finished', '2025-01-07 08:00', '2025-01-10 09:00', 'hosp-a', 'home'),
    ('s05b', 'r05', 'in-progress', '2025-01-12 08:00', NULL, 'hosp-a', NULL),
    ('s06a', 'r06', 'finished', '2025-01-07 08:00', '2025-01-10 09:00', 'hosp-a', 'exp'),
    ('s07a', 'r07', 'finished', '2025-01-07 08:00', '2025-01-10 09:00', 'hosp-a', 'other-hcf'),
    ('s07b', 'r07', 'finished', '2025-01-15 08:00', '2025-01-17 12:00', 'hosp-a', 'home'),
    ('s08a', 'r08', 'finished', '2025-01-12 08:00', '2025-01-15 09:00', 'hosp-a', 'snf'),
    ('s08c', 'r08', 'in-progress', '2025-01-25 08:00', NULL, 'hosp-a', NULL),
    ('s09a', 'r09', 'finished', '2025-01-13 08:00', '2025-01-16 09:00', 'hosp-a', 'home'),
    ('s09p', 'r09', 'planned', '2025-01-21 08:00', '2025-01-22 08:00', 'hosp-a', NULL),
    ('s09c', 'r09', 'cancelled', '2025-01-22 08:00', '2025-01-23 08:00', 'hosp-a', NULL),
    ('s09e', 'r09', 'entered-in-error', '2025-01-23 08:00', '2025-01-24 08:00', 'hosp-a', 'home'),
    ('s10a', 'r10', 'finished', '2025-01-15 08:00', '2025-01-18 09:00', 'hosp-a', 'aadvice'),
    ('s10b', 'r10', 'arrived', '2025-01-20 08:00', NULL, 'hosp-a', NULL),
    ('s11a', 'r11', 'finished', '2025-01-17 08:00', '2025-01-20 09:00', 'hosp-a', 'home'),
    ('s19a', 'r19', 'finished', '2025-01-22 08:00', '2025-01-25 09:00', 'hosp-a', 'hosp'),
    ('s12a', 'r12', 'finished', '2025-02-01 08:00', '2025-02-05 12:00', 'hosp-a', 'home'),
    ('s12b', 'r12', 'finished', '2025-02-04 08:00', '2025-02-08 12:00', 'hosp-a', 'home'),
    ('s13a', 'r13', 'finished', '2025-02-07 08:00', '2025-02-10 09:00', 'hosp-a', 'home'),
    ('s13s', 'r13', 'finished', NULL, '2025-02-20 09:00', 'hosp-a', 'home'),
    ('s14a', 'r14', 'finished', '2025-02-11 08:00', '2025-02-14 09:00', 'hosp-a', 'home'),
    ('s17a', 'r17', 'finished', '2025-02-28 08:00', '2025-03-03 09:00', NULL, NULL),
    ('s17b', 'r17', 'in-progress', '2025-03-17 08:00', NULL, NULL, NULL),
    ('s15a', 'r15', 'finished', '2025-05-28 08:00', '2025-05-31 09:00', 'hosp-a', 'home'),
    ('s15b', 'r15', 'in-progress', '2025-06-30 08:00', NULL, 'hosp-a', NULL),
    ('s16a', 'r16', 'finished', '2025-05-29 08:00', '2025-06-01 09:00', 'hosp-a', 'home'),
    ('s16b', 'r16', 'in-progress', '2025-06-05 08:00', NULL, 'hosp-a', NULL),
    ('s18a', 'r18', 'in-progress', '2025-01-10 08:00', NULL, 'hosp-a', NULL),
    ('s18b', 'r18', 'finished', '2025-02-10 08:00', NULL, 'hosp-a', 'home'),
    ('s18c', 'r18', 'entered-in-error', '2025-03-10 08:00', '2025-03-12 08:00', 'hosp-a', 'home')
) AS t(k, p, s, st, en, c, d);

INSERT INTO encounters (encounter_key, patient_id, class, status, class_code, start_ts, end_ts, clinic_id) VALUES
    ('v11e', 'r11', 'emergency', 'finished', 'EMER', '2025-01-23 09:00', '2025-01-23 13:00', 'hosp-a'),
    ('v11a', 'r11', 'ambulatory', 'finished', 'AMB', '2025-01-24 09:00', '2025-01-24 09:30', 'clinic-01');
