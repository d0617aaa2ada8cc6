-- name: missing_columns
-- title: Test metric
-- description: A definition with one deliberate problem.
-- unit: ratio
-- kind: ratio
-- direction: lower_is_better
-- target: 0.1
-- grain: month
-- dimensions: clinic
-- version: 1
SELECT
    CAST(a.start_ts AS DATE) AS period_date,
    a.clinic_id AS clinic,
    1 AS denominator
FROM appointments AS a
