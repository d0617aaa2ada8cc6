-- ecqm_has_condition(pat, vs, d_from, d_to): whether patient pat has a
-- Condition coded in value set vs whose prevalence interval overlaps the
-- days d_from..d_to: "exists ([Condition: vs]) C where
-- C.prevalenceInterval() overlaps day of …" in the eCQM libraries.
-- The condition's code is its preferred coding (SNOMED CT, else ICD-10-CM)
-- or its ICD-10-CM coding (conditions.icd10_code), so either may be in vs.
-- prevalenceInterval() (QICoreCommon 2.1.000) runs from the onset to the
-- abatement: while clinicalStatus is active, recurrence or relapse a missing
-- abatement leaves it open; otherwise a missing abatement makes its end
-- unknown and it overlaps nothing. A missing onset is the start of time
-- (the interval is closed on a null start).
CREATE OR REPLACE TEMP MACRO ecqm_has_condition(pat, vs, d_from, d_to) AS EXISTS (
    SELECT 1
    FROM conditions AS ehc_cond
    WHERE ehc_cond.patient_id = pat
      AND (in_value_set(ehc_cond.code_system, ehc_cond.code, vs)
           OR in_value_set('http://hl7.org/fhir/sid/icd-10-cm', ehc_cond.icd10_code, vs))
      AND coalesce(ehc_cond.onset_date, DATE '-infinity') <= CAST(d_to AS DATE)
      AND CASE
              WHEN ehc_cond.clinical_status IN ('active', 'recurrence', 'relapse')
              THEN coalesce(ehc_cond.abatement_date, DATE 'infinity')
              ELSE ehc_cond.abatement_date
          END >= CAST(d_from AS DATE)
)
