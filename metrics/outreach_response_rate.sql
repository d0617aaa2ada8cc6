-- name: outreach_response_rate
-- title: Outreach messages answered
-- description: Share of outreach messages sent in the period that the patient answered (a reply) within 7 days of sending.
-- unit: ratio
-- kind: ratio
-- direction: higher_is_better
-- grain: month
-- dimensions: channel, purpose, campaign, clinic, age_band, sex, payer
-- spec: MEASURES.md "Outreach and engagement" (funnel: sent, delivered, opened/read, responded; rates against sent); docs/crm-export.md
-- version: 1

-- The outreach funnel, step 3 of 3: sent -> responded (replied).
-- The rows, stages and policies are the table macro outreach_funnel_rows
-- (macros/outreach_funnel_rows.sql), shared by the funnel's three rates.
SELECT *
FROM outreach_funnel_rows('responded')
