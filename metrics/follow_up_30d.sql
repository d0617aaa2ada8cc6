-- name: follow_up_30d
-- title: Follow-up visit within 30 days of a hospital discharge
-- description: Share of inpatient discharges in the period (alive, not transferred, not back in hospital within 30 days) followed by an ambulatory or telehealth visit on days 1 to 30 after the discharge date.
-- unit: ratio
-- kind: ratio
-- direction: higher_is_better
-- grain: month
-- dimensions: clinic, age_band, sex, payer, zip3, disposition
-- spec: MEASURES.md "Appointments" (follow-up after discharge); day counting and exclusions after HEDIS FUH/TRC
-- version: 1

-- Follow-up within 30 days of a discharge: the table macro follow_up_rows
-- (macros/follow_up_rows.sql) says who is counted and how, for this metric
-- and follow_up_7d alike.
SELECT *
FROM follow_up_rows(30)
