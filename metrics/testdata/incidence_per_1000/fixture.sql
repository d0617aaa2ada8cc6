-- Hand-made input for incidence_per_1000. The shipped condition groups
-- (ten) are loaded by the runner; every patient-month of the population
-- gives one row per group the patient was not diagnosed with before the
-- month; numerator 1 in the month of the first-ever diagnosis.
--
-- Horizon: the newest committed EHR run has data as of 2025-03-15, so the
-- last month is February 2025; a later CRM-only run does not move it.
--
-- Default patient: female, born 1970-01-01, zip3 021, clinic-01,
-- commercial since 2015, one finished visit on 2024-11-20: in the
-- population from 2024-11 to 2025-02.
--
-- Population (a finished visit in the 24 months ending with the month,
-- alive on the month's first day):
--   q01  visit 2023-01-15: 2023-01 .. 2024-12
--   q03  visit 2024-06-10, died 2025-01-31: alive on 2025-01-01, so
--        2024-06 .. 2025-01 (prevalence drops January, incidence keeps it)
--   q04  first visit 2025-02-03: 2025-02
--   q06  visit 2024-06-10, died 2024-12-31: 2024-06 .. 2024-12
--   q10 .. q18, q20, q21 (clinic-02), q22  default visit: 2024-11 .. 2025-02
--   q19  visit 2022-01-05: 2022-01 .. 2023-12
--
-- First-ever diagnosis of diabetes (onset, else recorded date):
--   q03  2025-01-31 (January's last day; q03 dies that day): case in January
--   q10  2010: diagnosed before every month shown, never at risk
--   q11  2025-01-31: case in January, not at risk in February
--   q12  2025-02-01: case in February
--   q13  diabetes 2015 .. abated 2018, again from 2025-01-10: the first
--        ever was 2015, so the 2025 one is a repeat, not a case; never at
--        risk
--   q14  refuted diabetes 2025-01-05: no diagnosis; at risk, no case
--   q15  entered-in-error diabetes 2024-06-01 (ignored), confirmed
--        2025-02-14: case in February
--   q16  no onset, recorded 2025-01-20: case in January
--   q17  neither date: diagnosed since always, never at risk
--   q18  E11.9 from 2025-01-03 and 44054006 from 2024-12-20: the earliest
--        is December, a case then; not at risk from January
--   q19  onset 2025-01-15 but out of the population then: no case (at
--        risk in 2022-2023)
--   q20  resolved without abatement, onset 2025-02-05: still a diagnosis,
--        case in February
--   q21  unconfirmed, onset 2025-01-05: case in January (clinic-02)
--   q22  no diabetes; hypertension from 2025-01-12: hypertension case in
--        January, not at risk for it in February
--
-- Population sizes: 2024-11 and 2024-12: q01, q03, q06 and the 12 default
-- = 15; 2025-01: q03 and the 12 = 13; 2025-02: q04 and the 12 = 13.
-- Diabetes, at risk = population minus those diagnosed before the month:
--   2024-11  15 - q10, q13, q17 = 12, no case             -> 0 of 12
--   2024-12  15 - q10, q13, q17 = 12, case q18            -> 1 of 12
--   2025-01  13 - q10, q13, q17, q18 = 9: q03 q11 q12 q14 q15 q16 q20 q21
--            q22; cases q03, q11, q16, q21                -> 4 of 9
--   2025-02  13 - q10, q13, q17, q18, q11, q16, q21 = 6: q04 q12 q14 q15
--            q20 q22; cases q12, q15, q20                 -> 3 of 6
-- Hypertension: 2024-12 0 of 15; 2025-01 1 of 13 (q22); 2025-02 0 of 12.
-- Any other group: the whole population, no case.
-- Diabetes in January by clinic: clinic-01 q03 q11 q12 q14 q15 q16 q20 q22
-- with q03, q11, q16 -> 3 of 8; clinic-02 q21 -> 1 of 1.
-- Unsliced, January: 4 + 1 = 5 cases over 13 x 10 - 4 = 126 rows.
-- members.csv (membership: numerator): every case by name, and per month
-- the others at risk counted (q01 from 2023-01, q03 and q06 from 2024-06
-- and q19 in 2022-2023 included), e.g. January 2025: 126 - 5 = 121.

INSERT INTO etl_runs (run_id, snapshot_id, job, status, deid_profile, started_at, finished_at,
        duration_ms, rows_read, rows_loaded, rows_quarantined, data_as_of) VALUES
    ('ehr-1', 1, 'files', 'succeeded', 'limited', TIMESTAMP '2025-03-16 01:00:00', TIMESTAMP '2025-03-16 01:05:00', 0, 0, 0, 0, TIMESTAMP '2025-03-15 10:00:00'),
    ('crm-2', 2, 'crm-rest', 'succeeded', 'limited', TIMESTAMP '2025-07-01 01:00:00', TIMESTAMP '2025-07-01 01:05:00', 0, 0, 0, 0, TIMESTAMP '2025-06-30 23:00:00');
INSERT INTO etl_run_counts VALUES
    ('ehr-1', 'ehr', 'Encounter', 0, 0, 0, 0),
    ('crm-2', 'crm', 'messages', 0, 0, 0, 0);

INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, zip3, clinic_id, deceased_date, source)
SELECT 'q' || n, DATE '1970-01-01', 1970, false, 'female', '021',
       CASE n WHEN '21' THEN 'clinic-02' ELSE 'clinic-01' END,
       CASE n WHEN '03' THEN DATE '2025-01-31' WHEN '06' THEN DATE '2024-12-31' END, 'ehr'
FROM (VALUES ('01'), ('03'), ('04'), ('06'), ('10'), ('11'), ('12'), ('13'), ('14'), ('15'), ('16'),
             ('17'), ('18'), ('19'), ('20'), ('21'), ('22')) AS t(n);

INSERT INTO coverage (coverage_key, patient_id, status, payer_type, period_start, period_end)
SELECT 'cov-' || patient_id, patient_id, 'active', 'commercial', DATE '2015-01-01', NULL FROM patients;

INSERT INTO encounters (encounter_key, patient_id, class, status, type_code, start_ts, end_ts, clinic_id)
SELECT 'enc-' || patient_id, patient_id, 'ambulatory', 'finished', '185349003',
       CASE patient_id
           WHEN 'q01' THEN TIMESTAMP '2023-01-15 09:00:00'
           WHEN 'q03' THEN TIMESTAMP '2024-06-10 09:00:00'
           WHEN 'q04' THEN TIMESTAMP '2025-02-03 09:00:00'
           WHEN 'q06' THEN TIMESTAMP '2024-06-10 09:00:00'
           WHEN 'q19' THEN TIMESTAMP '2022-01-05 09:00:00'
           ELSE TIMESTAMP '2024-11-20 09:00:00'
       END, NULL, clinic_id
FROM patients;

INSERT INTO conditions (condition_key, patient_id, code_system, code, icd10_code, clinical_status,
        verification_status, onset_date, abatement_date, recorded_date) VALUES
    ('c-q03', 'q03', 'http://snomed.info/sct', '44054006', 'E11.9', 'active', 'confirmed', DATE '2025-01-31', NULL, DATE '2025-01-31'),
    ('c-q10', 'q10', 'http://snomed.info/sct', '44054006', 'E11.9', 'active', 'confirmed', DATE '2010-05-01', NULL, DATE '2010-05-01'),
    ('c-q11', 'q11', 'http://snomed.info/sct', '44054006', 'E11.9', 'active', 'confirmed', DATE '2025-01-31', NULL, DATE '2025-02-03'),
    ('c-q12', 'q12', 'http://snomed.info/sct', '44054006', 'E11.9', 'active', 'confirmed', DATE '2025-02-01', NULL, DATE '2025-02-01'),
    ('c-q13-a', 'q13', 'http://snomed.info/sct', '44054006', 'E11.9', 'resolved', 'confirmed', DATE '2015-01-01', DATE '2018-06-30', DATE '2015-01-01'),
    ('c-q13-b', 'q13', 'http://snomed.info/sct', '44054006', 'E11.9', 'recurrence', 'confirmed', DATE '2025-01-10', NULL, DATE '2025-01-10'),
    ('c-q14', 'q14', 'http://snomed.info/sct', '44054006', 'E11.9', NULL, 'refuted', DATE '2025-01-05', NULL, DATE '2025-01-05'),
    ('c-q15-x', 'q15', 'http://snomed.info/sct', '44054006', 'E11.9', 'active', 'entered-in-error', DATE '2024-06-01', NULL, DATE '2024-06-01'),
    ('c-q15', 'q15', 'http://snomed.info/sct', '44054006', 'E11.9', 'active', 'confirmed', DATE '2025-02-14', NULL, DATE '2025-02-14'),
    ('c-q16', 'q16', 'http://snomed.info/sct', '44054006', NULL, 'active', 'confirmed', NULL, NULL, DATE '2025-01-20'),
    ('c-q17', 'q17', 'http://snomed.info/sct', '44054006', NULL, 'active', 'confirmed', NULL, NULL, NULL),
    ('c-q18-a', 'q18', 'http://hl7.org/fhir/sid/icd-10-cm', 'E11.9', 'E11.9', 'active', 'confirmed', DATE '2025-01-03', NULL, DATE '2025-01-03'),
    ('c-q18-b', 'q18', 'http://snomed.info/sct', '44054006', NULL, 'active', 'confirmed', DATE '2024-12-20', NULL, DATE '2024-12-20'),
    ('c-q19', 'q19', 'http://snomed.info/sct', '44054006', 'E11.9', 'active', 'confirmed', DATE '2025-01-15', NULL, DATE '2025-01-15'),
    ('c-q20', 'q20', 'http://snomed.info/sct', '44054006', 'E11.9', 'resolved', 'confirmed', DATE '2025-02-05', NULL, DATE '2025-02-05'),
    ('c-q21', 'q21', 'http://snomed.info/sct', '44054006', 'E11.9', 'active', 'unconfirmed', DATE '2025-01-05', NULL, DATE '2025-01-05'),
    ('c-q22', 'q22', 'http://snomed.info/sct', '59621000', 'I10', 'active', 'confirmed', DATE '2025-01-12', NULL, DATE '2025-01-12');
