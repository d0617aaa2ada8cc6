-- enc_discharges(window_days): hospital discharges whose window of
-- window_days days is over by the data's horizon: encounters of class
-- inpatient, status finished, with a known end (the discharge time; its date
-- is day 0), whose day window_days is not after the day of
-- appointments_as_of() (the newest committed EHR load; the horizon's own day
-- counts as seen). One row per stay: encounter_key, patient_id, clinic_id,
-- discharge_ts, discharge_date, discharge_system, discharge_code.
CREATE OR REPLACE TEMP MACRO enc_discharges(window_days) AS TABLE
SELECT
    _ed_e.encounter_key,
    _ed_e.patient_id,
    _ed_e.clinic_id,
    _ed_e.end_ts AS discharge_ts,
    CAST(_ed_e.end_ts AS DATE) AS discharge_date,
    _ed_e.discharge_system,
    _ed_e.discharge_code
FROM encounters AS _ed_e
WHERE _ed_e.class = 'inpatient'
  AND _ed_e.status = 'finished'
  AND _ed_e.end_ts IS NOT NULL
  AND CAST(_ed_e.end_ts AS DATE) + window_days <= CAST(appointments_as_of() AS DATE)
