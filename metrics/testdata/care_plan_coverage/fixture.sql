-- Hand-made input for care_plan_coverage. One row per patient, month and
-- condition group active on the month's last day for patients of the
-- active panel (prevalence_per_1000's numerator); numerator 1 when a care
-- plan is in force that day.
--
-- Horizon: EHR data as of 2025-03-15, so the last month is February 2025.
--
-- Default patient: female, born 1970-01-01, zip3 021, clinic-01,
-- commercial since 2015, a finished visit on 2024-11-20 (in the panel
-- 2024-11 .. 2025-02) and diabetes (44054006) since 2010.
--
-- Care plans (intent order unless said; in force at the end of the
-- months listed, among 2024-11 .. 2025-02):
--   k01  active since 2024-01-01, no end: every month
--   k02  (clinic-02) active from 2025-01-31 10:00, the month's last day:
--        2025-01, 2025-02
--   k03  active from 2025-02-01: 2025-02
--   k04  completed, 2024-06-01 .. 2025-01-31 23:00 (ends on the month's
--        last day): 2024-11 .. 2025-01
--   k05  completed, 2024-06-01 .. 2025-01-30: 2024-11, 2024-12
--   k06  revoked, no end: never;  k07  draft: never
--   k08  active but intent proposal: never
--   k09  completed without an end: never
--   k10  entered-in-error: never;  k11  on-hold: never
--   k12  no plan
--   k13  active, no period start, created 2025-01-15: 2025-01, 2025-02
--   k14  active, neither start nor created: every month
--   k15  active 2024-01-01 .. 2024-12-30 (ends before December's last
--        day): 2024-11 only
--   k16  diabetes and hypertension (59621000), one plan, intent plan,
--        active since 2024-01-01: two rows a month, both covered
--   k17  diabetes over (abated 2023-01-01) and an active plan: no active
--        condition, no rows
--   k18  visit 2022-01-05 only (panel 2022-01 .. 2023-12), diabetes, plan
--        from 2024-01-01: rows in 2022-2023, none covered
--   k19  diabetes from 2025-01-15, plan active since 2024-01-01: rows
--        2025-01, 2025-02, covered
--   k20  died 2025-01-31, plan active since 2024-01-01: rows 2024-11,
--        2024-12, covered (not alive at the end of January)
--
-- Rows and covered rows:
--   2024-11  k01..k15, k16 x2, k20 = 18; covered k01 k04 k05 k14 k15
--            k16 x2 k20 = 8
--   2024-12  the same 18; covered k01 k04 k05 k14 k16 x2 k20 = 7
--   2025-01  k01..k15, k16 x2, k19 = 18; covered k01 k02 k04 k13 k14
--            k16 x2 k19 = 8
--   2025-02  the same 18; covered k01 k02 k03 k13 k14 k16 x2 k19 = 8
-- By condition: hypertension (k16) 1 of 1 each month; diabetes 2024-12
-- 6 of 17, 2025-01 7 of 17, 2025-02 7 of 17.
-- Diabetes by clinic, 2025-01: clinic-02 (k02) 1 of 1; clinic-01 the other
-- 16 rows with k01 k04 k13 k14 k16 k19 covered: 6 of 16.

INSERT INTO etl_runs (run_id, snapshot_id, job, status, deid_profile, started_at, finished_at,
        duration_ms, rows_read, rows_loaded, rows_quarantined, data_as_of) VALUES
    ('ehr-1', 1, 'files', 'succeeded', 'limited', TIMESTAMP '2025-03-16 01:00:00', TIMESTAMP '2025-03-16 01:05:00', 0, 0, 0, 0, TIMESTAMP '2025-03-15 10:00:00');
INSERT INTO etl_run_counts VALUES ('ehr-1', 'ehr', 'Encounter', 0, 0, 0, 0);

INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, zip3, clinic_id, deceased_date, source)
SELECT 'k' || lpad(CAST(n AS VARCHAR), 2, '0'), DATE '1970-01-01', 1970, false, 'female', '021',
       CASE n WHEN 2 THEN 'clinic-02' ELSE 'clinic-01' END,
       CASE n WHEN 20 THEN DATE '2025-01-31' END, 'ehr'
FROM range(1, 21) AS t(n);

INSERT INTO coverage (coverage_key, patient_id, status, payer_type, period_start, period_end)
SELECT 'cov-' || patient_id, patient_id, 'active', 'commercial', DATE '2015-01-01', NULL FROM patients;

INSERT INTO encounters (encounter_key, patient_id, class, status, type_code, start_ts, end_ts, clinic_id)
SELECT 'enc-' || patient_id, patient_id, 'ambulatory', 'finished', '185349003',
       CASE patient_id WHEN 'k18' THEN TIMESTAMP '2022-01-05 09:00:00' ELSE TIMESTAMP '2024-11-20 09:00:00' END,
       NULL, clinic_id
FROM patients;

-- Diabetes since 2010 for all but k17 (over) and k19 (new in 2025).
INSERT INTO conditions (condition_key, patient_id, code_system, code, icd10_code, clinical_status,
        verification_status, onset_date, abatement_date, recorded_date)
SELECT 'dm-' || patient_id, patient_id, 'http://snomed.info/sct', '44054006', 'E11.9', 'active', 'confirmed',
       DATE '2010-01-01', NULL, DATE '2010-01-01'
FROM patients WHERE patient_id NOT IN ('k17', 'k19');
INSERT INTO conditions (condition_key, patient_id, code_system, code, icd10_code, clinical_status,
        verification_status, onset_date, abatement_date, recorded_date) VALUES
    ('dm-k17', 'k17', 'http://snomed.info/sct', '44054006', 'E11.9', 'resolved', 'confirmed', DATE '2010-01-01', DATE '2023-01-01', DATE '2010-01-01'),
    ('dm-k19', 'k19', 'http://snomed.info/sct', '44054006', 'E11.9', 'active', 'confirmed', DATE '2025-01-15', NULL, DATE '2025-01-15'),
    ('htn-k16', 'k16', 'http://snomed.info/sct', '59621000', 'I10', 'active', 'confirmed', DATE '2015-01-01', NULL, DATE '2015-01-01');

INSERT INTO care_plans (care_plan_key, patient_id, status, intent, category_system, category_code, period_start, period_end, created) VALUES
    ('cp-k01', 'k01', 'active',           'order',    'http://hl7.org/fhir/us/core/CodeSystem/careplan-category', 'assess-plan', TIMESTAMP '2024-01-01 09:00:00', NULL, TIMESTAMP '2024-01-01 09:00:00'),
    ('cp-k02', 'k02', 'active',           'order',    'http://hl7.org/fhir/us/core/CodeSystem/careplan-category', 'assess-plan', TIMESTAMP '2025-01-31 10:00:00', NULL, TIMESTAMP '2025-01-31 10:00:00'),
    ('cp-k03', 'k03', 'active',           'order',    'http://hl7.org/fhir/us/core/CodeSystem/careplan-category', 'assess-plan', TIMESTAMP '2025-02-01 00:00:00', NULL, TIMESTAMP '2025-02-01 00:00:00'),
    ('cp-k04', 'k04', 'completed',        'order',    'http://hl7.org/fhir/us/core/CodeSystem/careplan-category', 'assess-plan', TIMESTAMP '2024-06-01 09:00:00', TIMESTAMP '2025-01-31 23:00:00', TIMESTAMP '2024-06-01 09:00:00'),
    ('cp-k05', 'k05', 'completed',        'order',    'http://hl7.org/fhir/us/core/CodeSystem/careplan-category', 'assess-plan', TIMESTAMP '2024-06-01 09:00:00', TIMESTAMP '2025-01-30 12:00:00', TIMESTAMP '2024-06-01 09:00:00'),
    ('cp-k06', 'k06', 'revoked',          'order',    NULL, NULL, TIMESTAMP '2024-01-01 09:00:00', NULL, NULL),
    ('cp-k07', 'k07', 'draft',            'order',    NULL, NULL, TIMESTAMP '2024-01-01 09:00:00', NULL, NULL),
    ('cp-k08', 'k08', 'active',           'proposal', NULL, NULL, TIMESTAMP '2024-01-01 09:00:00', NULL, NULL),
    ('cp-k09', 'k09', 'completed',        'order',    NULL, NULL, TIMESTAMP '2024-01-01 09:00:00', NULL, NULL),
    ('cp-k10', 'k10', 'entered-in-error', 'order',    NULL, NULL, TIMESTAMP '2024-01-01 09:00:00', NULL, NULL),
    ('cp-k11', 'k11', 'on-hold',          'order',    NULL, NULL, TIMESTAMP '2024-01-01 09:00:00', NULL, NULL),
    ('cp-k13', 'k13', 'active',           'order',    NULL, NULL, NULL, NULL, TIMESTAMP '2025-01-15 09:00:00'),
    ('cp-k14', 'k14', 'active',           'order',    NULL, NULL, NULL, NULL, NULL),
    ('cp-k15', 'k15', 'active',           'order',    NULL, NULL, TIMESTAMP '2024-01-01 09:00:00', TIMESTAMP '2024-12-30 23:59:59', NULL),
    ('cp-k16', 'k16', 'active',           'plan',     NULL, NULL, TIMESTAMP '2024-01-01 09:00:00', NULL, NULL),
    ('cp-k17', 'k17', 'active',           'order',    NULL, NULL, TIMESTAMP '2024-01-01 09:00:00', NULL, NULL),
    ('cp-k18', 'k18', 'active',           'order',    NULL, NULL, TIMESTAMP '2024-01-01 09:00:00', NULL, NULL),
    ('cp-k19', 'k19', 'active',           'order',    NULL, NULL, TIMESTAMP '2024-01-01 09:00:00', NULL, NULL),
    ('cp-k20', 'k20', 'active',           'order',    NULL, NULL, TIMESTAMP '2024-01-01 09:00:00', NULL, NULL);
