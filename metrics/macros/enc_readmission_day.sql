-- enc_readmission_day(pat, enc_key, discharge_ts, first_day, last_day): the
-- day, counted from the discharge date of stay enc_key (day 0; discharge_ts
-- its end), on which patient pat's first other inpatient admission starting
-- on days first_day..last_day (both inclusive) began; NULL when none did.
-- An admission is an encounter of class inpatient with status arrived,
-- triaged, in-progress, onleave or finished (planned, cancelled and
-- entered-in-error stays never happened) and a known start. Days are
-- calendar days: an admission at 00:10 on the day after a discharge at
-- 23:50 is on day 1.
CREATE OR REPLACE TEMP MACRO enc_readmission_day(pat, enc_key, discharge_ts, first_day, last_day) AS (
    SELECT min(CAST(_enc_adm.start_ts AS DATE) - CAST(discharge_ts AS DATE))
    FROM encounters AS _enc_adm
    WHERE _enc_adm.patient_id = pat
      AND _enc_adm.encounter_key <> enc_key
      AND _enc_adm.class = 'inpatient'
      AND _enc_adm.status IN ('arrived', 'triaged', 'in-progress', 'onleave', 'finished')
      AND CAST(_enc_adm.start_ts AS DATE) BETWEEN CAST(discharge_ts AS DATE) + CAST(first_day AS INTEGER)
                                             AND CAST(discharge_ts AS DATE) + CAST(last_day AS INTEGER)
)
