-- name: plain
-- title: Plain count of appointments
-- description: Uses the helper macro, which needs twice.
-- unit: count
-- kind: count
-- direction: higher_is_better
-- grain: month
-- version: 1
SELECT CAST(start_ts AS DATE) AS period_date, patient_id, helper(0) AS numerator, 1 AS denominator
FROM appointments
