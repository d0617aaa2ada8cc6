-- The CMS165 populations of every patient for one measurement period (the
-- two parameters: its first and last day), for checking the measure against
-- the published test deck patient by patient (cms165_test.go). The metric
-- cms165_bp_controlled reports the same rules aggregated; the engine's
-- contract (numerator and denominator per row) has no place for the
-- initial population and exclusion flags (docs/cms165.md).
--   initial_population     cms165_initial_population
--   denominator            = initial population
--   denominator_exclusion  in the denominator and cms165_denominator_exclusion
--   numerator              in the denominator, not excluded, cms165_numerator
WITH mp AS (
    SELECT CAST(? AS DATE) AS mp_start, CAST(? AS DATE) AS mp_end
),
flags AS (
    SELECT
        pt.patient_id,
        cms165_initial_population(pt.patient_id, age_years(pt.birth_date, mp.mp_end), mp.mp_start, mp.mp_end) AS ip,
        cms165_denominator_exclusion(pt.patient_id, age_years(pt.birth_date, mp.mp_end), mp.mp_start, mp.mp_end) AS excluded,
        cms165_numerator(pt.patient_id, mp.mp_start, mp.mp_end) AS controlled
    FROM patients AS pt, mp
)
SELECT
    patient_id,
    ip                                   AS initial_population,
    ip                                   AS denominator,
    ip AND excluded                      AS denominator_exclusion,
    ip AND NOT excluded AND controlled   AS numerator
FROM flags
ORDER BY patient_id
