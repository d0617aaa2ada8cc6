-- Hand-made input for nps. One row per answer to the nps item (0-10);
-- score +100 for 9-10 (promoter), -100 for 0-6 (detractor), 0 for 7-8
-- (passive); NPS = sum / answers. The runner adds the EHR run (data as of
-- 2025-12-31); surveys have no horizon.
--
-- Respondents:
--   p-a  female, born 1980-06-15 (44 all along: 18-44), clinic-01,
--        commercial since 2020
--   p-b  male, born 1950-03-01 (74 until 2025-02-28: 65-74; 75 from
--        2025-03-01: 75-89), clinic-02, medicare since 2015
--   p-c  female, born 2010-07-01 (14: 0-17), clinic-01, medicaid until
--        2025-01-31, commercial from 2025-02-01
--   c-unlinked  a CRM contact linked to no EHR patient: every patient
--        dimension reads unknown
--
-- Counted answers (item nps), score in brackets:
--   r01 p-a 2025-01-05 10 [+100]  promoter, top of the scale
--   r02 p-a 2025-01-20  6 [-100]  detractor boundary (same patient again:
--                                 every answer counts)
--   r03 p-b 2025-01-10  7 [0]     passive boundary
--   r04 p-b 2025-01-31 23:59:59  9 [+100]  promoter boundary, last second
--                                 of January: January
--   r05 p-c 2025-01-15  0 [-100]  bottom of the scale (payer medicaid)
--   r06 c-unlinked 2025-01-12 8 [0]  passive boundary
--   r07 p-a 2025-02-01 00:00:00  9 [+100]  first second of February
--   r08 p-b 2025-02-14  8 [0]
--   r09 p-c 2025-02-20 10 [+100]  (payer commercial by then)
--   r10 p-b 2025-03-05  6 [-100]  survey SRV-ANNUAL; p-b is 75 by then
-- Never counted:
--   x01 p-a nps answer NULL (missing)
--   x02 p-a nps answer 11, x03 p-a nps answer -1 (outside 0-10)
--   x04 p-a cahps_rating 10, x05 p-a cahps_explain 4 (other items)
--   x06 p-a nps 10 without answered_at
--
-- Expected (expect.csv):
--   by month, Jan-Mar:
--     2025-01  r01..r06: 100 - 100 + 0 + 100 - 100 + 0 = 0 over 6   -> NPS 0
--     2025-02  r07..r09: 100 + 0 + 100 = 200 over 3                  -> +66.7
--     2025-03  r10: -100 over 1                                      -> -100
--   by month and clinic, Jan-Feb:
--     2025-01 clinic-01 r01, r02, r05: 100 - 100 - 100 = -100 over 3
--     2025-01 clinic-02 r03, r04: 0 + 100 = 100 over 2
--     2025-01 unknown   r06: 0 over 1
--     2025-02 clinic-01 r07, r09: 200 over 2
--     2025-02 clinic-02 r08: 0 over 1
--   by age band (no grain), Jan-Mar (age on the day of the answer):
--     0-17    r05, r09: -100 + 100 = 0 over 2
--     18-44   r01, r02, r07: 100 - 100 + 100 = 100 over 3
--     65-74   r03, r04, r08: 0 + 100 + 0 = 100 over 3
--     75-89   r10: -100 over 1
--     unknown r06: 0 over 1
--   by payer (no grain), Jan-Mar (payer on the day of the answer):
--     commercial r01, r02, r07, r09: 100 - 100 + 100 + 100 = 200 over 4
--     medicaid   r05: -100 over 1
--     medicare   r03, r04, r08, r10: 0 + 100 + 0 - 100 = 0 over 4
--     unknown    r06: 0 over 1
--   by month, female only, Jan-Feb:
--     2025-01 r01, r02, r05: -100 over 3;  2025-02 r07, r09: 200 over 2
--   by survey (no grain), Jan-Mar:
--     SRV-ANNUAL r10: -100 over 1;  SRV-POSTVISIT r01..r09: 200 over 9
-- members.csv lists r01..r10 with their scores and answers (value).

INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, zip3, clinic_id, source) VALUES
    ('p-a', DATE '1980-06-15', 1980, false, 'female', '021', 'clinic-01', 'ehr'),
    ('p-b', DATE '1950-03-01', 1950, false, 'male',   '022', 'clinic-02', 'ehr'),
    ('p-c', DATE '2010-07-01', 2010, false, 'female', '021', 'clinic-01', 'ehr');

INSERT INTO coverage (coverage_key, patient_id, status, payer_type, period_start, period_end) VALUES
    ('cov-a',  'p-a', 'active', 'commercial', DATE '2020-01-01', NULL),
    ('cov-b',  'p-b', 'active', 'medicare',   DATE '2015-01-01', NULL),
    ('cov-c1', 'p-c', 'active', 'medicaid',   DATE '2010-07-01', DATE '2025-01-31'),
    ('cov-c2', 'p-c', 'active', 'commercial', DATE '2025-02-01', NULL);

INSERT INTO survey_responses (response_key, patient_id, survey_id, campaign_id, item, answer, answered_at) VALUES
    ('r01', 'p-a',        'SRV-POSTVISIT', 'CMP-SURVEY', 'nps', 10, TIMESTAMP '2025-01-05 10:00:00'),
    ('r02', 'p-a',        'SRV-POSTVISIT', 'CMP-SURVEY', 'nps',  6, TIMESTAMP '2025-01-20 10:00:00'),
    ('r03', 'p-b',        'SRV-POSTVISIT', 'CMP-SURVEY', 'nps',  7, TIMESTAMP '2025-01-10 10:00:00'),
    ('r04', 'p-b',        'SRV-POSTVISIT', 'CMP-SURVEY', 'nps',  9, TIMESTAMP '2025-01-31 23:59:59'),
    ('r05', 'p-c',        'SRV-POSTVISIT', 'CMP-SURVEY', 'nps',  0, TIMESTAMP '2025-01-15 10:00:00'),
    ('r06', 'c-unlinked', 'SRV-POSTVISIT', 'CMP-SURVEY', 'nps',  8, TIMESTAMP '2025-01-12 10:00:00'),
    ('r07', 'p-a',        'SRV-POSTVISIT', 'CMP-SURVEY', 'nps',  9, TIMESTAMP '2025-02-01 00:00:00'),
    ('r08', 'p-b',        'SRV-POSTVISIT', 'CMP-SURVEY', 'nps',  8, TIMESTAMP '2025-02-14 10:00:00'),
    ('r09', 'p-c',        'SRV-POSTVISIT', NULL,         'nps', 10, TIMESTAMP '2025-02-20 10:00:00'),
    ('r10', 'p-b',        'SRV-ANNUAL',    NULL,         'nps',  6, TIMESTAMP '2025-03-05 10:00:00'),
    ('x01', 'p-a',        'SRV-POSTVISIT', 'CMP-SURVEY', 'nps', NULL, TIMESTAMP '2025-01-06 10:00:00'),
    ('x02', 'p-a',        'SRV-POSTVISIT', 'CMP-SURVEY', 'nps', 11, TIMESTAMP '2025-01-07 10:00:00'),
    ('x03', 'p-a',        'SRV-POSTVISIT', 'CMP-SURVEY', 'nps', -1, TIMESTAMP '2025-01-08 10:00:00'),
    ('x04', 'p-a',        'SRV-POSTVISIT', 'CMP-SURVEY', 'cahps_rating', 10, TIMESTAMP '2025-01-09 10:00:00'),
    ('x05', 'p-a',        'SRV-POSTVISIT', 'CMP-SURVEY', 'cahps_explain', 4, TIMESTAMP '2025-01-09 10:00:00'),
    ('x06', 'p-a',        'SRV-POSTVISIT', 'CMP-SURVEY', 'nps', 10, NULL);
