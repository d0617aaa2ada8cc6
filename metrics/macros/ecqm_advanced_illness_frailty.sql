-- ecqm_advanced_illness_frailty(pat, age, mp_start, mp_end):
-- AdvancedIllnessandFrailty 1.16.000 "Is Age 66 to 80 with Advanced Illness
-- and Frailty or Is Age 81 or Older with Frailty" for patient pat, aged age
-- at the end of the measurement period mp_start..mp_end:
--   * 66 to 80, frail (ecqm_frailty), and either an advanced illness (a
--     Condition in Advanced Illness whose prevalence starts — its onset —
--     during the year before or the measurement period) or a dementia
--     medication (below) in that time;
--   * 81 or older and frail.
-- A dementia medication is an active order (MedicationRequest status active,
-- intent order: isMedicationActive) of a drug in Dementia Medications, coded
-- in medicationCodeableConcept (a Medication reference is not followed, as
-- in the published test deck, CQLIT-412), whose supply period overlaps the
-- year before or the measurement period. The supply period
-- (CumulativeMedicationDuration 4.1.000 medicationRequestPeriod) starts on
-- authoredOn and lasts days supplied × (1 + refills) days; without a days
-- supply it is unknown and does not count.
CREATE OR REPLACE TEMP MACRO ecqm_advanced_illness_frailty(pat, age, mp_start, mp_end) AS
    coalesce(
        (age BETWEEN 66 AND 80
            AND ecqm_frailty(pat, mp_start, mp_end)
            AND (EXISTS (
                    SELECT 1
                    FROM conditions AS eaif_cond
                    WHERE eaif_cond.patient_id = pat
                      AND (in_value_set(eaif_cond.code_system, eaif_cond.code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.110.12.1082') -- Advanced Illness
                           OR in_value_set('http://hl7.org/fhir/sid/icd-10-cm', eaif_cond.icd10_code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.110.12.1082'))
                      AND eaif_cond.onset_date BETWEEN CAST(CAST(mp_start AS DATE) - INTERVAL 1 YEAR AS DATE) AND CAST(mp_end AS DATE)
                 )
                 OR EXISTS (
                    SELECT 1
                    FROM medication_requests AS eaif_med
                    WHERE eaif_med.patient_id = pat
                      AND eaif_med.status = 'active' AND eaif_med.intent = 'order'
                      AND in_value_set('http://www.nlm.nih.gov/research/umls/rxnorm', eaif_med.rxnorm_code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.196.12.1510') -- Dementia Medications
                      AND eaif_med.authored_on <= CAST(mp_end AS DATE)
                      AND eaif_med.authored_on + greatest(eaif_med.days_supply * (1 + coalesce(eaif_med.refills, 0)) - 1, 0)
                          >= CAST(CAST(mp_start AS DATE) - INTERVAL 1 YEAR AS DATE)
                 )))
        OR (age >= 81 AND ecqm_frailty(pat, mp_start, mp_end)),
        false)
