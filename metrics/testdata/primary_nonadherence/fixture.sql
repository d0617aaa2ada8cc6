-- Hand-worked input for primary_nonadherence (metrics/primary_nonadherence.sql).
--
-- The data's horizon is 2025-06-30: the EHR run below has data as of
-- 2025-06-30 23:59:59. A prescription counts when its window, the day it was
-- written and the 30 days after, is over by then: written on or before
-- 2025-05-31 (05-31 + 30 = 06-30).
--
-- Drugs (RxNorm):
--   A20 = 617310 atorvastatin 20 MG Oral Tablet  } one drug: both are in the
--   A40 = 617311 atorvastatin 40 MG Oral Tablet  } value set pdc-statins/atorvastatin
--   S   = 312961 simvastatin 20 MG Oral Tablet     (another ingredient: another drug)
--   M   = 861007 metformin 500 MG Oral Tablet      (pdc-diabetes/metformin)
--   X1  = 308182 } two amoxicillin products, in no ingredient value set:
--   X2  = 308191 } each code is a drug of its own
-- Requests are intent 'order', status 'active', and dispenses 'completed',
-- unless said otherwise. Dates are 2025 unless a year is given. Day n = n
-- days after the request was written.
--
-- Patients pna-01 … pna-19, born 1970-07-01 (54 all along: band 45-64)
-- unless said otherwise; odd numbers female, even male; pna-01..pna-10 in
-- clinic-a, pna-11..pna-19 in clinic-b; commercial coverage from 2020 except
-- pna-03 (medicaid), pna-12 (medicare) and pna-10 (none: payer unknown).
--
-- pna-01 A20 written 01-10, A20 filled 02-09 = day 30 (the last day that
--        counts).                                      2025-01  filled      0/1
-- pna-02 A20 written 01-10, A20 filled 02-10 = day 31: too late. Born
--        2010-03-01 (14: band 0-17).                   2025-01  not filled  1/1
-- pna-03 A20 written 01-15; S filled 01-20: another drug does not count.
--                                                      2025-01  not filled  1/1
-- pna-04 A40 written 01-20, A20 filled 01-25: the same ingredient.
--                                                      2025-01  filled      0/1
-- pna-05 the refill of an old prescription: A20 filled 2024-11-15 (78 days
--        before), A20 written 02-01: not new.          left out
-- pna-06 A20 written 02-05 but cancelled; S written 02-06 with intent
--        'plan'; M written 02-07, entered in error. None is a prescription,
--        none is filled.                               left out
-- pna-07 A20 written 05-31 (window 05-31..06-30, over at the horizon),
--        never filled.                                 2025-05  not filled  1/1
--        S written 06-05: its window ends 07-05, after the horizon.
--                                                      left out
-- pna-08 M written 2024-08-01, never filled (a new prescription of 2024-08,
--        before the months counted below: 2024-08  not filled  1/1), and M
--        written 02-10, 193 days later: new again; M filled 02-10, day 0.
--                                                      2025-02  filled      0/1
-- pna-09 M written 2024-08-14, never filled (2024-08  not filled  1/1),
--        exactly 180 days before M written 02-10: that one is not new.
--                                                      left out
-- pna-10 X1 written 03-03; X2 filled 03-05, naming no request: another
--        drug. No coverage: payer unknown.             2025-03  not filled  1/1
-- pna-11 X1 written 03-10; X2 filled 03-12 naming that request (a
--        substitution): filled.                        2025-03  filled      0/1
-- pna-12 A20 written twice on 03-15 (two orders): one prescription; never
--        filled. Born 1940-01-01 (85: band 75-89), medicare.
--                                                      2025-03  not filled  1/1
-- pna-13 A20 written 04-01 and again 04-20; A20 filled 05-15: day 44 of
--        the first, too late; the second is not new (the first came 19 days
--        before it).                                   2025-04  not filled  1/1
-- pna-14 A20 written 04-10 with status completed, filled 04-10 (day 0).
--                                                      2025-04  filled      0/1
-- pna-15 A20 written 04-10, never filled; died 04-20, within the window.
--                                                      left out
-- pna-16 A40 filled 01-05, A20 written 04-15 (100 days later): the same
--        ingredient was filled, not new.               left out
-- pna-17 A20 written 03-01 and stopped (no prescription to count, but it was
--        prescribed), A20 written 04-01: not new.      left out (both)
-- pna-18 A20 written 03-01 and cancelled (never prescribed), A20 written
--        04-05: new; filled 04-08.                     2025-04  filled      0/1
-- pna-19 S written 05-02; a dispense of S on 05-05 was declined, not
--        completed: not a fill. Aged 90 or over (no birth date kept): band
--        90+.                                          2025-05  not filled  1/1
--
-- Per month (not filled / prescriptions), 2025 (2024-08 also has 2/2: 08
-- and 09):
--   2025-01  2/4  (02, 03 of 01, 02, 03, 04)
--   2025-02  0/1  (08)
--   2025-03  2/3  (10, 12 of 10, 11, 12)
--   2025-04  1/3  (13 of 13, 14, 18)
--   2025-05  2/2  (07, 19)
--   all      7/13
-- By clinic: clinic-a 4/7 (02, 03, 07, 10 of 01, 02, 03, 04, 07, 08, 10);
--            clinic-b 3/6 (12, 13, 19 of 11, 12, 13, 14, 18, 19).
-- By sex: female 4/6 (03, 07, 13, 19 of 01, 03, 07, 11, 13, 19);
--         male 3/7 (02, 10, 12 of 02, 04, 08, 10, 12, 14, 18).
-- By age band: 0-17 1/1 (02); 45-64 4/10 (03, 07, 10, 13 of 01, 03, 04, 07,
--         08, 10, 11, 13, 14, 18); 75-89 1/1 (12); 90+ 1/1 (19).
-- By payer: commercial 4/10 (02, 07, 13, 19 of 01, 02, 04, 07, 08, 11, 13,
--         14, 18, 19); medicaid 1/1 (03); medicare 1/1 (12); unknown 1/1 (10).

INSERT INTO etl_runs (run_id, snapshot_id, job, status, deid_profile, started_at, finished_at,
    duration_ms, rows_read, rows_loaded, rows_quarantined, data_as_of) VALUES
    ('r-ehr', 1, 'bulk', 'succeeded', 'limited', '2025-07-01 02:00:00', '2025-07-01 02:10:00', 600000, 0, 0, 0, '2025-06-30 23:59:59');
INSERT INTO etl_run_counts VALUES ('r-ehr', 'ehr', 'MedicationRequest', 0, 0, 0, 0);

INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, clinic_id, deceased_date, source)
SELECT 'pna-' || lpad(CAST(i AS VARCHAR), 2, '0'),
    CASE i WHEN 2 THEN DATE '2010-03-01' WHEN 12 THEN DATE '1940-01-01' WHEN 19 THEN NULL ELSE DATE '1970-07-01' END,
    CASE i WHEN 2 THEN 2010 WHEN 12 THEN 1940 WHEN 19 THEN NULL ELSE 1970 END,
    i = 19,
    CASE WHEN i % 2 = 1 THEN 'female' ELSE 'male' END,
    CASE WHEN i <= 10 THEN 'clinic-a' ELSE 'clinic-b' END,
    CASE i WHEN 15 THEN DATE '2025-04-20' END,
    'ehr'
FROM range(1, 20) AS r(i);

INSERT INTO coverage (coverage_key, patient_id, status, payer_type, period_start, period_end)
SELECT 'cov-pna-' || lpad(CAST(i AS VARCHAR), 2, '0'), 'pna-' || lpad(CAST(i AS VARCHAR), 2, '0'), 'active',
    CASE i WHEN 3 THEN 'medicaid' WHEN 12 THEN 'medicare' ELSE 'commercial' END, DATE '2020-01-01', NULL
FROM range(1, 20) AS r(i)
WHERE i <> 10;

INSERT INTO medication_requests (request_key, patient_id, rxnorm_code, status, intent, authored_on, days_supply) VALUES
    ('pna-01-r1', 'pna-01', '617310', 'active', 'order', '2025-01-10', 30),
    ('pna-02-r1', 'pna-02', '617310', 'active', 'order', '2025-01-10', 30),
    ('pna-03-r1', 'pna-03', '617310', 'active', 'order', '2025-01-15', 30),
    ('pna-04-r1', 'pna-04', '617311', 'active', 'order', '2025-01-20', 30),
    ('pna-05-r1', 'pna-05', '617310', 'active', 'order', '2025-02-01', 30),
    ('pna-06-r1', 'pna-06', '617310', 'cancelled', 'order', '2025-02-05', 30),
    ('pna-06-r2', 'pna-06', '312961', 'active', 'plan', '2025-02-06', 30),
    ('pna-06-r3', 'pna-06', '861007', 'entered-in-error', 'order', '2025-02-07', 30),
    ('pna-07-r1', 'pna-07', '617310', 'active', 'order', '2025-05-31', 30),
    ('pna-07-r2', 'pna-07', '312961', 'active', 'order', '2025-06-05', 30),
    ('pna-08-r1', 'pna-08', '861007', 'active', 'order', '2024-08-01', 30),
    ('pna-08-r2', 'pna-08', '861007', 'active', 'order', '2025-02-10', 30),
    ('pna-09-r1', 'pna-09', '861007', 'active', 'order', '2024-08-14', 30),
    ('pna-09-r2', 'pna-09', '861007', 'active', 'order', '2025-02-10', 30),
    ('pna-10-r1', 'pna-10', '308182', 'active', 'order', '2025-03-03', 10),
    ('pna-11-r1', 'pna-11', '308182', 'active', 'order', '2025-03-10', 10),
    ('pna-12-r1', 'pna-12', '617310', 'active', 'order', '2025-03-15', 30),
    ('pna-12-r2', 'pna-12', '617310', 'active', 'order', '2025-03-15', 90),
    ('pna-13-r1', 'pna-13', '617310', 'active', 'order', '2025-04-01', 30),
    ('pna-13-r2', 'pna-13', '617310', 'active', 'order', '2025-04-20', 30),
    ('pna-14-r1', 'pna-14', '617310', 'completed', 'order', '2025-04-10', 30),
    ('pna-15-r1', 'pna-15', '617310', 'active', 'order', '2025-04-10', 30),
    ('pna-16-r1', 'pna-16', '617310', 'active', 'order', '2025-04-15', 30),
    ('pna-17-r1', 'pna-17', '617310', 'stopped', 'order', '2025-03-01', 30),
    ('pna-17-r2', 'pna-17', '617310', 'active', 'order', '2025-04-01', 30),
    ('pna-18-r1', 'pna-18', '617310', 'cancelled', 'order', '2025-03-01', 30),
    ('pna-18-r2', 'pna-18', '617310', 'active', 'order', '2025-04-05', 30),
    ('pna-19-r1', 'pna-19', '312961', 'active', 'order', '2025-05-02', 30);

INSERT INTO medication_dispenses (dispense_key, patient_id, request_key, rxnorm_code, status, dispensed_on, days_supply) VALUES
    ('pna-01-d1', 'pna-01', 'pna-01-r1', '617310', 'completed', '2025-02-09', 30),
    ('pna-02-d1', 'pna-02', 'pna-02-r1', '617310', 'completed', '2025-02-10', 30),
    ('pna-03-d1', 'pna-03', NULL, '312961', 'completed', '2025-01-20', 30),
    ('pna-04-d1', 'pna-04', NULL, '617310', 'completed', '2025-01-25', 30),
    ('pna-05-d1', 'pna-05', NULL, '617310', 'completed', '2024-11-15', 30),
    ('pna-08-d1', 'pna-08', 'pna-08-r2', '861007', 'completed', '2025-02-10', 30),
    ('pna-10-d1', 'pna-10', NULL, '308191', 'completed', '2025-03-05', 10),
    ('pna-11-d1', 'pna-11', 'pna-11-r1', '308191', 'completed', '2025-03-12', 10),
    ('pna-13-d1', 'pna-13', 'pna-13-r2', '617310', 'completed', '2025-05-15', 30),
    ('pna-14-d1', 'pna-14', 'pna-14-r1', '617310', 'completed', '2025-04-10', 30),
    ('pna-16-d1', 'pna-16', NULL, '617311', 'completed', '2025-01-05', 30),
    ('pna-18-d1', 'pna-18', 'pna-18-r2', '617310', 'completed', '2025-04-08', 30),
    ('pna-19-d1', 'pna-19', 'pna-19-r1', '312961', 'declined', '2025-05-05', 30);
