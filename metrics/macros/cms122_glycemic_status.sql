-- cms122_glycemic_status(pat, mp_start, mp_end): the glycemic status
-- assessment CMS122 (DiabetesGlycemicStatusAssessmentGreaterThan9PercentFHIR
-- 0.1.002) decides on for patient pat in the measurement period
-- mp_start..mp_end — "Lowest Glycemic Status Assessment Reading on Most
-- Recent Day" — as a struct {on_day, value, unit, has_value}, or NULL when
-- the patient has no "Glycemic Status Assessment" in the period.
-- A glycemic status assessment is an Observation
--   * coded in HbA1c Laboratory Test (LOINC 4548-4 and the other HbA1c
--     codes of the value set) or Glucose management indicator (LOINC
--     97506-0, a direct-reference code in the CQL);
--   * performed as a laboratory test (Status 1.8.000
--     isLaboratoryTestPerformed): status final, amended or corrected and
--     category laboratory. Registered, preliminary, cancelled,
--     entered-in-error and unknown results are not assessments at all;
--   * whose latest effective time (QICoreCommon latest(): the end of a
--     Period, else its start, or the dateTime) falls on a day of the period.
-- The most recent day is the latest such day. On it the readings sort by
-- their value ascending with missing values first (CQL sorts nulls first;
-- a value that is not a Quantity is null there too) and the first one is
-- taken. Of several readings without a numeric value, one with no value at
-- all goes before one with a coded value (the CQL leaves their order open),
-- then record key, so the choice is stable.
--   on_day     the most recent day;
--   value      its numeric value (valueQuantity.value), NULL when none;
--   unit       its unit as loaded (UCUM code, else unit text);
--   has_value  whether it has any value (a Quantity or a CodeableConcept):
--              false is CQL's "value is null", the assessment without a
--              result.
-- Only the resource's own value is read (panel_code IS NULL), not a
-- component's. Callers should compute it once per patient and period (it
-- is a subquery) and pass the column to cms122_numerator and
-- cms122_glycemic_percent.
CREATE OR REPLACE TEMP MACRO cms122_glycemic_status(pat, mp_start, mp_end) AS (
    SELECT {
        'on_day': CAST(coalesce(c122s_obs.effective_until, c122s_obs.effective_ts) AS DATE),
        'value': CAST(c122s_obs.value AS DOUBLE),
        'unit': c122s_obs.unit,
        'has_value': c122s_obs.value IS NOT NULL OR c122s_obs.value_code IS NOT NULL
    }
    FROM observations AS c122s_obs
    WHERE c122s_obs.patient_id = pat
      AND c122s_obs.panel_code IS NULL
      AND (in_value_set(c122s_obs.code_system, c122s_obs.code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.198.12.1013') -- HbA1c Laboratory Test
           OR (c122s_obs.code_system = 'http://loinc.org' AND c122s_obs.code = '97506-0')) -- Glucose management indicator
      AND c122s_obs.status IN ('final', 'amended', 'corrected')
      AND c122s_obs.category = 'laboratory'
      AND CAST(coalesce(c122s_obs.effective_until, c122s_obs.effective_ts) AS DATE)
          BETWEEN CAST(mp_start AS DATE) AND CAST(mp_end AS DATE)
    ORDER BY CAST(coalesce(c122s_obs.effective_until, c122s_obs.effective_ts) AS DATE) DESC,
             c122s_obs.value ASC NULLS FIRST,
             c122s_obs.value_code IS NOT NULL,
             c122s_obs.observation_key
    LIMIT 1
)
