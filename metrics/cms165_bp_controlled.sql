-- name: cms165_bp_controlled
-- title: Controlling high blood pressure (CMS165)
-- description: Share of patients 18-85 with essential hypertension and an outpatient visit in the calendar year, not excluded (hospice, renal, pregnancy, palliative care, frailty, nursing home), whose most recent blood pressure of the year was below 140/90 mmHg.
-- unit: ratio
-- kind: ratio
-- direction: higher_is_better
-- grain: year
-- dimensions: age_band, sex, payer
-- spec: MEASURES.md "CMS165"; eCQM CMS165 ControllingHighBloodPressureFHIR 0.1.000 (docs/cms165.md)
-- version: 2

-- The measurement period is a calendar year: one row per patient and year in
-- the denominator and not excluded, dated 31 December so that a query over a
-- year (grain year) reports that year's performance rate. Candidate years
-- (ecqm_candidates) are those in which the patient has an encounter, since
-- the initial population needs a qualifying encounter during the year.
-- Denominator = initial population (cms165_initial_population). Excluded
-- patients (cms165_denominator_exclusion) keep their row, marked
-- denominator_exclusion 1 with denominator and numerator 0, as eCQM
-- proportion scoring removes them from the denominator: the rate is
-- sum(numerator) / sum(denominator), and a FHIR MeasureReport reports the
-- initial population and the exclusions from the same rows. The numerator
-- is cms165_numerator. The populations are macros (metrics/macros) so that the
-- per-patient check against the published test deck (cms165_test.go)
-- evaluates the very same rules.
-- The aliases here (ip, cand) differ from the names inside the
-- macros, which DuckDB expands in place (docs/cms165.md).
-- Age, and the age band and payer dimensions, are taken on the last day of
-- the year. A patient aged 90 or over when the data was loaded has no birth
-- date in the warehouse (PRIVACY.md), so no age: left out of the initial
-- population, which requires 18 to 85.
WITH candidates AS (
    SELECT * FROM ecqm_candidates()
)
SELECT
    cand.mp_end                                                 AS period_date,
    cand.patient_id                                             AS patient_id,
    age_band(cand.birth_date, cand.age_90_plus, cand.mp_end)    AS age_band,
    coalesce(cand.sex, 'unknown')                               AS sex,
    payer_at(cand.patient_id, cand.mp_end)                      AS payer,
    CASE WHEN NOT cand.excluded
          AND cms165_numerator(cand.patient_id, cand.mp_start, cand.mp_end)
         THEN 1 ELSE 0 END                                      AS numerator,
    CASE WHEN cand.excluded THEN 0 ELSE 1 END                   AS denominator,
    1                                                           AS initial_population,
    CASE WHEN cand.excluded THEN 1 ELSE 0 END                   AS denominator_exclusion
FROM (
    SELECT ip.*,
        cms165_denominator_exclusion(ip.patient_id, ip.age, ip.mp_start, ip.mp_end) AS excluded
    FROM candidates AS ip
    WHERE cms165_initial_population(ip.patient_id, ip.age, ip.mp_start, ip.mp_end)
) AS cand
