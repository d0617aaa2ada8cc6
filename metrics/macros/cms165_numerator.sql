-- cms165_numerator(pat, mp_start, mp_end): CMS165
-- (ControllingHighBloodPressureFHIR 0.1.000) "Numerator" for patient pat in
-- the measurement period mp_start..mp_end: on the most recent day with a
-- qualifying blood pressure reading, the lowest systolic is below 140 mm[Hg]
-- and the lowest diastolic below 90 mm[Hg]. No reading: not controlled.
-- A qualifying reading is a blood pressure panel Observation (LOINC 85354-9,
-- the FHIR bp profile) that is final, amended or corrected (isObservationBP)
-- and whose latest effective time (the end of a Period, else its start, or
-- the dateTime) falls on a day of the period; one taken during an encounter
-- of class EMER, IMP, ACUTE, NONAC, PRENC or SS (emergency, inpatient, short
-- stay) does not count. A reading whose encounter is not in the warehouse is
-- not known to be in one (CQL: null in a list is false), so it counts. The
-- values are its systolic (LOINC 8480-6) and diastolic (8462-4) components;
-- a reading without one of them leaves that day's other readings to decide
-- it, and a day without any systolic or any diastolic value is not
-- controlled. A panel without components still marks its day. Units are
-- taken as recorded (mm[Hg]).
CREATE OR REPLACE TEMP MACRO cms165_numerator(pat, mp_start, mp_end) AS coalesce((
    SELECT min(CASE WHEN c165n_obs.code_system = 'http://loinc.org' AND c165n_obs.code = '8480-6' THEN c165n_obs.value END) < 140
       AND min(CASE WHEN c165n_obs.code_system = 'http://loinc.org' AND c165n_obs.code = '8462-4' THEN c165n_obs.value END) < 90
    FROM observations AS c165n_obs
    LEFT JOIN encounters AS c165n_enc ON c165n_enc.encounter_key = c165n_obs.encounter_key
    WHERE c165n_obs.patient_id = pat
      AND (c165n_obs.panel_code = '85354-9'
           OR (c165n_obs.panel_code IS NULL AND c165n_obs.code_system = 'http://loinc.org' AND c165n_obs.code = '85354-9'))
      AND c165n_obs.status IN ('final', 'amended', 'corrected')
      AND (c165n_enc.class_code IS NULL OR c165n_enc.class_code NOT IN ('EMER', 'IMP', 'ACUTE', 'NONAC', 'PRENC', 'SS'))
      AND CAST(coalesce(c165n_obs.effective_until, c165n_obs.effective_ts) AS DATE) BETWEEN CAST(mp_start AS DATE) AND CAST(mp_end AS DATE)
    GROUP BY CAST(coalesce(c165n_obs.effective_until, c165n_obs.effective_ts) AS DATE)
    ORDER BY CAST(coalesce(c165n_obs.effective_until, c165n_obs.effective_ts) AS DATE) DESC
    LIMIT 1
), false)
