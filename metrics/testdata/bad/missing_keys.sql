-- name: missing_keys
-- description: No title, no version.
-- unit: ratio
-- kind: ratio
-- direction: lower_is_better
-- grain: month
-- dimensions: clinic
SELECT
    CAST(a.start_ts AS DATE) AS period_date,
    a.patient_id,
    a.clinic_id AS clinic,
    CASE WHEN a.status = 'noshow' THEN 1 ELSE 0 END AS numerator,
    1 AS denominator
FROM appointments AS a
