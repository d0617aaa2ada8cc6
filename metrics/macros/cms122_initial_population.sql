-- cms122_initial_population(pat, age, mp_start, mp_end): CMS122
-- (DiabetesGlycemicStatusAssessmentGreaterThan9PercentFHIR 0.1.002)
-- "Initial Population" for patient pat, aged age at the end of the
-- measurement period mp_start..mp_end (MEASURES.md "CMS122"):
--   * 18 to 75 at the end of the period (AgeInYearsAt(date from end of MP));
--   * a qualifying outpatient encounter during the period
--     (ecqm_qualifying_encounter, AdultOutpatientEncounters 4.11.000);
--   * diabetes: a Condition in Diabetes whose prevalence interval overlaps
--     the period at day precision (ecqm_has_condition).
-- The Denominator is the Initial Population. An unknown age (no birth date,
-- as for a patient 90 or over when loaded) is not in 18..75.
CREATE OR REPLACE TEMP MACRO cms122_initial_population(pat, age, mp_start, mp_end) AS
    coalesce(age BETWEEN 18 AND 75, false)
    AND ecqm_qualifying_encounter(pat, mp_start, mp_end)
    AND ecqm_has_condition(pat, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.103.12.1001', mp_start, mp_end) -- Diabetes
