-- Hand-worked input for conversion_refill_14d. Policies: window 14 days
-- (a fill dated index .. index + 14 converts), look-back 180 days, the
-- comparison indexed 7 days after a fill's supply ran out.
--
-- Lapsed at day i: the latest completed fill of the drug on or before i is
-- at most 180 days before i, has a supply, and fill date + supply <= i (so
-- a fill on day i itself ends the lapse); the drug's latest request is not
-- stopped; the patient is alive on i.
-- 'yes': a refill reminder (any outcome) on day i with at least one lapsed
-- drug, not within 14 days after another refill reminder; converts on a
-- fill of a lapsed drug in i + 1 .. i + 14. 'no': a fill F (date + supply +
-- 7 = i) still the latest fill of its drug on day i, lapsed at i, a linked
-- CRM contact, no refill reminder in i - 14 .. i + 14; converts on a fill
-- of that drug in i + 1 .. i + 14.
--
-- Horizon: the earlier of the EHR run (r-ehr, 2025-06-30 23:59:59) and the
-- CRM run (r-crm, 2025-07-15 06:00): day 2025-06-30. Index events need
-- i + 14 <= 2025-06-30, i.e. i <= 2025-06-16.
--
-- Drugs (RxNorm): L = 314076 lisinopril, A = 617310 atorvastatin,
-- S = 312961 simvastatin. Patients c-01 .. c-26: female, born 1962-08-01
-- (45-64), clinic-a, commercial since 2020, linked CRM contact, unless
-- said otherwise. "L 01-01 30d" = a completed fill of L on 2025-01-01 with
-- 30 days' supply (supply runs out from 01-31; comparison index 02-07).
-- Closing fills of 150 days have their own comparison index 157 days later,
-- after the horizon. Reminders at 15:00.
--
-- messaged = yes                                                     filled
--   c-01 L 01-01 30d; sms reminder 02-07 delivered; L 02-21 (day 14)      1
--        reached delivered, channel sms
--   c-02 L 01-01 30d; sms reminder 02-07 delivered, opened, replied;
--        L 02-22 (day 15): too late. reached responded                   0
--   c-03 L 01-01 30d; email reminder 02-07 failed (intention to treat);
--        L 02-08, the next day (day 1). reached not_delivered            1
--   c-04 L 01-01 30d; reminders 02-07 sms (no later state), 02-14 email
--        delivered, 02-21 sms delivered. 02-14 is within 14 days of
--        02-07 and 02-21 within 14 days of 02-14: one episode, indexed
--        02-07; its reminders (sent 02-07..02-21) used two channels:
--        multiple, furthest stage delivered. L 02-25 (day 18)             0
--   c-06 L 2024-07-14 30d, exactly 180 days before the portal reminder
--        2025-01-10 (delivered): on the drug and lapsed; L 2025-01-20    1
--   c-13 (born 2000-03-01: 18-44) A 03-01 30d; email reminder 04-21
--        delivered and opened; no fill after. reached opened              0
--   c-14 A 03-01 30d; sms reminder 04-22 failed; no fill after.
--        reached not_delivered                                           0
--   c-19 L 01-01 30d and A 01-10 30d; sms reminder 02-07 delivered. L is
--        lapsed (01-31 <= 02-07), A is not (runs out from 02-09); the
--        A 02-12 150d fill does not convert, no L fill follows           0
-- Reminders left out:
--   c-05 L 02-01 30d runs out from 03-03: the sms reminder 02-20 came
--        with supply left (no lapsed drug).
--   c-07 L 2024-07-13 30d, 181 days before the reminder 2025-01-10: not
--        on the drug (its L 2025-01-20 150d does not matter).
--   c-15 A 03-01 30d; reminder 03-23, supply left.
--   c-16 A 03-01 30d; reminder 03-24, supply left.
--   c-17 S 03-01 30d, but S's latest request (03-20) is stopped: reminder
--        04-10 finds no lapsed drug; no comparison row either.
--   c-22 A 05-11 30d; reminder 06-17: lapsed, but 06-17 + 14 = 07-01 is
--        after the horizon.
--   c-24 L 01-01 without a days' supply; reminder 02-07: not lapsed.
--   c-25 L 01-01 30d; email reminder 02-07 delivered and L 02-07 the same
--        day: not lapsed at the end of the index day (a fill that day, as
--        the comparison cannot tell before from after).
--
-- messaged = no                                                      filled
--   c-05 L 02-01 30d -> i = 03-10; the reminder 02-20 is 18 days before
--        i (outside i - 14); L 03-15                                     1
--   c-06 L 2024-07-14 30d -> i = 2024-08-20, no fill in the window       0
--   c-07 L 2024-07-13 30d -> i = 2024-08-19                              0
--   c-08 (male, clinic-b, medicaid) A 03-01 30d -> i = 04-07;
--        A 04-21 (day 14)                                                1
--   c-09 A 03-01 30d -> i = 04-07; A 04-22 (day 15)                      0
--   c-11 (birth year 1962 only: 45-64) A 03-01 30d -> i = 04-07; A 04-08
--        (day 1)                                                         1
--   c-14 A 03-01 30d -> i = 04-07; its reminder 04-22 is i + 15,
--        outside i + 14                                                  0
--   c-15 A 03-01 30d -> i = 04-07; its reminder 03-23 is i - 15          0
--   c-18 S 03-01 30d -> i = 04-07; requests: 2024-12-01 stopped, then
--        2025-02-25 active (the latest): not stopped                     0
--   c-21 A 05-10 30d -> i = 06-16, i + 14 = 06-30 = the horizon's day     0
--   c-23 L 01-01 twice (30d and 60d: one fill of 60 days) -> i = 03-09
--        (not 02-07); a cancelled L dispense 03-05 is no fill; L 03-23
--        completed (day 14)                                              1
-- No comparison row:
--   c-01..c-04, c-19: the first L fill's i = 02-07 had a reminder that
--        day. c-19's A 01-10 30d -> i = 02-16: A was refilled 02-12.
--   c-10 A 03-01 30d, A 04-06: refilled before i = 04-07.
--   c-26 A 03-01 30d, A 04-07: refilled on i itself (no longer lapsed).
--   c-25 L 01-01 30d -> i = 02-07: refilled that day (and reminded).
--   c-12 A 03-01 30d: no linked CRM contact.
--   c-13 A 03-01 30d -> i = 04-07: reminder 04-21 = i + 14.
--   c-16 A 03-01 30d -> i = 04-07: reminder 03-24 = i - 14.
--   c-17 S stopped.
--   c-20 L 01-01 30d -> i = 02-07, the day the patient died (not alive).
--   c-22 A 05-11 30d -> i = 06-17: i + 14 after the horizon.
--   c-24 no days' supply.
--
-- Totals: yes 3/8 (c-01 c-03 c-06), no 4/11 (c-05 c-08 c-11 c-23).
-- By month: 2024-08 no 0/2; 2025-01 yes 1/1; 2025-02 yes 2/5 (c-01 c-02
--   c-03 c-04 c-19); 2025-03 no 2/2 (c-05 c-23); 2025-04 no 2/6 (c-08 c-09
--   c-11 c-14 c-15 c-18); 2025-04 yes 0/2 (c-13 c-14); 2025-06 no 0/1.
-- By reached: no not_messaged 4/11; yes delivered 2/4 (c-01 c-04 c-06
--   c-19), not_delivered 1/2 (c-03 c-14), opened 0/1 (c-13), responded
--   0/1 (c-02).
-- By channel: email 1/2 (c-03 c-13), multiple 0/1 (c-04), none 4/11,
--   portal 1/1 (c-06), sms 1/4 (c-01 c-02 c-14 c-19).
-- By clinic: no clinic-a 3/10, no clinic-b 1/1 (c-08), yes clinic-a 3/8.
-- By age band: no 45-64 4/11; yes 18-44 0/1 (c-13), yes 45-64 3/7.
-- By payer: no commercial 3/10, no medicaid 1/1, yes commercial 3/8.
-- By sex: no female 3/10, no male 1/1, yes female 3/8.

INSERT INTO etl_runs (run_id, snapshot_id, job, status, deid_profile, started_at, finished_at,
    duration_ms, rows_read, rows_loaded, rows_quarantined, data_as_of) VALUES
    ('r-ehr', 1, 'bulk', 'succeeded', 'limited', '2025-07-01 02:00:00', '2025-07-01 02:10:00', 600000, 0, 0, 0, '2025-06-30 23:59:59'),
    ('r-crm', 2, 'crm-rest', 'succeeded', 'limited', '2025-07-15 06:00:00', '2025-07-15 06:01:00', 60000, 0, 0, 0, '2025-07-15 06:00:00');
INSERT INTO etl_run_counts VALUES
    ('r-ehr', 'ehr', 'MedicationDispense', 0, 0, 0, 0),
    ('r-crm', 'crm', 'messages', 0, 0, 0, 0);

INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, clinic_id, deceased_date, source)
SELECT 'c-' || lpad(CAST(i AS VARCHAR), 2, '0'),
    CASE i WHEN 13 THEN DATE '2000-03-01' WHEN 11 THEN NULL ELSE DATE '1962-08-01' END,
    CASE i WHEN 13 THEN 2000 ELSE 1962 END,
    false,
    CASE i WHEN 8 THEN 'male' ELSE 'female' END,
    CASE i WHEN 8 THEN 'clinic-b' ELSE 'clinic-a' END,
    CASE i WHEN 20 THEN DATE '2025-02-07' END,
    'ehr'
FROM range(1, 27) AS t(i);

INSERT INTO coverage (coverage_key, patient_id, status, payer_id, payer_type, period_start, period_end)
SELECT 'cov-' || patient_id, patient_id, 'active',
    CASE WHEN patient_id = 'c-08' THEN 'payer-medicaid' ELSE 'payer-acme' END,
    CASE WHEN patient_id = 'c-08' THEN 'medicaid' ELSE 'commercial' END,
    '2020-01-01', NULL
FROM patients;

INSERT INTO contacts (patient_id, linked, preferred_channel, sms_opt_out, email_opt_out, voice_opt_out, portal_enrolled)
SELECT patient_id, patient_id <> 'c-12', 'sms', false, false, false, true FROM patients;

INSERT INTO medication_dispenses (dispense_key, patient_id, rxnorm_code, status, dispensed_on, days_supply) VALUES
    ('d01a', 'c-01', '314076', 'completed', '2025-01-01', 30),
    ('d01b', 'c-01', '314076', 'completed', '2025-02-21', 150),
    ('d02a', 'c-02', '314076', 'completed', '2025-01-01', 30),
    ('d02b', 'c-02', '314076', 'completed', '2025-02-22', 150),
    ('d03a', 'c-03', '314076', 'completed', '2025-01-01', 30),
    ('d03b', 'c-03', '314076', 'completed', '2025-02-08', 150),
    ('d04a', 'c-04', '314076', 'completed', '2025-01-01', 30),
    ('d04b', 'c-04', '314076', 'completed', '2025-02-25', 150),
    ('d05a', 'c-05', '314076', 'completed', '2025-02-01', 30),
    ('d05b', 'c-05', '314076', 'completed', '2025-03-15', 150),
    ('d06a', 'c-06', '314076', 'completed', '2024-07-14', 30),
    ('d06b', 'c-06', '314076', 'completed', '2025-01-20', 150),
    ('d07a', 'c-07', '314076', 'completed', '2024-07-13', 30),
    ('d07b', 'c-07', '314076', 'completed', '2025-01-20', 150),
    ('d08a', 'c-08', '617310', 'completed', '2025-03-01', 30),
    ('d08b', 'c-08', '617310', 'completed', '2025-04-21', 150),
    ('d09a', 'c-09', '617310', 'completed', '2025-03-01', 30),
    ('d09b', 'c-09', '617310', 'completed', '2025-04-22', 150),
    ('d10a', 'c-10', '617310', 'completed', '2025-03-01', 30),
    ('d10b', 'c-10', '617310', 'completed', '2025-04-06', 150),
    ('d11a', 'c-11', '617310', 'completed', '2025-03-01', 30),
    ('d11b', 'c-11', '617310', 'completed', '2025-04-08', 150),
    ('d12a', 'c-12', '617310', 'completed', '2025-03-01', 30),
    ('d13a', 'c-13', '617310', 'completed', '2025-03-01', 30),
    ('d14a', 'c-14', '617310', 'completed', '2025-03-01', 30),
    ('d15a', 'c-15', '617310', 'completed', '2025-03-01', 30),
    ('d16a', 'c-16', '617310', 'completed', '2025-03-01', 30),
    ('d17a', 'c-17', '312961', 'completed', '2025-03-01', 30),
    ('d18a', 'c-18', '312961', 'completed', '2025-03-01', 30),
    ('d19a', 'c-19', '314076', 'completed', '2025-01-01', 30),
    ('d19b', 'c-19', '617310', 'completed', '2025-01-10', 30),
    ('d19c', 'c-19', '617310', 'completed', '2025-02-12', 150),
    ('d20a', 'c-20', '314076', 'completed', '2025-01-01', 30),
    ('d21a', 'c-21', '617310', 'completed', '2025-05-10', 30),
    ('d22a', 'c-22', '617310', 'completed', '2025-05-11', 30),
    ('d23a', 'c-23', '314076', 'completed', '2025-01-01', 30),
    ('d23b', 'c-23', '314076', 'completed', '2025-01-01', 60),
    ('d23c', 'c-23', '314076', 'cancelled', '2025-03-05', 30),
    ('d23d', 'c-23', '314076', 'completed', '2025-03-23', 150),
    ('d24a', 'c-24', '314076', 'completed', '2025-01-01', NULL),
    ('d25a', 'c-25', '314076', 'completed', '2025-01-01', 30),
    ('d25b', 'c-25', '314076', 'completed', '2025-02-07', 150),
    ('d26a', 'c-26', '617310', 'completed', '2025-03-01', 30),
    ('d26b', 'c-26', '617310', 'completed', '2025-04-07', 150);

INSERT INTO medication_requests (request_key, patient_id, rxnorm_code, status, intent, authored_on, days_supply) VALUES
    ('q17a', 'c-17', '312961', 'completed', 'order', '2025-02-25', 30),
    ('q17b', 'c-17', '312961', 'stopped', 'order', '2025-03-20', 30),
    ('q18a', 'c-18', '312961', 'stopped', 'order', '2024-12-01', 30),
    ('q18b', 'c-18', '312961', 'active', 'order', '2025-02-25', 30);

INSERT INTO outreach_messages (message_key, patient_id, campaign_id, purpose, channel, status,
    sent_at, delivered_at, opened_at, replied_at, failed_at) VALUES
    ('r01', 'c-01', 'CMP-REFILL', 'refill_reminder', 'sms', 'delivered',
        '2025-02-07 15:00', '2025-02-07 15:00:05', NULL, NULL, NULL),
    ('r02', 'c-02', 'CMP-REFILL', 'refill_reminder', 'sms', 'replied',
        '2025-02-07 15:00', '2025-02-07 15:00:05', '2025-02-07 15:30', '2025-02-07 15:40', NULL),
    ('r03', 'c-03', 'CMP-REFILL', 'refill_reminder', 'email', 'failed',
        '2025-02-07 15:00', NULL, NULL, NULL, '2025-02-07 15:02'),
    ('r04a', 'c-04', 'CMP-REFILL', 'refill_reminder', 'sms', 'sent',
        '2025-02-07 15:00', NULL, NULL, NULL, NULL),
    ('r04b', 'c-04', 'CMP-REFILL', 'refill_reminder', 'email', 'delivered',
        '2025-02-14 15:00', '2025-02-14 15:01', NULL, NULL, NULL),
    ('r04c', 'c-04', 'CMP-REFILL', 'refill_reminder', 'sms', 'delivered',
        '2025-02-21 15:00', '2025-02-21 15:00:05', NULL, NULL, NULL),
    ('r05', 'c-05', 'CMP-REFILL', 'refill_reminder', 'sms', 'delivered',
        '2025-02-20 15:00', '2025-02-20 15:00:05', NULL, NULL, NULL),
    ('r06', 'c-06', 'CMP-REFILL', 'refill_reminder', 'portal', 'delivered',
        '2025-01-10 15:00', '2025-01-10 15:00:02', NULL, NULL, NULL),
    ('r07', 'c-07', 'CMP-REFILL', 'refill_reminder', 'portal', 'delivered',
        '2025-01-10 15:00', '2025-01-10 15:00:02', NULL, NULL, NULL),
    ('r13', 'c-13', 'CMP-REFILL', 'refill_reminder', 'email', 'opened',
        '2025-04-21 15:00', '2025-04-21 15:01', '2025-04-22 08:00', NULL, NULL),
    ('r14', 'c-14', 'CMP-REFILL', 'refill_reminder', 'sms', 'failed',
        '2025-04-22 15:00', NULL, NULL, NULL, '2025-04-22 15:01'),
    ('r15', 'c-15', 'CMP-REFILL', 'refill_reminder', 'sms', 'delivered',
        '2025-03-23 15:00', '2025-03-23 15:00:05', NULL, NULL, NULL),
    ('r16', 'c-16', 'CMP-REFILL', 'refill_reminder', 'sms', 'delivered',
        '2025-03-24 15:00', '2025-03-24 15:00:05', NULL, NULL, NULL),
    ('r17', 'c-17', 'CMP-REFILL', 'refill_reminder', 'sms', 'delivered',
        '2025-04-10 15:00', '2025-04-10 15:00:05', NULL, NULL, NULL),
    ('r19', 'c-19', 'CMP-REFILL', 'refill_reminder', 'sms', 'delivered',
        '2025-02-07 15:00', '2025-02-07 15:00:05', NULL, NULL, NULL),
    ('r22', 'c-22', 'CMP-REFILL', 'refill_reminder', 'sms', 'delivered',
        '2025-06-17 15:00', '2025-06-17 15:00:05', NULL, NULL, NULL),
    ('r24', 'c-24', 'CMP-REFILL', 'refill_reminder', 'sms', 'delivered',
        '2025-02-07 15:00', '2025-02-07 15:00:05', NULL, NULL, NULL),
    ('r25', 'c-25', 'CMP-REFILL', 'refill_reminder', 'email', 'delivered',
        '2025-02-07 15:00', '2025-02-07 15:01', NULL, NULL, NULL),
    -- Other purposes are no refill reminders: c-08 stays unreminded.
    ('x08', 'c-08', 'CMP-APPT-SMS', 'appointment_reminder', 'sms', 'delivered',
        '2025-04-10 15:00', '2025-04-10 15:00:05', NULL, NULL, NULL);
