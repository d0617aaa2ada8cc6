-- name: conversion_preventive_visit_60d
-- title: Preventive-care outreach: visit or procedure within 60 days
-- description: Share of preventive-care messages (messaged=yes) followed by an ambulatory visit or a procedure within 60 days, beside the share among comparable patients of the same campaign, month, clinic and age not messaged (messaged=no); a comparison, not a causal effect.
-- unit: ratio
-- kind: ratio
-- direction: higher_is_better
-- grain: month
-- dimensions: messaged, reached, channel, campaign, clinic, age_band, sex, payer
-- spec: MEASURES.md "Outreach and engagement" (conversion: preventive-care message -> visit or procedure within 60 days, with the rate among comparable patients not messaged)
-- version: 1

-- Unit: an index event, a patient on a day (period_date, the index date) in
-- a campaign's stratum, in one of two groups told apart by the dimension
-- `messaged`. Read the two rates side by side, never one alone.
--
-- Outcome (numerator): a visit in the window_days (60) after the index day
-- (i + 1 .. i + 60: day 60 counts, day 61 does not): an encounter of a
-- class in visit_classes (ambulatory) that was not cancelled, planned or
-- entered in error, or a procedure that was not entered in error, not done
-- or in preparation, by its start date. A visit on the index day itself
-- counts in neither group: the comparison has a day, not a time, and for a
-- message it may have come before the message.
--
-- Eligible at day i (the rule of both groups): the patient is in the EHR
-- (patients), alive on day i, active (an encounter of any class, not
-- cancelled, planned or entered in error, in the active_days (365) before
-- i) and was sent no other preventive-care message, of any campaign and
-- outcome, in the window_days before i (an earlier one's window would
-- overlap; for the 'yes' group also none earlier on the same day).
--
-- messaged = 'yes'. A preventive-care message (outreach_messages purpose
-- preventive_care, with a sending time, whatever its outcome: failed and
-- undelivered messages count, intention to treat), index date = its sending
-- date, when the patient is eligible then. Messages after it in its window
-- (perhaps other campaigns') do not change its row; repeats within
-- window_days are not indexed again.
--
-- messaged = 'no', the comparison. The messages indexed above make strata:
-- campaign (campaign_id, 'none' without one) x month of the index date x
-- home clinic x age band on the index date. Each stratum gets one index
-- date, the median (lower middle) of its messages' index dates, and an age
-- range, the youngest to the oldest messaged patient's age in years then
-- (aged 90 or over counts as 90; birth year only: born on 1 January). Its
-- comparison rows are the patients of that clinic, band and age range with a
-- linked CRM contact (could have been messaged), eligible at the stratum's
-- index date, and sent no preventive-care message of any campaign or outcome
-- in the window_days before or after it (not messaged during the window).
-- The age range keeps a campaign's age rule (e.g. screening at 50-75) out of
-- a wider band. A patient can be in the comparison of several campaigns in
-- a month, once for each.
--
-- The difference between the groups is an association, not the message's
-- effect: the CRM picks whom it messages by rules this query does not see
-- (due dates, history, consent), the comparison stands in for the
-- campaign's eligibility only through clinic, age and recent activity, and
-- an index date is a message's sending day for one group and the stratum's
-- median for the other. Strata with no comparison patients are messaged
-- only. Periods before the CRM data begins are not comparable.
--
-- reached: the furthest funnel stage the message reached by the end of the
-- window's last day (outreach_stage): 'responded', 'opened', 'delivered' or
-- 'not_delivered'; 'not_messaged' for the comparison. channel: the
-- message's, 'none' for the comparison. clinic is the patient's home clinic;
-- age band and payer on the index date.
--
-- Horizon: index events whose window ends after the data's horizon (i + 60
-- later than the horizon's day) are left out in both groups; the horizon is
-- the earlier of outreach_as_of('ehr') and outreach_as_of('crm'); a source
-- without a committed run sets no limit. Strata are made of the messages
-- whose window is over, so their comparison index dates are too.
WITH params AS (
    SELECT
        60  AS window_days,                         -- outcome: a visit on days 1..60 after the index
        365 AS active_days,                         -- active: an encounter in the 365 days before
        ['ambulatory'] AS visit_classes             -- encounter classes that count as a visit
),
horizon AS (
    SELECT CAST(least(outreach_as_of('ehr'), outreach_as_of('crm')) AS DATE) AS as_of
),
encounter_days AS MATERIALIZED (
    SELECT DISTINCT e.patient_id, CAST(e.start_ts AS DATE) AS day, e.class
    FROM encounters AS e
    WHERE e.start_ts IS NOT NULL
      AND e.status NOT IN ('cancelled', 'planned', 'entered-in-error')
),
visit_days AS MATERIALIZED (
    SELECT ed.patient_id, ed.day
    FROM encounter_days AS ed
    CROSS JOIN params
    WHERE list_contains(params.visit_classes, ed.class)
    UNION
    SELECT pc.patient_id, CAST(pc.performed_start AS DATE)
    FROM procedures AS pc
    WHERE pc.performed_start IS NOT NULL
      AND pc.status NOT IN ('entered-in-error', 'not-done', 'preparation')
),
-- Preventive messages; previous_date is the sending day of the patient's
-- previous preventive message (by time, then key), if any.
messages AS MATERIALIZED (
    SELECT m.message_key, m.patient_id, coalesce(m.campaign_id, 'none') AS campaign, m.channel,
        m.sent_at, CAST(m.sent_at AS DATE) AS index_date, m.delivered_at, m.opened_at, m.replied_at,
        lag(CAST(m.sent_at AS DATE)) OVER (PARTITION BY m.patient_id ORDER BY m.sent_at, m.message_key) AS previous_date
    FROM outreach_messages AS m
    WHERE m.purpose = 'preventive_care'
      AND m.sent_at IS NOT NULL
),
people AS MATERIALIZED (
    SELECT p.patient_id, p.clinic_id, p.sex, p.age_90_plus, p.deceased_date,
        coalesce(p.birth_date, make_date(p.birth_year, 1, 1)) AS born,
        EXISTS (SELECT 1 FROM contacts AS k WHERE k.patient_id = p.patient_id AND k.linked) AS reachable
    FROM patients AS p
),
-- Messages whose patient is eligible on the sending day and whose window
-- is over by the horizon: the 'yes' index events.
indexed AS MATERIALIZED (
    SELECT m.*, pp.clinic_id, pp.born, pp.age_90_plus,
        age_band(pp.born, pp.age_90_plus, m.index_date) AS band,
        CASE WHEN pp.age_90_plus THEN 90 ELSE age_years(pp.born, m.index_date) END AS age
    FROM messages AS m
    CROSS JOIN params
    CROSS JOIN horizon
    JOIN people AS pp ON pp.patient_id = m.patient_id
    WHERE coalesce(m.index_date + params.window_days <= horizon.as_of, true)
      AND (pp.deceased_date IS NULL OR pp.deceased_date > m.index_date)
      AND EXISTS (
            SELECT 1 FROM encounter_days AS ed
            WHERE ed.patient_id = m.patient_id
              AND ed.day >= m.index_date - params.active_days
              AND ed.day < m.index_date)
      AND (m.previous_date IS NULL OR m.previous_date < m.index_date - params.window_days)
),
strata AS (
    SELECT campaign, date_trunc('month', index_date) AS month, coalesce(clinic_id, 'unknown') AS clinic, band,
        quantile_disc(index_date, 0.5) AS index_date,
        min(age) AS min_age,
        max(age) AS max_age
    FROM indexed
    GROUP BY ALL
),
comparison AS (
    SELECT pp.patient_id, s.index_date, s.campaign, s.clinic
    FROM strata AS s
    CROSS JOIN params
    JOIN people AS pp
        ON coalesce(pp.clinic_id, 'unknown') = s.clinic
       AND pp.reachable
    WHERE age_band(pp.born, pp.age_90_plus, s.index_date) = s.band
      AND (CASE WHEN pp.age_90_plus THEN 90 ELSE age_years(pp.born, s.index_date) END) BETWEEN s.min_age AND s.max_age
      AND (pp.deceased_date IS NULL OR pp.deceased_date > s.index_date)
      AND EXISTS (
            SELECT 1 FROM encounter_days AS ed
            WHERE ed.patient_id = pp.patient_id
              AND ed.day >= s.index_date - params.active_days
              AND ed.day < s.index_date)
      AND NOT EXISTS (
            SELECT 1 FROM messages AS o
            WHERE o.patient_id = pp.patient_id
              AND o.index_date BETWEEN s.index_date - params.window_days
                                   AND s.index_date + params.window_days)
),
events AS (
    SELECT m.patient_id, m.index_date, 'yes' AS messaged,
        outreach_stage(CAST(m.index_date + params.window_days + 1 AS TIMESTAMP),
                       m.delivered_at, m.opened_at, m.replied_at) AS reached,
        m.channel, m.campaign, coalesce(m.clinic_id, 'unknown') AS clinic
    FROM indexed AS m
    CROSS JOIN params
    UNION ALL
    SELECT c.patient_id, c.index_date, 'no', 'not_messaged', 'none', c.campaign, c.clinic
    FROM comparison AS c
)
SELECT
    e.index_date                                                     AS period_date,
    e.patient_id                                                     AS patient_id,
    e.messaged                                                       AS messaged,
    e.reached                                                        AS reached,
    e.channel                                                        AS channel,
    e.campaign                                                       AS campaign,
    e.clinic                                                         AS clinic,
    age_band(pp.born, pp.age_90_plus, e.index_date)                  AS age_band,
    coalesce(pp.sex, 'unknown')                                      AS sex,
    payer_at(e.patient_id, e.index_date)                             AS payer,
    CASE WHEN EXISTS (
            SELECT 1 FROM visit_days AS v
            WHERE v.patient_id = e.patient_id
              AND v.day > e.index_date
              AND v.day <= e.index_date + params.window_days)
         THEN 1 ELSE 0 END                                           AS numerator,
    1                                                                AS denominator
FROM events AS e
CROSS JOIN params
CROSS JOIN horizon
JOIN people AS pp ON pp.patient_id = e.patient_id
WHERE coalesce(e.index_date + params.window_days <= horizon.as_of, true)
