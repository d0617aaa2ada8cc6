-- follow_up_rows(fu_window_days): the rows of follow_up_7d and
-- follow_up_30d, a follow-up visit within fu_window_days of a hospital
-- discharge.
--
-- One row per discharge: an encounter of class inpatient, status finished,
-- with a known end (the discharge), placed in a period by its discharge date
-- (day 0). A patient discharged twice has two rows.
--
-- Days are calendar days counted from the discharge date, whatever the hours:
-- day 1 is the day after the discharge, day 7 the seventh day after it. The
-- window is days 1..window_days (policy: 7 in follow_up_7d, 30 in
-- follow_up_30d), both
-- inclusive; a visit on the discharge day itself does not count (it is part
-- of the discharge, as in HEDIS), nor does one on day window_days + 1.
--
-- Left out of the denominator (no row):
--   * the patient died during the stay or before the end of the discharge
--     day: discharge disposition in expired_url, or a date of death on or
--     before the discharge date (enc_died_at_discharge);
--   * the patient was transferred: discharge disposition in transfer_url
--     (another hospital, a psychiatric hospital) or in institutional_url
--     (skilled nursing, rehabilitation, long-term care, hospice: care goes
--     on there, an office visit is not the expected next step);
--   * the patient is in hospital again, or still, within the window: another
--     inpatient stay starting on days 0..window_days or overlapping the
--     discharge (enc_inpatient_after); its own discharge is then the one
--     measured (HEDIS counts only the last discharge);
--   * the window is not over by the data's horizon: day window_days is after
--     the day of appointments_as_of() (the newest committed EHR load; the
--     horizon's own day counts as seen), so the outcome is not known yet.
-- A death after the discharge day does not remove the discharge.
--
-- Numerator: a follow-up visit, an encounter of class ambulatory or
-- telehealth with status finished, in-progress or arrived starting on days
-- 1..window_days (enc_follow_up_day). value = the day of the first one
-- (1..window_days), NULL when there is none.
--
-- clinic is where the stay was (the encounter's organisation); age band and
-- payer are taken on the discharge date; disposition is the discharge
-- disposition code as recorded ('unknown' when absent).
CREATE OR REPLACE TEMP MACRO follow_up_rows(fu_window_days) AS TABLE
WITH params AS (
    SELECT
        fu_window_days AS window_days,
        'https://carelens.dev/fhir/ValueSet/enc-discharge-expired' AS expired_url,
        'https://carelens.dev/fhir/ValueSet/enc-discharge-transfer' AS transfer_url,
        'https://carelens.dev/fhir/ValueSet/enc-discharge-institutional' AS institutional_url
),
measured AS (
    SELECT
        d.*,
        enc_follow_up_day(d.patient_id, d.encounter_key, d.discharge_ts, 1, params.window_days) AS follow_up_day
    FROM enc_discharges(fu_window_days) AS d
    CROSS JOIN params
    WHERE NOT enc_died_at_discharge(d.patient_id, d.discharge_ts, d.discharge_system, d.discharge_code, params.expired_url)
      AND NOT in_value_set(d.discharge_system, d.discharge_code, params.transfer_url)
      AND NOT in_value_set(d.discharge_system, d.discharge_code, params.institutional_url)
      AND NOT enc_inpatient_after(d.patient_id, d.encounter_key, d.discharge_ts, params.window_days)
)
SELECT
    m.discharge_date                                       AS period_date,
    m.patient_id                                           AS patient_id,
    coalesce(m.clinic_id, 'unknown')                       AS clinic,
    age_band(p.birth_date, p.age_90_plus, m.discharge_date) AS age_band,
    coalesce(p.sex, 'unknown')                             AS sex,
    payer_at(m.patient_id, m.discharge_date)               AS payer,
    coalesce(p.zip3, 'unknown')                            AS zip3,
    coalesce(m.discharge_code, 'unknown')                  AS disposition,
    CASE WHEN m.follow_up_day IS NULL THEN 0 ELSE 1 END    AS numerator,
    1                                                      AS denominator,
    CAST(m.follow_up_day AS DOUBLE)                        AS value
FROM measured AS m
LEFT JOIN patients AS p ON p.patient_id = m.patient_id
