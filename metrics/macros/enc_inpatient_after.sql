-- enc_inpatient_after(pat, enc_key, discharge_ts, last_day): whether patient
-- pat is in hospital again, or still, between the discharge of stay enc_key
-- at discharge_ts and the end of day last_day after the discharge date (day
-- 0 = the discharge date): another inpatient encounter of pat (class
-- inpatient; status arrived, triaged, in-progress, onleave or finished, so it
-- took place) that starts on or before that day and ends after the discharge
-- or has no end. This covers a readmission in the window, a stay starting on
-- the discharge day (a transfer between units or hospitals) and a stay
-- overlapping the discharge (the patient never left). Stays that ended by the
-- discharge, and stays without a start, are not counted.
CREATE OR REPLACE TEMP MACRO enc_inpatient_after(pat, enc_key, discharge_ts, last_day) AS EXISTS (
    SELECT 1
    FROM encounters AS _enc_stay
    WHERE _enc_stay.patient_id = pat
      AND _enc_stay.encounter_key <> enc_key
      AND _enc_stay.class = 'inpatient'
      AND _enc_stay.status IN ('arrived', 'triaged', 'in-progress', 'onleave', 'finished')
      AND _enc_stay.start_ts IS NOT NULL
      AND CAST(_enc_stay.start_ts AS DATE) <= CAST(discharge_ts AS DATE) + CAST(last_day AS INTEGER)
      AND (_enc_stay.end_ts IS NULL OR _enc_stay.end_ts > discharge_ts)
)
