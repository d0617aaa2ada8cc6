-- Hand-worked input for gsd_glycemic_controlled: the HEDIS GSD companion
-- rate, most recent glycemic status < 8.0 % = controlled (higher is better),
-- on the CMS122 denominator (cms122_glycemic_poor_control's fixture covers
-- that denominator branch by branch; this one covers the < 8 numerator).
-- Measurement periods are calendar years; the data's horizon is
-- 2025-12-31 23:59:59 (the EHR run below), so 2026 is not reported.
--
-- Value sets: valuesets/gsd-fixture-valuesets.json holds small hand-made
-- FHIR ValueSets with the canonical URLs of the official CMS122 value sets
-- (Diabetes, HbA1c Laboratory Test, Office Visit, Hospice Encounter) but
-- only the codes used here, copied from the official bundle.
--
-- Defaults, unless a patient says otherwise: patient gsd-NN born 1970-06-15
-- (55 on 2025-12-31); odd NN female, even NN male; clinic-a, ZIP3 021,
-- commercial coverage from 2020-01-01; active diabetes (SNOMED CT 44054006)
-- since 2015-03-01; a finished office visit (SNOMED CT 185463005) on
-- 2025-03-10. A reading is an HbA1c (LOINC 4548-4), final, category
-- laboratory, in %, at 09:00 on the day given (2025 unless said otherwise).
-- The reading that decides is the one CMS122 decides on: the lowest on the
-- most recent day (one without a value first). Controlled (C) when it is
-- below 8.0 %; value = that reading in %:
--
-- 01 7.9 on 05-01                                            C=1 7.9
-- 02 8.0 on 05-01: exactly 8.0 is not below 8                C=0 8
-- 03 8.1 on 05-01                                            C=0 8.1
-- 04 6.0 on 03-01, 8.5 on 09-01: the most recent decides     C=0 8.5
-- 05 9.5 on 03-01, 7.0 on 09-01                              C=1 7
-- 06 no reading                                              C=0 -
-- 07 6.5 on 03-01, then a final HbA1c without a value 09-01  C=0 -
-- 08 HbA1c 9.0 on 03-01, GMI (LOINC 97506-0) 7.5 on 09-01    C=1 7.5
-- 09 8.2 at 09-10 08:00 and 7.8 at 09-10 15:00: the lowest   C=1 7.8
-- 10 hospice encounter (SNOMED CT 305336008) 07-01; 6.0 on
--    05-01: excluded, denominator 0                          C=0 6
-- 11 only a cancelled HbA1c with 6.0: not performed          C=0 -
-- 12 53 mmol/mol (IFCC units) on 05-01: no value in %        C=0 -
-- 13 born 1949-12-31, 76: not in the initial population      no row
-- 14 final 7.0 on 06-01, amended 7.4 on 10-01 (amended
--    counts)                                                 C=1 7.4
-- 15 visits 2024-04-01 and 2026-01-10, readings 7.2 on
--    2024-05-01 and 6.0 on 2026-01-20; no 2025 visit.
--    2024                                                    C=1 7.2
--    2026 is not over by the horizon                         no row
--
-- 2025: 13 in the initial population (01-12, 14), 10 excluded,
-- denominator 12, controlled 01, 05, 08, 09, 14 = 5/12.
-- 2024: 15 = 1/1.
-- By sex (2025): female 01, 03, 05, 07, 09, 11: 01, 05, 09 = 3/6;
-- male 02, 04, 06, 08, 12, 14 (10 excluded): 08, 14 = 2/6.

INSERT INTO etl_runs (run_id, snapshot_id, job, status, deid_profile, started_at, finished_at,
    duration_ms, rows_read, rows_loaded, rows_quarantined, data_as_of)
VALUES ('gsd-fixture', 1, 'files', 'succeeded', 'limited', TIMESTAMP '2026-01-02 08:00:00',
    TIMESTAMP '2026-01-02 08:05:00', 0, 0, 0, 0, TIMESTAMP '2025-12-31 23:59:59');
INSERT INTO etl_run_counts VALUES ('gsd-fixture', 'ehr', 'Observation', 0, 0, 0, 0);

CREATE TEMP TABLE fx_people (n INTEGER, birth DATE);
INSERT INTO fx_people SELECT n, CASE WHEN n = 13 THEN DATE '1949-12-31' ELSE DATE '1970-06-15' END
FROM range(1, 16) AS t(n);

INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, zip3, state, deceased_date, clinic_id, source)
SELECT printf('gsd-%02d', n), birth, year(birth), false,
    CASE WHEN n % 2 = 1 THEN 'female' ELSE 'male' END, '021', 'MA', NULL, 'clinic-a', 'ehr'
FROM fx_people;

INSERT INTO coverage (coverage_key, patient_id, status, payer_id, payer_type, period_start, period_end)
SELECT printf('cov-%02d', n), printf('gsd-%02d', n), 'active', 'payer-commercial', 'commercial', DATE '2020-01-01', NULL
FROM fx_people;

INSERT INTO conditions (condition_key, patient_id, code_system, code, icd10_code, clinical_status,
    verification_status, onset_date, abatement_date, recorded_date)
SELECT printf('dm-%02d', n), printf('gsd-%02d', n), 'http://snomed.info/sct', '44054006', 'E11.9',
    'active', 'confirmed', DATE '2015-03-01', NULL, DATE '2015-03-01'
FROM fx_people;

INSERT INTO encounters (encounter_key, patient_id, class, status, type_code, start_ts, end_ts, clinic_id,
    class_code, type_system, discharge_system, discharge_code)
SELECT printf('enc-%02d', n), printf('gsd-%02d', n), 'ambulatory', 'finished', '185463005',
    TIMESTAMP '2025-03-10 09:00', TIMESTAMP '2025-03-10 09:30', 'clinic-a', 'AMB', 'http://snomed.info/sct', NULL, NULL
FROM fx_people
WHERE n <> 15;
INSERT INTO encounters (encounter_key, patient_id, class, status, type_code, start_ts, end_ts, clinic_id,
    class_code, type_system, discharge_system, discharge_code) VALUES
    ('hos-10',  'gsd-10', 'inpatient',  'finished', '305336008', TIMESTAMP '2025-07-01 10:00', TIMESTAMP '2025-07-02 10:00', 'clinic-a', 'IMP', 'http://snomed.info/sct', NULL, NULL),
    ('enc-15a', 'gsd-15', 'ambulatory', 'finished', '185463005', TIMESTAMP '2024-04-01 09:00', TIMESTAMP '2024-04-01 09:30', 'clinic-a', 'AMB', 'http://snomed.info/sct', NULL, NULL),
    ('enc-15b', 'gsd-15', 'ambulatory', 'finished', '185463005', TIMESTAMP '2026-01-10 09:00', TIMESTAMP '2026-01-10 09:30', 'clinic-a', 'AMB', 'http://snomed.info/sct', NULL, NULL);

CREATE TEMP TABLE fx_reading (
    n INTEGER, k VARCHAR, code VARCHAR, status VARCHAR, value DOUBLE, unit VARCHAR, eff TIMESTAMP);
INSERT INTO fx_reading VALUES
    (1,  'a', '4548-4',  'final',     7.9,  '%',        '2025-05-01 09:00'),
    (2,  'a', '4548-4',  'final',     8.0,  '%',        '2025-05-01 09:00'),
    (3,  'a', '4548-4',  'final',     8.1,  '%',        '2025-05-01 09:00'),
    (4,  'a', '4548-4',  'final',     6.0,  '%',        '2025-03-01 09:00'),
    (4,  'b', '4548-4',  'final',     8.5,  '%',        '2025-09-01 09:00'),
    (5,  'a', '4548-4',  'final',     9.5,  '%',        '2025-03-01 09:00'),
    (5,  'b', '4548-4',  'final',     7.0,  '%',        '2025-09-01 09:00'),
    (7,  'a', '4548-4',  'final',     6.5,  '%',        '2025-03-01 09:00'),
    (7,  'b', '4548-4',  'final',     NULL, NULL,       '2025-09-01 09:00'),
    (8,  'a', '4548-4',  'final',     9.0,  '%',        '2025-03-01 09:00'),
    (8,  'b', '97506-0', 'final',     7.5,  '%',        '2025-09-01 09:00'),
    (9,  'a', '4548-4',  'final',     8.2,  '%',        '2025-09-10 08:00'),
    (9,  'b', '4548-4',  'final',     7.8,  '%',        '2025-09-10 15:00'),
    (10, 'a', '4548-4',  'final',     6.0,  '%',        '2025-05-01 09:00'),
    (11, 'a', '4548-4',  'cancelled', 6.0,  '%',        '2025-05-01 09:00'),
    (12, 'a', '4548-4',  'final',     53,   'mmol/mol', '2025-05-01 09:00'),
    (13, 'a', '4548-4',  'final',     6.0,  '%',        '2025-05-01 09:00'),
    (14, 'a', '4548-4',  'final',     7.0,  '%',        '2025-06-01 09:00'),
    (14, 'b', '4548-4',  'amended',   7.4,  '%',        '2025-10-01 09:00'),
    (15, 'a', '4548-4',  'final',     7.2,  '%',        '2024-05-01 09:00'),
    (15, 'b', '4548-4',  'final',     6.0,  '%',        '2026-01-20 09:00');
INSERT INTO observations (observation_key, patient_id, encounter_key, status, category, panel_code, code_system, code,
    value, unit, effective_ts, effective_until, value_system, value_code)
SELECT printf('gsa-%02d%s', n, k), printf('gsd-%02d', n), NULL, status, 'laboratory', NULL, 'http://loinc.org', code,
    value, unit, eff, eff, NULL, NULL
FROM fx_reading;

DROP TABLE fx_reading;
DROP TABLE fx_people;
