-- name: readmission_30d
-- title: Readmission within 30 days of a hospital discharge
-- description: Share of inpatient discharges in the period (index stays: alive at discharge, not transferred) followed by a new inpatient admission on days 1 to 30 after the discharge date.
-- unit: ratio
-- kind: ratio
-- direction: lower_is_better
-- grain: month
-- dimensions: clinic, age_band, sex, payer, zip3, disposition
-- spec: MEASURES.md "Appointments" (readmission); index stays and transfers after the CMS hospital-wide readmission measure
-- version: 1

-- One row per index stay: an encounter of class inpatient, status finished,
-- with a known end (the discharge), placed in a period by its discharge date
-- (day 0). A readmission's own discharge is an index stay too.
--
-- Days are calendar days counted from the discharge date, whatever the
-- hours: day 1 is the day after the discharge. Numerator: a new inpatient
-- admission (another encounter of class inpatient that took place: arrived,
-- triaged, in-progress, onleave or finished) starting on days
-- 1..window_days (policy, 30), both inclusive (enc_readmission_day); one
-- starting on day 31 is not a readmission. value = the day of the first
-- readmission (1..30), NULL when there is none. Planned readmissions are not
-- told apart (the warehouse has no marker for them).
--
-- Not index stays (no row):
--   * the patient died during the stay or before the end of the discharge
--     day: discharge disposition in expired_url, or a date of death on or
--     before the discharge date (enc_died_at_discharge);
--   * transfers: a discharge to another hospital (disposition in
--     transfer_url: another healthcare facility, a psychiatric hospital),
--     or another inpatient stay starting on the discharge day (day 0) or
--     overlapping the discharge (enc_inpatient_after with last day 0). An
--     admission on the day of the discharge continues the same episode of
--     care, a transfer between hospitals or units or a stay split in two,
--     and is never counted as a readmission: the episode's index is the
--     discharge that ends it, the last one of the chain, and its 30 days are
--     counted from there. So a same-day readmission is not counted, and a
--     readmission must start on a later day than the discharge;
--   * the 30 days are not over by the data's horizon: day window_days is
--     after the day of appointments_as_of() (the newest committed EHR load;
--     the horizon's own day counts as seen).
-- Discharges to skilled nursing, rehabilitation, long-term care or hospice
-- and discharges against medical advice stay index stays; a death after the
-- discharge day does not remove one.
--
-- clinic is where the index stay was (the encounter's organisation); age
-- band and payer are taken on the discharge date; disposition is the
-- discharge disposition code as recorded ('unknown' when absent).
WITH params AS (
    SELECT
        30 AS window_days,
        'https://carelens.dev/fhir/ValueSet/enc-discharge-expired' AS expired_url,
        'https://carelens.dev/fhir/ValueSet/enc-discharge-transfer' AS transfer_url
),
measured AS (
    SELECT
        d.*,
        enc_readmission_day(d.patient_id, d.encounter_key, d.discharge_ts, 1, params.window_days) AS readmission_day
    FROM enc_discharges((SELECT window_days FROM params)) AS d
    CROSS JOIN params
    WHERE NOT enc_died_at_discharge(d.patient_id, d.discharge_ts, d.discharge_system, d.discharge_code, params.expired_url)
      AND NOT in_value_set(d.discharge_system, d.discharge_code, params.transfer_url)
      AND NOT enc_inpatient_after(d.patient_id, d.encounter_key, d.discharge_ts, 0)
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
    CASE WHEN m.readmission_day IS NULL THEN 0 ELSE 1 END  AS numerator,
    1                                                      AS denominator,
    CAST(m.readmission_day AS DOUBLE)                      AS value
FROM measured AS m
LEFT JOIN patients AS p ON p.patient_id = m.patient_id
