-- Hand-made input for prevalence_per_1000. The shipped condition groups
-- (metrics/valuesets/condition-groups.json, ten groups) are loaded by the
-- runner; every patient-month of the panel gives one row per group.
--
-- Horizon: the newest committed EHR run has data as of 2025-03-15, so the
-- last month is February 2025 (March is not over). A later CRM-only run
-- (2025-06-30) and a later failed EHR run (2025-09-30) do not move it.
--
-- Default patient: female, born 1970-01-01 (45-64), zip3 021, clinic-01,
-- commercial coverage since 2015-01-01, one finished visit on 2024-11-20,
-- so in the panel from November 2024 to the last month (February 2025).
--
-- The panel (a finished visit in the 24 months ending with the month,
-- alive on its last day):
--   p01  visit 2023-01-15: in the panel 2023-01 .. 2024-12 (on 2025-01-31
--        the visit is more than 24 months back)
--   p02  visits cancelled (2024-06-10) and planned (2025-01-10): never
--   p03  male, clinic-02, no coverage (payer unknown); visit 2024-06-10;
--        died 2025-01-31, the month's last day: in 2024-06 .. 2024-12 only
--   p04  first visit 2025-02-03: 2025-02
--   p05  male, born 2025-01-20 (0-17), clinic-02, zip3 100, medicaid from
--        2025-01-20; visit 2025-01-25: 2025-01 .. 2025-02
--   p10 .. p24, p26  default visit: 2024-11 .. 2025-02
--   p25  visit 2022-01-05: 2022-01 .. 2023-12 (its diabetes is never seen
--        in the months below)
--
-- Diabetes (44054006 / E11.x) and the other groups, active on the month's
-- last day:
--   p10  born 1960-01-31 (64 on 2024-12-31, 65 on 2025-01-31: the band
--        changes on the birthday, a month's last day); diabetes since 2010
--        and a second diabetes record (E11.9, since 2012): one row per
--        group, numerator 1 every month
--   p11  onset 2025-01-31 (a month's last day): 2025-01 and 2025-02
--   p12  onset 2025-02-01 (the next day): 2025-02 only
--   p13  2020 .. abated 2025-01-31 (resolved): over on January's last
--        day, so up to 2024-12
--   p14  2020 .. abated 2025-02-01: up to 2025-01. Payer: commercial
--        ended 2025-01-15, medicare from 2025-01-16: commercial in 2024-11
--        and 2024-12, medicare from 2025-01
--   p15  refuted: never;  p16  entered-in-error: never
--   p17  resolved without an abatement date (over at an unknown time):
--        never
--   p18  coded E11.9 in ICD-10-CM only: every month. Also an
--        entered-in-error medicaid coverage, which is ignored: commercial
--   p19  coded 444814009 (viral sinusitis, in no group) with an ICD-10-CM
--        coding E11.65: diabetes by its ICD-10-CM coding, every month.
--        Also medicaid since 2024-06-01 beside the commercial since 2015:
--        the latest start wins, medicaid
--   p20  no onset, no recorded date: always active, every month
--   p21  no onset, recorded 2025-01-10: from 2025-01
--   p22  aged 90+ (no birth date, band 90+); unconfirmed diabetes since
--        2000: counts (only refuted and entered-in-error do not)
--   p23  I12.9 (hypertensive CKD): hypertension and ckd, every month; no
--        diabetes
--   p24  sex other; diabetes since 2016 without clinical or verification
--        status: ongoing, every month
--   p25  diabetes since 2010 (never in the panel in the months below)
--   p26  diabetes 2020 .. abated 2024-12-15, then again from 2025-02-10:
--        2024-11, then 2025-02 (not 2024-12 nor 2025-01)
--
-- Panel sizes: 2024-12: p01, p03 and the 16 default = 18;
-- 2025-01: p05 and the 16 = 17; 2025-02: p04, p05 and the 16 = 18.
-- Diabetes:
--   2024-12: p10 p13 p14 p18 p19 p20 p22 p24 = 8 of 18
--   2025-01: p10 p11 p14 p18 p19 p20 p21 p22 p24 = 9 of 17
--   2025-02: p10 p11 p12 p18 p19 p20 p21 p22 p24 p26 = 10 of 18
-- Hypertension and ckd: p23 alone, 1 per month. Other groups: 0.
--
-- Diabetes by age band (on the month's last day), 2024-12 .. 2025-01:
--   2024-12 45-64: 17 (all but p22) with p10 p13 p14 p18 p19 p20 p24 = 7
--   2024-12 90+:   p22, 1 of 1
--   2025-01 0-17:  p05, 0 of 1
--   2025-01 45-64: 14 (p11..p21 but p22, p23, p24, p26) with p11 p14 p18
--                  p19 p20 p21 p24 = 7
--   2025-01 65-74: p10, 1 of 1;  2025-01 90+: p22, 1 of 1
-- Diabetes by payer, 2025-01 (17): medicaid p05, p19 -> 1 of 2; medicare
-- p14 -> 1 of 1; commercial the other 14 with p10 p11 p18 p20 p21 p22 p24
-- -> 7 of 14.
-- Diabetes by sex, 2025-02 (18): female 16 with 9 (all but p24's), male
-- p05 0 of 1, other p24 1 of 1. By clinic, 2025-02: clinic-01 10 of 17,
-- clinic-02 (p05) 0 of 1.
-- Unsliced, 2025-01: the numerator counts patient-groups: 9 diabetes + 1
-- hypertension + 1 ckd = 11 of 17 x 10 = 170 rows.
-- members.csv (membership: numerator): every patient-month-group with
-- the condition, by name, and per month the rest of the panel counted:
-- panel size x 10 minus that month's cases (p01 from 2023-01, p03 from
-- 2024-06, p25 in 2022-2023 included), e.g. 2025-01: 17 x 10 - 11 = 159.

INSERT INTO etl_runs (run_id, snapshot_id, job, status, deid_profile, started_at, finished_at,
        duration_ms, rows_read, rows_loaded, rows_quarantined, data_as_of) VALUES
    ('ehr-1', 1, 'files', 'succeeded', 'limited', TIMESTAMP '2025-03-16 01:00:00', TIMESTAMP '2025-03-16 01:05:00', 0, 0, 0, 0, TIMESTAMP '2025-03-15 10:00:00'),
    ('crm-2', 2, 'crm-rest', 'succeeded', 'limited', TIMESTAMP '2025-07-01 01:00:00', TIMESTAMP '2025-07-01 01:05:00', 0, 0, 0, 0, TIMESTAMP '2025-06-30 23:00:00'),
    ('ehr-3', NULL, 'files', 'failed', 'limited', TIMESTAMP '2025-10-01 01:00:00', TIMESTAMP '2025-10-01 01:05:00', 0, 0, 0, 0, TIMESTAMP '2025-09-30 23:00:00');
INSERT INTO etl_run_counts VALUES
    ('ehr-1', 'ehr', 'Encounter', 0, 0, 0, 0),
    ('crm-2', 'crm', 'messages', 0, 0, 0, 0),
    ('ehr-3', 'ehr', 'Encounter', 0, 0, 0, 0);

INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, zip3, clinic_id, deceased_date, source)
SELECT 'p' || n, DATE '1970-01-01', 1970, false, 'female', '021', 'clinic-01', NULL, 'ehr'
FROM (VALUES ('01'), ('02'), ('04'), ('11'), ('12'), ('13'), ('14'), ('15'), ('16'), ('17'), ('18'),
             ('19'), ('20'), ('21'), ('23'), ('25'), ('26')) AS t(n);
INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, zip3, clinic_id, deceased_date, source) VALUES
    ('p03', DATE '1970-01-01', 1970, false, 'male',   '021', 'clinic-02', DATE '2025-01-31', 'ehr'),
    ('p05', DATE '2025-01-20', 2025, false, 'male',   '100', 'clinic-02', NULL, 'ehr'),
    ('p10', DATE '1960-01-31', 1960, false, 'female', '021', 'clinic-01', NULL, 'ehr'),
    ('p22', NULL,              NULL, true,  'female', '021', 'clinic-01', NULL, 'ehr'),
    ('p24', DATE '1970-01-01', 1970, false, 'other',  '021', 'clinic-01', NULL, 'ehr');

-- Commercial since 2015 for everyone but p03 (none), p05 and p14.
INSERT INTO coverage (coverage_key, patient_id, status, payer_type, period_start, period_end)
SELECT 'cov-' || patient_id, patient_id, 'active', 'commercial', DATE '2015-01-01', NULL
FROM patients WHERE patient_id NOT IN ('p03', 'p05', 'p14');
INSERT INTO coverage (coverage_key, patient_id, status, payer_type, period_start, period_end) VALUES
    ('cov-p05',   'p05', 'active',           'medicaid',   DATE '2025-01-20', NULL),
    ('cov-p14-1', 'p14', 'active',           'commercial', DATE '2015-01-01', DATE '2025-01-15'),
    ('cov-p14-2', 'p14', 'active',           'medicare',   DATE '2025-01-16', NULL),
    ('cov-p18-x', 'p18', 'entered-in-error', 'medicaid',   DATE '2024-01-01', NULL),
    ('cov-p19-2', 'p19', 'active',           'medicaid',   DATE '2024-06-01', NULL);

-- The default visit for p10 .. p26 (not p25).
INSERT INTO encounters (encounter_key, patient_id, class, status, type_code, start_ts, end_ts, clinic_id)
SELECT 'enc-' || patient_id, patient_id, 'ambulatory', 'finished', '185349003',
       TIMESTAMP '2024-11-20 09:00:00', TIMESTAMP '2024-11-20 09:30:00', 'clinic-01'
FROM patients WHERE patient_id >= 'p10' AND patient_id <> 'p25';
INSERT INTO encounters (encounter_key, patient_id, class, status, type_code, start_ts, end_ts, clinic_id) VALUES
    ('enc-p01',   'p01', 'ambulatory', 'finished',  '185349003', TIMESTAMP '2023-01-15 09:00:00', TIMESTAMP '2023-01-15 09:30:00', 'clinic-01'),
    ('enc-p02-1', 'p02', 'ambulatory', 'cancelled', '185349003', TIMESTAMP '2024-06-10 09:00:00', NULL, 'clinic-01'),
    ('enc-p02-2', 'p02', 'ambulatory', 'planned',   '185349003', TIMESTAMP '2025-01-10 09:00:00', NULL, 'clinic-01'),
    ('enc-p03',   'p03', 'ambulatory', 'finished',  '185349003', TIMESTAMP '2024-06-10 09:00:00', TIMESTAMP '2024-06-10 09:30:00', 'clinic-02'),
    ('enc-p04',   'p04', 'ambulatory', 'finished',  '185349003', TIMESTAMP '2025-02-03 09:00:00', TIMESTAMP '2025-02-03 09:30:00', 'clinic-01'),
    ('enc-p05',   'p05', 'ambulatory', 'finished',  '410620009', TIMESTAMP '2025-01-25 09:00:00', TIMESTAMP '2025-01-25 09:30:00', 'clinic-02'),
    ('enc-p25',   'p25', 'ambulatory', 'finished',  '185349003', TIMESTAMP '2022-01-05 09:00:00', TIMESTAMP '2022-01-05 09:30:00', 'clinic-01');

INSERT INTO conditions (condition_key, patient_id, code_system, code, icd10_code, clinical_status,
        verification_status, onset_date, abatement_date, recorded_date) VALUES
    ('c-p10-a', 'p10', 'http://snomed.info/sct', '44054006', 'E11.9', 'active', 'confirmed', DATE '2010-05-01', NULL, DATE '2010-05-01'),
    ('c-p10-b', 'p10', 'http://hl7.org/fhir/sid/icd-10-cm', 'E11.9', 'E11.9', 'active', 'confirmed', DATE '2012-01-01', NULL, DATE '2012-01-01'),
    ('c-p11', 'p11', 'http://snomed.info/sct', '44054006', 'E11.9', 'active', 'confirmed', DATE '2025-01-31', NULL, DATE '2025-01-31'),
    ('c-p12', 'p12', 'http://snomed.info/sct', '44054006', 'E11.9', 'active', 'confirmed', DATE '2025-02-01', NULL, DATE '2025-02-01'),
    ('c-p13', 'p13', 'http://snomed.info/sct', '44054006', 'E11.9', 'resolved', 'confirmed', DATE '2020-01-01', DATE '2025-01-31', DATE '2020-01-01'),
    ('c-p14', 'p14', 'http://snomed.info/sct', '44054006', 'E11.9', 'resolved', 'confirmed', DATE '2020-01-01', DATE '2025-02-01', DATE '2020-01-01'),
    ('c-p15', 'p15', 'http://snomed.info/sct', '44054006', 'E11.9', NULL, 'refuted', DATE '2020-01-01', NULL, DATE '2020-01-01'),
    ('c-p16', 'p16', 'http://snomed.info/sct', '44054006', 'E11.9', 'active', 'entered-in-error', DATE '2020-01-01', NULL, DATE '2020-01-01'),
    ('c-p17', 'p17', 'http://snomed.info/sct', '44054006', 'E11.9', 'resolved', 'confirmed', DATE '2020-01-01', NULL, DATE '2020-01-01'),
    ('c-p18', 'p18', 'http://hl7.org/fhir/sid/icd-10-cm', 'E11.9', 'E11.9', 'active', 'confirmed', DATE '2015-03-01', NULL, DATE '2015-03-01'),
    ('c-p19', 'p19', 'http://snomed.info/sct', '444814009', 'E11.65', 'active', 'confirmed', DATE '2018-01-01', NULL, DATE '2018-01-01'),
    ('c-p20', 'p20', 'http://snomed.info/sct', '44054006', NULL, 'active', 'confirmed', NULL, NULL, NULL),
    ('c-p21', 'p21', 'http://snomed.info/sct', '44054006', NULL, 'active', 'confirmed', NULL, NULL, DATE '2025-01-10'),
    ('c-p22', 'p22', 'http://snomed.info/sct', '44054006', 'E11.9', 'active', 'unconfirmed', DATE '2000-01-01', NULL, DATE '2000-01-01'),
    ('c-p23', 'p23', 'http://hl7.org/fhir/sid/icd-10-cm', 'I12.9', 'I12.9', 'active', 'confirmed', DATE '2019-01-01', NULL, DATE '2019-01-01'),
    ('c-p24', 'p24', 'http://snomed.info/sct', '44054006', 'E11.9', NULL, NULL, DATE '2016-01-01', NULL, DATE '2016-01-01'),
    ('c-p25', 'p25', 'http://snomed.info/sct', '44054006', 'E11.9', 'active', 'confirmed', DATE '2010-01-01', NULL, DATE '2010-01-01'),
    ('c-p26-a', 'p26', 'http://snomed.info/sct', '44054006', 'E11.9', 'resolved', 'confirmed', DATE '2020-01-01', DATE '2024-12-15', DATE '2020-01-01'),
    ('c-p26-b', 'p26', 'http://snomed.info/sct', '44054006', 'E11.9', 'recurrence', 'confirmed', DATE '2025-02-10', NULL, DATE '2025-02-10'),
    -- not in any group: no effect
    ('c-p01', 'p01', 'http://snomed.info/sct', '444814009', 'J01.90', 'resolved', 'confirmed', DATE '2023-01-10', DATE '2023-01-25', DATE '2023-01-15');
