-- ecqm_frailty(pat, mp_start, mp_end): AdvancedIllnessandFrailty 1.16.000
-- "Has Criteria Indicating Frailty": evidence of frailty for patient pat in
-- the measurement period mp_start..mp_end (day precision), any of
--   * a frailty device ordered during the period: a DeviceRequest in Frailty
--     Device, status active or completed, intent order (Status 1.8.000
--     isDeviceOrder), not marked do-not-perform (the QI-Core doNotPerform
--     modifier extension is not true);
--   * the assessment "Medical equipment used" (LOINC 98181-1: final,
--     amended or corrected, survey category) answered with a Frailty Device
--     code and ending during the period;
--   * a frailty diagnosis (Frailty Diagnosis) whose prevalence overlaps it;
--   * a performed frailty encounter (Frailty Encounter) overlapping it;
--   * a frailty symptom: an Observation in Frailty Symptom, preliminary,
--     final, amended or corrected (isSymptom), overlapping it.
CREATE OR REPLACE TEMP MACRO ecqm_frailty(pat, mp_start, mp_end) AS
    EXISTS (
        SELECT 1
        FROM device_requests AS ef_device
        WHERE ef_device.patient_id = pat
          AND ef_device.status IN ('active', 'completed') AND ef_device.intent = 'order'
          AND ef_device.do_not_perform IS NOT TRUE
          AND in_value_set(ef_device.code_system, ef_device.code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.118.12.1300') -- Frailty Device
          AND ef_device.authored_on BETWEEN CAST(mp_start AS DATE) AND CAST(mp_end AS DATE)
    )
    OR EXISTS (
        SELECT 1
        FROM observations AS ef_obs
        WHERE ef_obs.patient_id = pat
          AND ef_obs.code_system = 'http://loinc.org' AND ef_obs.code = '98181-1'
          AND ef_obs.status IN ('final', 'amended', 'corrected') AND ef_obs.category = 'survey'
          AND in_value_set(ef_obs.value_system, ef_obs.value_code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.118.12.1300') -- Frailty Device
          AND CAST(ef_obs.effective_until AS DATE) BETWEEN CAST(mp_start AS DATE) AND CAST(mp_end AS DATE)
    )
    OR ecqm_has_condition(pat, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.113.12.1074', mp_start, mp_end) -- Frailty Diagnosis
    OR ecqm_has_encounter(pat, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.101.12.1088', mp_start, mp_end) -- Frailty Encounter
    OR EXISTS (
        SELECT 1
        FROM observations AS ef_obs
        WHERE ef_obs.patient_id = pat
          AND ef_obs.status IN ('preliminary', 'final', 'amended', 'corrected')
          AND in_value_set(ef_obs.code_system, ef_obs.code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.113.12.1075') -- Frailty Symptom
          AND ecqm_overlaps(ef_obs.effective_ts, ef_obs.effective_until, mp_start, mp_end)
    )
