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
-- rather than once per row (the table macro payer_spans).
WITH payer_spans AS (
    SELECT * FROM payer_spans()
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
