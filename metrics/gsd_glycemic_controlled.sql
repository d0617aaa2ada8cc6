-- name: gsd_glycemic_controlled
-- title: Diabetes: glycemic status < 8 % (HEDIS GSD companion)
-- description: Share of patients 18-75 with diabetes and an outpatient visit in the calendar year, not excluded (hospice, palliative care, frailty with advanced illness, nursing home), whose most recent HbA1c or GMI of the year was below 8 %.
-- unit: ratio
-- kind: ratio
-- direction: higher_is_better
-- grain: year
-- dimensions: age_band, sex, payer, clinic, zip3
-- spec: MEASURES.md "CMS122" (HEDIS GSD companion rate); populations of eCQM CMS122 0.1.002 (docs/cms122.md)
-- version: 1

-- The HEDIS Glycemic Status Assessment for Patients with Diabetes (GSD)
-- "< 8.0 %" rate as MEASURES.md defines it: the CMS122 denominator (the same
-- macros, the same rows: see cms122_glycemic_poor_control) with the most
-- recent glycemic status (HbA1c or GMI; on the most recent day the reading
-- CMS122 decides on, cms122_glycemic_status) below 8.0 % as the numerator.
-- Higher is better. A patient without an assessment, or whose most recent one
-- has no result or no value in %, is not controlled; exactly 8.0 is not
-- controlled.
--   initial_population     1 (cms122_initial_population)
--   denominator_exclusion  cms122_denominator_exclusion
--   denominator            1, or 0 for an excluded patient
--   numerator              the reading is < params.controlled_below %; 0
--                          when excluded
--   value                  that reading in % (NULL: none, or no value in %)
-- HEDIS itself also finds its denominator in claims and pharmacy data and
-- its exclusions differ in detail; this rate keeps CMS122's, so the two
-- rates describe the same patients (docs/cms122.md).
-- A year is reported once it is over by the data's horizon
-- (appointments_as_of()); without any EHR run every year is reported.
WITH params AS (
    SELECT
        -- Controlled when the most recent glycemic status is below this (%).
        CAST(8.0 AS DOUBLE) AS controlled_below
)
SELECT
    pop.mp_end                                                  AS period_date,
    pop.patient_id                                              AS patient_id,
    age_band(pop.birth_date, pop.age_90_plus, pop.mp_end)       AS age_band,
    coalesce(pop.sex, 'unknown')                                AS sex,
    payer_at(pop.patient_id, pop.mp_end)                        AS payer,
    coalesce(pop.clinic_id, 'unknown')                          AS clinic,
    coalesce(pop.zip3, 'unknown')                               AS zip3,
    1                                                           AS initial_population,
    CASE WHEN pop.excluded THEN 1 ELSE 0 END                    AS denominator_exclusion,
    CASE WHEN NOT pop.excluded
              AND coalesce(cms122_glycemic_percent(pop.gsa) < prm.controlled_below, false)
         THEN 1 ELSE 0 END                                      AS numerator,
    CASE WHEN pop.excluded THEN 0 ELSE 1 END                    AS denominator,
    cms122_glycemic_percent(pop.gsa)                            AS value
FROM cms122_population() AS pop
CROSS JOIN params AS prm
