-- Hand-worked input for pdc_diabetes: measurement year 2024, a leap year
-- (366 days). Drugs:
--   A  = 861007 metformin hydrochloride 500 MG Oral Tablet
--   A2 = 860975 24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet
--        (the same ingredient as A, so the same drug: overlaps shift)
--   B  = 310490 glipizide 5 MG Oral Tablet
--        (another drug of the class: overlaps are not shifted, the union counts)
--   I  = 106892 insulin (Humulin 70/30)
-- Patients are dm-01 … dm-17; unless said otherwise born 1960-05-05
-- (64 on 2024-12-31: age band 45-64), commercial coverage, every dispense
-- completed. Dates are 2024 unless a year is given; "d" is days' supply; a
-- fill covers its date and the days after, d days in all. Treatment period =
-- [IPSD, 2024-12-31]; PDC = covered / treatment days.
--
-- dm-01 IPSD after the period start: A 03-01 90d, 05-30 90d, 08-28 90d,
--        11-26 90d. Covers 03-01..05-29, 05-30..08-27, 08-28..11-25 (90 each)
--        and 11-26..12-31 (36; the rest runs into 2025 and is dropped).
--        Treatment 03-01..12-31 = 306 days (366 - 31 - 29).
--        306/306 = 1.0000                                        adherent
-- dm-02 carry-in from 2023 and a same-drug shift: A 2023-11-15 90d covers
--        2023-11-15..2024-02-12; A 02-01 90d overlaps it and shifts to
--        02-13..05-12; A 06-01 30d covers 06-01..06-30. IPSD 02-01
--        (the 2023 fill is carried in, it is not the IPSD). Treatment
--        02-01..12-31 = 335 days. Covered 12 (02-01..02-12, carried in)
--        + 90 + 30 = 132. (Without the shift it would be 120.)
--        132/335 = 0.3940                                        not adherent
--        (2023 has one fill: no 2023 row.)
-- dm-03 different drugs overlapping, not shifted: A 01-01 90d covers
--        01-01..03-30; B 02-15 90d covers 02-15..05-14. Union 01-01..05-14
--        = 31 + 29 + 31 + 30 + 14 = 135 days; treatment 366.
--        135/366 = 0.3689                                        not adherent
-- dm-04 two products of one drug shift: A 01-01 180d covers 01-01..06-28;
--        A2 06-01 180d shifts to 06-29..12-25. 360/366 = 0.9836  adherent
--        (As different drugs the union would be 01-01..11-27 = 332 days.)
-- dm-05 a single fill: A 03-01 90d.                             not in the denominator
-- dm-06 two fills on one day: A 03-01 30d and B 03-01 30d.      not in the denominator
-- dm-07 17 on 2024-12-31 (born 2007-06-01): A 01-01 180d, A 06-29 180d.
--                                                                not in the denominator
-- dm-08 18 on 2024-12-31 itself (born 2006-12-31), band 18-44: A 01-01 180d
--        (01-01..06-28), A 06-29 180d (06-29..12-25).
--        360/366 = 0.9836                                        adherent
-- dm-09 hospice: fills as dm-08 and an encounter of type 305336008
--        (Admission to hospice) on 06-10.                        excluded
-- dm-10 ESRD: fills as dm-08 and a condition coded ICD-10-CM N18.6 (its
--        own code SNOMED 433144002, CKD stage 3, is not in the value set),
--        onset 2020-01-01, never abated.                         excluded
-- dm-11 an insulin fill: fills as dm-08 and I 04-01 30d.
--        Insulin users are excluded from the diabetes measure.      excluded
-- dm-12 death mid-period: A 01-10 90d covers 01-10..04-08; A 04-09 90d
--        covers 04-09..07-07. Died 06-30: treatment 01-10..06-30 = 22 + 29 +
--        31 + 30 + 31 + 30 = 173 days, all covered.
--        173/173 = 1.0000                                        adherent
--        (Without the death: 180/357 = 0.5042.)
-- dm-13 PDC exactly 0.80: A 01-02 200d covers 01-02..07-19; B 09-01 92d
--        covers 09-01..12-01. Treatment 01-02..12-31 = 365.
--        292/365 = 0.8000                                        adherent
-- dm-14 just below: as dm-13 with B 91d (09-01..11-30).
--        291/365 = 0.7973                                        not adherent
-- dm-15 birth year only (the shifted profile keeps no birth date): born in
--        2006, so 18 on 2024-12-31, band 18-44; fills as dm-08.
--        360/366 = 0.9836                                        adherent
-- dm-16 aged 90 or over (no birth date kept), medicare, band 90+; fills
--        as dm-03. 135/366 = 0.3689                             not adherent
-- dm-17 the second fill was cancelled and a third has no days' supply:
--        A 03-01 90d; A 06-01 90d cancelled; A 09-01 without a supply.
--                                                                not in the denominator
--
-- 2024, every patient: 6 adherent of 10
--   (01, 04, 08, 12, 13, 15 of 01, 02, 03, 04, 08, 12, 13, 14, 15, 16)
-- By clinic (clinic-a: dm-01..08, clinic-b: dm-09..17):
--   clinic-a 3/5 (01, 04, 08 of 01, 02, 03, 04, 08)
--   clinic-b 3/5 (12, 13, 15 of 12, 13, 14, 15, 16)
-- By age band on 2024-12-31:
--   18-44 2/2 (08, 15)
--   45-64 4/7 (01, 04, 12, 13 of 01, 02, 03, 04, 12, 13, 14)
--   90+   0/1 (16)

INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, clinic_id, deceased_date, source)
SELECT 'dm-' || lpad(CAST(i AS VARCHAR), 2, '0'),
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
SELECT 'cov-dm-' || lpad(CAST(i AS VARCHAR), 2, '0'), 'dm-' || lpad(CAST(i AS VARCHAR), 2, '0'), 'active',
    CASE WHEN i = 16 THEN 'medicare' ELSE 'commercial' END, DATE '2020-01-01', NULL
FROM range(1, 18) AS r(i);

INSERT INTO medication_dispenses (dispense_key, patient_id, rxnorm_code, status, dispensed_on, days_supply) VALUES
    ('dm-01-1', 'dm-01', '861007', 'completed', '2024-03-01', 90),
    ('dm-01-2', 'dm-01', '861007', 'completed', '2024-05-30', 90),
    ('dm-01-3', 'dm-01', '861007', 'completed', '2024-08-28', 90),
    ('dm-01-4', 'dm-01', '861007', 'completed', '2024-11-26', 90),
    ('dm-02-1', 'dm-02', '861007', 'completed', '2023-11-15', 90),
    ('dm-02-2', 'dm-02', '861007', 'completed', '2024-02-01', 90),
    ('dm-02-3', 'dm-02', '861007', 'completed', '2024-06-01', 30),
    ('dm-03-1', 'dm-03', '861007', 'completed', '2024-01-01', 90),
    ('dm-03-2', 'dm-03', '310490', 'completed', '2024-02-15', 90),
    ('dm-04-1', 'dm-04', '861007', 'completed', '2024-01-01', 180),
    ('dm-04-2', 'dm-04', '860975', 'completed', '2024-06-01', 180),
    ('dm-05-1', 'dm-05', '861007', 'completed', '2024-03-01', 90),
    ('dm-06-1', 'dm-06', '861007', 'completed', '2024-03-01', 30),
    ('dm-06-2', 'dm-06', '310490', 'completed', '2024-03-01', 30),
    ('dm-07-1', 'dm-07', '861007', 'completed', '2024-01-01', 180),
    ('dm-07-2', 'dm-07', '861007', 'completed', '2024-06-29', 180),
    ('dm-08-1', 'dm-08', '861007', 'completed', '2024-01-01', 180),
    ('dm-08-2', 'dm-08', '861007', 'completed', '2024-06-29', 180),
    ('dm-09-1', 'dm-09', '861007', 'completed', '2024-01-01', 180),
    ('dm-09-2', 'dm-09', '861007', 'completed', '2024-06-29', 180),
    ('dm-10-1', 'dm-10', '861007', 'completed', '2024-01-01', 180),
    ('dm-10-2', 'dm-10', '861007', 'completed', '2024-06-29', 180),
    ('dm-11-1', 'dm-11', '861007', 'completed', '2024-01-01', 180),
    ('dm-11-2', 'dm-11', '861007', 'completed', '2024-06-29', 180),
    ('dm-11-3', 'dm-11', '106892', 'completed', '2024-04-01', 30),
    ('dm-12-1', 'dm-12', '861007', 'completed', '2024-01-10', 90),
    ('dm-12-2', 'dm-12', '861007', 'completed', '2024-04-09', 90),
    ('dm-13-1', 'dm-13', '861007', 'completed', '2024-01-02', 200),
    ('dm-13-2', 'dm-13', '310490', 'completed', '2024-09-01', 92),
    ('dm-14-1', 'dm-14', '861007', 'completed', '2024-01-02', 200),
    ('dm-14-2', 'dm-14', '310490', 'completed', '2024-09-01', 91),
    ('dm-15-1', 'dm-15', '861007', 'completed', '2024-01-01', 180),
    ('dm-15-2', 'dm-15', '861007', 'completed', '2024-06-29', 180),
    ('dm-16-1', 'dm-16', '861007', 'completed', '2024-01-01', 90),
    ('dm-16-2', 'dm-16', '310490', 'completed', '2024-02-15', 90),
    ('dm-17-1', 'dm-17', '861007', 'completed', '2024-03-01', 90),
    ('dm-17-2', 'dm-17', '861007', 'cancelled', '2024-06-01', 90),
    ('dm-17-3', 'dm-17', '861007', 'completed', '2024-09-01', NULL);

INSERT INTO encounters (encounter_key, patient_id, class, status, type_code, start_ts, end_ts) VALUES
    ('dm-09-hospice', 'dm-09', 'inpatient', 'finished', '305336008', '2024-06-10 10:00', '2024-06-10 11:00');

INSERT INTO conditions (condition_key, patient_id, code_system, code, icd10_code, clinical_status, verification_status, onset_date) VALUES
    ('dm-10-esrd', 'dm-10', 'http://snomed.info/sct', '433144002', 'N18.6', 'active', 'confirmed', '2020-01-01');
