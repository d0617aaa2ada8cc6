-- Hand-worked input for the outreach funnel: outreach_delivered_rate,
-- outreach_opened_rate and outreach_response_rate share this fixture (the
-- other two folders' fixture.sql include it; each has its own expect.csv).
--
-- Rules under test. A message (outreach_messages row with a sending time) is
-- in every denominator, whatever its outcome. Within 7 days of sending
-- (sent_at + 7 days, that instant included):
--   D delivered = delivered_at, opened_at or replied_at in the window
--   O opened    = opened_at or replied_at in the window
--   R responded = replied_at in the window
-- Horizon: the newest committed run that loaded CRM data (etl_run_counts
-- source 'crm'): run r-crm, 2025-06-20 12:00:00. The EHR run r-ehr (later,
-- 2025-06-30) and the failed CRM run r-crm-failed (2025-12-31) do not count.
-- A message counts only when sent_at + 7 days <= 2025-06-20 12:00:00, i.e.
-- sent on or before 2025-06-13 12:00:00.
--
-- Patients
--   f-01 female, born 1980-03-10 (44 in Jan 2025, 45 from 03-10: band 18-44
--        in January, 45-64 in June), clinic-a; commercial 2020-01-01..
--        2025-01-31, medicaid from 2025-02-01.
--   f-02 male, born 1950-02-15 (74 until 2025-02-14, 75 from 02-15: band
--        65-74 then 75-89), clinic-b, medicare since 2015.
--   f-x  a CRM contact not linked to an EHR patient (no patients row):
--        clinic, age band, sex and payer 'unknown'.
--
-- Messages (times 2025; "+Ns" = seconds after sending)           D O R
-- January, f-01, sms, appointment_reminder, CMP-APPT-SMS (age 18-44, commercial)
--   m01 01-10 10:00 delivered +5s, opened +30m, replied +35m       1 1 1
--   m02 01-11 10:00 delivered, opened; message_events hold the
--       opened event twice (a repeated notification with its own
--       id, 10 minutes later): opened_at keeps the earliest time
--       (the ETL's merge); events are not read again, so once        1 1 0
--   m03 01-12 10:00 delivered only                                 1 0 0
--   m12 01-12 10:00 the same reminder sent again (a duplicate send,
--       its own message id): two messages sent, both count         1 0 0
--   m04 01-13 10:00 failed +30s (status failed)                     0 0 0
--   m05 01-14 10:00 no later state: no delivery notice ever          0 0 0
--   m06 01-15 10:00 replied +2m, no delivery or open notice:
--       the reply proves both                                       1 1 1
--   m07 01-16 10:00 opened +1h only (no delivery notice)            1 1 0
--   m08 01-17 10:00:00 delivered 01-24 10:00:00, exactly 7 days:
--       in the window                                               1 0 0
--   m09 01-18 10:00:00 delivered 01-25 10:00:01 and opened
--       01-25 11:00, both 7 days + 1 s or later: too late           0 0 0
--   m10 01-19 10:00:00 delivered +10s, opened 01-26 10:00:00
--       (exactly 7 days), replied 01-26 10:00:01 (too late)         1 1 0
--   m11 01-20 10:00 delivered +10s and failed +20s: the delivery
--       was seen, so delivered (status failed)                      1 0 0
--   January: 12 sent; D 9 (m01 02 03 12 06 07 08 10 11), O 5 (m01 02 06
--   07 10), R 2 (m01 06)
-- February, f-02, email (medicare)
--   m20 02-14 refill_reminder CMP-REFILL, age 74 (65-74): delivered,
--       opened                                                      1 1 0
--   m21 02-20 refill_reminder CMP-REFILL, age 75 (75-89): failed    0 0 0
--   m22 02-20 refill_reminder CMP-REFILL, 75-89: delivered, replied
--       without an open notice                                      1 1 1
--   m23 02-20 education, no campaign ('none'), 75-89: delivered     1 0 0
--   February: 4 sent; D 3, O 2, R 1
-- March, f-x (unlinked), voice, preventive_care, CMP-SCREEN
--   m30 03-05 delivered, opened, replied                            1 1 1
--   m31 03-06 nothing                                               0 0 0
--   March: 2 sent; D 1, O 1, R 1
-- June, f-01, sms, appointment_reminder, CMP-APPT-SMS (45-64, medicaid)
--   m40 06-13 12:00:00 delivered: sent exactly 7 days before the
--       horizon, in                                                 1 0 0
--   m41 06-13 12:00:01 delivered: its window ends after the
--       horizon, left out                                           - - -
--   m42 06-19 09:00 replied: left out                               - - -
--   m43 no sending time: never counted                              - - -
--   June: 1 sent; D 1, O 0, R 0
--
-- Totals: 19 sent; D 14, O 8, R 4.
-- By purpose and channel:
--   appointment_reminder sms   13 sent (Jan 12 + m40); D 10, O 5, R 2
--   education email             1 sent;                D 1,  O 0, R 0
--   preventive_care voice       2 sent;                D 1,  O 1, R 1
--   refill_reminder email       3 sent;                D 2,  O 2, R 1
-- By campaign: CMP-APPT-SMS 13 (D 10, O 5, R 2), CMP-REFILL 3 (D 2, O 2,
--   R 1), CMP-SCREEN 2 (D 1, O 1, R 1), none 1 (D 1, O 0, R 0).
-- By age band: 18-44 12 (January; D 9, O 5, R 2), 45-64 1 (m40; D 1),
--   65-74 1 (m20; D 1, O 1), 75-89 3 (m21 m22 m23; D 2, O 1, R 1),
--   unknown 2 (f-x; D 1, O 1, R 1).
-- By payer: commercial 12 (January), medicaid 1 (m40), medicare 4
--   (February: D 3, O 2, R 1), unknown 2 (f-x).
-- By clinic and sex: clinic-a female 13 (D 10, O 5, R 2), clinic-b male 4
--   (D 3, O 2, R 1), unknown unknown 2 (D 1, O 1, R 1).

INSERT INTO etl_runs (run_id, snapshot_id, job, status, deid_profile, started_at, finished_at,
    duration_ms, rows_read, rows_loaded, rows_quarantined, data_as_of) VALUES
    ('r-crm', 1, 'crm-rest', 'succeeded', 'limited', '2025-06-20 12:00:00', '2025-06-20 12:01:00', 60000, 0, 0, 0, '2025-06-20 12:00:00'),
    ('r-ehr', 2, 'bulk', 'succeeded', 'limited', '2025-07-01 02:00:00', '2025-07-01 02:10:00', 600000, 0, 0, 0, '2025-06-30 23:59:59'),
    ('r-crm-failed', NULL, 'crm-rest', 'failed', 'limited', '2026-01-01 00:00:00', '2026-01-01 00:01:00', 60000, 0, 0, 0, '2025-12-31 23:59:59');
INSERT INTO etl_run_counts VALUES
    ('r-crm', 'crm', 'messages', 0, 0, 0, 0),
    ('r-ehr', 'ehr', 'Patient', 0, 0, 0, 0),
    ('r-crm-failed', 'crm', 'messages', 0, 0, 0, 0);

INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, clinic_id, source) VALUES
    ('f-01', '1980-03-10', 1980, false, 'female', 'clinic-a', 'ehr'),
    ('f-02', '1950-02-15', 1950, false, 'male', 'clinic-b', 'ehr');

INSERT INTO coverage (coverage_key, patient_id, status, payer_id, payer_type, period_start, period_end) VALUES
    ('cov-01a', 'f-01', 'active', 'payer-acme', 'commercial', '2020-01-01', '2025-01-31'),
    ('cov-01b', 'f-01', 'active', 'payer-medicaid', 'medicaid', '2025-02-01', NULL),
    ('cov-02', 'f-02', 'active', 'payer-medicare', 'medicare', '2015-01-01', NULL);

INSERT INTO contacts (patient_id, linked, preferred_channel, sms_opt_out, email_opt_out, voice_opt_out, portal_enrolled) VALUES
    ('f-01', true, 'sms', false, false, false, false),
    ('f-02', true, 'email', false, false, false, false),
    ('f-x', false, 'voice', false, false, false, false);

INSERT INTO outreach_messages (message_key, patient_id, campaign_id, purpose, channel, status,
    sent_at, delivered_at, opened_at, replied_at, failed_at) VALUES
    ('m01', 'f-01', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'replied',
        '2025-01-10 10:00:00', '2025-01-10 10:00:05', '2025-01-10 10:30:00', '2025-01-10 10:35:00', NULL),
    ('m02', 'f-01', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'opened',
        '2025-01-11 10:00:00', '2025-01-11 10:00:05', '2025-01-11 12:00:00', NULL, NULL),
    ('m03', 'f-01', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered',
        '2025-01-12 10:00:00', '2025-01-12 10:00:05', NULL, NULL, NULL),
    ('m12', 'f-01', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered',
        '2025-01-12 10:00:00', '2025-01-12 10:00:06', NULL, NULL, NULL),
    ('m04', 'f-01', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'failed',
        '2025-01-13 10:00:00', NULL, NULL, NULL, '2025-01-13 10:00:30'),
    ('m05', 'f-01', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'sent',
        '2025-01-14 10:00:00', NULL, NULL, NULL, NULL),
    ('m06', 'f-01', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'replied',
        '2025-01-15 10:00:00', NULL, NULL, '2025-01-15 10:02:00', NULL),
    ('m07', 'f-01', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'opened',
        '2025-01-16 10:00:00', NULL, '2025-01-16 11:00:00', NULL, NULL),
    ('m08', 'f-01', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered',
        '2025-01-17 10:00:00', '2025-01-24 10:00:00', NULL, NULL, NULL),
    ('m09', 'f-01', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'opened',
        '2025-01-18 10:00:00', '2025-01-25 10:00:01', '2025-01-25 11:00:00', NULL, NULL),
    ('m10', 'f-01', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'replied',
        '2025-01-19 10:00:00', '2025-01-19 10:00:10', '2025-01-26 10:00:00', '2025-01-26 10:00:01', NULL),
    ('m11', 'f-01', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'failed',
        '2025-01-20 10:00:00', '2025-01-20 10:00:10', NULL, NULL, '2025-01-20 10:00:20'),
    ('m20', 'f-02', 'CMP-REFILL', 'refill_reminder', 'email', 'opened',
        '2025-02-14 15:00:00', '2025-02-14 15:01:00', '2025-02-15 08:00:00', NULL, NULL),
    ('m21', 'f-02', 'CMP-REFILL', 'refill_reminder', 'email', 'failed',
        '2025-02-20 15:00:00', NULL, NULL, NULL, '2025-02-20 15:02:00'),
    ('m22', 'f-02', 'CMP-REFILL', 'refill_reminder', 'email', 'replied',
        '2025-02-20 15:00:00', '2025-02-20 15:01:00', NULL, '2025-02-21 09:00:00', NULL),
    ('m23', 'f-02', NULL, 'education', 'email', 'delivered',
        '2025-02-20 16:00:00', '2025-02-20 16:01:00', NULL, NULL, NULL),
    ('m30', 'f-x', 'CMP-SCREEN', 'preventive_care', 'voice', 'replied',
        '2025-03-05 15:00:00', '2025-03-05 15:00:20', '2025-03-05 15:00:30', '2025-03-05 15:01:30', NULL),
    ('m31', 'f-x', 'CMP-SCREEN', 'preventive_care', 'voice', 'sent',
        '2025-03-06 15:00:00', NULL, NULL, NULL, NULL),
    ('m40', 'f-01', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered',
        '2025-06-13 12:00:00', '2025-06-13 12:00:05', NULL, NULL, NULL),
    ('m41', 'f-01', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered',
        '2025-06-13 12:00:01', '2025-06-13 12:00:05', NULL, NULL, NULL),
    ('m42', 'f-01', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'replied',
        '2025-06-19 09:00:00', '2025-06-19 09:00:05', '2025-06-19 09:10:00', '2025-06-19 09:11:00', NULL),
    ('m43', 'f-01', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'sent',
        NULL, NULL, NULL, NULL, NULL);

-- m02's events as the warehouse keeps them: delivered once, opened twice
-- (a repeated notification, a new event id, 10 minutes later; a resent row
-- with the same id would have been kept once). outreach_messages.opened_at
-- above is the earliest, as the ETL's merge leaves it.
INSERT INTO message_events (event_key, message_key, event, occurred_at) VALUES
    ('e02-1', 'm02', 'delivered', '2025-01-11 10:00:05'),
    ('e02-2', 'm02', 'opened', '2025-01-11 12:00:00'),
    ('e02-3', 'm02', 'opened', '2025-01-11 12:10:00');
