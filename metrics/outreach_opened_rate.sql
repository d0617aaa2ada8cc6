-- name: outreach_opened_rate
-- title: Outreach messages opened or read
-- description: Share of outreach messages sent in the period that the patient opened, read or answered within 7 days of sending.
-- unit: ratio
-- kind: ratio
-- direction: higher_is_better
-- grain: month
-- dimensions: channel, purpose, campaign, clinic, age_band, sex, payer
-- spec: MEASURES.md "Outreach and engagement" (funnel: sent, delivered, opened/read, responded; rates against sent); docs/crm-export.md
-- version: 1

-- The outreach funnel, step 2 of 3: sent -> opened or read.
-- The rows, stages and policies are the table macro outreach_funnel_rows
-- (macros/outreach_funnel_rows.sql), shared by the funnel's three rates.
SELECT *
FROM outreach_funnel_rows('opened')
