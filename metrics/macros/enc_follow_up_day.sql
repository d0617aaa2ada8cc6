-- enc_follow_up_day(pat, enc_key, discharge_ts, first_day, last_day): the
-- day, counted from the discharge date of stay enc_key (day 0; discharge_ts
-- its end), of patient pat's first follow-up visit starting on days
-- first_day..last_day (both inclusive); NULL when there is none. A follow-up
-- visit is another encounter of class ambulatory or telehealth that took
-- place: status finished, in-progress or arrived (planned, cancelled and
-- entered-in-error visits did not happen). Days are calendar days: a visit
-- at 08:00 seven days after a discharge at 20:00 is on day 7.
CREATE OR REPLACE TEMP MACRO enc_follow_up_day(pat, enc_key, discharge_ts, first_day, last_day) AS (
    SELECT min(CAST(_enc_fu.start_ts AS DATE) - CAST(discharge_ts AS DATE))
    FROM encounters AS _enc_fu
    WHERE _enc_fu.patient_id = pat
      AND _enc_fu.encounter_key <> enc_key
      AND _enc_fu.class IN ('ambulatory', 'telehealth')
      AND _enc_fu.status IN ('finished', 'in-progress', 'arrived')
      AND CAST(_enc_fu.start_ts AS DATE) BETWEEN CAST(discharge_ts AS DATE) + CAST(first_day AS INTEGER)
                                            AND CAST(discharge_ts AS DATE) + CAST(last_day AS INTEGER)
)
