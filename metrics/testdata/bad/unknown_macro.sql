-- name: unknown_macro
-- title: Test metric
-- description: A definition with one deliberate problem.
-- unit: ratio
-- kind: ratio
-- direction: lower_is_better
-- target: 0.1
-- grain: month
-- dimensions: age_band
-- version: 1
SELECT
    CAST(a.start_ts AS DATE) AS period_date,
    a.patient_id,
    age_bnd(p.birth_date, p.age_90_plus, a.start_ts) AS age_band,
    CASE WHEN a.status = 'noshow' THEN 1 ELSE 0 END AS numerator,
    1 AS denominator
FROM appointments AS a
JOIN patients AS p USING (patient_id)
