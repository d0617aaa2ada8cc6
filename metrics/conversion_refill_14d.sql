-- name: conversion_refill_14d
-- title: Refill reminders: refill within 14 days
-- description: Share of refill reminders to patients whose supply had run out (messaged=yes) followed by a fill of a lapsed drug within 14 days, beside the share among comparable lapses without a reminder (messaged=no); a comparison, not a causal effect.
-- unit: ratio
-- kind: ratio
-- direction: higher_is_better
-- grain: month
-- dimensions: messaged, reached, channel, clinic, age_band, sex, payer
-- spec: MEASURES.md "Outreach and engagement" (conversion: refill reminder -> fill of the same drug within 14 days, with the rate among comparable patients not messaged)
-- version: 1

-- Unit: an index event, a patient on a day (period_date, the index date)
-- whose supply of a drug has run out, in one of two groups told apart by the
-- dimension `messaged`. Read the two rates side by side, never one alone.
--
-- Fills: completed medication dispenses with a fill date and an RxNorm code;
-- a drug is an RxNorm code (a fill of another strength or product of the same
-- ingredient is another drug). Several fills of a drug on one day count as
-- one fill with the longest supply.
--
-- Lapsed at day i (the eligibility rule of both groups): a drug D is lapsed
-- at the end of day i for a patient when the patient's latest fill of D on
-- or before i
--   - is no more than lookback_days (180) before i (the patient was on D),
--   - has a days' supply, which ran out on or before i: fill date + days'
--     supply <= i (a 30-day fill on 03-01 covers 03-01..03-30, so it has
--     run out from 03-31 on; earlier supply carried over is not added; a
--     fill on day i itself ends the lapse),
-- and D has not been stopped: the patient's latest medication request for D
-- (by authored_on, then key), if any, is not stopped, cancelled or
-- entered-in-error. (This reads the request's current status, which may
-- postdate i; it applies to both groups alike, and keeps drugs a patient
-- was switched off, which are never refilled and never reminded, out of the
-- comparison.) The patient is in the EHR (patients) and alive on day i.
--
-- Outcome (numerator): a fill of a drug lapsed at i dated i + 1 .. i + 14
-- (window_days; day 14 counts, day 15 does not). Fills have dates, not
-- times, so a day with a fill of the drug is no index event in either group:
-- counting it would favour the comparison, since a CRM does not remind a
-- patient who has just refilled, so fills earlier on a reminder's day never
-- reach the 'yes' group (and a reminder followed by a fill the same day is
-- not indexed either: the symmetric cost).
--
-- messaged = 'yes'. A refill reminder (outreach_messages purpose
-- refill_reminder, with a sending time, whatever its outcome: failed and
-- undelivered reminders count, intention to treat), index date = its sending
-- date. The message names no drug, so "the same drug" is any drug lapsed at
-- the index date; a reminder to a patient with none (no fill in the 180 days
-- before, or supply left) is left out. A reminder sent on the same day as,
-- or within window_days after, an earlier refill reminder to the patient
-- continues that one's episode and is not indexed again (duplicates,
-- resends, second nudges).
--
-- messaged = 'no', the comparison. Each fill F of a drug D with a days'
-- supply gives a lapse indexed comparison_overdue_days (7) after its supply
-- ran out (i = fill date + days' supply + 7, a usual overdue rule) when F
-- is still the latest fill of D on day i (no refill came by then), D is
-- lapsed at i by the rule above, the patient has a linked CRM contact (could
-- have been reminded) and was sent no refill reminder of any outcome from
-- window_days before i to the end of the window (i - 14 .. i + 14): the
-- same look-back the 'yes' group uses for duplicates. Its outcome is a fill
-- of D in i + 1 .. i + 14. A patient lapsed on two drugs at once gives two
-- comparison rows, and one reminder row.
--
-- The difference between the groups is an association, not the reminder's
-- effect: reminders go to patients the CRM can reach and chooses, at its
-- own point of the lapse (the comparison is indexed at exactly 7 days
-- overdue; reminders may come later or earlier), and patients who are
-- reminded may differ in adherence. Lapses before the CRM data begins look
-- unreminded: compare periods the CRM covers.
--
-- reached: the furthest funnel stage that the episode's reminders (the
-- indexed one and those sent after it up to the window's end) reached by
-- the end of the window's last day (outreach_stage): 'responded', 'opened',
-- 'delivered' or 'not_delivered'; 'not_messaged' for the comparison.
-- Conversion by stage is not an effect either: who answers differs from
-- who does not. channel: the episode reminders' channel ('multiple' when
-- several), 'none' for the comparison.
--
-- Horizon: index events whose window ends after the data's horizon (i + 14
-- later than the horizon's day) are left out in both groups; the horizon is
-- the earlier of outreach_as_of('ehr') and outreach_as_of('crm'), since the
-- fills and the absence of reminders must both be known; a source without a
-- committed run sets no limit. clinic is the patient's home clinic; age band
-- (birth year only: taken as born on 1 January) and payer on the index date.
--
-- The payer follows payer_at's rule, worked out once per coverage change
-- rather than once per row (the table macro payer_spans).
WITH params AS (
    SELECT
        14  AS window_days,               -- outcome: a fill on days 1..14 after the index
        180 AS lookback_days,             -- on the drug: a fill in the 180 days before
        7   AS comparison_overdue_days    -- comparison index: days after the supply ran out
),
horizon AS (
    SELECT CAST(least(outreach_as_of('ehr'), outreach_as_of('crm')) AS DATE) AS as_of
),
-- Each fill day of a drug with the patient's next fill day of the same drug
-- (next_fill; 'infinity' when none): a fill is the latest on or before day
-- i exactly when it is on or before i and next_fill is after i, and then
-- next_fill is the first fill after i.
fill_days AS MATERIALIZED (
    SELECT g.patient_id, g.drug, g.dispensed_on, g.days_supply,
        lead(g.dispensed_on, 1, DATE 'infinity') OVER (PARTITION BY g.patient_id, g.drug ORDER BY g.dispensed_on) AS next_fill
    FROM (
        SELECT d.patient_id, d.rxnorm_code AS drug, d.dispensed_on, max(d.days_supply) AS days_supply
        FROM medication_dispenses AS d
        WHERE d.status = 'completed'
          AND d.dispensed_on IS NOT NULL
          AND d.rxnorm_code IS NOT NULL
        GROUP BY d.patient_id, d.rxnorm_code, d.dispensed_on
    ) AS g
),
-- Drugs whose latest request was stopped, cancelled or entered in error.
stopped_drugs AS MATERIALIZED (
    SELECT q.patient_id, q.rxnorm_code AS drug
    FROM medication_requests AS q
    WHERE q.rxnorm_code IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY q.patient_id, q.rxnorm_code
                               ORDER BY q.authored_on DESC NULLS LAST, q.request_key DESC) = 1
        AND q.status IN ('stopped', 'cancelled', 'entered-in-error')
),
reminders AS MATERIALIZED (
    SELECT m.message_key, m.patient_id, m.channel, m.sent_at,
        CAST(m.sent_at AS DATE) AS index_date, m.delivered_at, m.opened_at, m.replied_at
    FROM outreach_messages AS m
    WHERE m.purpose = 'refill_reminder'
      AND m.sent_at IS NOT NULL
),
-- Reminders that start an episode: no earlier refill reminder to the
-- patient on the same day or in the window_days before.
first_reminders AS MATERIALIZED (
    SELECT r.message_key, r.patient_id, r.index_date,
        r.index_date - params.lookback_days AS lookback_from
    FROM (
        SELECT rm.*,
            lag(rm.index_date) OVER (PARTITION BY rm.patient_id ORDER BY rm.sent_at, rm.message_key) AS previous_date
        FROM reminders AS rm
    ) AS r
    CROSS JOIN params
    WHERE r.previous_date IS NULL
       OR r.previous_date < r.index_date - params.window_days
),
-- Each episode's reminders: those sent from its index date to the end of
-- its window (itself and the repeats it absorbs), for channel and reached.
episodes AS (
    SELECT f.message_key,
        CASE WHEN count(DISTINCT e.channel) > 1 THEN 'multiple' ELSE min(e.channel) END AS channel,
        min(e.delivered_at) AS delivered_at,
        min(e.opened_at) AS opened_at,
        min(e.replied_at) AS replied_at
    FROM first_reminders AS f
    CROSS JOIN params
    JOIN reminders AS e
        ON e.patient_id = f.patient_id
       AND e.index_date BETWEEN f.index_date AND f.index_date + params.window_days
    GROUP BY f.message_key
),
-- Candidate index events (patient, index date, drug) with the latest fill
-- of the drug on or before the index date (last_fill, last_supply) and the
-- first fill after it (next_fill). The reminders': every drug whose latest
-- fill by the index date is in the look-back (a drug filled in the
-- look-back has its latest fill there). The comparison's: each fill, at its
-- overdue day, when it is still the latest fill then (no refill came by
-- then).
last_fills AS (
    SELECT r.patient_id, r.index_date, f.drug, 'yes' AS messaged, r.message_key,
        f.dispensed_on AS last_fill, f.days_supply AS last_supply, f.next_fill
    FROM first_reminders AS r
    JOIN fill_days AS f
        ON f.patient_id = r.patient_id
       AND f.dispensed_on >= r.lookback_from
       AND f.dispensed_on <= r.index_date
       AND f.next_fill > r.index_date
    UNION ALL
    SELECT c.patient_id, c.index_date, c.drug, 'no', CAST(NULL AS VARCHAR),
        c.dispensed_on, c.days_supply, c.next_fill
    FROM (
        SELECT f.*, f.dispensed_on + f.days_supply + params.comparison_overdue_days AS index_date
        FROM fill_days AS f
        CROSS JOIN params
        WHERE f.days_supply > 0
    ) AS c
    WHERE c.dispensed_on <= c.index_date
      AND c.next_fill > c.index_date
),
-- Keep the drugs lapsed at the index date.
lapsed AS (
    SELECT lf.*
    FROM last_fills AS lf
    CROSS JOIN params
    JOIN patients AS p ON p.patient_id = lf.patient_id
    WHERE (p.deceased_date IS NULL OR p.deceased_date > lf.index_date)
      AND lf.last_fill >= lf.index_date - params.lookback_days
      AND lf.last_supply > 0
      AND lf.last_fill + lf.last_supply <= lf.index_date
      AND NOT EXISTS (
            SELECT 1 FROM stopped_drugs AS s
            WHERE s.patient_id = lf.patient_id AND s.drug = lf.drug)
),
-- Whether each lapsed drug was filled in the window: its first fill after
-- the index date comes no later than window_days after it.
outcomes AS (
    SELECT l.*,
        l.next_fill <= l.index_date + params.window_days AS filled
    FROM lapsed AS l
    CROSS JOIN params
),
-- A reminder converts when any of its lapsed drugs was filled.
reminder_outcomes AS (
    SELECT o.message_key, bool_or(o.filled) AS filled
    FROM outcomes AS o
    WHERE o.messaged = 'yes'
    GROUP BY o.message_key
),
events AS (
    SELECT r.patient_id, r.index_date, 'yes' AS messaged,
        outreach_stage(CAST(r.index_date + params.window_days + 1 AS TIMESTAMP),
                       ep.delivered_at, ep.opened_at, ep.replied_at) AS reached,
        ep.channel,
        CASE WHEN ro.filled THEN 1 ELSE 0 END AS converted
    FROM first_reminders AS r
    JOIN reminder_outcomes AS ro ON ro.message_key = r.message_key
    JOIN episodes AS ep ON ep.message_key = r.message_key
    CROSS JOIN params
    UNION ALL
    SELECT o.patient_id, o.index_date, 'no', 'not_messaged', 'none',
        CASE WHEN o.filled THEN 1 ELSE 0 END
    FROM outcomes AS o
    CROSS JOIN params
    WHERE o.messaged = 'no'
      AND EXISTS (
            SELECT 1 FROM contacts AS k
            WHERE k.patient_id = o.patient_id AND k.linked)
      AND NOT EXISTS (
            SELECT 1 FROM reminders AS r
            WHERE r.patient_id = o.patient_id
              AND r.index_date BETWEEN o.index_date - params.window_days
                                   AND o.index_date + params.window_days)
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
    coalesce(p.clinic_id, 'unknown')                                 AS clinic,
    age_band(coalesce(p.birth_date, make_date(p.birth_year, 1, 1)), p.age_90_plus, e.index_date) AS age_band,
    coalesce(p.sex, 'unknown')                                       AS sex,
    coalesce(ps.payer, 'unknown')                                    AS payer,
    e.converted                                                      AS numerator,
    1                                                                AS denominator
FROM events AS e
CROSS JOIN params
CROSS JOIN horizon
LEFT JOIN patients AS p ON p.patient_id = e.patient_id
LEFT JOIN payer_spans AS ps
  ON ps.patient_id = e.patient_id
 AND e.index_date >= ps.span_start
 AND e.index_date < ps.span_end
WHERE coalesce(e.index_date + params.window_days <= horizon.as_of, true)
