-- name: care_plan_coverage
-- title: Care plan coverage of chronic conditions
-- description: Per month, share of patients of the active panel with an active chronic condition of the group on the month's last day who had a care plan in force that day.
-- unit: ratio
-- kind: ratio
-- direction: higher_is_better
-- grain: month
-- dimensions: condition, age_band, sex, payer, zip3, clinic
-- spec: MEASURES.md "Population trends" (chronic condition groups); FHIR R4 CarePlan status and intent; condition groups in metrics/valuesets/condition-groups.json
-- version: 1

-- Care plan coverage at the end of each month, per condition group.
--
-- Unit: one row per patient and condition group (the `condition`
-- dimension) for each month at whose last day the patient is in the active
-- panel with an active condition of the group: the numerator of
-- prevalence_per_1000, with the same panel, condition groups and rules for
-- an active condition (see there). Numerator 1 when a care plan of the
-- patient is in force that day. Dated the month's last day; summed over a
-- quarter or a year, rows are patient-months. Unsliced, a patient with two
-- groups counts twice: read this metric by condition.
--
-- A care plan in force on day d (**policy**, params):
--   * intent in plan_intents (plan, order): proposals and options were
--     never adopted;
--   * status active, or completed with a period end: a completed plan was
--     in force during its period, so past months count it; draft, on-hold,
--     revoked (stopped early at an unknown time), entered-in-error and
--     unknown never count;
--   * started on or before d: period start, else created (neither: an
--     active plan has always been in force);
--   * not ended before d: no period end, or one on or after d (a plan
--     ending on the month's last day covers that month).
-- Any care plan of the patient counts, whatever condition it addresses:
-- the warehouse keeps neither CarePlan.addresses nor the plan's
-- condition-specific category (care_plans.category_code is the first
-- coding, US Core's assess-plan), so a plan cannot be tied to a group.
--
-- Dimensions on the month's last day: age_band (policy bands), payer
-- (payer_at's rule), sex, zip3 and clinic (the patient's home clinic).
--
-- Speed: as prevalence_per_1000 (the same pop_* macros and segments); the
-- months where a care plan starts or ends cut the segments too, so whether
-- a plan is in force is fixed within a segment.
WITH params AS (
    SELECT
        ['refuted', 'entered-in-error'] AS not_a_diagnosis,
        ['inactive', 'remission', 'resolved'] AS over_statuses,
        ['plan', 'order'] AS plan_intents
),
-- The active panel as spans of months (macros/pop_panel_spans.sql: a
-- visit in the 24 months, born, alive on the month's last day).
panel_spans AS MATERIALIZED (
    SELECT * FROM pop_panel_spans(false)
),
-- Coverages with the months at whose end they are in force and their
-- rank by payer_at's rule (macros/pop_coverage_spans.sql).
coverage_spans AS (
    SELECT * FROM pop_coverage_spans()
),
-- Condition groups, numbered by bit, and each condition record under each
-- group one of its codes belongs to (macros/pop_condition_groups.sql,
-- pop_group_conditions.sql).
condition_groups AS (
    SELECT * FROM pop_condition_groups()
),
-- Condition records of a group, once per group, active at the end of
-- months from_m .. to_m: from the month of onset (none: always) to the
-- month before the abatement's (none: still active). One that is over at
-- an unknown time is active in no month.
episodes AS (
    SELECT DISTINCT cc.condition_key, cc.patient_id, cc.bit,
        coalesce(pop_month_index(coalesce(cc.onset_date, cc.recorded_date)), -2147483647) AS from_m,
        coalesce(pop_month_index(cc.abatement_date) - 1, 2147483646) AS to_m
    FROM pop_group_conditions() AS cc
    CROSS JOIN params
    WHERE NOT list_contains(params.not_a_diagnosis, coalesce(cc.verification_status, ''))
      AND NOT (cc.abatement_date IS NULL AND coalesce(list_contains(params.over_statuses, cc.clinical_status), false))
),
-- Care plans in force at the end of months ps .. pe: from the month of its
-- start (none: always) to the month of its end when that is the month's
-- last day, else the month before (none: still in force).
plan_spans AS (
    SELECT cp.patient_id,
        coalesce(pop_month_index(coalesce(cp.period_start, cp.created)), -2147483647) AS ps,
        coalesce(pop_month_index(cp.period_end)
                 - CASE WHEN CAST(cp.period_end AS DATE) = last_day(CAST(cp.period_end AS DATE)) THEN 0 ELSE 1 END,
                 2147483646) AS pe
    FROM care_plans AS cp
    CROSS JOIN params
    WHERE list_contains(params.plan_intents, cp.intent)
      AND (cp.status = 'active' OR (cp.status = 'completed' AND cp.period_end IS NOT NULL))
),
-- Segments: the months where a panel span, a coverage, a condition episode
-- or a care plan starts or ends cut each patient's months into segments in
-- which the payer, the active groups and whether a plan is in force are
-- fixed. They are worked out once per segment and expanded to months only
-- at the end.
cuts AS (
    SELECT patient_id, first_m AS b FROM panel_spans
    UNION SELECT patient_id, last_m + 1 FROM panel_spans
    UNION SELECT patient_id, cs FROM coverage_spans
    UNION SELECT patient_id, ce + 1 FROM coverage_spans
    UNION SELECT patient_id, from_m FROM episodes
    UNION SELECT patient_id, to_m + 1 FROM episodes
    UNION SELECT patient_id, ps FROM plan_spans
    UNION SELECT patient_id, pe + 1 FROM plan_spans
),
segments AS MATERIALIZED (
    SELECT g.patient_id, g.seg_from, g.seg_to,
        s.birth_date, s.age_90_plus, s.sex, s.zip3, s.clinic
    FROM (
        SELECT patient_id, b AS seg_from,
            lead(b) OVER (PARTITION BY patient_id ORDER BY b) - 1 AS seg_to
        FROM cuts
    ) AS g
    JOIN panel_spans AS s
      ON s.patient_id = g.patient_id AND g.seg_from BETWEEN s.first_m AND s.last_m
),
segment_payer AS (
    SELECT g.patient_id, g.seg_from, arg_min(coalesce(cv.payer_type, 'unknown'), cv.rank) AS payer
    FROM segments AS g
    JOIN coverage_spans AS cv
      ON cv.patient_id = g.patient_id AND g.seg_from BETWEEN cv.cs AND cv.ce
    GROUP BY g.patient_id, g.seg_from
),
segment_groups AS (
    SELECT g.patient_id, g.seg_from, bit_or(CAST(1 AS BIGINT) << ep.bit) AS active
    FROM segments AS g
    JOIN episodes AS ep
      ON ep.patient_id = g.patient_id AND g.seg_from BETWEEN ep.from_m AND ep.to_m
    GROUP BY g.patient_id, g.seg_from
),
segment_plan AS (
    SELECT DISTINCT g.patient_id, g.seg_from
    FROM segments AS g
    JOIN plan_spans AS pl
      ON pl.patient_id = g.patient_id AND g.seg_from BETWEEN pl.ps AND pl.pe
),
-- Per segment with an active condition: the groups active (one row each)
-- and whether a plan is in force; then expanded to months.
segment_rows AS (
    SELECT g.patient_id, g.seg_from, g.seg_to,
        g.birth_date, g.age_90_plus, g.sex, g.zip3, g.clinic,
        coalesce(sp.payer, 'unknown') AS payer,
        unnest(list_filter(range(63), i -> (sg.active >> i) & 1 = 1)) AS bit,
        CASE WHEN pl.patient_id IS NULL THEN 0 ELSE 1 END AS has_plan
    FROM segments AS g
    JOIN segment_groups AS sg ON sg.patient_id = g.patient_id AND sg.seg_from = g.seg_from
    LEFT JOIN segment_payer AS sp ON sp.patient_id = g.patient_id AND sp.seg_from = g.seg_from
    LEFT JOIN segment_plan AS pl ON pl.patient_id = g.patient_id AND pl.seg_from = g.seg_from
),
condition_months AS (
    SELECT *, pop_month_end(m) AS month_end
    FROM (
        SELECT patient_id, unnest(range(seg_from, seg_to + 1)) AS m,
            birth_date, age_90_plus, sex, zip3, clinic, payer, bit, has_plan
        FROM segment_rows
    )
)
SELECT
    cm.month_end AS period_date,
    cm.patient_id AS patient_id,
    cg.condition AS condition,
    age_band(cm.birth_date, cm.age_90_plus, cm.month_end) AS age_band,
    cm.sex AS sex,
    cm.payer AS payer,
    cm.zip3 AS zip3,
    cm.clinic AS clinic,
    cm.has_plan AS numerator,
    1 AS denominator
FROM condition_months AS cm
JOIN (SELECT DISTINCT condition, bit FROM condition_groups) AS cg ON cg.bit = cm.bit
