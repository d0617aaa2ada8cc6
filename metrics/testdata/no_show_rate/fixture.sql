-- Hand-made input for no_show_rate. Only statuses due to happen count
-- (booked, arrived, checked-in, fulfilled, noshow); the numerator counts
-- noshow. Per start month and clinic:
--
--   clinic-01 2025-01  fulfilled 13, noshow 2 + 1 at 2025-01-31 23:30,
--                      booked 1, arrived 1, checked-in 1              -> 3/19
--                      never counted: cancelled 2, proposed 1, pending 1,
--                      waitlist 1, entered-in-error 1
--   clinic-01 2025-02  fulfilled 9 + 1 at 2025-02-01 00:00, noshow 12 -> 12/22
--                      never counted: cancelled 1, entered-in-error 1
--   clinic-02 2025-01  fulfilled 5, noshow 2                          -> 2/7
--                      never counted: cancelled 1
--   clinic-02 2025-02  fulfilled 20                                   -> 0/20
--                      never counted: waitlist 1
--   no clinic 2025-02  fulfilled 1 (patient absent from patients)     -> 0/1 'unknown'
--   outside Jan-Feb    clinic-01 noshow 2024-12-31 23:59             -> 1/1 in 2024-12
--                      clinic-02 noshow 2025-03-01 00:00             -> 1/1 in 2025-03
--                      clinic-01 noshow without a start: never counted
--                      clinic-01 booked 2025-04-15: due only when the data
--                      is as of a later time. The engine tests commit a run
--                      as of 2025-03-31 23:59:59 (not due: never counted);
--                      the fixture runner's default run is as of 2025-12-31
--                      23:59:59 (due, not missed: 0/1 in 2025-04, expect.csv)
--
-- Every grid appointment has its own patient, born 1985-05-05 (18-44):
-- clinic-01 patients are female with commercial coverage since 2020,
-- clinic-02 patients male with medicaid for 2024-2025.
--
-- A second, small set in June 2023 (clinic-03) exercises the age band and
-- payer dimensions; see the comments at its end.

CREATE TEMP TABLE fixture_cells (clinic VARCHAR, first_start TIMESTAMP, status VARCHAR, n INTEGER);
INSERT INTO fixture_cells VALUES
    ('clinic-01', '2025-01-10 08:00', 'fulfilled', 13),
    ('clinic-01', '2025-01-11 08:00', 'noshow', 2),
    ('clinic-01', '2025-01-12 08:00', 'booked', 1),
    ('clinic-01', '2025-01-12 09:00', 'arrived', 1),
    ('clinic-01', '2025-01-12 10:00', 'checked-in', 1),
    ('clinic-01', '2025-01-13 08:00', 'cancelled', 2),
    ('clinic-01', '2025-01-13 09:00', 'proposed', 1),
    ('clinic-01', '2025-01-13 10:00', 'pending', 1),
    ('clinic-01', '2025-01-13 11:00', 'waitlist', 1),
    ('clinic-01', '2025-01-13 12:00', 'entered-in-error', 1),
    ('clinic-01', '2025-02-10 08:00', 'fulfilled', 9),
    ('clinic-01', '2025-02-11 08:00', 'noshow', 12),
    ('clinic-01', '2025-02-12 08:00', 'cancelled', 1),
    ('clinic-01', '2025-02-12 09:00', 'entered-in-error', 1),
    ('clinic-02', '2025-01-20 08:00', 'fulfilled', 5),
    ('clinic-02', '2025-01-21 08:00', 'noshow', 2),
    ('clinic-02', '2025-01-22 08:00', 'cancelled', 1),
    ('clinic-02', '2025-02-20 08:00', 'fulfilled', 20),
    ('clinic-02', '2025-02-21 08:00', 'waitlist', 1);

-- n appointments per cell, 20 minutes apart on the cell's day.
INSERT INTO appointments (appointment_key, patient_id, status, clinic_id, start_ts)
SELECT key, 'p-' || key, status, clinic, start_ts FROM (
    SELECT c.clinic || '-' || strftime(c.first_start, '%Y%m%d%H') || '-' || c.status || '-' || g.i AS key,
           c.status, c.clinic, c.first_start + to_minutes(CAST(20 * g.i AS BIGINT)) AS start_ts
    FROM fixture_cells AS c JOIN range(0, 100) AS g(i) ON g.i < c.n
);

INSERT INTO appointments (appointment_key, patient_id, status, clinic_id, start_ts) VALUES
    ('edge-jan31', 'p-edge-jan31', 'noshow', 'clinic-01', '2025-01-31 23:30'),
    ('edge-feb01', 'p-edge-feb01', 'fulfilled', 'clinic-01', '2025-02-01 00:00'),
    ('edge-dec31', 'p-edge-dec31', 'noshow', 'clinic-01', '2024-12-31 23:59'),
    ('edge-mar01', 'p-edge-mar01', 'noshow', 'clinic-02', '2025-03-01 00:00'),
    ('no-start', 'p-no-start', 'noshow', 'clinic-01', NULL),
    ('future', 'p-future', 'booked', 'clinic-01', '2025-04-15 09:00'),
    ('no-clinic', 'p-no-clinic', 'fulfilled', NULL, '2025-02-15 10:00');

INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, source)
SELECT patient_id, DATE '1985-05-05', 1985, false,
       CASE clinic_id WHEN 'clinic-01' THEN 'female' ELSE 'male' END, 'ehr'
FROM appointments WHERE clinic_id IS NOT NULL;

INSERT INTO coverage (coverage_key, patient_id, status, payer_type, period_start, period_end)
SELECT 'cov-' || patient_id, patient_id, 'active',
       CASE clinic_id WHEN 'clinic-01' THEN 'commercial' ELSE 'medicaid' END,
       CASE clinic_id WHEN 'clinic-01' THEN DATE '2020-01-01' ELSE DATE '2024-01-01' END,
       CASE clinic_id WHEN 'clinic-01' THEN NULL ELSE DATE '2025-12-31' END
FROM appointments WHERE clinic_id IS NOT NULL;

-- June 2023, clinic-03: dimensions on the appointment date.
--   pa  born 2005-06-15, female; medicaid 2022-01-01..2023-06-15,
--       commercial from 2023-06-16
--       a1 2023-06-14 fulfilled: 17 -> 0-17,  medicaid
--       a2 2023-06-15 noshow:    18 -> 18-44, medicaid
--       a3 2023-06-16 fulfilled: 18 -> 18-44, commercial
--   pe  age_90_plus, male, no coverage
--       a4 2023-06-20 noshow:    90+, unknown payer
--   pg  no birth date, sex other; only an entered-in-error coverage
--       a5 2023-06-21 booked:    unknown age band, unknown payer
INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, source) VALUES
    ('pa', '2005-06-15', 2005, false, 'female', 'ehr'),
    ('pe', NULL, NULL, true, 'male', 'ehr'),
    ('pg', NULL, NULL, false, 'other', 'ehr');
INSERT INTO coverage (coverage_key, patient_id, status, payer_type, period_start, period_end) VALUES
    ('cov-pa-1', 'pa', 'active', 'medicaid', '2022-01-01', '2023-06-15'),
    ('cov-pa-2', 'pa', 'active', 'commercial', '2023-06-16', NULL),
    ('cov-pg-1', 'pg', 'entered-in-error', 'medicare', '2020-01-01', NULL);
INSERT INTO appointments (appointment_key, patient_id, status, clinic_id, start_ts) VALUES
    ('a1', 'pa', 'fulfilled', 'clinic-03', '2023-06-14 09:00'),
    ('a2', 'pa', 'noshow', 'clinic-03', '2023-06-15 09:00'),
    ('a3', 'pa', 'fulfilled', 'clinic-03', '2023-06-16 09:00'),
    ('a4', 'pe', 'noshow', 'clinic-03', '2023-06-20 09:00'),
    ('a5', 'pg', 'booked', 'clinic-03', '2023-06-21 09:00');

DROP TABLE fixture_cells;
