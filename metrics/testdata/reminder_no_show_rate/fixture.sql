-- Hand-made input for reminder_no_show_rate. Rows are the appointments due
-- to happen (booked, arrived, checked-in, fulfilled, noshow) starting by the
-- horizon; numerator noshow. reminded = 'yes' when an appointment_reminder
-- message to the same patient was delivered in [start - 7 days, start).
--
-- The horizon is the EHR run's data_as_of, 2025-03-31 23:59:59
-- (appointments_as_of). A later CRM-only run (data_as_of 2025-06-30) and the
-- value-set load the runner adds do not move it: the booking on 2025-04-02
-- below stays out.
--
-- Each patient mNN has one scenario; appointments start 2025-01-10 10:00 at
-- clinic-01 unless said otherwise; reminders are delivered appointment
-- reminders.
--
--  pat  appointment        reminder                               reminded channel row
--  m01  noshow             sms delivered 01-03 10:00 = exactly 7  yes      sms     1
--                          days before
--  m02  fulfilled          sms delivered 01-03 09:59 = 7 days and no       none    0
--                          1 minute before
--  m03  noshow             sms delivered 01-02 10:00 = 8 days     no       none    1
--  m04  fulfilled          email delivered 01-10 09:59            yes      email   0
--  m05  noshow             sms delivered 01-10 10:00, at the      no       none    1
--                          start, not before it
--  m06  fulfilled          sms sent 01-08, never delivered; sms   no       none    0
--                          failed 01-09 (no delivery time)
--  m07  noshow             refill_reminder delivered 01-08: not   no       none    1
--                          an appointment reminder
--  m08  noshow clinic-02   sms 01-07 10:00 and voice 01-08 10:00  yes      voice   1
--                          delivered: the latest gives the channel
--  m09  fulfilled clinic-02 portal (msg-m09-b) and email          yes      email   0
--                          (msg-m09-a) both delivered 01-08 10:00:
--                          the smallest key breaks the tie
--  m10  cancelled, proposed, pending, waitlist, entered-in-error     -        -       -
--       (01-10..01-14) and booked 2025-04-02 (after the horizon),
--       each with a reminder delivered the day before: never counted
--  m11  booked 2025-03-31 23:00 sms delivered 03-30 12:00          yes      sms     0
--  m12  noshow             a reminder delivered 01-08 to m13,     no       none    1
--                          another patient
--  m14  fulfilled, no clinic; not in patients; sms delivered 01-09 yes     sms     0
--  m15  fulfilled 01-20 10:00 and noshow 01-22 10:00; one portal   yes      portal  0, 1
--       reminder delivered 01-19 10:00 counts for both (messages
--       do not name their appointment)
--  m16  noshow without a start                                   -        -       -
--  m17  arrived 02-12 10:00 and checked-in 02-12 11:00, no        no       none    0, 0
--       reminders
--
-- Totals (2025-01-01..2025-03-31):
--   by reminded: no  m02 m03 m05 m06 m07 m12 m17 m17  -> 4/8
--                yes m01 m04 m08 m09 m11 m14 m15 m15  -> 3/8
--   by month x reminded: 2025-01 no 4/6, 2025-01 yes 3/7, 2025-02 no 0/2,
--                        2025-03 yes 0/1
--   by channel: email 0/2 (m04 m09), none 4/8, portal 1/2 (m15), sms 1/3
--               (m01 m11 m14), voice 1/1 (m08)
--   by reminded x clinic: no clinic-01 4/8; yes clinic-01 2/5 (m01 m04 m11
--               m15 m15), yes clinic-02 1/2 (m08 m09), yes unknown 0/1 (m14)
--   all patients but m14 are female, born 1980-01-01 (45-64), ZIP3 021,
--   commercial: 45-64 female commercial 021 7/15; m14 unknown x4 0/1.
--   overall 7/16.

INSERT INTO etl_runs (run_id, snapshot_id, job, status, deid_profile, started_at, finished_at, duration_ms,
                      rows_read, rows_loaded, rows_quarantined, error, data_as_of) VALUES
    ('run-ehr', 1, 'files', 'succeeded', 'limited', '2025-04-01 02:00', '2025-04-01 02:10', 600000, 0, 0, 0, NULL, '2025-03-31 23:59:59'),
    ('run-crm', 2, 'crm', 'succeeded', 'limited', '2025-07-01 02:00', '2025-07-01 02:05', 300000, 0, 0, 0, NULL, '2025-06-30 12:00:00');
INSERT INTO etl_run_counts (run_id, source, entity, rows_read, rows_loaded, rows_quarantined, rows_skipped) VALUES
    ('run-ehr', 'ehr', 'Appointment', 0, 0, 0, 0),
    ('run-crm', 'crm', 'messages', 0, 0, 0, 0);

INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, zip3, source)
SELECT 'm' || lpad(CAST(i AS VARCHAR), 2, '0'), DATE '1980-01-01', 1980, false, 'female', '021', 'ehr'
FROM range(1, 18) AS t(i)
WHERE i <> 14;
INSERT INTO coverage (coverage_key, patient_id, status, payer_type, period_start, period_end)
SELECT 'cov-' || patient_id, patient_id, 'active', 'commercial', DATE '2020-01-01', NULL
FROM patients;

INSERT INTO appointments (appointment_key, patient_id, status, clinic_id, start_ts) VALUES
    ('a01', 'm01', 'noshow', 'clinic-01', '2025-01-10 10:00'),
    ('a02', 'm02', 'fulfilled', 'clinic-01', '2025-01-10 10:00'),
    ('a03', 'm03', 'noshow', 'clinic-01', '2025-01-10 10:00'),
    ('a04', 'm04', 'fulfilled', 'clinic-01', '2025-01-10 10:00'),
    ('a05', 'm05', 'noshow', 'clinic-01', '2025-01-10 10:00'),
    ('a06', 'm06', 'fulfilled', 'clinic-01', '2025-01-10 10:00'),
    ('a07', 'm07', 'noshow', 'clinic-01', '2025-01-10 10:00'),
    ('a08', 'm08', 'noshow', 'clinic-02', '2025-01-10 10:00'),
    ('a09', 'm09', 'fulfilled', 'clinic-02', '2025-01-10 10:00'),
    ('a10a', 'm10', 'cancelled', 'clinic-01', '2025-01-10 10:00'),
    ('a10b', 'm10', 'proposed', 'clinic-01', '2025-01-11 10:00'),
    ('a10c', 'm10', 'pending', 'clinic-01', '2025-01-12 10:00'),
    ('a10d', 'm10', 'waitlist', 'clinic-01', '2025-01-13 10:00'),
    ('a10e', 'm10', 'entered-in-error', 'clinic-01', '2025-01-14 10:00'),
    ('a10f', 'm10', 'booked', 'clinic-01', '2025-04-02 10:00'),
    ('a11', 'm11', 'booked', 'clinic-01', '2025-03-31 23:00'),
    ('a12', 'm12', 'noshow', 'clinic-01', '2025-01-10 10:00'),
    ('a14', 'm14', 'fulfilled', NULL, '2025-01-10 10:00'),
    ('a15a', 'm15', 'fulfilled', 'clinic-01', '2025-01-20 10:00'),
    ('a15b', 'm15', 'noshow', 'clinic-01', '2025-01-22 10:00'),
    ('a16', 'm16', 'noshow', 'clinic-01', NULL),
    ('a17a', 'm17', 'arrived', 'clinic-01', '2025-02-12 10:00'),
    ('a17b', 'm17', 'checked-in', 'clinic-01', '2025-02-12 11:00');

INSERT INTO outreach_messages (message_key, patient_id, campaign_id, purpose, channel, status, sent_at, delivered_at, failed_at) VALUES
    ('msg-m01', 'm01', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered', '2025-01-03 09:59', '2025-01-03 10:00', NULL),
    ('msg-m02', 'm02', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered', '2025-01-03 09:58', '2025-01-03 09:59', NULL),
    ('msg-m03', 'm03', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered', '2025-01-02 09:59', '2025-01-02 10:00', NULL),
    ('msg-m04', 'm04', 'CMP-APPT-EMAIL', 'appointment_reminder', 'email', 'opened', '2025-01-10 09:58', '2025-01-10 09:59', NULL),
    ('msg-m05', 'm05', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered', '2025-01-10 09:59', '2025-01-10 10:00', NULL),
    ('msg-m06a', 'm06', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'sent', '2025-01-08 10:00', NULL, NULL),
    ('msg-m06b', 'm06', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'failed', '2025-01-09 10:00', NULL, '2025-01-09 10:01'),
    ('msg-m07', 'm07', 'CMP-REFILL', 'refill_reminder', 'sms', 'delivered', '2025-01-08 09:59', '2025-01-08 10:00', NULL),
    ('msg-m08a', 'm08', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered', '2025-01-07 09:59', '2025-01-07 10:00', NULL),
    ('msg-m08b', 'm08', 'CMP-APPT-VOICE', 'appointment_reminder', 'voice', 'delivered', '2025-01-08 09:59', '2025-01-08 10:00', NULL),
    ('msg-m09-b', 'm09', 'CMP-APPT-PORTAL', 'appointment_reminder', 'portal', 'delivered', '2025-01-08 09:59', '2025-01-08 10:00', NULL),
    ('msg-m09-a', 'm09', 'CMP-APPT-EMAIL', 'appointment_reminder', 'email', 'delivered', '2025-01-08 09:59', '2025-01-08 10:00', NULL),
    ('msg-m10a', 'm10', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered', '2025-01-09 09:59', '2025-01-09 10:00', NULL),
    ('msg-m10b', 'm10', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered', '2025-01-12 09:59', '2025-01-12 10:00', NULL),
    ('msg-m10f', 'm10', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered', '2025-04-01 09:59', '2025-04-01 10:00', NULL),
    ('msg-m11', 'm11', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered', '2025-03-30 11:59', '2025-03-30 12:00', NULL),
    ('msg-m13', 'm13', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered', '2025-01-08 09:59', '2025-01-08 10:00', NULL),
    ('msg-m14', 'm14', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered', '2025-01-09 09:59', '2025-01-09 10:00', NULL),
    ('msg-m15', 'm15', 'CMP-APPT-PORTAL', 'appointment_reminder', 'portal', 'delivered', '2025-01-19 09:59', '2025-01-19 10:00', NULL);
