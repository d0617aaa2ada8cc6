-- cms122_population(): the CMS122 initial population (eCQM
-- DiabetesGlycemicStatusAssessmentGreaterThan9PercentFHIR 0.1.002), for
-- cms122_glycemic_poor_control and gsd_glycemic_controlled: one row per
-- patient and calendar measurement year (mp_start .. mp_end) in it, with
-- birth_date, age_90_plus, sex, clinic_id, zip3, whether the patient is
-- excluded (cms122_denominator_exclusion) and the glycemic status
-- assessment the numerators read (gsa, cms122_glycemic_status), from the
-- candidate patient-years of ecqm_candidates. A year is
-- listed once it is over by the data's horizon (the newest EHR load's
-- data_as_of, appointments_as_of()): while it runs, a patient not yet
-- tested would count as "no assessment". Without any EHR run recorded
-- every year is. Age is taken on 31 December. Aliases here (hz, ec,
-- cand) differ from the names inside the macros, which DuckDB expands in
-- place.
CREATE OR REPLACE TEMP MACRO cms122_population() AS TABLE
WITH horizon AS (
    SELECT CAST(appointments_as_of() AS DATE) AS as_of
),
candidates AS (
    SELECT ec.*
    FROM ecqm_candidates() AS ec
    CROSS JOIN horizon AS hz
    WHERE hz.as_of IS NULL OR ec.mp_end <= hz.as_of
)
SELECT
    cand.patient_id,
    cand.mp_start,
    cand.mp_end,
    cand.birth_date,
    cand.age_90_plus,
    cand.sex,
    cand.clinic_id,
    cand.zip3,
    cms122_denominator_exclusion(cand.patient_id, cand.age, cand.mp_start, cand.mp_end) AS excluded,
    cms122_glycemic_status(cand.patient_id, cand.mp_start, cand.mp_end)                AS gsa
FROM candidates AS cand
WHERE cms122_initial_population(cand.patient_id, cand.age, cand.mp_start, cand.mp_end)
