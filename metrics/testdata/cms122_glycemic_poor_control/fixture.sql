-- Hand-worked input for cms122_glycemic_poor_control (CMS122, inverse: the
-- numerator is poor control). Measurement periods are calendar years; the
-- data's horizon is 2025-12-31 23:59:59 (the EHR run below), so 2024 and
-- 2025 are reported and 2026 is not.
--
-- Value sets: valuesets/cms122-fixture-valuesets.json holds small hand-made
-- FHIR ValueSets with the canonical URLs of the official CMS122 value sets
-- (VSAC OIDs) but only the codes used here, copied from the official
-- bundle, so the fixture runs without ../shared. cms122_test.go checks that
-- each of those codes is in the official value set of the same URL and runs
-- this population against the official bundle too.
--
-- Codes: diabetes SNOMED CT 44054006 or ICD-10-CM E11.65 (Diabetes);
-- HbA1c LOINC 4548-4 or 17856-6 (HbA1c Laboratory Test); GMI LOINC 97506-0
-- (the CQL's direct-reference code); visits: office visit SNOMED 185463005,
-- annual wellness HCPCS G0438, preventive care 18+ established CPT 99395 /
-- initial CPT 99385, home healthcare SNOMED 439708006, virtual encounter
-- HCPCS G2012, telephone SNOMED 185317003; hospice encounter SNOMED
-- 305336008; palliative care diagnosis ICD-10-CM Z51.5; frailty diagnosis
-- SNOMED 129588001; advanced illness ICD-10-CM G30.9; dementia medication
-- RxNorm 310436 (galantamine 4 MG); housing status LOINC 71802-3 answered
-- SNOMED 160734000 (lives in a nursing home) or 105529008 (lives alone).
--
-- Defaults, unless a patient says otherwise: patient c122-NN; born
-- 1970-06-15 (55 on 2025-12-31, band 45-64); odd NN female, even NN male;
-- NN 01-24 clinic-a, ZIP3 021; NN 25-46 clinic-b, ZIP3 100; commercial
-- coverage from 2020-01-01 (medicaid for 16 and 18, medicare for 35-45);
-- an active diabetes (44054006) since 2015-03-01; one finished office
-- visit on 2025-03-10 09:00-09:30. An HbA1c is LOINC 4548-4, status final,
-- category laboratory, in %, at 09:00 on the day given (2025 unless a year
-- is given).
--
-- CQL (DiabetesGlycemicStatusAssessmentGreaterThan9PercentFHIR 0.1.002):
-- IP = age 18-75 at the end of the year, a qualifying visit within the year,
-- diabetes overlapping it. Numerator = on the most recent day with an HbA1c
-- or GMI that is final/amended/corrected and category laboratory, the
-- lowest reading (no value sorts first) is > 9 %, or has no value; or there
-- is no such reading at all. Per patient: IP, excluded (X), numerator (N),
-- value (the deciding reading in %, empty when none):
--
-- most recent result
-- 01 7.0 on 04-01, 9.5 on 10-01: most recent 9.5 > 9             IP  N=1 9.5
-- 02 9.8 on 02-01, 7.2 on 11-15: most recent 7.2                 IP  N=0 7.2
-- 03 9.0 on 06-01: exactly 9.0 is not > 9                        IP  N=0 9
-- 04 no HbA1c or GMI at all ("no record")                        IP  N=1 -
-- 05 6.5 on 03-01, then on 09-01 a final HbA1c without a value:
--    most recent without result                                  IP  N=1 -
-- GMI
-- 06 HbA1c 9.6 on 05-01, GMI 8.4 on 08-01: most recent GMI 8.4   IP  N=0 8.4
-- 07 HbA1c 6.0 on 07-01, GMI 9.3 on 12-31 23:00 (the last day)   IP  N=1 9.3
-- not performed (statuses that are no assessment)
-- 08 final 6.8 on 05-01, cancelled (no value) on 10-01,
--    entered-in-error 10.5 on 11-01: both ignored, 6.8 decides   IP  N=0 6.8
-- 09 only a cancelled HbA1c (06-01): not performed = no record   IP  N=1 -
-- 10 final 9.4 on 04-01, preliminary 6.0 on 10-01 (ignored)      IP  N=1 9.4
-- several readings on the most recent day
-- 11 7.0 on 03-01; 9.6 at 09-10 08:00 and 8.9 at 09-10 15:00:
--    the lowest of the day, 8.9                                  IP  N=0 8.9
-- 12 7.5 at 09-10 08:00 and one without a value at 09-10 15:00:
--    no value sorts first, so the day's reading has no result    IP  N=1 -
-- readings that do not count
-- 13 11.0 on 2024-12-31 (last year), 6.2 on 06-01 in category
--    exam (not laboratory), 6.4 on 2026-01-01 (next year):
--    nothing in 2025                                             IP  N=1 -
-- 14 17856-6 (HbA1c by HPLC, in the value set) 10.2 on 05-05;
--    glucose 2345-7 250 mg/dL on 08-01 is not an assessment      IP  N=1 10.2
-- 15 9.1 on 11-01; 7.0 effective as a Period 2025-12-30 ..
--    2026-01-02, whose latest time is in 2026                    IP  N=1 9.1
-- age (on 2025-12-31)
-- 16 born 2007-12-31: 18 on the last day (band 18-44); 8.0       IP  N=0 8
-- 17 born 2008-01-01: 17                                         not IP
-- 18 born 1950-12-31: 75 (band 75-89); 7.9 on 05-01              IP  N=0 7.9
-- 19 born 1949-12-31: 76                                         not IP
-- diabetes overlapping the year
-- 20 diabetes resolved, abated 2024-12-31                        not IP
-- 21 diabetes onset 2025-12-31, active; no HbA1c                 IP  N=1 -
-- 22 diabetes onset 2026-01-05                                   not IP
-- 23 diabetes coded ICD-10-CM E11.65 only; 6.5 on 05-01          IP  N=0 6.5
-- 24 diabetes resolved without an abatement date (its end is
--    unknown, so it overlaps nothing)                            not IP
-- qualifying visits (instead of the default office visit)
-- 25 telephone visit 04-02; 10.0 on 04-10                        IP  N=1 10
-- 26 annual wellness visit; 7.1 on 05-01                         IP  N=0 7.1
-- 27 home healthcare visit; 7.3 on 05-01                         IP  N=0 7.3
-- 28 virtual encounter; no HbA1c                                 IP  N=1 -
-- 29 preventive care, established, 18+; 7.7 on 05-01            IP  N=0 7.7
-- 30 preventive care, initial, 18+; 9.9 on 05-01                 IP  N=1 9.9
-- 31 only a check-up (SNOMED 185349003, in no visit value set)   not IP
-- 32 only a cancelled office visit                               not IP
-- 33 only an office visit 2024-12-31 23:00 .. 2025-01-01 00:30:
--    within neither year                                         not IP
-- 34 only an office visit still in progress (no end)             not IP
-- exclusions (the row stays, with denominator 0 and numerator 0)
-- 35 hospice encounter 07-01..07-02; 10.0 on 05-01               IP  X  10
-- 36 palliative care diagnosis Z51.5 from 05-01; 6.0 on 04-01    IP  X  6
-- 37 born 1955-03-01 (70): frailty diagnosis from 02-01 and
--    advanced illness G30.9 from 2024-06-01 (the year before)    IP  X  -
-- 38 70, frailty only                       ; 8.5 on 05-01       IP  N=0 8.5
-- 39 born 1960-06-01 (65): frailty and advanced illness, under
--    66                                     ; 9.2 on 05-01       IP  N=1 9.2
-- 40 70, frailty and galantamine ordered 2025-03-01 (active
--    order, 30 days, 2 refills)             ; 7.0 on 05-01       IP  X  7
-- 41 70, frailty and advanced illness from 2023-12-31, before
--    the year before                        ; no HbA1c           IP  N=1 -
-- 42 born 1959-12-31 (66): housing status 04-01 "lives in a
--    nursing home"                          ; 9.5 on 05-01       IP  X  9.5
-- 43 born 1960-01-01 (65): the same assessment; 6.9 on 05-01     IP  N=0 6.9
-- 44 70: nursing home on 02-01, then "lives alone" on 08-01:
--    the last assessment decides            ; 8.2 on 05-01       IP  N=0 8.2
-- several years, the horizon
-- 45 office visits 2024-05-01, 2025-05-01, 2026-02-01; 9.2 on
--    2024-06-01, 7.0 on 2025-06-01, 9.9 on 2026-03-01.
--    2024 (54, band 45-64)                                       IP  N=1 9.2
--    2025                                                        IP  N=0 7
--    2026 is not over by the horizon                             no row
-- dimensions
-- 46 aged 90+ when loaded (no birth date): no age                not IP
-- 47 sex unknown, no clinic, no ZIP3, no coverage: every
--    dimension 'unknown'; 8.8 on 05-01                           IP  N=0 8.8
--
-- 2025 totals: IP 37 (01-16, 18, 21, 23, 25-30, 35-45, 47); excluded 5
-- (35, 36, 37, 40, 42); denominator 32; numerator 16 (01, 04, 05, 07, 09,
-- 10, 12, 13, 14, 15, 21, 25, 28, 30, 39, 41). 2024: 1/1 (45).
-- By sex (2025): female (odd) 17 in the denominator, numerator 01, 05, 07,
-- 09, 13, 15, 21, 25, 39, 41 = 10/17; male (even) 14, numerator 04, 10, 12,
-- 14, 28, 30 = 6/14; unknown 47 = 0/1.
-- By age band: 18-44 (16) 0/1; 45-64 (01-15, 21, 23, 25-30, 45, 47) 14/25;
-- 65-74 (38, 39, 41, 43, 44) 2/5; 75-89 (18) 0/1.
-- By payer: commercial (01-15, 21, 23, 25-30) 14/23; medicaid (16, 18)
-- 0/2; medicare (38, 39, 41, 43, 44, 45) 2/6; unknown (47) 0/1.
-- By clinic: clinic-a (01-16, 18, 21, 23) 11/19; clinic-b (25-30, 38, 39,
-- 41, 43, 44, 45) 5/12; unknown (47) 0/1.
-- By zip3 among women: 021 (01, 03, 05, 07, 09, 11, 13, 15, 21, 23) 7/10;
-- 100 (25, 27, 29, 39, 41, 43, 45) 3/7.

-- The EHR load that fixes the horizon.
INSERT INTO etl_runs (run_id, snapshot_id, job, status, deid_profile, started_at, finished_at,
    duration_ms, rows_read, rows_loaded, rows_quarantined, data_as_of)
VALUES ('cms122-fixture', 1, 'files', 'succeeded', 'limited', TIMESTAMP '2026-01-02 08:00:00',
    TIMESTAMP '2026-01-02 08:05:00', 0, 0, 0, 0, TIMESTAMP '2025-12-31 23:59:59');
INSERT INTO etl_run_counts VALUES ('cms122-fixture', 'ehr', 'Observation', 0, 0, 0, 0);

CREATE TEMP TABLE fx_people (
    n INTEGER, birth DATE, sex VARCHAR, clinic VARCHAR, zip3 VARCHAR, payer VARCHAR,
    default_dm BOOLEAN, default_visit BOOLEAN);
INSERT INTO fx_people
SELECT n, DATE '1970-06-15',
    CASE WHEN n % 2 = 1 THEN 'female' ELSE 'male' END,
    CASE WHEN n <= 24 THEN 'clinic-a' ELSE 'clinic-b' END,
    CASE WHEN n <= 24 THEN '021' ELSE '100' END,
    CASE WHEN n IN (16, 18) THEN 'medicaid' WHEN n BETWEEN 35 AND 45 THEN 'medicare' ELSE 'commercial' END,
    n NOT IN (20, 21, 22, 23, 24),
    n NOT IN (25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 45)
FROM range(1, 48) AS t(n);
UPDATE fx_people SET birth = DATE '2007-12-31' WHERE n = 16;
UPDATE fx_people SET birth = DATE '2008-01-01' WHERE n = 17;
UPDATE fx_people SET birth = DATE '1950-12-31' WHERE n = 18;
UPDATE fx_people SET birth = DATE '1949-12-31' WHERE n = 19;
UPDATE fx_people SET birth = DATE '1955-03-01' WHERE n IN (37, 38, 40, 41, 44);
UPDATE fx_people SET birth = DATE '1960-06-01' WHERE n = 39;
UPDATE fx_people SET birth = DATE '1959-12-31' WHERE n = 42;
UPDATE fx_people SET birth = DATE '1960-01-01' WHERE n = 43;
UPDATE fx_people SET birth = NULL WHERE n = 46;
UPDATE fx_people SET sex = 'unknown', clinic = NULL, zip3 = NULL, payer = NULL WHERE n = 47;

INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, zip3, state, deceased_date, clinic_id, source)
SELECT printf('c122-%02d', n), birth, year(birth), n = 46, sex, zip3, 'MA', NULL, clinic, 'ehr'
FROM fx_people;

INSERT INTO coverage (coverage_key, patient_id, status, payer_id, payer_type, period_start, period_end)
SELECT printf('cov-%02d', n), printf('c122-%02d', n), 'active', 'payer-' || payer, payer, DATE '2020-01-01', NULL
FROM fx_people
WHERE payer IS NOT NULL;

-- Diabetes.
INSERT INTO conditions (condition_key, patient_id, code_system, code, icd10_code, clinical_status,
    verification_status, onset_date, abatement_date, recorded_date)
SELECT printf('dm-%02d', n), printf('c122-%02d', n), 'http://snomed.info/sct', '44054006', 'E11.9',
    'active', 'confirmed', DATE '2015-03-01', NULL, DATE '2015-03-01'
FROM fx_people
WHERE default_dm;
INSERT INTO conditions (condition_key, patient_id, code_system, code, icd10_code, clinical_status,
    verification_status, onset_date, abatement_date, recorded_date) VALUES
    ('dm-20', 'c122-20', 'http://snomed.info/sct', '44054006', 'E11.9', 'resolved', 'confirmed', DATE '2015-03-01', DATE '2024-12-31', DATE '2015-03-01'),
    ('dm-21', 'c122-21', 'http://snomed.info/sct', '44054006', 'E11.9', 'active', 'confirmed', DATE '2025-12-31', NULL, DATE '2025-12-31'),
    ('dm-22', 'c122-22', 'http://snomed.info/sct', '44054006', 'E11.9', 'active', 'confirmed', DATE '2026-01-05', NULL, DATE '2026-01-05'),
    ('dm-23', 'c122-23', 'http://hl7.org/fhir/sid/icd-10-cm', 'E11.65', 'E11.65', 'active', 'confirmed', DATE '2018-01-01', NULL, DATE '2018-01-01'),
    ('dm-24', 'c122-24', 'http://snomed.info/sct', '44054006', 'E11.9', 'resolved', 'confirmed', DATE '2015-03-01', NULL, DATE '2015-03-01');

-- Visits.
INSERT INTO encounters (encounter_key, patient_id, class, status, type_code, start_ts, end_ts, clinic_id,
    class_code, type_system, discharge_system, discharge_code)
SELECT printf('enc-%02d', n), printf('c122-%02d', n), 'ambulatory', 'finished', '185463005',
    TIMESTAMP '2025-03-10 09:00', TIMESTAMP '2025-03-10 09:30', clinic, 'AMB', 'http://snomed.info/sct', NULL, NULL
FROM fx_people
WHERE default_visit;
INSERT INTO encounters (encounter_key, patient_id, class, status, type_code, start_ts, end_ts, clinic_id,
    class_code, type_system, discharge_system, discharge_code) VALUES
    ('enc-25', 'c122-25', 'telehealth', 'finished', '185317003', TIMESTAMP '2025-04-02 10:00', TIMESTAMP '2025-04-02 10:15', 'clinic-b', 'VR', 'http://snomed.info/sct', NULL, NULL),
    ('enc-26', 'c122-26', 'ambulatory', 'finished', 'G0438', TIMESTAMP '2025-03-10 09:00', TIMESTAMP '2025-03-10 09:30', 'clinic-b', 'AMB', 'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', NULL, NULL),
    ('enc-27', 'c122-27', 'ambulatory', 'finished', '439708006', TIMESTAMP '2025-03-10 09:00', TIMESTAMP '2025-03-10 10:00', 'clinic-b', 'HH', 'http://snomed.info/sct', NULL, NULL),
    ('enc-28', 'c122-28', 'telehealth', 'finished', 'G2012', TIMESTAMP '2025-03-10 09:00', TIMESTAMP '2025-03-10 09:10', 'clinic-b', 'VR', 'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', NULL, NULL),
    ('enc-29', 'c122-29', 'ambulatory', 'finished', '99395', TIMESTAMP '2025-03-10 09:00', TIMESTAMP '2025-03-10 09:45', 'clinic-b', 'AMB', 'http://www.ama-assn.org/go/cpt', NULL, NULL),
    ('enc-30', 'c122-30', 'ambulatory', 'finished', '99385', TIMESTAMP '2025-03-10 09:00', TIMESTAMP '2025-03-10 09:45', 'clinic-b', 'AMB', 'http://www.ama-assn.org/go/cpt', NULL, NULL),
    ('enc-31', 'c122-31', 'ambulatory', 'finished', '185349003', TIMESTAMP '2025-03-10 09:00', TIMESTAMP '2025-03-10 09:30', 'clinic-b', 'AMB', 'http://snomed.info/sct', NULL, NULL),
    ('enc-32', 'c122-32', 'ambulatory', 'cancelled', '185463005', TIMESTAMP '2025-03-10 09:00', TIMESTAMP '2025-03-10 09:30', 'clinic-b', 'AMB', 'http://snomed.info/sct', NULL, NULL),
    ('enc-33', 'c122-33', 'ambulatory', 'finished', '185463005', TIMESTAMP '2024-12-31 23:00', TIMESTAMP '2025-01-01 00:30', 'clinic-b', 'AMB', 'http://snomed.info/sct', NULL, NULL),
    ('enc-34', 'c122-34', 'ambulatory', 'in-progress', '185463005', TIMESTAMP '2025-05-01 09:00', NULL, 'clinic-b', 'AMB', 'http://snomed.info/sct', NULL, NULL),
    ('hos-35', 'c122-35', 'inpatient', 'finished', '305336008', TIMESTAMP '2025-07-01 10:00', TIMESTAMP '2025-07-02 10:00', 'clinic-b', 'IMP', 'http://snomed.info/sct', NULL, NULL),
    ('enc-45a', 'c122-45', 'ambulatory', 'finished', '185463005', TIMESTAMP '2024-05-01 09:00', TIMESTAMP '2024-05-01 09:30', 'clinic-b', 'AMB', 'http://snomed.info/sct', NULL, NULL),
    ('enc-45b', 'c122-45', 'ambulatory', 'finished', '185463005', TIMESTAMP '2025-05-01 09:00', TIMESTAMP '2025-05-01 09:30', 'clinic-b', 'AMB', 'http://snomed.info/sct', NULL, NULL),
    ('enc-45c', 'c122-45', 'ambulatory', 'finished', '185463005', TIMESTAMP '2026-02-01 09:00', TIMESTAMP '2026-02-01 09:30', 'clinic-b', 'AMB', 'http://snomed.info/sct', NULL, NULL);

-- Exclusion evidence.
INSERT INTO conditions (condition_key, patient_id, code_system, code, icd10_code, clinical_status,
    verification_status, onset_date, abatement_date, recorded_date) VALUES
    ('pal-36',  'c122-36', 'http://hl7.org/fhir/sid/icd-10-cm', 'Z51.5', 'Z51.5', 'active', 'confirmed', DATE '2025-05-01', NULL, DATE '2025-05-01'),
    ('frl-37',  'c122-37', 'http://snomed.info/sct', '129588001', NULL, 'active', 'confirmed', DATE '2025-02-01', NULL, DATE '2025-02-01'),
    ('ail-37',  'c122-37', 'http://hl7.org/fhir/sid/icd-10-cm', 'G30.9', 'G30.9', 'active', 'confirmed', DATE '2024-06-01', NULL, DATE '2024-06-01'),
    ('frl-38',  'c122-38', 'http://snomed.info/sct', '129588001', NULL, 'active', 'confirmed', DATE '2025-02-01', NULL, DATE '2025-02-01'),
    ('frl-39',  'c122-39', 'http://snomed.info/sct', '129588001', NULL, 'active', 'confirmed', DATE '2025-02-01', NULL, DATE '2025-02-01'),
    ('ail-39',  'c122-39', 'http://hl7.org/fhir/sid/icd-10-cm', 'G30.9', 'G30.9', 'active', 'confirmed', DATE '2025-02-01', NULL, DATE '2025-02-01'),
    ('frl-40',  'c122-40', 'http://snomed.info/sct', '129588001', NULL, 'active', 'confirmed', DATE '2025-02-01', NULL, DATE '2025-02-01'),
    ('frl-41',  'c122-41', 'http://snomed.info/sct', '129588001', NULL, 'active', 'confirmed', DATE '2025-02-01', NULL, DATE '2025-02-01'),
    ('ail-41',  'c122-41', 'http://hl7.org/fhir/sid/icd-10-cm', 'G30.9', 'G30.9', 'active', 'confirmed', DATE '2023-12-31', NULL, DATE '2023-12-31');
INSERT INTO medication_requests (request_key, patient_id, rxnorm_code, status, intent, authored_on, days_supply, quantity, refills) VALUES
    ('med-40', 'c122-40', '310436', 'active', 'order', DATE '2025-03-01', 30, 60, 2);
INSERT INTO observations (observation_key, patient_id, encounter_key, status, category, panel_code, code_system, code,
    value, unit, effective_ts, effective_until, value_system, value_code) VALUES
    ('hs-42',  'c122-42', NULL, 'final', 'survey', NULL, 'http://loinc.org', '71802-3', NULL, NULL, TIMESTAMP '2025-04-01 10:00', TIMESTAMP '2025-04-01 10:00', 'http://snomed.info/sct', '160734000'),
    ('hs-43',  'c122-43', NULL, 'final', 'survey', NULL, 'http://loinc.org', '71802-3', NULL, NULL, TIMESTAMP '2025-04-01 10:00', TIMESTAMP '2025-04-01 10:00', 'http://snomed.info/sct', '160734000'),
    ('hs-44a', 'c122-44', NULL, 'final', 'survey', NULL, 'http://loinc.org', '71802-3', NULL, NULL, TIMESTAMP '2025-02-01 10:00', TIMESTAMP '2025-02-01 10:00', 'http://snomed.info/sct', '160734000'),
    ('hs-44b', 'c122-44', NULL, 'final', 'survey', NULL, 'http://loinc.org', '71802-3', NULL, NULL, TIMESTAMP '2025-08-01 10:00', TIMESTAMP '2025-08-01 10:00', 'http://snomed.info/sct', '105529008');

-- Glycemic status readings: (patient, key suffix, code, status, category,
-- value, unit, effective start, effective end). A dateTime effective has
-- its end equal to its start (effective_until, as the ETL loads it).
CREATE TEMP TABLE fx_reading (
    n INTEGER, k VARCHAR, code VARCHAR, status VARCHAR, category VARCHAR,
    value DOUBLE, unit VARCHAR, eff TIMESTAMP, eff_end TIMESTAMP);
INSERT INTO fx_reading VALUES
    (1,  'a', '4548-4',  'final',            'laboratory', 7.0,  '%',     '2025-04-01 09:00', '2025-04-01 09:00'),
    (1,  'b', '4548-4',  'final',            'laboratory', 9.5,  '%',     '2025-10-01 09:00', '2025-10-01 09:00'),
    (2,  'a', '4548-4',  'final',            'laboratory', 9.8,  '%',     '2025-02-01 09:00', '2025-02-01 09:00'),
    (2,  'b', '4548-4',  'final',            'laboratory', 7.2,  '%',     '2025-11-15 09:00', '2025-11-15 09:00'),
    (3,  'a', '4548-4',  'final',            'laboratory', 9.0,  '%',     '2025-06-01 09:00', '2025-06-01 09:00'),
    (5,  'a', '4548-4',  'final',            'laboratory', 6.5,  '%',     '2025-03-01 09:00', '2025-03-01 09:00'),
    (5,  'b', '4548-4',  'final',            'laboratory', NULL, NULL,    '2025-09-01 09:00', '2025-09-01 09:00'),
    (6,  'a', '4548-4',  'final',            'laboratory', 9.6,  '%',     '2025-05-01 09:00', '2025-05-01 09:00'),
    (6,  'b', '97506-0', 'final',            'laboratory', 8.4,  '%',     '2025-08-01 09:00', '2025-08-01 09:00'),
    (7,  'a', '4548-4',  'final',            'laboratory', 6.0,  '%',     '2025-07-01 09:00', '2025-07-01 09:00'),
    (7,  'b', '97506-0', 'final',            'laboratory', 9.3,  '%',     '2025-12-31 23:00', '2025-12-31 23:00'),
    (8,  'a', '4548-4',  'final',            'laboratory', 6.8,  '%',     '2025-05-01 09:00', '2025-05-01 09:00'),
    (8,  'b', '4548-4',  'cancelled',        'laboratory', NULL, NULL,    '2025-10-01 09:00', '2025-10-01 09:00'),
    (8,  'c', '4548-4',  'entered-in-error', 'laboratory', 10.5, '%',     '2025-11-01 09:00', '2025-11-01 09:00'),
    (9,  'a', '4548-4',  'cancelled',        'laboratory', NULL, NULL,    '2025-06-01 09:00', '2025-06-01 09:00'),
    (10, 'a', '4548-4',  'final',            'laboratory', 9.4,  '%',     '2025-04-01 09:00', '2025-04-01 09:00'),
    (10, 'b', '4548-4',  'preliminary',      'laboratory', 6.0,  '%',     '2025-10-01 09:00', '2025-10-01 09:00'),
    (11, 'a', '4548-4',  'final',            'laboratory', 7.0,  '%',     '2025-03-01 09:00', '2025-03-01 09:00'),
    (11, 'b', '4548-4',  'final',            'laboratory', 9.6,  '%',     '2025-09-10 08:00', '2025-09-10 08:00'),
    (11, 'c', '4548-4',  'final',            'laboratory', 8.9,  '%',     '2025-09-10 15:00', '2025-09-10 15:00'),
    (12, 'a', '4548-4',  'final',            'laboratory', 7.5,  '%',     '2025-09-10 08:00', '2025-09-10 08:00'),
    (12, 'b', '4548-4',  'final',            'laboratory', NULL, NULL,    '2025-09-10 15:00', '2025-09-10 15:00'),
    (13, 'a', '4548-4',  'final',            'laboratory', 11.0, '%',     '2024-12-31 09:00', '2024-12-31 09:00'),
    (13, 'b', '4548-4',  'final',            'exam',       6.2,  '%',     '2025-06-01 09:00', '2025-06-01 09:00'),
    (13, 'c', '4548-4',  'final',            'laboratory', 6.4,  '%',     '2026-01-01 09:00', '2026-01-01 09:00'),
    (14, 'a', '17856-6', 'final',            'laboratory', 10.2, '%',     '2025-05-05 09:00', '2025-05-05 09:00'),
    (14, 'b', '2345-7',  'final',            'laboratory', 250,  'mg/dL', '2025-08-01 09:00', '2025-08-01 09:00'),
    (15, 'a', '4548-4',  'final',            'laboratory', 9.1,  '%',     '2025-11-01 09:00', '2025-11-01 09:00'),
    (15, 'b', '4548-4',  'final',            'laboratory', 7.0,  '%',     '2025-12-30 09:00', '2026-01-02 09:00'),
    (16, 'a', '4548-4',  'final',            'laboratory', 8.0,  '%',     '2025-05-01 09:00', '2025-05-01 09:00'),
    (18, 'a', '4548-4',  'final',            'laboratory', 7.9,  '%',     '2025-05-01 09:00', '2025-05-01 09:00'),
    (23, 'a', '4548-4',  'final',            'laboratory', 6.5,  '%',     '2025-05-01 09:00', '2025-05-01 09:00'),
    (25, 'a', '4548-4',  'final',            'laboratory', 10.0, '%',     '2025-04-10 09:00', '2025-04-10 09:00'),
    (26, 'a', '4548-4',  'final',            'laboratory', 7.1,  '%',     '2025-05-01 09:00', '2025-05-01 09:00'),
    (27, 'a', '4548-4',  'final',            'laboratory', 7.3,  '%',     '2025-05-01 09:00', '2025-05-01 09:00'),
    (29, 'a', '4548-4',  'final',            'laboratory', 7.7,  '%',     '2025-05-01 09:00', '2025-05-01 09:00'),
    (30, 'a', '4548-4',  'final',            'laboratory', 9.9,  '%',     '2025-05-01 09:00', '2025-05-01 09:00'),
    (35, 'a', '4548-4',  'final',            'laboratory', 10.0, '%',     '2025-05-01 09:00', '2025-05-01 09:00'),
    (36, 'a', '4548-4',  'final',            'laboratory', 6.0,  '%',     '2025-04-01 09:00', '2025-04-01 09:00'),
    (38, 'a', '4548-4',  'final',            'laboratory', 8.5,  '%',     '2025-05-01 09:00', '2025-05-01 09:00'),
    (39, 'a', '4548-4',  'final',            'laboratory', 9.2,  '%',     '2025-05-01 09:00', '2025-05-01 09:00'),
    (40, 'a', '4548-4',  'final',            'laboratory', 7.0,  '%',     '2025-05-01 09:00', '2025-05-01 09:00'),
    (42, 'a', '4548-4',  'final',            'laboratory', 9.5,  '%',     '2025-05-01 09:00', '2025-05-01 09:00'),
    (43, 'a', '4548-4',  'final',            'laboratory', 6.9,  '%',     '2025-05-01 09:00', '2025-05-01 09:00'),
    (44, 'a', '4548-4',  'final',            'laboratory', 8.2,  '%',     '2025-05-01 09:00', '2025-05-01 09:00'),
    (45, 'a', '4548-4',  'final',            'laboratory', 9.2,  '%',     '2024-06-01 09:00', '2024-06-01 09:00'),
    (45, 'b', '4548-4',  'final',            'laboratory', 7.0,  '%',     '2025-06-01 09:00', '2025-06-01 09:00'),
    (45, 'c', '4548-4',  'final',            'laboratory', 9.9,  '%',     '2026-03-01 09:00', '2026-03-01 09:00'),
    (47, 'a', '4548-4',  'final',            'laboratory', 8.8,  '%',     '2025-05-01 09:00', '2025-05-01 09:00');
INSERT INTO observations (observation_key, patient_id, encounter_key, status, category, panel_code, code_system, code,
    value, unit, effective_ts, effective_until, value_system, value_code)
SELECT printf('gsa-%02d%s', n, k), printf('c122-%02d', n), NULL, status, category, NULL, 'http://loinc.org', code,
    value, unit, eff, eff_end, NULL, NULL
FROM fx_reading;

DROP TABLE fx_reading;
DROP TABLE fx_people;
