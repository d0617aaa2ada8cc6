-- name: reminder_no_show_rate
-- title: No-show rate with and without an appointment reminder
-- description: No-show rate of appointments due in the period, split by whether a delivered appointment reminder reached the patient in the 7 days before the start.
-- unit: ratio
-- kind: ratio
-- direction: lower_is_better
-- grain: month
-- dimensions: reminded, channel, clinic, age_band, sex, payer, zip3
-- spec: MEASURES.md "Appointments" (reminder effect, policy 7 days); FHIR R4 AppointmentStatus; docs/crm-export.md
-- version: 1

-- The no-show rate (as no_show_rate: one row per appointment due to happen,
-- status booked, arrived, checked-in, fulfilled or noshow; numerator noshow)
-- with the reminder as a dimension. Read it by=reminded: the two rows are
-- the comparison, each with its counts. Appointments count when they start
-- by the data's horizon (appointments_as_of: the newest committed EHR load),
-- so summed over reminded this is exactly no_show_rate.
--
-- reminded = 'yes' when an appointment reminder (outreach_messages purpose
-- appointment_reminder) was delivered to the patient (delivered_at known;
-- the earliest delivery time any message record or event gave) within
-- reminder_window (policy, 7 days) before the start:
-- start_ts - 7 days <= delivered_at < start_ts. Delivered exactly 7 days
-- before counts; 7 days and a minute (or 8 days) before does not, nor does a
-- delivery at or after the start. Any such reminder counts, whichever
-- appointment the CRM sent it for (messages do not name the appointment);
-- sent-only and failed messages without a delivery time do not. Otherwise
-- reminded = 'no'.
-- channel is the channel of the latest reminder delivered in the window
-- (ties: the smallest message key), 'none' when not reminded.
-- clinic is where the appointment takes place; age band and payer are taken
-- on the appointment date.
--
-- The payer follows payer_at's rule, worked out once per coverage change
-- rather than once per row (the table macro payer_spans).
WITH params AS (
    SELECT INTERVAL 7 DAY AS reminder_window
),
due AS (
    SELECT a.appointment_key, a.patient_id, a.clinic_id, a.start_ts, a.status,
        a.start_ts - params.reminder_window AS window_start
    FROM appointments AS a
    CROSS JOIN params
    WHERE a.status IN ('booked', 'arrived', 'checked-in', 'fulfilled', 'noshow')
      AND a.start_ts <= appointments_as_of()
),
reminded AS (
    SELECT d.appointment_key,
           first(m.channel ORDER BY m.delivered_at DESC, m.message_key) AS channel
    FROM due AS d
    JOIN outreach_messages AS m
      ON m.patient_id = d.patient_id
     AND m.delivered_at >= d.window_start
     AND m.delivered_at < d.start_ts
    WHERE m.purpose = 'appointment_reminder'
    GROUP BY d.appointment_key
),
payer_spans AS (
    SELECT * FROM payer_spans()
)
SELECT
    CAST(d.start_ts AS DATE)                               AS period_date,
    d.patient_id                                           AS patient_id,
    CASE WHEN r.appointment_key IS NULL THEN 'no' ELSE 'yes' END AS reminded,
    coalesce(r.channel, 'none')                            AS channel,
    coalesce(d.clinic_id, 'unknown')                       AS clinic,
    age_band(p.birth_date, p.age_90_plus, d.start_ts)      AS age_band,
    coalesce(p.sex, 'unknown')                             AS sex,
    coalesce(ps.payer, 'unknown')                          AS payer,
    coalesce(p.zip3, 'unknown')                            AS zip3,
    CASE WHEN d.status = 'noshow' THEN 1 ELSE 0 END        AS numerator,
    1                                                      AS denominator
FROM due AS d
LEFT JOIN reminded AS r ON r.appointment_key = d.appointment_key
LEFT JOIN patients AS p ON p.patient_id = d.patient_id
LEFT JOIN payer_spans AS ps
  ON ps.patient_id = d.patient_id
 AND CAST(d.start_ts AS DATE) >= ps.span_start
 AND CAST(d.start_ts AS DATE) < ps.span_end
