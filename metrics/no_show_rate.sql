-- name: no_show_rate
-- title: Appointment no-show rate
-- description: Share of appointments due to happen in the period (booked, arrived, checked-in, fulfilled or noshow) that ended as a no-show.
-- unit: ratio
-- kind: ratio
-- direction: lower_is_better
-- target: 0.10
-- grain: month
-- dimensions: clinic, age_band, sex, payer
-- spec: MEASURES.md "Appointments"; FHIR R4 AppointmentStatus
-- version: 1

-- One row per appointment that was due to happen: its start date places it
-- in a period. proposed, pending, waitlist, entered-in-error and cancelled
-- appointments never count (late cancellations are their own measure), nor
-- do appointments after the data's horizon (appointments_as_of): those were
-- still in the future when the data was exported.
-- clinic is where the appointment takes place; age band and payer are taken
-- on the appointment date.
--
-- The payer follows payer_at's rule, worked out once per coverage change
-- rather than once per row: payer_at's answer for a patient can change only
-- on a day one of the patient's coverages starts (from the beginning of time
-- when the start is unknown) or the day after one ends, so each such day's
-- answer holds until the next one (payer_spans: span_start <= day <
-- span_end). A day before all of them, or a patient without coverage, has
-- none: 'unknown', as payer_at says.
WITH payer_spans AS (
    SELECT k.patient_id, k.day AS span_start,
        lead(k.day, 1, DATE 'infinity') OVER (PARTITION BY k.patient_id ORDER BY k.day) AS span_end,
        payer_at(k.patient_id, k.day) AS payer
    FROM (
        SELECT c.patient_id, coalesce(c.period_start, DATE '-infinity') AS day FROM coverage AS c
        UNION
        SELECT c.patient_id, c.period_end + 1 FROM coverage AS c WHERE c.period_end IS NOT NULL
    ) AS k
)
SELECT
    CAST(a.start_ts AS DATE)                               AS period_date,
    a.patient_id                                           AS patient_id,
    coalesce(a.clinic_id, 'unknown')                       AS clinic,
    age_band(p.birth_date, p.age_90_plus, a.start_ts)      AS age_band,
    coalesce(p.sex, 'unknown')                             AS sex,
    coalesce(ps.payer, 'unknown')                          AS payer,
    CASE WHEN a.status = 'noshow' THEN 1 ELSE 0 END        AS numerator,
    1                                                      AS denominator
FROM appointments AS a
LEFT JOIN patients AS p ON p.patient_id = a.patient_id
LEFT JOIN payer_spans AS ps
  ON ps.patient_id = a.patient_id
 AND CAST(a.start_ts AS DATE) >= ps.span_start
 AND CAST(a.start_ts AS DATE) < ps.span_end
WHERE a.status IN ('booked', 'arrived', 'checked-in', 'fulfilled', 'noshow')
  AND a.start_ts <= appointments_as_of()
