-- enc_died_at_discharge(pat, discharge_ts, disp_system, disp_code,
-- expired_url): whether patient pat died during the stay that ended at
-- discharge_ts, or before: the stay's discharge disposition (disp_system,
-- disp_code: encounters.discharge_system/discharge_code) is in the value set
-- expired_url, or the patient's date of death is on or before the discharge
-- date. Day precision: a death later on the discharge day counts as at
-- discharge. A patient missing from the patients table has no known death.
CREATE OR REPLACE TEMP MACRO enc_died_at_discharge(pat, discharge_ts, disp_system, disp_code, expired_url) AS
    in_value_set(disp_system, disp_code, expired_url)
    OR EXISTS (
        SELECT 1
        FROM patients AS _enc_dead
        WHERE _enc_dead.patient_id = pat
          AND _enc_dead.deceased_date <= CAST(discharge_ts AS DATE)
    )
