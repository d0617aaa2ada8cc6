-- Hand-made input for cahps_top_box. One row per answer to a mapped CAHPS
-- item; numerator 1 in the item's top box: 4 (always) on the 1-4 items
-- explain, listen, respect and time (composite provider_communication),
-- 9-10 on the 0-10 rating (composite provider_rating).
--
-- Respondents: p-a (female, clinic-01), p-b (male, clinic-02), p-c
-- (female, clinic-01); ages and payers do not matter here.
--
-- January 2025 (answer, top box?):
--   p-a 01-08 s1: explain 4 yes, listen 3 no, respect 4 yes, time 1 no,
--                 rating 9 yes (boundary 8/9), nps 10 (not a CAHPS item)
--   p-b 01-10 s2: explain 4 yes, listen 4 yes, respect 2 no, time 4 yes,
--                 rating 8 no (boundary 8/9)
--   p-b 01-31 23:59:59 s3: rating 10 yes; explain NULL (missing), listen 5
--                 and time 0 (outside 1-4): no answers
--   p-c 01-15 s4: rating 0 no, explain 1 no; cahps_access 4 (an item not
--                 in the mapping: left out)
-- February 2025:
--   p-a 02-01 00:00 s5: explain 3 no, time 4 yes, rating 10 yes (listen and
--                 respect not answered)
--   p-a 02-02 s6: rating 9 without answered_at: left out
--
-- Per item, January: explain 2/3, listen 1/2, respect 1/2, time 1/2,
-- rating 2/4 (s1, s3 top; s2, s4 not). February: explain 0/1, time 1/1,
-- rating 1/1.
-- Composite provider_communication, answers pooled: January
-- (2+1+1+1)/(3+2+2+2) = 5/9 = 0.556; the mean of the four item shares
-- would be (2/3 + 1/2 + 1/2 + 1/2)/4 = 0.542, as item non-response (s4
-- answered explain only) weights explain more when pooled. February 1/2.
-- provider_rating: January 2/4, February 1/1.
-- All items pooled (by= nothing): January 2+1+1+1+2 = 7 of 3+2+2+2+4 =
-- 13, February 0+1+1 = 2 of 3, together 9/16.
-- By clinic, Jan-Feb, composite provider_communication: clinic-01 (p-a,
-- p-c) explain 4, 1, 3 / listen 3 / respect 4 / time 1, 4 -> top 4, 1 no,
-- 3 no, 3 no, 4, 1 no, 4: 3/7; clinic-02 (p-b) explain 4, listen 4,
-- respect 2, time 4: 3/4.

INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, zip3, clinic_id, source) VALUES
    ('p-a', DATE '1980-06-15', 1980, false, 'female', '021', 'clinic-01', 'ehr'),
    ('p-b', DATE '1950-03-01', 1950, false, 'male',   '022', 'clinic-02', 'ehr'),
    ('p-c', DATE '1990-07-01', 1990, false, 'female', '021', 'clinic-01', 'ehr');

INSERT INTO survey_responses (response_key, patient_id, survey_id, campaign_id, item, answer, answered_at) VALUES
    ('s1-explain', 'p-a', 'SRV', 'CMP-SURVEY', 'cahps_explain', 4, TIMESTAMP '2025-01-08 10:00:00'),
    ('s1-listen',  'p-a', 'SRV', 'CMP-SURVEY', 'cahps_listen',  3, TIMESTAMP '2025-01-08 10:00:00'),
    ('s1-respect', 'p-a', 'SRV', 'CMP-SURVEY', 'cahps_respect', 4, TIMESTAMP '2025-01-08 10:00:00'),
    ('s1-time',    'p-a', 'SRV', 'CMP-SURVEY', 'cahps_time',    1, TIMESTAMP '2025-01-08 10:00:00'),
    ('s1-rating',  'p-a', 'SRV', 'CMP-SURVEY', 'cahps_rating',  9, TIMESTAMP '2025-01-08 10:00:00'),
    ('s1-nps',     'p-a', 'SRV', 'CMP-SURVEY', 'nps',          10, TIMESTAMP '2025-01-08 10:00:00'),
    ('s2-explain', 'p-b', 'SRV', 'CMP-SURVEY', 'cahps_explain', 4, TIMESTAMP '2025-01-10 10:00:00'),
    ('s2-listen',  'p-b', 'SRV', 'CMP-SURVEY', 'cahps_listen',  4, TIMESTAMP '2025-01-10 10:00:00'),
    ('s2-respect', 'p-b', 'SRV', 'CMP-SURVEY', 'cahps_respect', 2, TIMESTAMP '2025-01-10 10:00:00'),
    ('s2-time',    'p-b', 'SRV', 'CMP-SURVEY', 'cahps_time',    4, TIMESTAMP '2025-01-10 10:00:00'),
    ('s2-rating',  'p-b', 'SRV', 'CMP-SURVEY', 'cahps_rating',  8, TIMESTAMP '2025-01-10 10:00:00'),
    ('s3-rating',  'p-b', 'SRV', 'CMP-SURVEY', 'cahps_rating', 10, TIMESTAMP '2025-01-31 23:59:59'),
    ('s3-explain', 'p-b', 'SRV', 'CMP-SURVEY', 'cahps_explain', NULL, TIMESTAMP '2025-01-31 23:59:59'),
    ('s3-listen',  'p-b', 'SRV', 'CMP-SURVEY', 'cahps_listen',  5, TIMESTAMP '2025-01-31 23:59:59'),
    ('s3-time',    'p-b', 'SRV', 'CMP-SURVEY', 'cahps_time',    0, TIMESTAMP '2025-01-31 23:59:59'),
    ('s4-rating',  'p-c', 'SRV', 'CMP-SURVEY', 'cahps_rating',  0, TIMESTAMP '2025-01-15 10:00:00'),
    ('s4-explain', 'p-c', 'SRV', 'CMP-SURVEY', 'cahps_explain', 1, TIMESTAMP '2025-01-15 10:00:00'),
    ('s4-access',  'p-c', 'SRV', 'CMP-SURVEY', 'cahps_access',  4, TIMESTAMP '2025-01-15 10:00:00'),
    ('s5-explain', 'p-a', 'SRV', 'CMP-SURVEY', 'cahps_explain', 3, TIMESTAMP '2025-02-01 00:00:00'),
    ('s5-time',    'p-a', 'SRV', 'CMP-SURVEY', 'cahps_time',    4, TIMESTAMP '2025-02-01 00:00:00'),
    ('s5-rating',  'p-a', 'SRV', 'CMP-SURVEY', 'cahps_rating', 10, TIMESTAMP '2025-02-01 00:00:00'),
    ('s6-rating',  'p-a', 'SRV', 'CMP-SURVEY', 'cahps_rating',  9, NULL);
