-- Hand-worked input for conversion_preventive_visit_60d. Policies: window
-- 60 days (a visit dated index + 1 .. index + 60 converts: an ambulatory
-- encounter not cancelled/planned/entered in error, or a procedure not
-- entered in error/not done/in preparation), active = an encounter in the
-- 365 days before the index.
--
-- 'yes': a preventive_care message (any outcome) on day i, the patient in
-- the EHR, alive and active on i, and no other preventive message in the 60
-- days before (or earlier that day). 'no': per stratum (campaign, month,
-- home clinic, age band) of the 'yes' rows, index = the lower median of
-- their index dates, ages = youngest..oldest messaged; patients of that
-- clinic, band and age range, linked CRM contact, alive and active on the
-- index, and no preventive message in index - 60 .. index + 60.
--
-- Horizon: the earlier of the EHR run (r-ehr, 2025-06-30 23:59:59) and the
-- CRM run (r-crm, 2025-08-01): day 2025-06-30; index events need
-- i + 60 <= 2025-06-30, i.e. i <= 2025-05-01.
--
-- Patients: p-* female, q-* male; commercial since 2020 (p-10 and q-13
-- medicare); linked CRM contact (not q-07; p-07 is a CRM contact with no
-- EHR patient). "enc" = a finished ambulatory encounter, used as the
-- activity before the index. Messages at 15:00.
--
-- Stratum CMP-SCREEN / 2025-03 / clinic-a / 45-64            yes rows, visit
--   p-01 born 1970-01-15 (55 on 03-10); enc 2024-09-01; sms 03-10
--        delivered, opened; ambulatory visit 05-09 = day 60.
--        reached opened                                                1
--   p-02 born 1965-06-01 (59 on 03-12); enc 2024-09-01; email 03-12
--        failed (intention to treat); visits 03-12 (the index day: not
--        after it) and 05-12 = day 61. reached not_delivered           0
--   p-03 born 1972-02-01 (53 on 03-14); enc 2024-12-01; portal 03-14, no
--        later state; a completed procedure 04-01. reached
--        not_delivered                                                 1
--   Index of the comparison: lower median of 03-10, 03-12, 03-14 = 03-12;
--   ages 53..59. Its window: 03-13 .. 05-11; no preventive message
--   2025-01-11 .. 2025-05-11.
--   Comparison (all born 1968-01-01, 57, clinic-a)                 no rows
--   q-01 enc 2024-06-01; visit 05-11 = day 60                            1
--   q-02 enc 2024-06-01; visit 05-12 = day 61; a telehealth encounter
--        04-01 and an emergency one 04-02 are no visits                0
--   q-03 only activity 2024-03-12, exactly 365 days before: active; a
--        cancelled ambulatory encounter 04-01 and a not-done procedure
--        04-02 do not count                                            0
--   q-06 enc 2024-06-01; a preventive message 05-12 = index + 61 does not
--        exclude it (that message's own window ends after the horizon);
--        a visit 03-12, the index day itself, does not count            0
--   Not in the comparison: q-04 (last activity 2024-03-11, 366 days
--   before; a planned encounter 2025-01-01 is no activity), q-05 (a
--   preventive message 05-11 = index + 60), q-07 (no linked contact),
--   q-08 (born 1960-01-01: 65-74), q-09 (born 1975-01-01: 50, below 53),
--   q-11 (died 03-12), q-12 (clinic-b), p-01..p-03 (messaged), p-06 (not
--   active), p-08 (messaged 05-02).
--
-- Stratum CMP-SCREEN / 2025-02 / clinic-b / 18-44 (born 1980-05-05, 44)
--   p-04 enc 2024-10-01; sms 02-01 delivered; ambulatory visit 03-01     1
--        reached delivered. Its second message 04-02 is 60 days after
--        02-01: not indexed again.
--   p-05 enc 2024-10-01; sms 02-01 delivered; visit 04-10 = day 68      0
--        reached delivered
--   Comparison: index 02-01 (both on 02-01), ages 44..44; window
--   02-02 .. 04-02.
--   q-10 (clinic-b, born 1980-05-05) enc 2024-10-01; visit 02-15         1
-- Stratum CMP-SCREEN / 2025-04 / clinic-b / 18-44
--   p-05 email 04-03 delivered, opened, replied: 61 days after 02-01,
--        indexed; visit 04-10. reached responded                       1
--   Comparison: index 04-03, ages 44..44. p-04 was messaged 04-02.
--   q-10 no visit 04-04 .. 06-02                                        0
-- Stratum CMP-SCREEN / 2025-05 / clinic-a / 18-44
--   p-09 (born 1990-01-01, 35) enc 2024-10-01; portal 05-01 delivered:
--        05-01 + 60 = 06-30, the horizon's day: in; no visit.
--        reached delivered. Nobody else in clinic-a is 35: no
--        comparison rows                                               0
-- Stratum CMP-FLU-2024 / 2024-10 / clinic-a / 75-89 (medicare)
--   p-10 born 1940-01-01 (84) enc 2024-05-01; email 2024-10-01 delivered,
--        replied; visit 2024-10-15. reached responded                  1
--   Comparison: index 2024-10-01, ages 84..84.
--   q-13 born 1940-06-01 (84) enc 2024-02-01; no visit                   0
-- Messages that index nothing:
--   p-06 (clinic-a, born 1970-01-15) portal 03-20: no encounter in the
--        year before (not active).
--   p-07 sms 03-21: a CRM contact without an EHR patient.
--   p-08 (clinic-a, born 1970-01-15, enc 2024-09-01) sms 05-02:
--        05-02 + 60 = 07-01 is after the horizon.
--   q-05 05-11, q-06 05-12: after the horizon too.
--   p-04 04-02: within 60 days of its 02-01 message.
--   p-01 lab_result 03-01: another purpose, no preventive message.
--
-- Totals: yes 5/8 (p-10 p-04 p-01 p-03 p-05@04-03), no 2/7 (q-10@02-01 q-01).
-- By month: 2024-10 no 0/1, yes 1/1; 2025-02 no 1/1, yes 1/2; 2025-03 no
--   1/4, yes 2/3; 2025-04 no 0/1, yes 1/1; 2025-05 yes 0/1.
-- By campaign: CMP-FLU-2024 no 0/1, yes 1/1; CMP-SCREEN no 2/6, yes 4/7.
-- By reached: no not_messaged 2/7; yes delivered 1/3 (p-04 p-05@02-01
--   p-09), not_delivered 1/2 (p-02 p-03), opened 1/1 (p-01), responded 2/2
--   (p-10 p-05@04-03).
-- By channel: email 2/3 (p-02 p-05@04-03 p-10), none 2/7, portal 1/2 (p-03
--   p-09), sms 2/3 (p-01 p-04 p-05@02-01).
-- By clinic: no clinic-a 1/5, no clinic-b 1/2, yes clinic-a 3/5, yes
--   clinic-b 2/3.
-- By age band: no 18-44 1/2, no 45-64 1/4, no 75-89 0/1; yes 18-44 2/4,
--   yes 45-64 2/3, yes 75-89 1/1.
-- By payer: no commercial 2/6, no medicare 0/1, yes commercial 4/7, yes
--   medicare 1/1.
-- By sex: no male 2/7, yes female 5/8.

INSERT INTO etl_runs (run_id, snapshot_id, job, status, deid_profile, started_at, finished_at,
    duration_ms, rows_read, rows_loaded, rows_quarantined, data_as_of) VALUES
    ('r-ehr', 1, 'bulk', 'succeeded', 'limited', '2025-07-01 02:00:00', '2025-07-01 02:10:00', 600000, 0, 0, 0, '2025-06-30 23:59:59'),
    ('r-crm', 2, 'crm-rest', 'succeeded', 'limited', '2025-08-01 06:00:00', '2025-08-01 06:01:00', 60000, 0, 0, 0, '2025-08-01 06:00:00');
INSERT INTO etl_run_counts VALUES
    ('r-ehr', 'ehr', 'Encounter', 0, 0, 0, 0),
    ('r-crm', 'crm', 'messages', 0, 0, 0, 0);

INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, clinic_id, deceased_date, source) VALUES
    ('p-01', '1970-01-15', 1970, false, 'female', 'clinic-a', NULL, 'ehr'),
    ('p-02', '1965-06-01', 1965, false, 'female', 'clinic-a', NULL, 'ehr'),
    ('p-03', '1972-02-01', 1972, false, 'female', 'clinic-a', NULL, 'ehr'),
    ('p-04', '1980-05-05', 1980, false, 'female', 'clinic-b', NULL, 'ehr'),
    ('p-05', '1980-05-05', 1980, false, 'female', 'clinic-b', NULL, 'ehr'),
    ('p-06', '1970-01-15', 1970, false, 'female', 'clinic-a', NULL, 'ehr'),
    ('p-08', '1970-01-15', 1970, false, 'female', 'clinic-a', NULL, 'ehr'),
    ('p-09', '1990-01-01', 1990, false, 'female', 'clinic-a', NULL, 'ehr'),
    ('p-10', '1940-01-01', 1940, false, 'female', 'clinic-a', NULL, 'ehr'),
    ('q-01', '1968-01-01', 1968, false, 'male', 'clinic-a', NULL, 'ehr'),
    ('q-02', '1968-01-01', 1968, false, 'male', 'clinic-a', NULL, 'ehr'),
    ('q-03', '1968-01-01', 1968, false, 'male', 'clinic-a', NULL, 'ehr'),
    ('q-04', '1968-01-01', 1968, false, 'male', 'clinic-a', NULL, 'ehr'),
    ('q-05', '1968-01-01', 1968, false, 'male', 'clinic-a', NULL, 'ehr'),
    ('q-06', '1968-01-01', 1968, false, 'male', 'clinic-a', NULL, 'ehr'),
    ('q-07', '1968-01-01', 1968, false, 'male', 'clinic-a', NULL, 'ehr'),
    ('q-08', '1960-01-01', 1960, false, 'male', 'clinic-a', NULL, 'ehr'),
    ('q-09', '1975-01-01', 1975, false, 'male', 'clinic-a', NULL, 'ehr'),
    ('q-10', '1980-05-05', 1980, false, 'male', 'clinic-b', NULL, 'ehr'),
    ('q-11', '1968-01-01', 1968, false, 'male', 'clinic-a', '2025-03-12', 'ehr'),
    ('q-12', '1968-01-01', 1968, false, 'male', 'clinic-b', NULL, 'ehr'),
    ('q-13', '1940-06-01', 1940, false, 'male', 'clinic-a', NULL, 'ehr');

INSERT INTO coverage (coverage_key, patient_id, status, payer_id, payer_type, period_start, period_end)
SELECT 'cov-' || patient_id, patient_id, 'active',
    CASE WHEN patient_id IN ('p-10', 'q-13') THEN 'payer-medicare' ELSE 'payer-acme' END,
    CASE WHEN patient_id IN ('p-10', 'q-13') THEN 'medicare' ELSE 'commercial' END,
    '2020-01-01', NULL
FROM patients;

INSERT INTO contacts (patient_id, linked, preferred_channel, sms_opt_out, email_opt_out, voice_opt_out, portal_enrolled)
SELECT patient_id, patient_id <> 'q-07', 'sms', false, false, false, true FROM patients;
INSERT INTO contacts (patient_id, linked, preferred_channel, sms_opt_out, email_opt_out, voice_opt_out, portal_enrolled) VALUES
    ('p-07', false, 'sms', false, false, false, false);

-- Activity before the index: one finished ambulatory encounter each
-- (q-03's exactly 365 days before 2025-03-12, q-04's 366), none for p-06.
INSERT INTO encounters (encounter_key, patient_id, class, status, start_ts, end_ts, clinic_id)
SELECT 'act-' || patient_id, patient_id, 'ambulatory', 'finished', CAST(d AS TIMESTAMP) + INTERVAL 10 HOUR,
    CAST(d AS TIMESTAMP) + INTERVAL 11 HOUR, 'clinic-a'
FROM (VALUES ('p-01', DATE '2024-09-01'), ('p-02', DATE '2024-09-01'), ('p-03', DATE '2024-12-01'),
             ('p-04', DATE '2024-10-01'), ('p-05', DATE '2024-10-01'), ('p-08', DATE '2024-09-01'),
             ('p-09', DATE '2024-10-01'), ('p-10', DATE '2024-05-01'),
             ('q-01', DATE '2024-06-01'), ('q-02', DATE '2024-06-01'), ('q-03', DATE '2024-03-12'),
             ('q-04', DATE '2024-03-11'), ('q-05', DATE '2024-06-01'), ('q-06', DATE '2024-06-01'),
             ('q-07', DATE '2024-06-01'), ('q-08', DATE '2024-06-01'), ('q-09', DATE '2024-06-01'),
             ('q-10', DATE '2024-10-01'), ('q-11', DATE '2024-06-01'), ('q-12', DATE '2024-06-01'),
             ('q-13', DATE '2024-02-01')) AS t(patient_id, d);

-- Outcomes and the encounters that are no visit or no activity.
INSERT INTO encounters (encounter_key, patient_id, class, status, start_ts, end_ts, clinic_id) VALUES
    ('v-p01', 'p-01', 'ambulatory', 'finished', '2025-05-09 14:00', '2025-05-09 14:30', 'clinic-a'),
    ('v-p02', 'p-02', 'ambulatory', 'finished', '2025-05-12 14:00', '2025-05-12 14:30', 'clinic-a'),
    ('d-p02', 'p-02', 'ambulatory', 'finished', '2025-03-12 09:00', '2025-03-12 09:30', 'clinic-a'),
    ('d-q06', 'q-06', 'ambulatory', 'finished', '2025-03-12 09:00', '2025-03-12 09:30', 'clinic-a'),
    ('v-p04', 'p-04', 'ambulatory', 'finished', '2025-03-01 14:00', '2025-03-01 14:30', 'clinic-b'),
    ('v-p05', 'p-05', 'ambulatory', 'finished', '2025-04-10 14:00', '2025-04-10 14:30', 'clinic-b'),
    ('v-p10', 'p-10', 'ambulatory', 'finished', '2024-10-15 14:00', '2024-10-15 14:30', 'clinic-a'),
    ('v-q01', 'q-01', 'ambulatory', 'finished', '2025-05-11 14:00', '2025-05-11 14:30', 'clinic-a'),
    ('v-q02', 'q-02', 'ambulatory', 'finished', '2025-05-12 14:00', '2025-05-12 14:30', 'clinic-a'),
    ('t-q02', 'q-02', 'telehealth', 'finished', '2025-04-01 14:00', '2025-04-01 14:30', 'clinic-a'),
    ('e-q02', 'q-02', 'emergency', 'finished', '2025-04-02 14:00', '2025-04-02 18:30', 'clinic-a'),
    ('c-q03', 'q-03', 'ambulatory', 'cancelled', '2025-04-01 14:00', NULL, 'clinic-a'),
    ('n-q04', 'q-04', 'ambulatory', 'planned', '2025-01-01 14:00', NULL, 'clinic-a'),
    ('v-q10', 'q-10', 'ambulatory', 'finished', '2025-02-15 14:00', '2025-02-15 14:30', 'clinic-b');

INSERT INTO procedures (procedure_key, patient_id, status, code_system, code, performed_start) VALUES
    ('pr-p03', 'p-03', 'completed', 'http://snomed.info/sct', '73761001', '2025-04-01 09:00'),
    ('pr-q03', 'q-03', 'not-done', 'http://snomed.info/sct', '73761001', '2025-04-02 09:00');

INSERT INTO outreach_messages (message_key, patient_id, campaign_id, purpose, channel, status,
    sent_at, delivered_at, opened_at, replied_at, failed_at) VALUES
    ('m-p01', 'p-01', 'CMP-SCREEN', 'preventive_care', 'sms', 'opened',
        '2025-03-10 15:00', '2025-03-10 15:00:05', '2025-03-10 16:00', NULL, NULL),
    ('l-p01', 'p-01', 'CMP-LAB', 'lab_result', 'portal', 'delivered',
        '2025-03-01 15:00', '2025-03-01 15:00:05', NULL, NULL, NULL),
    ('m-p02', 'p-02', 'CMP-SCREEN', 'preventive_care', 'email', 'failed',
        '2025-03-12 15:00', NULL, NULL, NULL, '2025-03-12 15:01'),
    ('m-p03', 'p-03', 'CMP-SCREEN', 'preventive_care', 'portal', 'sent',
        '2025-03-14 15:00', NULL, NULL, NULL, NULL),
    ('m-p04a', 'p-04', 'CMP-SCREEN', 'preventive_care', 'sms', 'delivered',
        '2025-02-01 15:00', '2025-02-01 15:00:05', NULL, NULL, NULL),
    ('m-p04b', 'p-04', 'CMP-SCREEN', 'preventive_care', 'sms', 'delivered',
        '2025-04-02 15:00', '2025-04-02 15:00:05', NULL, NULL, NULL),
    ('m-p05a', 'p-05', 'CMP-SCREEN', 'preventive_care', 'sms', 'delivered',
        '2025-02-01 15:00', '2025-02-01 15:00:05', NULL, NULL, NULL),
    ('m-p05b', 'p-05', 'CMP-SCREEN', 'preventive_care', 'email', 'replied',
        '2025-04-03 15:00', '2025-04-03 15:01', '2025-04-03 18:00', '2025-04-03 18:05', NULL),
    ('m-p06', 'p-06', 'CMP-SCREEN', 'preventive_care', 'portal', 'delivered',
        '2025-03-20 15:00', '2025-03-20 15:00:02', NULL, NULL, NULL),
    ('m-p07', 'p-07', 'CMP-SCREEN', 'preventive_care', 'sms', 'delivered',
        '2025-03-21 15:00', '2025-03-21 15:00:05', NULL, NULL, NULL),
    ('m-p08', 'p-08', 'CMP-SCREEN', 'preventive_care', 'sms', 'delivered',
        '2025-05-02 15:00', '2025-05-02 15:00:05', NULL, NULL, NULL),
    ('m-p09', 'p-09', 'CMP-SCREEN', 'preventive_care', 'portal', 'delivered',
        '2025-05-01 15:00', '2025-05-01 15:00:02', NULL, NULL, NULL),
    ('m-p10', 'p-10', 'CMP-FLU-2024', 'preventive_care', 'email', 'replied',
        '2024-10-01 15:00', '2024-10-01 15:01', NULL, '2024-10-02 09:00', NULL),
    ('m-q05', 'q-05', 'CMP-SCREEN', 'preventive_care', 'sms', 'delivered',
        '2025-05-11 15:00', '2025-05-11 15:00:05', NULL, NULL, NULL),
    ('m-q06', 'q-06', 'CMP-SCREEN', 'preventive_care', 'sms', 'delivered',
        '2025-05-12 15:00', '2025-05-12 15:00:05', NULL, NULL, NULL);
