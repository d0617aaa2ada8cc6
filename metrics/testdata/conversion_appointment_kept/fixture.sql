-- Hand-worked input for conversion_appointment_kept. Policies: a reminder is
-- for the patient's first candidate appointment starting in
-- (sent_at, sent_at + 7 days], booked by then and not yet cancelled; a
-- comparison ('no') appointment had no reminder in [start - 7 days, start),
-- was booked and not cancelled 48 hours before its start, and its patient
-- has a linked CRM contact. Kept = fulfilled, arrived, checked-in.
--
-- Horizon: the earlier of the newest committed EHR run (r-ehr, 2025-03-31
-- 23:59:59) and CRM run (r-crm, 2025-03-20 12:00:00): 2025-03-20 12:00:00.
-- Appointments starting later are left out.
--
-- Patients: born 1970-06-01 (45-64), commercial coverage since 2020, linked
-- CRM contact, unless said otherwise. a-* female, b-* male. a-05 is 90+
-- (no birth date); b-03 has a birth year only (2007: taken as born
-- 2007-01-01, 18 in 2025, band 18-44); b-02 is covered by medicaid; b-07's
-- only contact is not linked. Appointments at clinic-a unless said
-- otherwise. Times are 2025; "bk" = booked_at.
--
-- messaged = yes (one row per reminded appointment)                    kept
--   a-01 sms reminder 01-08 10:00 delivered, opened, replied 10:20;
--        appointment 01-10 09:00 fulfilled (bk 01-01).
--        reached responded, channel sms                                  1
--   a-02 sms reminder 01-08 10:00 failed 10:00:30 (still indexed:
--        intention to treat); appointment 01-09 14:00 noshow
--        (bk 2024-12-20). reached not_delivered                          0
--   a-03 sms reminder 01-08 10:00:00, no later state; appointment
--        01-15 10:00:00 arrived (bk 01-02), exactly 7 days after: in.
--        reached not_delivered                                           1
--   a-05 (90+) two reminders for one appointment: sms 01-20 10:00
--        failed, email 01-21 10:00 delivered 10:01, opened 18:00;
--        appointment 01-22 15:00 fulfilled (bk 01-10). One row;
--        channel multiple; furthest stage before the start: opened       1
--   a-06 sms reminder 01-20 10:00 delivered. Appointments 01-21 09:00
--        cancelled 01-19 12:00 (before the reminder: not its target)
--        and 01-23 09:00 noshow (bk 01-05): the target. reached
--        delivered                                                       0
--        (The cancelled 01-21 one had the reminder in its 7 days
--        before: in neither group.)
--   a-07 sms reminder 02-03 10:00 delivered 10:00:05, opened 02-04 10:00
--        (after the start: not counted). Appointments 02-04 09:00
--        fulfilled (bk 01-20): the target, reached delivered             1
--        and 02-06 09:00 noshow (bk 01-20): the reminder was in its 7
--        days before but for the earlier one: in neither group.
--   a-09 email reminder 02-10 10:00 delivered 10:01; appointment at
--        clinic-b 02-12 10:00 (bk 02-01) cancelled 02-11 08:00, after
--        the reminder: the target, not kept. reached delivered          0
--   a-11 portal reminder 03-18 10:00 delivered 10:00:02; appointment
--        03-20 11:00 fulfilled (bk 03-01), before the horizon.
--        reached delivered                                               1
-- Reminders with no target (left out):
--   a-04 sms reminder 01-08 10:00:00 delivered; the appointment starts
--        01-15 10:00:01, 7 days + 1 s later: not its target. The
--        reminder is not in [start - 7 days, start) either, so the
--        appointment (fulfilled, bk 01-01) is a comparison row (below).
--   a-08 sms reminder 02-03 10:00 delivered; the appointment 02-05 09:00
--        (fulfilled) was booked 02-04 08:00, after it: no target; the
--        reminder is in the appointment's 7 days: neither group.
--   a-10 sms reminder 02-10 10:00 delivered; appointment 02-12 10:00
--        cancelled without a cancellation time: never a candidate.
--   b-10 sms reminder 03-18 10:00 delivered; its appointment 03-21 09:00
--        (booked) starts after the horizon: left out.
--
-- messaged = no (comparison)                                            kept
--   a-04 01-15 10:00:01 fulfilled (above)                                1
--   b-01 01-15 09:00 fulfilled (bk 01-01), no reminders                  1
--   b-02 01-16 09:00 noshow (bk 01-02), medicaid                         0
--   b-03 01-17 09:00 fulfilled, bk 01-15 09:00:00, exactly 48 h
--        before: in; birth year 2007 only, band 18-44                    1
--   b-05 clinic-b 01-20 09:00 (bk 01-01) cancelled 01-18 09:00:01, after
--        the 48 h point: on the books then, cancelled: not kept          0
--   b-09 appointment with no clinic ('unknown') 03-20 10:00 still booked
--        (before the horizon 12:00): due, not kept                       0
-- Never counted:
--   b-04 01-17 09:00 fulfilled, bk 01-15 09:00:01 (less than 48 h ahead)
--   b-06 01-20 09:00 cancelled 01-18 09:00:00 (at the 48 h point)
--   b-07 01-20 09:00 fulfilled, no linked CRM contact
--   b-09 proposed, pending, waitlist, entered-in-error appointments in
--        February; a fulfilled one at 03-20 12:00:01 (after the horizon)
--
-- Totals: yes 5/8 (a-01 a-03 a-05 a-07 a-11 of 8), no 3/6 (a-04 b-01 b-03).
-- By month and group: 2025-01 no 3/5 (a-04 b-01 b-02 b-03 b-05),
--   2025-01 yes 3/5 (a-01 a-02 a-03 a-05 a-06), 2025-02 yes 1/2 (a-07
--   a-09), 2025-03 no 0/1 (b-09), 2025-03 yes 1/1 (a-11).
-- By group and reached: no not_messaged 3/6; yes delivered 2/4 (a-06 a-07
--   a-09 a-11), yes not_delivered 1/2 (a-02 a-03), yes opened 1/1 (a-05),
--   yes responded 1/1 (a-01).
-- By channel: email 0/1 (a-09), multiple 1/1 (a-05), none 3/6, portal 1/1
--   (a-11), sms 3/5 (a-01 a-02 a-03 a-06 a-07).
-- By group and clinic: no clinic-a 3/4 (a-04 b-01 b-02 b-03), no clinic-b
--   0/1 (b-05), no unknown 0/1 (b-09), yes clinic-a 5/7, yes clinic-b 0/1.
-- By group and age band: no 18-44 1/1 (b-03), no 45-64 2/5, yes 45-64 4/7,
--   yes 90+ 1/1 (a-05).
-- By group and sex: no female 1/1 (a-04), no male 2/5, yes female 5/8.
-- By group and payer: no commercial 3/5, no medicaid 0/1 (b-02), yes
--   commercial 5/8.

INSERT INTO etl_runs (run_id, snapshot_id, job, status, deid_profile, started_at, finished_at,
    duration_ms, rows_read, rows_loaded, rows_quarantined, data_as_of) VALUES
    ('r-crm', 1, 'crm-rest', 'succeeded', 'limited', '2025-03-20 12:00:00', '2025-03-20 12:01:00', 60000, 0, 0, 0, '2025-03-20 12:00:00'),
    ('r-ehr', 2, 'bulk', 'succeeded', 'limited', '2025-04-01 02:00:00', '2025-04-01 02:10:00', 600000, 0, 0, 0, '2025-03-31 23:59:59');
INSERT INTO etl_run_counts VALUES
    ('r-crm', 'crm', 'messages', 0, 0, 0, 0),
    ('r-ehr', 'ehr', 'Appointment', 0, 0, 0, 0);

INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, clinic_id, source)
SELECT id, '1970-06-01', 1970, false, CASE WHEN id LIKE 'a-%' THEN 'female' ELSE 'male' END, 'clinic-a', 'ehr'
FROM (VALUES ('a-01'), ('a-02'), ('a-03'), ('a-04'), ('a-06'), ('a-07'), ('a-08'), ('a-09'), ('a-10'), ('a-11'),
             ('b-01'), ('b-02'), ('b-04'), ('b-05'), ('b-06'), ('b-07'), ('b-09'), ('b-10')) AS t(id);
INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, clinic_id, source) VALUES
    ('a-05', NULL, NULL, true, 'female', 'clinic-a', 'ehr'),
    ('b-03', NULL, 2007, false, 'male', 'clinic-a', 'ehr');

INSERT INTO coverage (coverage_key, patient_id, status, payer_id, payer_type, period_start, period_end)
SELECT 'cov-' || patient_id, patient_id, 'active',
    CASE WHEN patient_id = 'b-02' THEN 'payer-medicaid' ELSE 'payer-acme' END,
    CASE WHEN patient_id = 'b-02' THEN 'medicaid' ELSE 'commercial' END,
    '2020-01-01', NULL
FROM patients WHERE patient_id <> 'a-05';
INSERT INTO coverage (coverage_key, patient_id, status, payer_id, payer_type, period_start, period_end) VALUES
    ('cov-a-05', 'a-05', 'active', 'payer-acme', 'commercial', '2020-01-01', NULL);

INSERT INTO contacts (patient_id, linked, preferred_channel, sms_opt_out, email_opt_out, voice_opt_out, portal_enrolled)
SELECT patient_id, patient_id <> 'b-07', 'sms', false, false, false, true FROM patients;

INSERT INTO appointments (appointment_key, patient_id, status, clinic_id, booked_at, start_ts, end_ts, cancelled_at) VALUES
    ('ap-a01', 'a-01', 'fulfilled', 'clinic-a', '2025-01-01 12:00', '2025-01-10 09:00', '2025-01-10 09:30', NULL),
    ('ap-a02', 'a-02', 'noshow', 'clinic-a', '2024-12-20 12:00', '2025-01-09 14:00', '2025-01-09 14:30', NULL),
    ('ap-a03', 'a-03', 'arrived', 'clinic-a', '2025-01-02 12:00', '2025-01-15 10:00:00', NULL, NULL),
    ('ap-a04', 'a-04', 'fulfilled', 'clinic-a', '2025-01-01 12:00', '2025-01-15 10:00:01', NULL, NULL),
    ('ap-a05', 'a-05', 'fulfilled', 'clinic-a', '2025-01-10 12:00', '2025-01-22 15:00', NULL, NULL),
    ('ap-a06a', 'a-06', 'cancelled', 'clinic-a', '2025-01-05 12:00', '2025-01-21 09:00', NULL, '2025-01-19 12:00'),
    ('ap-a06b', 'a-06', 'noshow', 'clinic-a', '2025-01-05 12:00', '2025-01-23 09:00', NULL, NULL),
    ('ap-a07a', 'a-07', 'fulfilled', 'clinic-a', '2025-01-20 12:00', '2025-02-04 09:00', NULL, NULL),
    ('ap-a07b', 'a-07', 'noshow', 'clinic-a', '2025-01-20 12:00', '2025-02-06 09:00', NULL, NULL),
    ('ap-a08', 'a-08', 'fulfilled', 'clinic-a', '2025-02-04 08:00', '2025-02-05 09:00', NULL, NULL),
    ('ap-a09', 'a-09', 'cancelled', 'clinic-b', '2025-02-01 12:00', '2025-02-12 10:00', NULL, '2025-02-11 08:00'),
    ('ap-a10', 'a-10', 'cancelled', 'clinic-a', '2025-02-01 12:00', '2025-02-12 10:00', NULL, NULL),
    ('ap-a11', 'a-11', 'fulfilled', 'clinic-a', '2025-03-01 12:00', '2025-03-20 11:00', NULL, NULL),
    ('ap-b01', 'b-01', 'fulfilled', 'clinic-a', '2025-01-01 12:00', '2025-01-15 09:00', NULL, NULL),
    ('ap-b02', 'b-02', 'noshow', 'clinic-a', '2025-01-02 12:00', '2025-01-16 09:00', NULL, NULL),
    ('ap-b03', 'b-03', 'fulfilled', 'clinic-a', '2025-01-15 09:00:00', '2025-01-17 09:00', NULL, NULL),
    ('ap-b04', 'b-04', 'fulfilled', 'clinic-a', '2025-01-15 09:00:01', '2025-01-17 09:00', NULL, NULL),
    ('ap-b05', 'b-05', 'cancelled', 'clinic-b', '2025-01-01 12:00', '2025-01-20 09:00', NULL, '2025-01-18 09:00:01'),
    ('ap-b06', 'b-06', 'cancelled', 'clinic-a', '2025-01-01 12:00', '2025-01-20 09:00', NULL, '2025-01-18 09:00:00'),
    ('ap-b07', 'b-07', 'fulfilled', 'clinic-a', '2025-01-01 12:00', '2025-01-20 09:00', NULL, NULL),
    ('ap-b09a', 'b-09', 'proposed', 'clinic-a', '2025-02-01 12:00', '2025-02-10 09:00', NULL, NULL),
    ('ap-b09b', 'b-09', 'pending', 'clinic-a', '2025-02-01 12:00', '2025-02-11 09:00', NULL, NULL),
    ('ap-b09c', 'b-09', 'waitlist', 'clinic-a', '2025-02-01 12:00', '2025-02-12 09:00', NULL, NULL),
    ('ap-b09d', 'b-09', 'entered-in-error', 'clinic-a', '2025-02-01 12:00', '2025-02-13 09:00', NULL, NULL),
    ('ap-b09e', 'b-09', 'booked', NULL, '2025-03-01 12:00', '2025-03-20 10:00', NULL, NULL),
    ('ap-b09f', 'b-09', 'fulfilled', 'clinic-a', '2025-03-01 12:00', '2025-03-20 12:00:01', NULL, NULL),
    ('ap-b10', 'b-10', 'booked', 'clinic-a', '2025-03-01 12:00', '2025-03-21 09:00', NULL, NULL);

INSERT INTO outreach_messages (message_key, patient_id, campaign_id, purpose, channel, status,
    sent_at, delivered_at, opened_at, replied_at, failed_at) VALUES
    ('r-a01', 'a-01', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'replied',
        '2025-01-08 10:00', '2025-01-08 10:00:05', '2025-01-08 10:15', '2025-01-08 10:20', NULL),
    ('r-a02', 'a-02', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'failed',
        '2025-01-08 10:00', NULL, NULL, NULL, '2025-01-08 10:00:30'),
    ('r-a03', 'a-03', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'sent',
        '2025-01-08 10:00:00', NULL, NULL, NULL, NULL),
    ('r-a04', 'a-04', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered',
        '2025-01-08 10:00:00', '2025-01-08 10:00:05', NULL, NULL, NULL),
    ('r-a05a', 'a-05', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'failed',
        '2025-01-20 10:00', NULL, NULL, NULL, '2025-01-20 10:01'),
    ('r-a05b', 'a-05', 'CMP-APPT-EMAIL', 'appointment_reminder', 'email', 'opened',
        '2025-01-21 10:00', '2025-01-21 10:01', '2025-01-21 18:00', NULL, NULL),
    ('r-a06', 'a-06', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered',
        '2025-01-20 10:00', '2025-01-20 10:00:05', NULL, NULL, NULL),
    ('r-a07', 'a-07', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'opened',
        '2025-02-03 10:00', '2025-02-03 10:00:05', '2025-02-04 10:00', NULL, NULL),
    ('r-a08', 'a-08', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered',
        '2025-02-03 10:00', '2025-02-03 10:00:05', NULL, NULL, NULL),
    ('r-a09', 'a-09', 'CMP-APPT-EMAIL', 'appointment_reminder', 'email', 'delivered',
        '2025-02-10 10:00', '2025-02-10 10:01', NULL, NULL, NULL),
    ('r-a10', 'a-10', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered',
        '2025-02-10 10:00', '2025-02-10 10:00:05', NULL, NULL, NULL),
    ('r-a11', 'a-11', 'CMP-APPT-PORTAL', 'appointment_reminder', 'portal', 'delivered',
        '2025-03-18 10:00', '2025-03-18 10:00:02', NULL, NULL, NULL),
    ('r-b10', 'b-10', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered',
        '2025-03-18 10:00', '2025-03-18 10:00:05', NULL, NULL, NULL),
    -- Another purpose is no appointment reminder: b-01 stays unreminded.
    ('x-b01', 'b-01', 'CMP-LAB', 'lab_result', 'portal', 'delivered',
        '2025-01-13 10:00', '2025-01-13 10:00:05', NULL, NULL, NULL);
