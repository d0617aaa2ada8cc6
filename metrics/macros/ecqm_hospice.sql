-- ecqm_hospice(pat, mp_start, mp_end): Hospice 6.12.000 "Has Hospice
-- Services" (CMS165, CMS122 and other eCQMs exclude these patients):
-- patient pat received hospice care in the measurement period
-- mp_start..mp_end, shown by any of
--   * a performed inpatient encounter (Encounter Inpatient) that ended during
--     the period with a discharge to home (SNOMED CT 428361000124107) or to a
--     healthcare facility (428371000124100) for hospice care;
--   * a performed hospice encounter (Hospice Encounter) overlapping it;
--   * a hospice care assessment (LOINC 45755-6, Minimum Data Set) answered
--     Yes (SNOMED CT 373066001) overlapping it; an assessment counts when
--     final, amended or corrected and in the survey category (Status 1.8.000
--     isAssessmentPerformed);
--   * hospice care (Hospice Care Ambulatory) ordered during it: a
--     ServiceRequest with status active or completed and intent order (the
--     library leaves doNotPerform unchecked, CQLIT-447);
--   * hospice care performed (a completed Procedure in Hospice Care
--     Ambulatory) overlapping it;
--   * a hospice diagnosis (Hospice Diagnosis) whose prevalence overlaps it.
-- The single codes are the library's direct-reference codes, not value sets.
-- Every comparison is at day precision ("day of").
CREATE OR REPLACE TEMP MACRO ecqm_hospice(pat, mp_start, mp_end) AS
    EXISTS (
        SELECT 1
        FROM encounters AS eh_enc
        WHERE eh_enc.patient_id = pat
          AND eh_enc.status IN ('finished', 'arrived', 'triaged', 'in-progress', 'onleave')
          AND in_value_set(eh_enc.type_system, eh_enc.type_code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.666.5.307') -- Encounter Inpatient
          AND eh_enc.discharge_system = 'http://snomed.info/sct'
          AND eh_enc.discharge_code IN ('428361000124107', '428371000124100')
          AND CAST(eh_enc.end_ts AS DATE) BETWEEN CAST(mp_start AS DATE) AND CAST(mp_end AS DATE)
    )
    OR ecqm_has_encounter(pat, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.1003', mp_start, mp_end) -- Hospice Encounter
    OR EXISTS (
        SELECT 1
        FROM observations AS eh_obs
        WHERE eh_obs.patient_id = pat
          AND eh_obs.code_system = 'http://loinc.org' AND eh_obs.code = '45755-6'
          AND eh_obs.status IN ('final', 'amended', 'corrected') AND eh_obs.category = 'survey'
          AND eh_obs.value_system = 'http://snomed.info/sct' AND eh_obs.value_code = '373066001'
          AND ecqm_overlaps(eh_obs.effective_ts, eh_obs.effective_until, mp_start, mp_end)
    )
    OR EXISTS (
        SELECT 1
        FROM service_requests AS eh_order
        WHERE eh_order.patient_id = pat
          AND eh_order.status IN ('active', 'completed') AND eh_order.intent = 'order'
          AND in_value_set(eh_order.code_system, eh_order.code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.526.3.1584') -- Hospice Care Ambulatory
          AND eh_order.authored_on BETWEEN CAST(mp_start AS DATE) AND CAST(mp_end AS DATE)
    )
    OR EXISTS (
        SELECT 1
        FROM procedures AS eh_proc
        WHERE eh_proc.patient_id = pat
          AND eh_proc.status = 'completed'
          AND in_value_set(eh_proc.code_system, eh_proc.code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.526.3.1584') -- Hospice Care Ambulatory
          AND ecqm_overlaps(eh_proc.performed_start, eh_proc.performed_until, mp_start, mp_end)
    )
    OR ecqm_has_condition(pat, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.1165', mp_start, mp_end) -- Hospice Diagnosis
