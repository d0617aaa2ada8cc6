-- name: bad_values
-- title: Test metric
-- description: Every enumerated value is wrong.
-- unit: percent
-- kind: percentage
-- direction: down
-- target: high
-- grain: week
-- dimensions: clinic
-- version: 1.5
-- membership: some
SELECT
    CAST(a.start_ts AS DATE) AS period_date,
    a.patient_id,
    a.clinic_id AS clinic,
    CASE WHEN a.status = 'noshow' THEN 1 ELSE 0 END AS numerator,
    1 AS denominator
FROM appointments AS a
