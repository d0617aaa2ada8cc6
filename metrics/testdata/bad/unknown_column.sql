-- name: unknown_column
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
    a.patient_id,
    a.clinic_id AS clinic,
    CASE WHEN a.statuz = 'noshow' THEN 1 ELSE 0 END AS numerator,
    1 AS denominator
FROM appointments AS a
