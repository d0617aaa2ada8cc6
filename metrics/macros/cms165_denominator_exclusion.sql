-- cms165_denominator_exclusion(pat, age, mp_start, mp_end): CMS165
-- (ControllingHighBloodPressureFHIR 0.1.000) "Denominator Exclusions" for
-- patient pat, aged age at the end of the measurement period
-- mp_start..mp_end; any of
--   * hospice care in the period (ecqm_hospice, Hospice 6.12.000);
--   * "Pregnancy or Renal Diagnosis": a Condition in Pregnancy, End Stage
--     Renal Disease, Kidney Transplant Recipient or Chronic Kidney Disease,
--     Stage 5 whose prevalence overlaps the period;
--   * "End Stage Renal Disease Procedures": a completed Procedure in Kidney
--     Transplant or Dialysis Services that ended on or before the period's
--     end (at any time before it: the measure sets no lower bound);
--   * "End Stage Renal Disease Encounter": a performed encounter in ESRD
--     Monthly Outpatient Services that started on or before the period's end;
--   * age 66 to 80 with advanced illness and frailty, or 81 and older with
--     frailty (ecqm_advanced_illness_frailty, AdvancedIllnessandFrailty
--     1.16.000);
--   * age 66 or older and living long term in a nursing home
--     (ecqm_nursing_home);
--   * palliative care in the period (ecqm_palliative_care, PalliativeCare
--     1.11.000).
CREATE OR REPLACE TEMP MACRO cms165_denominator_exclusion(pat, age, mp_start, mp_end) AS
    ecqm_hospice(pat, mp_start, mp_end)
    OR ecqm_has_condition(pat, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.526.3.378', mp_start, mp_end) -- Pregnancy
    OR ecqm_has_condition(pat, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.526.3.353', mp_start, mp_end) -- End Stage Renal Disease
    OR ecqm_has_condition(pat, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.109.12.1029', mp_start, mp_end) -- Kidney Transplant Recipient
    OR ecqm_has_condition(pat, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.526.3.1002', mp_start, mp_end) -- Chronic Kidney Disease, Stage 5
    OR EXISTS (
        SELECT 1
        FROM procedures AS c165x_proc
        WHERE c165x_proc.patient_id = pat
          AND c165x_proc.status = 'completed'
          AND (in_value_set(c165x_proc.code_system, c165x_proc.code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.109.12.1012') -- Kidney Transplant
               OR in_value_set(c165x_proc.code_system, c165x_proc.code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.109.12.1013')) -- Dialysis Services
          AND CAST(c165x_proc.performed_until AS DATE) <= CAST(mp_end AS DATE)
    )
    OR EXISTS (
        SELECT 1
        FROM encounters AS c165x_enc
        WHERE c165x_enc.patient_id = pat
          AND c165x_enc.status IN ('finished', 'arrived', 'triaged', 'in-progress', 'onleave')
          AND in_value_set(c165x_enc.type_system, c165x_enc.type_code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.109.12.1014') -- ESRD Monthly Outpatient Services
          AND CAST(c165x_enc.start_ts AS DATE) <= CAST(mp_end AS DATE)
    )
    OR ecqm_advanced_illness_frailty(pat, age, mp_start, mp_end)
    OR ecqm_nursing_home(pat, age, mp_start, mp_end)
    OR ecqm_palliative_care(pat, mp_start, mp_end)
