-- ecqm_palliative_care(pat, mp_start, mp_end): PalliativeCare 1.11.000
-- "Has Palliative Care in the Measurement Period" (CMS165, CMS122): patient
-- pat received palliative care overlapping the measurement period
-- mp_start..mp_end (day precision), shown by any of
--   * a palliative care assessment, the FACIT-Pal questionnaire (LOINC
--     71007-9), final, amended or corrected and in the survey category
--     (Status 1.8.000 isAssessmentPerformed), whatever its answer;
--   * a palliative care diagnosis (Palliative Care Diagnosis) whose
--     prevalence overlaps the period;
--   * a performed palliative care encounter (Palliative Care Encounter);
--   * a completed palliative care procedure (Palliative Care Intervention).
CREATE OR REPLACE TEMP MACRO ecqm_palliative_care(pat, mp_start, mp_end) AS
    EXISTS (
        SELECT 1
        FROM observations AS epc_obs
        WHERE epc_obs.patient_id = pat
          AND epc_obs.code_system = 'http://loinc.org' AND epc_obs.code = '71007-9'
          AND epc_obs.status IN ('final', 'amended', 'corrected') AND epc_obs.category = 'survey'
          AND ecqm_overlaps(epc_obs.effective_ts, epc_obs.effective_until, mp_start, mp_end)
    )
    OR ecqm_has_condition(pat, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.1167', mp_start, mp_end) -- Palliative Care Diagnosis
    OR ecqm_has_encounter(pat, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.101.12.1090', mp_start, mp_end) -- Palliative Care Encounter
    OR EXISTS (
        SELECT 1
        FROM procedures AS epc_proc
        WHERE epc_proc.patient_id = pat
          AND epc_proc.status = 'completed'
          AND in_value_set(epc_proc.code_system, epc_proc.code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.198.12.1135') -- Palliative Care Intervention
          AND ecqm_overlaps(epc_proc.performed_start, epc_proc.performed_until, mp_start, mp_end)
    )
