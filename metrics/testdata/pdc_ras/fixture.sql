-- Hand-worked input for pdc_ras: measurement year 2024, a leap year
-- (366 days). Drugs:
--   A  = 314076 lisinopril 10 MG Oral Tablet
--   A2 = 314077 lisinopril 20 MG Oral Tablet
--        (the same ingredient as A, so the same drug: overlaps shift)
--   B  = 979492 losartan potassium 50 MG Oral Tablet
--        (another drug of the class: overlaps are not shifted, the union counts)
--   I  = 106892 insulin (Humulin 70/30)
-- Patients are ras-01 … ras-17; unless said otherwise born 1960-05-05
-- (64 on 2024-12-31: age band 45-64), commercial coverage, every dispense
-- completed. Dates are 2024 unless a year is given; "d" is days' supply; a
-- fill covers its date and the days after, d days in all. Treatment period =
-- [IPSD, 2024-12-31]; PDC = covered / treatment days.
--
-- ras-01 IPSD after the period start: A 03-01 90d, 05-30 90d, 08-28 90d,
--        11-26 90d. Covers 03-01..05-29, 05-30..08-27, 08-28..11-25 (90 each)
--        and 11-26..12-31 (36; the rest runs into 2025 and is dropped).
--        Treatment 03-01..12-31 = 306 days (366 - 31 - 29).
--        306/306 = 1.0000                                        adherent
-- ras-02 carry-in from 2023 and a same-drug shift: A 2023-11-15 90d covers
--        2023-11-15..2024-02-12; A 02-01 90d overlaps it and shifts to
--        02-13..05-12; A 06-01 30d covers 06-01..06-30. IPSD 02-01
--        (the 2023 fill is carried in, it is not the IPSD). Treatment
--        02-01..12-31 = 335 days. Covered 12 (02-01..02-12, carried in)
--        + 90 + 30 = 132. (Without the shift it would be 120.)
--        132/335 = 0.3940                                        not adherent
--        (2023 has one fill: no 2023 row.)
-- ras-03 different drugs overlapping, not shifted: A 01-01 90d covers
--        01-01..03-30; B 02-15 90d covers 02-15..05-14. Union 01-01..05-14
--        = 31 + 29 + 31 + 30 + 14 = 135 days; treatment 366.
--        135/366 = 0.3689                                        not adherent
-- ras-04 two products of one drug shift: A 01-01 180d covers 01-01..06-28;
--        A2 06-01 180d shifts to 06-29..12-25. 360/366 = 0.9836  adherent
--        (As different drugs the union would be 01-01..11-27 = 332 days.)
-- ras-05 a single fill: A 03-01 90d.                             not in the denominator
-- ras-06 two fills on one day: A 03-01 30d and B 03-01 30d.      not in the denominator
-- ras-07 17 on 2024-12-31 (born 2007-06-01): A 01-01 180d, A 06-29 180d.
--                                                                not in the denominator
-- ras-08 18 on 2024-12-31 itself (born 2006-12-31), band 18-44: A 01-01 180d
--        (01-01..06-28), A 06-29 180d (06-29..12-25).
--        360/366 = 0.9836                                        adherent
-- ras-09 hospice: fills as ras-08 and an encounter of type 305336008
--        (Admission to hospice) on 06-10.                        excluded
-- ras-10 ESRD: fills as ras-08 and a condition coded ICD-10-CM N18.6 (its
--        own code SNOMED 433144002, CKD stage 3, is not in the value set),
--        onset 2020-01-01, never abated.                         excluded
-- ras-11 an insulin fill: fills as ras-08 and I 04-01 30d.
--        Only the diabetes measure excludes insulin users: as ras-08,
--        360/366 = 0.9836                                        adherent
-- ras-12 death mid-period: A 01-10 90d covers 01-10..04-08; A 04-09 90d
--        covers 04-09..07-07. Died 06-30: treatment 01-10..06-30 = 22 + 29 +
--        31 + 30 + 31 + 30 = 173 days, all covered.
--        173/173 = 1.0000                                        adherent
--        (Without the death: 180/357 = 0.5042.)
-- ras-13 PDC exactly 0.80: A 01-02 200d covers 01-02..07-19; B 09-01 92d
--        covers 09-01..12-01. Treatment 01-02..12-31 = 365.
--        292/365 = 0.8000                                        adherent
-- ras-14 just below: as ras-13 with B 91d (09-01..11-30).
--        291/365 = 0.7973                                        not adherent
-- ras-15 birth year only (the shifted profile keeps no birth date): born in
--        2006, so 18 on 2024-12-31, band 18-44; fills as ras-08.
--        360/366 = 0.9836                                        adherent
-- ras-16 aged 90 or over (no birth date kept), medicare, band 90+; fills
--        as ras-03. 135/366 = 0.3689                             not adherent
-- ras-17 the second fill was cancelled and a third has no days' supply:
--        A 03-01 90d; A 06-01 90d cancelled; A 09-01 without a supply.
--                                                                not in the denominator
--
-- 2024, every patient: 7 adherent of 11
--   (01, 04, 08, 11, 12, 13, 15 of 01, 02, 03, 04, 08, 11, 12, 13, 14, 15, 16)
-- By clinic (clinic-a: ras-01..08, clinic-b: ras-09..17):
--   clinic-a 3/5 (01, 04, 08 of 01, 02, 03, 04, 08)
--   clinic-b 4/6 (11, 12, 13, 15 of 11, 12, 13, 14, 15, 16)
-- By age band on 2024-12-31:
--   18-44 2/2 (08, 15)
--   45-64 5/8 (01, 04, 11, 12, 13 of 01, 02, 03, 04, 11, 12, 13, 14)
--   90+   0/1 (16)

INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, clinic_id, deceased_date, source)
SELECT 'ras-' || lpad(CAST(i AS VARCHAR), 2, '0'),
    CASE i WHEN 7 THEN DATE '2007-06-01' WHEN 8 THEN DATE '2006-12-31' WHEN 15 THEN NULL WHEN 16 THEN NULL
           ELSE DATE '1960-05-05' END,
    CASE i WHEN 7 THEN 2007 WHEN 8 THEN 2006 WHEN 15 THEN 2006 WHEN 16 THEN NULL ELSE 1960 END,
    i = 16,
    CASE WHEN i % 2 = 0 THEN 'male' ELSE 'female' END,
    CASE WHEN i <= 8 THEN 'clinic-a' ELSE 'clinic-b' END,
    CASE i WHEN 12 THEN DATE '2024-06-30' END,
    'ehr'
FROM range(1, 18) AS r(i);

INSERT INTO coverage (coverage_key, patient_id, status, payer_type, period_start, period_end)
SELECT 'cov-ras-' || lpad(CAST(i AS VARCHAR), 2, '0'), 'ras-' || lpad(CAST(i AS VARCHAR), 2, '0'), 'active',
    CASE WHEN i = 16 THEN 'medicare' ELSE 'commercial' END, DATE '2020-01-01', NULL
FROM range(1, 18) AS r(i);

INSERT INTO medication_dispenses (dispense_key, patient_id, rxnorm_code, status, dispensed_on, days_supply) VALUES
    ('ras-01-1', 'ras-01', '314076', 'completed', '2024-03-01', 90),
    ('ras-01-2', 'ras-01', '314076', 'completed', '2024-05-30', 90),
    ('ras-01-3', 'ras-01', '314076', 'completed', '2024-08-28', 90),
    ('ras-01-4', 'ras-01', '314076', 'completed', '2024-11-26', 90),
    ('ras-02-1', 'ras-02', '314076', 'completed', '2023-11-15', 90),
    ('ras-02-2', 'ras-02', '314076', 'completed', '2024-02-01', 90),
    ('ras-02-3', 'ras-02', '314076', 'completed', '2024-06-01', 30),
    ('ras-03-1', 'ras-03', '314076', 'completed', '2024-01-01', 90),
    ('ras-03-2', 'ras-03', '979492', 'completed', '2024-02-15', 90),
    ('ras-04-1', 'ras-04', '314076', 'completed', '2024-01-01', 180),
    ('ras-04-2', 'ras-04', '314077', 'completed', '2024-06-01', 180),
    ('ras-05-1', 'ras-05', '314076', 'completed', '2024-03-01', 90),
    ('ras-06-1', 'ras-06', '314076', 'completed', '2024-03-01', 30),
    ('ras-06-2', 'ras-06', '979492', 'completed', '2024-03-01', 30),
    ('ras-07-1', 'ras-07', '314076', 'completed', '2024-01-01', 180),
    ('ras-07-2', 'ras-07', '314076', 'completed', '2024-06-29', 180),
    ('ras-08-1', 'ras-08', '314076', 'completed', '2024-01-01', 180),
    ('ras-08-2', 'ras-08', '314076', 'completed', '2024-06-29', 180),
    ('ras-09-1', 'ras-09', '314076', 'completed', '2024-01-01', 180),
    ('ras-09-2', 'ras-09', '314076', 'completed', '2024-06-29', 180),
    ('ras-10-1', 'ras-10', '314076', 'completed', '2024-01-01', 180),
    ('ras-10-2', 'ras-10', '314076', 'completed', '2024-06-29', 180),
    ('ras-11-1', 'ras-11', '314076', 'completed', '2024-01-01', 180),
    ('ras-11-2', 'ras-11', '314076', 'completed', '2024-06-29', 180),
    ('ras-11-3', 'ras-11', '106892', 'completed', '2024-04-01', 30),
    ('ras-12-1', 'ras-12', '314076', 'completed', '2024-01-10', 90),
    ('ras-12-2', 'ras-12', '314076', 'completed', '2024-04-09', 90),
    ('ras-13-1', 'ras-13', '314076', 'completed', '2024-01-02', 200),
    ('ras-13-2', 'ras-13', '979492', 'completed', '2024-09-01', 92),
    ('ras-14-1', 'ras-14', '314076', 'completed', '2024-01-02', 200),
    ('ras-14-2', 'ras-14', '979492', 'completed', '2024-09-01', 91),
    ('ras-15-1', 'ras-15', '314076', 'completed', '2024-01-01', 180),
    ('ras-15-2', 'ras-15', '314076', 'completed', '2024-06-29', 180),
    ('ras-16-1', 'ras-16', '314076', 'completed', '2024-01-01', 90),
    ('ras-16-2', 'ras-16', '979492', 'completed', '2024-02-15', 90),
    ('ras-17-1', 'ras-17', '314076', 'completed', '2024-03-01', 90),
    ('ras-17-2', 'ras-17', '314076', 'cancelled', '2024-06-01', 90),
    ('ras-17-3', 'ras-17', '314076', 'completed', '2024-09-01', NULL);

INSERT INTO encounters (encounter_key, patient_id, class, status, type_code, start_ts, end_ts) VALUES
    ('ras-09-hospice', 'ras-09', 'inpatient', 'finished', '305336008', '2024-06-10 10:00', '2024-06-10 11:00');

INSERT INTO conditions (condition_key, patient_id, code_system, code, icd10_code, clinical_status, verification_status, onset_date) VALUES
    ('ras-10-esrd', 'ras-10', 'http://snomed.info/sct', '433144002', 'N18.6', 'active', 'confirmed', '2020-01-01');
