-- name: nps
-- title: Net Promoter Score
-- description: Net Promoter Score of the 0-10 "would you recommend" survey item: percent of answers 9-10 (promoters) minus percent 0-6 (detractors), from -100 to +100.
-- unit: score
-- kind: score
-- direction: higher_is_better
-- grain: month
-- dimensions: clinic, age_band, sex, payer, survey
-- spec: MEASURES.md "Patient experience"; docs/crm-export.md survey_responses (item nps)
-- version: 1

-- One row per answer to the nps item (survey_responses.item = 'nps', the
-- 0-10 "how likely are you to recommend us" question), dated the day it was
-- answered. The row's numerator is the answer's score: +100 for a promoter
-- (9 or 10), -100 for a detractor (0 to 6), 0 for a passive (7 or 8); the
-- denominator is 1. So a group's value, sum(numerator) / sum(denominator),
-- is % promoters - % detractors, from -100 to +100. value repeats the
-- answer (0-10), the patient-level measurement.
--
-- Each answer counts: a patient who answers two surveys (after two visits)
-- counts twice. Only the nps item counts (the cahps_* items are
-- cahps_top_box's). An answer that is missing or outside 0-10 is no answer
-- and is left out (the CRM load quarantines them; other loads might not),
-- as is one without a time.
--
-- Dimensions: clinic is the patient's home clinic (an answer names no
-- visit); age band and payer are taken on the day of the answer; survey is
-- the instrument (survey_id). A respondent whose CRM contact is not linked
-- to an EHR patient reads "unknown" for the patient's dimensions.
WITH params AS (
    SELECT
        'nps' AS item,
        0 AS lowest,        -- the item's scale
        10 AS highest,
        9 AS promoter_from, -- 9-10: promoters
        6 AS detractor_to   -- 0-6: detractors; 7-8: passives
)
SELECT
    CAST(s.answered_at AS DATE)                          AS period_date,
    s.patient_id                                         AS patient_id,
    coalesce(p.clinic_id, 'unknown')                     AS clinic,
    age_band(p.birth_date, p.age_90_plus, s.answered_at) AS age_band,
    coalesce(p.sex, 'unknown')                           AS sex,
    payer_at(s.patient_id, s.answered_at)                AS payer,
    coalesce(s.survey_id, 'unknown')                     AS survey,
    CASE
        WHEN s.answer >= params.promoter_from THEN 100
        WHEN s.answer <= params.detractor_to THEN -100
        ELSE 0
    END                                                  AS numerator,
    1                                                    AS denominator,
    CAST(s.answer AS DOUBLE)                             AS value
FROM survey_responses AS s
CROSS JOIN params
LEFT JOIN patients AS p ON p.patient_id = s.patient_id
WHERE s.item = params.item
  AND s.answer BETWEEN params.lowest AND params.highest
  AND s.answered_at IS NOT NULL
