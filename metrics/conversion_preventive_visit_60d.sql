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
--
-- The payer follows payer_at's rule, worked out once per coverage change
-- rather than once per row (the table macro payer_spans).
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
-- Spans of days on which a patient is active. Active on day i: an
-- encounter day e with i - active_days <= e < i, i.e. i in e + 1 .. e +
-- active_days. The tests below, active, converted and quiet, each ask
-- whether a day is in one of a patient's ranges of days lo .. hi (all of a
-- test's ranges as long, so sorted by lo they are sorted by hi too); the
-- ranges are merged where they meet or overlap (a run), so the spans are
-- disjoint and a day is in at most one: a plain join finds it without
-- pairing each row with each range.
active_spans AS MATERIALIZED (
    SELECT r.patient_id, min(r.lo) AS span_from, max(r.hi) AS span_to
    FROM (
        SELECT g.patient_id, g.lo, g.hi, sum(g.starts) OVER (PARTITION BY g.patient_id ORDER BY g.lo) AS run
        FROM (
            SELECT d.patient_id, d.lo, d.hi,
                CASE WHEN lag(d.hi) OVER (PARTITION BY d.patient_id ORDER BY d.lo) >= d.lo - 1 THEN 0 ELSE 1 END AS starts
            FROM (
                SELECT DISTINCT x.patient_id, x.day + 1 AS lo, x.day + params.active_days AS hi
                FROM encounter_days AS x
                CROSS JOIN params
            ) AS d
        ) AS g
    ) AS r
    GROUP BY r.patient_id, r.run
),
visit_days AS (
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
-- Spans of index days that convert: index day i converts when a visit
-- day v is in i + 1 .. i + window_days, i.e. i in v - window_days .. v - 1.
visit_spans AS (
    SELECT r.patient_id, min(r.lo) AS span_from, max(r.hi) AS span_to
    FROM (
        SELECT g.patient_id, g.lo, g.hi, sum(g.starts) OVER (PARTITION BY g.patient_id ORDER BY g.lo) AS run
        FROM (
            SELECT d.patient_id, d.lo, d.hi,
                CASE WHEN lag(d.hi) OVER (PARTITION BY d.patient_id ORDER BY d.lo) >= d.lo - 1 THEN 0 ELSE 1 END AS starts
            FROM (
                SELECT DISTINCT x.patient_id, x.day - params.window_days AS lo, x.day - 1 AS hi
                FROM visit_days AS x
                CROSS JOIN params
            ) AS d
        ) AS g
    ) AS r
    GROUP BY r.patient_id, r.run
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
-- Spans of days on which a patient is not quiet: day i is not when a
-- preventive message was sent on a day m in i - window_days .. i +
-- window_days, i.e. i in m - window_days .. m + window_days.
message_spans AS (
    SELECT r.patient_id, min(r.lo) AS span_from, max(r.hi) AS span_to
    FROM (
        SELECT g.patient_id, g.lo, g.hi, sum(g.starts) OVER (PARTITION BY g.patient_id ORDER BY g.lo) AS run
        FROM (
            SELECT d.patient_id, d.lo, d.hi,
                CASE WHEN lag(d.hi) OVER (PARTITION BY d.patient_id ORDER BY d.lo) >= d.lo - 1 THEN 0 ELSE 1 END AS starts
            FROM (
                SELECT DISTINCT x.patient_id, x.index_date - params.window_days AS lo, x.index_date + params.window_days AS hi
                FROM messages AS x
                CROSS JOIN params
            ) AS d
        ) AS g
    ) AS r
    GROUP BY r.patient_id, r.run
),
-- born_key: age_key of the birth day (see age_key: ages by key ranges).
people AS MATERIALIZED (
    SELECT p.patient_id, p.clinic_id, coalesce(p.clinic_id, 'unknown') AS clinic, p.sex, p.age_90_plus,
        coalesce(p.age_90_plus, false) AS over_89, p.deceased_date,
        coalesce(p.birth_date, make_date(p.birth_year, 1, 1)) AS born,
        age_key(coalesce(p.birth_date, make_date(p.birth_year, 1, 1))) AS born_key,
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
    JOIN active_spans AS a
        ON a.patient_id = m.patient_id
       AND m.index_date BETWEEN a.span_from AND a.span_to
    WHERE coalesce(m.index_date + params.window_days <= horizon.as_of, true)
      AND (pp.deceased_date IS NULL OR pp.deceased_date > m.index_date)
      AND (m.previous_date IS NULL OR m.previous_date < m.index_date - params.window_days)
),
-- Each stratum's index date and age range; born_from (exclusive) ..
-- born_to bound the birth-day keys of its ages (age_key).
strata AS (
    SELECT g.*,
        age_key(g.index_date) - (g.max_age + 1) * 10000 AS born_from,
        age_key(g.index_date) - g.min_age * 10000 AS born_to
    FROM (
        SELECT campaign, date_trunc('month', index_date) AS month, coalesce(clinic_id, 'unknown') AS clinic, band,
            quantile_disc(index_date, 0.5) AS index_date,
            min(age) AS min_age,
            max(age) AS max_age
        FROM indexed
        GROUP BY ALL
    ) AS g
),
-- The patients of each stratum's clinic and age range: aged min_age ..
-- max_age on its index date (by their birth-day key), or flagged 90 and
-- over (age 90) when 90 is in the range; then the same band, alive, active,
-- and no preventive message in the quiet days.
comparison AS (
    SELECT c.patient_id, c.index_date, c.campaign, c.clinic
    FROM (
        SELECT pp.patient_id, pp.born, pp.age_90_plus, pp.deceased_date,
            s.index_date, s.campaign, s.clinic, s.band
        FROM strata AS s
        JOIN people AS pp
            ON pp.clinic = s.clinic
           AND pp.born_key > s.born_from
           AND pp.born_key <= s.born_to
        WHERE pp.reachable
          AND NOT pp.over_89
        UNION ALL
        SELECT pp.patient_id, pp.born, pp.age_90_plus, pp.deceased_date,
            s.index_date, s.campaign, s.clinic, s.band
        FROM strata AS s
        JOIN people AS pp ON pp.clinic = s.clinic
        WHERE pp.reachable
          AND pp.over_89
          AND 90 BETWEEN s.min_age AND s.max_age
    ) AS c
    JOIN active_spans AS a
        ON a.patient_id = c.patient_id
       AND c.index_date BETWEEN a.span_from AND a.span_to
    LEFT JOIN message_spans AS o
        ON o.patient_id = c.patient_id
       AND c.index_date BETWEEN o.span_from AND o.span_to
    WHERE o.patient_id IS NULL
      AND age_band(c.born, c.age_90_plus, c.index_date) = c.band
      AND (c.deceased_date IS NULL OR c.deceased_date > c.index_date)
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
),
payer_spans AS (
    SELECT * FROM payer_spans()
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
    coalesce(ps.payer, 'unknown')                                    AS payer,
    CASE WHEN v.patient_id IS NULL THEN 0 ELSE 1 END                 AS numerator,
    1                                                                AS denominator
FROM events AS e
CROSS JOIN params
CROSS JOIN horizon
JOIN people AS pp ON pp.patient_id = e.patient_id
LEFT JOIN visit_spans AS v
  ON v.patient_id = e.patient_id
 AND e.index_date BETWEEN v.span_from AND v.span_to
LEFT JOIN payer_spans AS ps
  ON ps.patient_id = e.patient_id
 AND e.index_date >= ps.span_start
 AND e.index_date < ps.span_end
WHERE coalesce(e.index_date + params.window_days <= horizon.as_of, true)
