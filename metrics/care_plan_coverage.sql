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
-- Speed: as prevalence_per_1000 (same skeleton, params to segments); the
-- months where a care plan starts or ends cut the segments too, so whether
-- a plan is in force is fixed within a segment.
WITH params AS (
    SELECT
        'https://carelens.dev/fhir/ValueSet/condition-' AS group_prefix,
        24 AS panel_months,
        ['finished', 'arrived', 'triaged', 'in-progress', 'onleave'] AS visit_statuses,
        ['refuted', 'entered-in-error'] AS not_a_diagnosis,
        ['inactive', 'remission', 'resolved'] AS over_statuses,
        ['plan', 'order'] AS plan_intents
),
bounds AS (
    SELECT pop_last_month() AS last_month
),
-- Months with a performed visit, per patient.
visit_months AS (
    SELECT DISTINCT e.patient_id, pop_month_index(e.start_ts) AS m
    FROM encounters AS e
    CROSS JOIN params
    WHERE e.start_ts IS NOT NULL
      AND list_contains(params.visit_statuses, e.status)
),
-- A visit in month m puts the patient in the panel for months m .. m +
-- panel_months - 1, so visits at most panel_months apart chain into one
-- run: a run starts at a visit with no other in the panel_months before it
-- and ends at one with no other in the panel_months after it. (One sort of
-- the visit months gives both neighbours; the second window only sees the
-- runs' first and last visits.)
visit_gaps AS (
    SELECT v.patient_id, v.m,
        lag(v.m) OVER by_month AS prev_m,
        lead(v.m) OVER by_month AS next_m
    FROM visit_months AS v
    WINDOW by_month AS (PARTITION BY v.patient_id ORDER BY v.m)
),
visit_runs AS (
    SELECT patient_id, run_first, run_last
    FROM (
        SELECT patient_id, is_start, m AS run_first,
            CASE WHEN is_end THEN m ELSE lead(m) OVER (PARTITION BY patient_id ORDER BY m) END AS run_last
        FROM (
            SELECT g.patient_id, g.m,
                g.prev_m IS NULL OR g.m - g.prev_m > params.panel_months AS is_start,
                g.next_m IS NULL OR g.next_m - g.m > params.panel_months AS is_end
            FROM visit_gaps AS g
            CROSS JOIN params
        )
        WHERE is_start OR is_end
    )
    WHERE is_start
),
-- Panel spans: runs of months in the panel, from the month of birth at the
-- earliest, cut at the data's last month and, to be alive on the month's
-- last day, before the month of death.
panel_spans AS MATERIALIZED (
    SELECT * FROM (
        SELECT r.patient_id,
            -- born by the month's last day (no birth date, as for the 90+: born)
            greatest(r.run_first, coalesce(pop_month_index(p.birth_date), r.run_first)) AS first_m,
            least(r.run_last + params.panel_months - 1,
                  bounds.last_month,
                  coalesce(pop_month_index(p.deceased_date) - 1, bounds.last_month)) AS last_m,
            p.birth_date, p.age_90_plus,
            coalesce(p.sex, 'unknown') AS sex,
            coalesce(p.zip3, 'unknown') AS zip3,
            coalesce(p.clinic_id, 'unknown') AS clinic
        FROM visit_runs AS r
        JOIN patients AS p ON p.patient_id = r.patient_id
        CROSS JOIN params
        CROSS JOIN bounds
    )
    WHERE last_m >= first_m
),
-- The payer by payer_at's rule: the coverage in force on the month's last
-- day (status not entered-in-error or draft, started on or before the day,
-- not ended before it); with several, the latest start wins, then the
-- smallest key. A coverage is in force at the end of months cs .. ce.
coverage_spans AS (
    SELECT c.patient_id, c.payer_type,
        row_number() OVER (PARTITION BY c.patient_id
                           ORDER BY c.period_start DESC NULLS LAST, c.coverage_key) AS rank,
        coalesce(pop_month_index(c.period_start), -2147483647) AS cs,
        coalesce(pop_month_index(c.period_end)
                 - CASE WHEN c.period_end = last_day(c.period_end) THEN 0 ELSE 1 END, 2147483646) AS ce
    FROM coverage AS c
    WHERE coalesce(c.status, '') NOT IN ('entered-in-error', 'draft')
),
-- Condition groups, numbered 0, 1, … (one bit each in a BIGINT: at most 63
-- groups).
condition_groups AS (
    SELECT vs.url, substr(vs.url, length(params.group_prefix) + 1) AS condition,
        CAST(dense_rank() OVER (ORDER BY substr(vs.url, length(params.group_prefix) + 1)) - 1 AS INTEGER) AS bit
    FROM value_sets AS vs
    CROSS JOIN params
    WHERE starts_with(vs.url, params.group_prefix)
),
group_codes AS (
    SELECT DISTINCT g.bit, c.system, c.code
    FROM value_set_codes AS c
    JOIN condition_groups AS g ON g.url = c.url
),
-- Each condition record under each code it carries: its own and its
-- ICD-10-CM coding.
condition_codes AS (
    SELECT c.condition_key, c.patient_id, c.code_system AS system, c.code,
        c.clinical_status, c.verification_status, c.onset_date, c.recorded_date, c.abatement_date
    FROM conditions AS c
    UNION ALL
    SELECT c.condition_key, c.patient_id, 'http://hl7.org/fhir/sid/icd-10-cm', c.icd10_code,
        c.clinical_status, c.verification_status, c.onset_date, c.recorded_date, c.abatement_date
    FROM conditions AS c
    WHERE c.icd10_code IS NOT NULL
),
-- Condition records of a group, once per group, active at the end of
-- months from_m .. to_m: from the month of onset (none: always) to the
-- month before the abatement's (none: still active). One that is over at
-- an unknown time is active in no month.
episodes AS (
    SELECT DISTINCT cc.condition_key, cc.patient_id, gc.bit,
        coalesce(pop_month_index(coalesce(cc.onset_date, cc.recorded_date)), -2147483647) AS from_m,
        coalesce(pop_month_index(cc.abatement_date) - 1, 2147483646) AS to_m
    FROM condition_codes AS cc
    JOIN group_codes AS gc ON gc.system = cc.system AND gc.code = cc.code
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
