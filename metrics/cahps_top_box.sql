-- name: cahps_top_box
-- title: CAHPS top-box score
-- description: Share of answers to the CAHPS survey items in the most positive category (Always on the 1-4 communication items, 9-10 on the 0-10 provider rating), per item and for the provider communication composite.
-- unit: ratio
-- kind: ratio
-- direction: higher_is_better
-- grain: month
-- dimensions: item, composite, clinic, age_band, sex, payer
-- spec: MEASURES.md "Patient experience"; docs/crm-export.md survey_responses (items cahps_*); AHRQ CG-CAHPS top-box scoring
-- version: 1

-- One row per answer to a CAHPS item, dated the day it was answered;
-- numerator 1 when the answer is in the item's top box, denominator 1.
--
-- Items and their scales (the declared mapping `items` below; it restates
-- docs/crm-export.md): each item's scale, its lowest and highest answer,
-- the first answer of its top box, and the composite it belongs to.
--   cahps_rating   provider rating 0-10 (0 worst, 10 best)   top box 9-10
--   cahps_explain  explains things clearly, 1-4              top box 4
--   cahps_listen   listens carefully, 1-4                    top box 4
--   cahps_respect  shows respect, 1-4                        top box 4
--   cahps_time     spends enough time, 1-4                   top box 4
-- The 1-4 scale is 1 never, 2 sometimes, 3 usually, 4 always: "Always" is
-- the top box. A yes/no item ("Definitely yes" on definitely no, somewhat
-- no, somewhat yes, definitely yes as 1-4) would map the same way, top box
-- 4; the export has none today. Items not in the mapping (nps, anything
-- new) are left out until mapped; an answer that is missing or outside its
-- item's scale is no answer and is left out, as is one without a time.
--
-- Per item: group or filter by `item`. Composite (**policy**): the
-- `composite` dimension names the composite measure of CG-CAHPS an item
-- belongs to: provider_communication for explain, listen, respect and time
-- ("How well providers communicate with patients"); provider_rating for the
-- rating, a single-item global rating. filter.composite=
-- provider_communication (or by=composite) gives the composite as the
-- share of all its answers in the top box: answers pooled. CAHPS practice
-- (the AHRQ CAHPS Analysis Program, CMS HCAHPS) scores a composite as the
-- mean of its items' top-box shares, each item weighted equally. The
-- engine sums rows, which pools answers: the two agree exactly when every
-- respondent answers every item of the composite (equal answers per item,
-- as in the export, where the four come together in 70 % of responses);
-- with item non-response, pooling weights an item by its answers. CAHPS
-- also adjusts for case mix (age, education, self-rated health) before
-- comparing providers; this metric does not. Unsliced, the value pools all
-- five items, rating included.
--
-- Dimensions: clinic is the patient's home clinic (an answer names no
-- visit); age band and payer on the day of the answer; unlinked
-- respondents read "unknown".
WITH items (item, scale, lowest, highest, top_from, composite) AS (
    VALUES
        ('cahps_rating',  '0-10 rating (0 worst, 10 best)',              0, 10, 9, 'provider_rating'),
        ('cahps_explain', '1-4 never, sometimes, usually, always',       1, 4,  4, 'provider_communication'),
        ('cahps_listen',  '1-4 never, sometimes, usually, always',       1, 4,  4, 'provider_communication'),
        ('cahps_respect', '1-4 never, sometimes, usually, always',       1, 4,  4, 'provider_communication'),
        ('cahps_time',    '1-4 never, sometimes, usually, always',       1, 4,  4, 'provider_communication')
)
SELECT
    CAST(s.answered_at AS DATE)                          AS period_date,
    s.patient_id                                         AS patient_id,
    s.item                                               AS item,
    i.composite                                          AS composite,
    coalesce(p.clinic_id, 'unknown')                     AS clinic,
    age_band(p.birth_date, p.age_90_plus, s.answered_at) AS age_band,
    coalesce(p.sex, 'unknown')                           AS sex,
    payer_at(s.patient_id, s.answered_at)                AS payer,
    CASE WHEN s.answer >= i.top_from THEN 1 ELSE 0 END   AS numerator,
    1                                                    AS denominator
FROM survey_responses AS s
JOIN items AS i ON i.item = s.item
LEFT JOIN patients AS p ON p.patient_id = s.patient_id
WHERE s.answer BETWEEN i.lowest AND i.highest
  AND s.answered_at IS NOT NULL
