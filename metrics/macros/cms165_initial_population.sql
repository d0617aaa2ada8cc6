-- cms165_initial_population(pat, age, mp_start, mp_end): CMS165
-- (ControllingHighBloodPressureFHIR 0.1.000) "Initial Population" for
-- patient pat, aged age at the end of the measurement period
-- mp_start..mp_end (MEASURES.md "CMS165"):
--   * 18 to 85 at the end of the period (AgeInYearsAt(end of MP));
--   * essential hypertension (a Condition in Essential Hypertension) whose
--     prevalence overlaps the first six months of the period, [start,
--     start + 6 months): a diagnosis starting later does not count;
--   * a qualifying outpatient encounter during the period
--     (ecqm_qualifying_encounter, AdultOutpatientEncounters 4.11.000).
-- The Denominator is the Initial Population.
CREATE OR REPLACE TEMP MACRO cms165_initial_population(pat, age, mp_start, mp_end) AS
    coalesce(age BETWEEN 18 AND 85, false)
    AND ecqm_has_condition(pat, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.104.12.1011', -- Essential Hypertension
                           mp_start, CAST(CAST(mp_start AS DATE) + INTERVAL 6 MONTH AS DATE) - 1)
    AND ecqm_qualifying_encounter(pat, mp_start, mp_end)
