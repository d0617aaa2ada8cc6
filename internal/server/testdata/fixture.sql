-- No-show fixture for the HTTP tests: appointments due per month and clinic
-- (no-shows / all due), each with its own patient.
--
--              clinic-01  clinic-02  clinic-03 | all clinics
--   2025-01      3/30      12/30      15/40    |  30/100 = 0.3
--   2025-02      4/25      11/25       0/30    |  15/80  = 0.1875
--   2025-03      2/7       13/26      12/48    |  27/81
--
-- clinic-03's March appointments all fall on 2025-03-31, so March is the
-- last full month of data. Disclosure (threshold 11, all groupings treated
-- as having totals): in Jan-Feb, clinic-01's 3 and 4 no-shows are hidden,
-- clinic-02's 12 and 11 complement them (rows and columns then each hide
-- two); every denominator shows. In March, clinic-01's 7 appointments hide
-- the whole cell and clinic-02's (the smaller of the other two) goes with
-- it; clinic-03 shows 12/48 = 0.25.
CREATE TEMP TABLE fixture_cells (clinic VARCHAR, first_start TIMESTAMP, status VARCHAR, n INTEGER);
INSERT INTO fixture_cells VALUES
    ('clinic-01', '2025-01-06 08:00', 'noshow', 3),
    ('clinic-01', '2025-01-07 08:00', 'fulfilled', 27),
    ('clinic-01', '2025-01-07 09:00', 'cancelled', 4),
    ('clinic-02', '2025-01-08 08:00', 'noshow', 12),
    ('clinic-02', '2025-01-09 08:00', 'fulfilled', 18),
    ('clinic-03', '2025-01-10 08:00', 'noshow', 15),
    ('clinic-03', '2025-01-13 08:00', 'fulfilled', 25),
    ('clinic-01', '2025-02-03 08:00', 'noshow', 4),
    ('clinic-01', '2025-02-04 08:00', 'fulfilled', 21),
    ('clinic-02', '2025-02-05 08:00', 'noshow', 11),
    ('clinic-02', '2025-02-06 08:00', 'fulfilled', 14),
    ('clinic-02', '2025-02-06 09:00', 'entered-in-error', 2),
    ('clinic-03', '2025-02-07 08:00', 'fulfilled', 30),
    ('clinic-01', '2025-03-03 08:00', 'noshow', 2),
    ('clinic-01', '2025-03-04 08:00', 'fulfilled', 5),
    ('clinic-02', '2025-03-05 08:00', 'noshow', 13),
    ('clinic-02', '2025-03-06 08:00', 'fulfilled', 13),
    ('clinic-03', '2025-03-31 00:00', 'noshow', 12),
    ('clinic-03', '2025-03-31 04:00', 'fulfilled', 36);

INSERT INTO appointments (appointment_key, patient_id, status, clinic_id, start_ts)
SELECT key, 'p-' || key, status, clinic, start_ts FROM (
    SELECT c.clinic || '-' || strftime(c.first_start, '%Y%m%d%H') || '-' || c.status || '-' || g.i AS key,
           c.status, c.clinic, c.first_start + to_minutes(CAST(20 * g.i AS BIGINT)) AS start_ts
    FROM fixture_cells AS c JOIN range(0, 100) AS g(i) ON g.i < c.n
);
DROP TABLE fixture_cells;
