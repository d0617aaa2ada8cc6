-- name: conversion_appointment_kept
-- title: Appointment reminders: appointment kept
-- description: Share of reminded appointments (messaged=yes) that were kept, beside the share among comparable appointments without a reminder (messaged=no); a comparison, not a causal effect.
-- unit: ratio
-- kind: ratio
-- direction: higher_is_better
-- grain: month
-- dimensions: messaged, reached, channel, clinic, age_band, sex, payer
-- spec: MEASURES.md "Outreach and engagement" (conversion: appointment reminder -> appointment kept, with the rate among comparable patients not messaged); FHIR R4 AppointmentStatus
-- version: 1

-- Unit: one appointment, dated on the day it starts (period_date), in one of
-- two groups, told apart by the dimension `messaged`. Read the two rates side
-- by side, never one alone.
--
-- Candidate appointments: a start time and a status that says the visit was
-- on the books: booked, arrived, checked-in, fulfilled, noshow, or cancelled
-- with a known cancellation time (cancelled_at). proposed, pending, waitlist
-- and entered-in-error never count, nor cancellations of unknown time (it is
-- not known whether the appointment was still on at the reminder). Kept
-- (numerator) = fulfilled, arrived or checked-in; noshow, booked (an
-- appointment of the export day still open) and cancelled are not kept.
--
-- messaged = 'yes'. An appointment reminder (outreach_messages purpose
-- appointment_reminder, with a sending time, whatever its outcome: failed and
-- undelivered reminders count, intention to treat) is for the patient's first
-- candidate appointment (by start, then key) that starts after the reminder
-- was sent and no more than reminder_window later, and that was already
-- booked then (booked_at unknown or not later) and not yet cancelled
-- (cancelled_at later, or none). Each such appointment is one row however
-- many reminders it got (duplicates and resends: one row). A reminder with
-- no such appointment (sent for a visit the EHR does not show, or too early)
-- is left out.
--
-- messaged = 'no', the comparison: candidate appointments of patients with a
-- linked CRM contact (they could have been reminded) with no appointment
-- reminder of any outcome sent to the patient in the reminder_window before
-- the start ([start - 7 days, start)), that were booked and not cancelled
-- comparison_lead before their start (a reminder goes out 1-3 days ahead;
-- an appointment cancelled earlier than that would never have been
-- reminded, so it is not in either group). Same candidate statuses, same
-- window, same kept rule and horizon as the 'yes' group. An appointment with
-- a reminder in its window that was for an earlier appointment of the
-- patient is in neither group.
--
-- The difference between the groups is an association, not the reminder's
-- effect: who gets reminded is decided by the CRM (contact details, channel
-- consent, campaign rules, booking lead time), and those differ between the
-- groups. Cancellations between the reminder and comparison_lead before the
-- start count against the 'yes' group only, a small bias against reminders.
-- Appointments before the CRM data begins look unreminded: compare periods
-- the CRM covers.
--
-- reached: the furthest funnel stage any of the appointment's reminders
-- reached before the appointment started (outreach_stage): 'responded',
-- 'opened', 'delivered' or 'not_delivered' (failed, or no delivery notice);
-- 'not_messaged' for the comparison group. Conversion by stage is not an
-- effect either: who answers differs from who does not. channel: the reminders' channel ('multiple' when they
-- used several), 'none' for the comparison group.
--
-- Horizon: appointments that start after the data's horizon are left out
-- (their outcome is not known): the earlier of outreach_as_of('ehr') and
-- outreach_as_of('crm'), since both the appointment and the absence of a
-- reminder must be known; a source without a committed run sets no limit.
-- clinic is the appointment's clinic; age band (birth year only: taken as
-- born on 1 January) and payer on the appointment's start.
--
-- The payer follows payer_at's rule, worked out once per coverage change
-- rather than once per row (the table macro payer_spans).
WITH params AS (
    SELECT
        -- A reminder is for an appointment starting within this after it
        -- was sent; the comparison group had no reminder this long before.
        INTERVAL 7 DAY   AS reminder_window,
        -- A comparison appointment was booked and not cancelled this long
        -- before its start.
        INTERVAL 48 HOUR AS comparison_lead
),
horizon AS (
    SELECT least(outreach_as_of('ehr'), outreach_as_of('crm')) AS as_of
),
appts AS MATERIALIZED (
    SELECT
        a.appointment_key,
        a.patient_id,
        a.status,
        a.clinic_id,
        a.booked_at,
        a.start_ts,
        CASE WHEN a.status = 'cancelled' THEN a.cancelled_at END AS cancelled_at,
        -- the reminder window before the start: [window_start, start_ts)
        a.start_ts - params.reminder_window AS window_start
    FROM appointments AS a
    CROSS JOIN params
    WHERE a.start_ts IS NOT NULL
      AND (a.status IN ('booked', 'arrived', 'checked-in', 'fulfilled', 'noshow')
           OR (a.status = 'cancelled' AND a.cancelled_at IS NOT NULL))
),
reminders AS MATERIALIZED (
    SELECT m.message_key, m.patient_id, m.channel, m.sent_at, m.delivered_at, m.opened_at, m.replied_at,
        m.sent_at + params.reminder_window AS window_end
    FROM outreach_messages AS m
    CROSS JOIN params
    WHERE m.purpose = 'appointment_reminder'
      AND m.sent_at IS NOT NULL
),
-- Each reminder with the appointment it is for.
targets AS (
    SELECT r.message_key, r.channel, r.delivered_at, r.opened_at, r.replied_at,
        a.appointment_key, a.start_ts
    FROM reminders AS r
    JOIN appts AS a
        ON a.patient_id = r.patient_id
       AND a.start_ts > r.sent_at
       AND a.start_ts <= r.window_end
       AND (a.booked_at IS NULL OR a.booked_at <= r.sent_at)
       AND (a.cancelled_at IS NULL OR a.cancelled_at > r.sent_at)
    QUALIFY row_number() OVER (PARTITION BY r.message_key ORDER BY a.start_ts, a.appointment_key) = 1
),
reminded AS (
    SELECT
        t.appointment_key,
        CASE WHEN count(DISTINCT t.channel) > 1 THEN 'multiple' ELSE min(t.channel) END AS channel,
        -- the furthest stage any of its reminders reached before the start
        outreach_stage(t.start_ts, min(t.delivered_at), min(t.opened_at), min(t.replied_at)) AS reached
    FROM targets AS t
    GROUP BY t.appointment_key, t.start_ts
),
grouped AS (
    SELECT a.*, 'yes' AS messaged, rd.reached, rd.channel
    FROM reminded AS rd
    JOIN appts AS a ON a.appointment_key = rd.appointment_key
    UNION ALL
    SELECT a.*, 'no' AS messaged, 'not_messaged' AS reached, 'none' AS channel
    FROM appts AS a
    CROSS JOIN params
    WHERE (a.booked_at IS NULL OR a.booked_at <= a.start_ts - params.comparison_lead)
      AND (a.cancelled_at IS NULL OR a.cancelled_at > a.start_ts - params.comparison_lead)
      AND EXISTS (
            SELECT 1 FROM contacts AS c
            WHERE c.patient_id = a.patient_id AND c.linked)
      AND NOT EXISTS (
            SELECT 1 FROM reminders AS r
            WHERE r.patient_id = a.patient_id
              AND r.sent_at >= a.window_start
              AND r.sent_at < a.start_ts)
),
payer_spans AS (
    SELECT * FROM payer_spans()
)
SELECT
    CAST(g.start_ts AS DATE)                                         AS period_date,
    g.patient_id                                                     AS patient_id,
    g.messaged                                                       AS messaged,
    g.reached                                                        AS reached,
    g.channel                                                        AS channel,
    coalesce(g.clinic_id, 'unknown')                                 AS clinic,
    age_band(coalesce(p.birth_date, make_date(p.birth_year, 1, 1)), p.age_90_plus, g.start_ts) AS age_band,
    coalesce(p.sex, 'unknown')                                       AS sex,
    coalesce(ps.payer, 'unknown')                                    AS payer,
    CASE WHEN g.status IN ('fulfilled', 'arrived', 'checked-in') THEN 1 ELSE 0 END AS numerator,
    1                                                                AS denominator
FROM grouped AS g
CROSS JOIN horizon
LEFT JOIN patients AS p ON p.patient_id = g.patient_id
LEFT JOIN payer_spans AS ps
  ON ps.patient_id = g.patient_id
 AND CAST(g.start_ts AS DATE) >= ps.span_start
 AND CAST(g.start_ts AS DATE) < ps.span_end
WHERE coalesce(g.start_ts <= horizon.as_of, true)
