-- name: cms122_glycemic_poor_control
-- title: Diabetes: glycemic status > 9 % (CMS122, inverse)
-- description: Share of patients 18-75 with diabetes and an outpatient visit in the calendar year, not excluded (hospice, palliative care, frailty with advanced illness, nursing home), whose most recent HbA1c or GMI of the year was above 9 %, had no result, or who had none.
-- unit: ratio
-- kind: ratio
-- direction: lower_is_better
-- grain: year
-- dimensions: age_band, sex, payer, clinic, zip3
-- spec: MEASURES.md "CMS122"; eCQM CMS122 DiabetesGlycemicStatusAssessmentGreaterThan9PercentFHIR 0.1.002 (docs/cms122.md)
-- version: 1

-- The measurement period is a calendar year. One row per patient and year in
-- the initial population, dated 31 December, so a query by year reports that
-- year's performance rate; by month the whole year lands in December.
-- Candidate years are those in which the patient has an encounter, since the
-- initial population needs a qualifying encounter during the year.
--   initial_population     1 (cms122_initial_population; Denominator = IP)
--   denominator_exclusion  cms122_denominator_exclusion
--   denominator            1, or 0 for an excluded patient (eCQM proportion
--                          scoring removes exclusions from the denominator)
--   numerator              cms122_numerator: poor control — the most recent
--                          HbA1c/GMI > 9 %, without a result, or none; 0 when
--                          excluded
--   value                  that reading in % (cms122_glycemic_percent), NULL
--                          when there is none or it has no value in %
-- The populations are macros (metrics/macros/cms122_*, ecqm_*) shared with
-- gsd_glycemic_controlled and checked patient by patient in cms122_test.go.
-- The population, its exclusions and the assessment come from the table
-- macro cms122_population (shared with gsd_glycemic_controlled). Age, and
-- the age band and payer dimensions, are taken on 31 December. A year is
-- reported once it is over by the data's horizon: while it runs, a patient
-- not yet tested would count as "no assessment", the inverse measure's bad
-- outcome.
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
    CASE WHEN NOT pop.excluded AND cms122_numerator(pop.gsa)
         THEN 1 ELSE 0 END                                      AS numerator,
    CASE WHEN pop.excluded THEN 0 ELSE 1 END                    AS denominator,
    cms122_glycemic_percent(pop.gsa)                            AS value
FROM cms122_population() AS pop
