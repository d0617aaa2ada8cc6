-- Hand-made input for late_cancellation_rate. A row per appointment starting
-- by the horizon that was due (booked, arrived, checked-in, fulfilled,
-- noshow: numerator 0) or cancelled late, less than 24 h before its start
-- (status cancelled, start_ts - cancelled_at < 24 h: numerator 1). Periods
-- go by the start date.
--
-- The horizon is the EHR run's data_as_of, 2025-03-31 23:59:59
-- (appointments_as_of); a later CRM-only run (2025-06-30) and the value-set
-- load the runner adds do not move it.
--
-- Patients: lc-f female, born 1980-03-15 (44, 18-44, until 2025-03-14; 45,
-- 45-64, from 2025-03-15), ZIP3 021, commercial; lc-m male, born 1950-02-01 (74, 65-74,
-- until 2025-01-31; 75, 75-89, from 2025-02-01), ZIP3 014, Medicare; lc-x
-- is not in patients (all unknown).
--
--  key    pat   clinic     start             status / cancelled_at              row
--  lc01   lc-f  clinic-01  2025-01-10 10:00  cancelled 01-09 10:01 (23h59m)     1/1
--  lc02   lc-f  clinic-01  2025-01-10 11:00  cancelled 01-09 11:00 (exactly     -
--                                            24 h: on time)
--  lc03   lc-f  clinic-01  2025-01-11 09:00  cancelled 01-11 08:00 (1 h)        1/1
--  lc04   lc-f  clinic-01  2025-01-12 09:00  cancelled 01-12 09:30 (after the   1/1
--                                            start)
--  lc05   lc-f  clinic-01  2025-01-13 09:00  cancelled 01-10 09:00 (3 days)     -
--  lc06   lc-f  clinic-01  2025-01-14 09:00  cancelled, no cancellation time   -
--  lc07   lc-f  clinic-01  2025-01-15 09:00  fulfilled                          0/1
--  lc08   lc-f  clinic-01  2025-01-16 09:00  noshow                             0/1
--  lc09   lc-f  clinic-01  2025-01-17 09:00  booked                             0/1
--  lc10   lc-f  clinic-01  2025-01-17 10:00  arrived                            0/1
--  lc11   lc-f  clinic-01  2025-01-17 11:00  checked-in                         0/1
--  lc12   lc-f  clinic-01  2025-01-18 09:00  proposed                           -
--  lc13   lc-f  clinic-01  2025-01-18 10:00  pending                            -
--  lc14   lc-f  clinic-01  2025-01-18 11:00  waitlist                           -
--  lc15   lc-f  clinic-01  2025-01-18 12:00  entered-in-error, cancelled_at     -
--                                            1 h before
--  lc16   lc-f  clinic-01  2025-01-31 23:30  cancelled 01-31 20:00 (3h30)       1/1 (Jan)
--  lc17   lc-f  clinic-01  2025-02-01 00:00  cancelled 01-31 12:00 (12 h)       1/1 (Feb: by start)
--  lc18   lc-f  clinic-01  (no start)        cancelled 01-20 10:00              -
--  lc19   lc-f  clinic-01  2025-02-10 09:00  fulfilled                          0/1
--  lc20   lc-m  clinic-02  2025-01-31 15:00  cancelled 01-30 16:00 (23 h)       1/1 (65-74)
--  lc21   lc-m  clinic-02  2025-01-31 16:00  fulfilled                          0/1 (65-74)
--  lc22   lc-m  clinic-02  2025-02-01 13:00  noshow                             0/1 (75-89)
--  lc23   lc-m  clinic-02  2025-02-03 13:00  cancelled 02-02 13:00 (exactly     -
--                                            24 h)
--  lc24   lc-m  clinic-02  2025-02-04 13:00  cancelled 02-03 13:01 (23h59m)     1/1 (75-89)
--  lc25   lc-x  (none)     2025-02-15 10:00  cancelled 02-15 09:00 (1 h)        1/1 unknowns
--  lc26   lc-f  clinic-01  2025-03-31 23:00  cancelled 03-31 10:00 (13 h)       1/1 (45-64)
--  lc27   lc-f  clinic-01  2025-04-01 09:00  cancelled 03-31 20:00 (13 h), but  -
--                                            starts after the horizon
--  lc28   lc-f  clinic-01  2025-04-02 09:00  booked, after the horizon          -
--
-- By month and clinic:
--   2025-01 clinic-01: late lc01 lc03 lc04 lc16, due lc07-lc11      -> 4/9
--   2025-01 clinic-02: late lc20, due lc21                          -> 1/2
--   2025-02 clinic-01: late lc17, due lc19                          -> 1/2
--   2025-02 clinic-02: late lc24, due lc22                          -> 1/2
--   2025-02 unknown:   late lc25                                    -> 1/1
--   2025-03 clinic-01: late lc26                                    -> 1/1
-- By month: 2025-01 5/11, 2025-02 3/5, 2025-03 1/1; 2025: 9/17.
-- Age band, sex, payer, ZIP3 (2025-01..03, no grain):
--   18-44 female commercial 021: lc01 lc03 lc04 lc16 lc17 late, lc07-lc11
--                                lc19 due                          -> 5/11
--   45-64 female commercial 021: lc26                                  -> 1/1
--   65-74 male medicare 014: lc20 lc21                                 -> 1/2
--   75-89 male medicare 014: lc22 lc24                                 -> 1/2
--   unknown unknown unknown unknown: lc25                              -> 1/1

INSERT INTO etl_runs (run_id, snapshot_id, job, status, deid_profile, started_at, finished_at, duration_ms,
                      rows_read, rows_loaded, rows_quarantined, error, data_as_of) VALUES
    ('run-ehr', 1, 'files', 'succeeded', 'limited', '2025-04-01 02:00', '2025-04-01 02:10', 600000, 0, 0, 0, NULL, '2025-03-31 23:59:59'),
    ('run-crm', 2, 'crm', 'succeeded', 'limited', '2025-07-01 02:00', '2025-07-01 02:05', 300000, 0, 0, 0, NULL, '2025-06-30 12:00:00');
INSERT INTO etl_run_counts (run_id, source, entity, rows_read, rows_loaded, rows_quarantined, rows_skipped) VALUES
    ('run-ehr', 'ehr', 'Appointment', 0, 0, 0, 0),
    ('run-crm', 'crm', 'messages', 0, 0, 0, 0);

INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, zip3, source) VALUES
    ('lc-f', '1980-03-15', 1980, false, 'female', '021', 'ehr'),
    ('lc-m', '1950-02-01', 1950, false, 'male', '014', 'ehr');
INSERT INTO coverage (coverage_key, patient_id, status, payer_type, period_start, period_end) VALUES
    ('cov-lc-f', 'lc-f', 'active', 'commercial', '2020-01-01', NULL),
    ('cov-lc-m', 'lc-m', 'active', 'medicare', '2015-02-01', NULL);

INSERT INTO appointments (appointment_key, patient_id, status, clinic_id, start_ts, cancelled_at)
SELECT k, p, s, c, CAST(st AS TIMESTAMP), CAST(ca AS TIMESTAMP)
FROM (VALUES
    ('lc01', 'lc-f', 'cancelled', 'clinic-01', '2025-01-10 10:00', '2025-01-09 10:01'),
    ('lc02', 'lc-f', 'cancelled', 'clinic-01', '2025-01-10 11:00', '2025-01-09 11:00'),
    ('lc03', 'lc-f', 'cancelled', 'clinic-01', '2025-01-11 09:00', '2025-01-11 08:00'),
    ('lc04', 'lc-f', 'cancelled', 'clinic-01', '2025-01-12 09:00', '2025-01-12 09:30'),
    ('lc05', 'lc-f', 'cancelled', 'clinic-01', '2025-01-13 09:00', '2025-01-10 09:00'),
    ('lc06', 'lc-f', 'cancelled', 'clinic-01', '2025-01-14 09:00', NULL),
    ('lc07', 'lc-f', 'fulfilled', 'clinic-01', '2025-01-15 09:00', NULL),
    ('lc08', 'lc-f', 'noshow', 'clinic-01', '2025-01-16 09:00', NULL),
    ('lc09', 'lc-f', 'booked', 'clinic-01', '2025-01-17 09:00', NULL),
    ('lc10', 'lc-f', 'arrived', 'clinic-01', '2025-01-17 10:00', NULL),
    ('lc11', 'lc-f', 'checked-in', 'clinic-01', '2025-01-17 11:00', NULL),
    ('lc12', 'lc-f', 'proposed', 'clinic-01', '2025-01-18 09:00', NULL),
    ('lc13', 'lc-f', 'pending', 'clinic-01', '2025-01-18 10:00', NULL),
    ('lc14', 'lc-f', 'waitlist', 'clinic-01', '2025-01-18 11:00', NULL),
    ('lc15', 'lc-f', 'entered-in-error', 'clinic-01', '2025-01-18 12:00', '2025-01-18 11:00'),
    ('lc16', 'lc-f', 'cancelled', 'clinic-01', '2025-01-31 23:30', '2025-01-31 20:00'),
    ('lc17', 'lc-f', 'cancelled', 'clinic-01', '2025-02-01 00:00', '2025-01-31 12:00'),
    ('lc18', 'lc-f', 'cancelled', 'clinic-01', NULL, '2025-01-20 10:00'),
    ('lc19', 'lc-f', 'fulfilled', 'clinic-01', '2025-02-10 09:00', NULL),
    ('lc20', 'lc-m', 'cancelled', 'clinic-02', '2025-01-31 15:00', '2025-01-30 16:00'),
    ('lc21', 'lc-m', 'fulfilled', 'clinic-02', '2025-01-31 16:00', NULL),
    ('lc22', 'lc-m', 'noshow', 'clinic-02', '2025-02-01 13:00', NULL),
    ('lc23', 'lc-m', 'cancelled', 'clinic-02', '2025-02-03 13:00', '2025-02-02 13:00'),
    ('lc24', 'lc-m', 'cancelled', 'clinic-02', '2025-02-04 13:00', '2025-02-03 13:01'),
    ('lc25', 'lc-x', 'cancelled', NULL, '2025-02-15 10:00', '2025-02-15 09:00'),
    ('lc26', 'lc-f', 'cancelled', 'clinic-01', '2025-03-31 23:00', '2025-03-31 10:00'),
    ('lc27', 'lc-f', 'cancelled', 'clinic-01', '2025-04-01 09:00', '2025-03-31 20:00'),
    ('lc28', 'lc-f', 'booked', 'clinic-01', '2025-04-02 09:00', NULL)
) AS t(k, p, s, c, st, ca);
