-- name: incidence_per_1000
-- title: Chronic condition incidence per 1,000 patients
-- description: Per month, patients of the active panel (alive, a visit in the last 24 months) first diagnosed with a condition of the group that month, per 1,000 patients of the panel not diagnosed with it before.
-- unit: per_1000
-- kind: ratio
-- direction: lower_is_better
-- grain: month
-- dimensions: condition, age_band, sex, payer, zip3, clinic
-- spec: MEASURES.md "Population trends"; condition groups in metrics/valuesets/condition-groups.json
-- version: 2
-- scale: 1000
-- membership: numerator

-- Monthly incidence of first-ever diagnoses, per condition group.
--
-- Unit: a patient at risk in the month and a condition group (the
-- `condition` dimension), dated the month's last day; numerator 1 when the
-- patient's first-ever diagnosis of the group falls in the month. At risk:
-- in the month's population and never diagnosed with the group before the
-- month (patients diagnosed in the month are at risk in it). The value is
-- 1,000 × numerator / denominator: new cases per 1,000 patients at risk.
-- Summed over a quarter or a year (grain quarter, year) rows are
-- patient-months at risk, so the value is the mean monthly incidence
-- (cases per 1,000 patient-months), not a yearly risk. Unsliced, the
-- numerator counts patient-groups: read this metric by condition.
--
-- Membership (header membership: numerator): each new case is a row of its
-- own; the patients at risk who are not cases are counted per month, group
-- and stratum of the dimensions in rows without a patient_id (denominator
-- = that count), as in prevalence_per_1000: listed one by one they would
-- be 17 M rows at 100,000 patients.
--
-- Population (**policy**, params), as prevalence_per_1000's panel but
-- alive on the month's first day rather than its last, so that a patient
-- diagnosed in the month they die counts:
--   * a performed encounter (status in visit_statuses) starting in the
--     panel_months (24) calendar months ending with the month;
--   * alive on the month's first day (deceased_date in or after the month,
--     or none); born by its last day (no birth date counts as born).
-- Months whose last day is after the data's horizon are left out
-- (pop_last_month): a month's new cases are known once it is over.
--
-- Condition groups: every loaded ValueSet whose URL starts with
-- group_prefix, named by the rest of the URL; a condition belongs to a
-- group when its code or its ICD-10-CM coding is in the group's expansion
-- (see prevalence_per_1000 and metrics/valuesets/condition-groups.json).
--
-- First-ever diagnosis (**policy**): the earliest onset date (else recorded
-- date) among the patient's conditions of the group whose verification
-- status is not in not_a_diagnosis (refuted, entered-in-error), whatever
-- their clinical status: a resolved or abated condition is still a
-- diagnosis the patient had. A condition with neither date has always been
-- there: that patient is never at risk for the group. The month of the
-- first diagnosis is the month of that date; a diagnosis whose onset was
-- long before its recording (history taken at a first visit) is not new.
-- A patient not in the population in the month of their first diagnosis
-- (no visit in the 24 months) is not counted as a case.
--
-- Dimensions on the month's last day: age_band (policy bands), payer
-- (payer_at's rule), sex, zip3 and clinic (the patient's home clinic).
--
-- Speed: as prevalence_per_1000 (the same pop_* macros and segments). Each
-- group's first diagnosis month and the month after cut the patient's
-- months into segments, so within a segment the groups diagnosed before
-- and those first diagnosed in the month are fixed: two bit sets.
WITH params AS (
    SELECT
        ['refuted', 'entered-in-error'] AS not_a_diagnosis
),
-- The active panel as spans of months (macros/pop_panel_spans.sql: a
-- visit in the 24 months, born, alive on the month's first day).
panel_spans AS MATERIALIZED (
    SELECT * FROM pop_panel_spans(true)
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
-- The month of each patient's first-ever diagnosis of each group (a
-- condition without a date: the start of time).
first_diagnoses AS (
    SELECT cc.patient_id, cc.bit,
        min(coalesce(pop_month_index(coalesce(cc.onset_date, cc.recorded_date)), -2147483647)) AS first_m
    FROM pop_group_conditions() AS cc
    CROSS JOIN params
    WHERE NOT list_contains(params.not_a_diagnosis, coalesce(cc.verification_status, ''))
    GROUP BY cc.patient_id, cc.bit
),
-- Segments: the months where a panel span starts or ends, a coverage
-- starts or ends, or a group is first diagnosed (and the month after) cut
-- each patient's months into segments in which the payer, the groups
-- diagnosed before and those first diagnosed in the month are fixed. They
-- are worked out once per segment and expanded to months only at the end.
cuts AS (
    SELECT patient_id, first_m AS b FROM panel_spans
    UNION SELECT patient_id, last_m + 1 FROM panel_spans
    UNION SELECT patient_id, cs FROM coverage_spans
    UNION SELECT patient_id, ce + 1 FROM coverage_spans
    UNION SELECT patient_id, first_m FROM first_diagnoses
    UNION SELECT patient_id, first_m + 1 FROM first_diagnoses
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
    SELECT g.patient_id, g.seg_from,
        bit_or(CASE WHEN fd.first_m < g.seg_from THEN CAST(1 AS BIGINT) << fd.bit ELSE 0 END) AS before,
        bit_or(CASE WHEN fd.first_m = g.seg_from THEN CAST(1 AS BIGINT) << fd.bit ELSE 0 END) AS new
    FROM segments AS g
    JOIN first_diagnoses AS fd
      ON fd.patient_id = g.patient_id AND fd.first_m <= g.seg_from
    GROUP BY g.patient_id, g.seg_from
),
-- Patient-months of the population with their dimensions on the month's
-- last day, the groups diagnosed before the month and those first
-- diagnosed in it.
panel AS MATERIALIZED (
    SELECT patient_id, month_end, sex, zip3, clinic, payer, before, new,
        age_band(birth_date, age_90_plus, month_end) AS age_band
    FROM (
        SELECT *, pop_month_end(m) AS month_end
        FROM (
            SELECT g.patient_id, unnest(range(g.seg_from, g.seg_to + 1)) AS m,
                g.birth_date, g.age_90_plus, g.sex, g.zip3, g.clinic,
                coalesce(sp.payer, 'unknown') AS payer,
                coalesce(sg.before, 0) AS before,
                coalesce(sg.new, 0) AS new
            FROM segments AS g
            LEFT JOIN segment_payer AS sp ON sp.patient_id = g.patient_id AND sp.seg_from = g.seg_from
            LEFT JOIN segment_groups AS sg ON sg.patient_id = g.patient_id AND sg.seg_from = g.seg_from
        )
    )
),
groups AS (
    SELECT DISTINCT condition, bit FROM condition_groups
),
-- The population per month and stratum, by the groups diagnosed before the
-- month and those first diagnosed in it.
strata AS (
    SELECT month_end, age_band, sex, payer, zip3, clinic, before, new, count(*) AS patients
    FROM panel
    GROUP BY ALL
)
-- New cases, one by one.
SELECT
    pn.month_end AS period_date,
    pn.patient_id AS patient_id,
    g.condition AS condition,
    pn.age_band AS age_band,
    pn.sex AS sex,
    pn.payer AS payer,
    pn.zip3 AS zip3,
    pn.clinic AS clinic,
    1 AS numerator,
    1 AS denominator
FROM panel AS pn
JOIN groups AS g ON (pn.new >> g.bit) & 1 = 1
UNION ALL
-- The rest of those at risk (not diagnosed before), counted.
SELECT
    s.month_end,
    NULL,
    g.condition,
    s.age_band,
    s.sex,
    s.payer,
    s.zip3,
    s.clinic,
    0,
    sum(s.patients)
FROM strata AS s
JOIN groups AS g ON ((s.before | s.new) >> g.bit) & 1 = 0
GROUP BY ALL
