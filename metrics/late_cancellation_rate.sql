-- name: late_cancellation_rate
-- title: Late cancellation rate
-- description: Share of appointments starting in the period, due to happen or cancelled late, that were cancelled less than 24 hours before their start.
-- unit: ratio
-- kind: ratio
-- direction: lower_is_better
-- grain: month
-- dimensions: clinic, age_band, sex, payer, zip3
-- spec: MEASURES.md "Appointments" (late cancellation, policy 24 h); FHIR R4 AppointmentStatus; R5 Appointment.cancellationDate
-- version: 1

-- One row per appointment, placed in a period by its start date.
--
-- Numerator: a late cancellation, an appointment with status cancelled whose
-- cancellation time (cancelled_at, the R5 cancellationDate extension) is
-- less than late_within (policy, 24 h) before its start:
-- start_ts - cancelled_at < 24 h. Cancelled exactly 24 h before is on time;
-- 23 h 59 min before is late. A cancellation recorded at or after the start
-- is late too (it is less than 24 h before).
--
-- Denominator: the appointments that were due to happen, with the no-show
-- rate's statuses (booked, arrived, checked-in, fulfilled, noshow), plus the
-- late cancellations themselves; so the rate reads "of the appointments
-- still on the book 24 h before their start, the share cancelled after".
-- Cancellations made 24 h or more before the start are in neither part.
-- proposed, pending, waitlist and entered-in-error appointments never count,
-- whatever their cancellation time.
--
-- A cancellation without a cancellation time cannot be placed against the
-- start: it is in neither part (not guessed late, and not diluting the
-- denominator). The rule is fixed: changing late_within or these choices is
-- a new version.
--
-- As in no_show_rate, only appointments starting by the data's horizon
-- (appointments_as_of: the newest committed EHR load) count. A later one,
-- even if already cancelled late, belongs to a period the data does not
-- cover yet. Appointments without a start count nowhere.
-- clinic is where the appointment takes place; age band and payer are taken
-- on the appointment date.
--
-- The payer follows payer_at's rule, worked out once per coverage change
-- rather than once per row (the table macro payer_spans).
WITH params AS (
    SELECT INTERVAL 24 HOUR AS late_within
),
counted AS (
    SELECT
        a.patient_id,
        a.clinic_id,
        a.start_ts,
        CASE WHEN a.status = 'cancelled' THEN 1 ELSE 0 END AS late
    FROM appointments AS a
    CROSS JOIN params
    WHERE a.start_ts <= appointments_as_of()
      AND (a.status IN ('booked', 'arrived', 'checked-in', 'fulfilled', 'noshow')
           OR (a.status = 'cancelled' AND a.cancelled_at > a.start_ts - params.late_within))
),
payer_spans AS (
    SELECT * FROM payer_spans()
)
SELECT
    CAST(ap.start_ts AS DATE)                              AS period_date,
    ap.patient_id                                          AS patient_id,
    coalesce(ap.clinic_id, 'unknown')                      AS clinic,
    age_band(p.birth_date, p.age_90_plus, ap.start_ts)     AS age_band,
    coalesce(p.sex, 'unknown')                             AS sex,
    coalesce(ps.payer, 'unknown')                          AS payer,
    coalesce(p.zip3, 'unknown')                            AS zip3,
    ap.late                                                AS numerator,
    1                                                      AS denominator
FROM counted AS ap
LEFT JOIN patients AS p ON p.patient_id = ap.patient_id
LEFT JOIN payer_spans AS ps
  ON ps.patient_id = ap.patient_id
 AND CAST(ap.start_ts AS DATE) >= ps.span_start
 AND CAST(ap.start_ts AS DATE) < ps.span_end
