-- name: prevalence_per_1000
-- title: Chronic condition prevalence per 1,000 patients
-- description: Per month, patients of the active panel (alive, a visit in the last 24 months) with an active condition of the group on the month's last day, per 1,000 patients of the panel.
-- unit: per_1000
-- kind: ratio
-- direction: lower_is_better
-- grain: month
-- dimensions: condition, age_band, sex, payer, zip3, clinic
-- spec: MEASURES.md "Population trends"; condition groups in metrics/valuesets/condition-groups.json
-- version: 2
-- scale: 1000
-- membership: numerator

-- Point prevalence on the last day of each month, per condition group.
--
-- Unit: a patient of the month's population and a condition group (the
-- `condition` dimension), dated the month's last day; numerator 1 when the
-- patient has an active condition of the group on that day. The value is
-- 1,000 × numerator / denominator. Summed over a quarter or a year (grain
-- quarter, year) units are patient-months, so the value is the mean
-- monthly prevalence weighted by population. Unsliced (no condition filter
-- or grouping) the numerator counts patient-groups, not patients: read
-- this metric by condition.
--
-- Membership (header membership: numerator): each patient with the
-- condition is a row of their own; the rest of the panel, the same for
-- every group, is counted per month, group and stratum of the dimensions
-- in rows without a patient_id (denominator = that count). Listing it
-- patient by patient would be 19 M rows at 100,000 patients, ten copies of
-- the panel, for no cohort anyone asks for; the sums are the same.
--
-- Population (**policy**, params): the active patient panel of the month,
-- patients
--   * with a performed encounter (status in visit_statuses) starting in the
--     panel_months calendar months ending with the month (24: the month and
--     the 23 before; on a month-end this is exactly "a visit in the 24
--     months before the day", since the day 24 months earlier is the last
--     day of the 24th month back);
--   * alive on the month's last day (deceased_date later, or none);
--   * born by then (no birth date, as for the 90+, counts as born).
-- Months whose last day is after the data's horizon are left out
-- (pop_last_month).
--
-- Condition groups: every loaded ValueSet whose URL starts with
-- group_prefix; the rest of the URL is the group's name (condition-diabetes
-- -> diabetes). metrics/valuesets/condition-groups.json holds carelens' ten
-- groups and their parent, chronic-conditions. A condition belongs to a
-- group when its code (conditions.code_system, code) or its ICD-10-CM
-- coding (icd10_code) is in the group's expansion; a code may be in two
-- groups (I13.0 is hypertension, heart failure and CKD).
--
-- Active condition on day d (**policy**):
--   * verification status not in not_a_diagnosis (refuted,
--     entered-in-error); unconfirmed, provisional and differential count;
--   * started: onset date, else recorded date, on or before d (neither: it
--     has always been there);
--   * not over: no abatement date, or one after d (abated on d: over that
--     day). A condition whose clinical status says it is over (inactive,
--     remission, resolved) without an abatement date ended at an unknown
--     time and is active on no day, as in QI-Core's prevalenceInterval();
--     a missing clinical status with no abatement date counts as ongoing.
-- In months: onset on any day of a month makes the condition active at
-- that month's end; abatement on any day of a month ends it before that
-- month's end.
--
-- Dimensions on the month's last day: age_band (policy bands), payer
-- (payer_at), sex, zip3 and clinic (the patient's home clinic).
--
-- Speed (100,000 patients, 5 years: 1.9 M patient-months, 19 M units):
-- months are integers (pop_month_index). Panel spans come from runs of
-- visit months; every month where the span, a coverage or a condition
-- episode starts or ends cuts the patient's months into segments in which
-- the payer and the active groups are fixed, so they are worked out once
-- per segment (a few per patient) and expanded to months only at the end;
-- the active groups travel as bits of one integer. Patient-months meet the
-- groups only where the bit is set (the cases); the others are first
-- counted per stratum and set of groups, and only those counts meet them.
-- prevalence_per_1000, incidence_per_1000 and care_plan_coverage share
-- the panel, coverages and condition groups (the pop_* table macros).
WITH params AS (
    SELECT
        ['refuted', 'entered-in-error'] AS not_a_diagnosis,
        ['inactive', 'remission', 'resolved'] AS over_statuses
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
-- Segments: the months where a panel span starts or ends, a coverage or a
-- condition episode starts or ends, cut each patient's months into
-- segments in which the payer and the active groups are fixed. They are
-- worked out once per segment and expanded to months only at the end.
cuts AS (
    SELECT patient_id, first_m AS b FROM panel_spans
    UNION SELECT patient_id, last_m + 1 FROM panel_spans
    UNION SELECT patient_id, cs FROM coverage_spans
    UNION SELECT patient_id, ce + 1 FROM coverage_spans
    UNION SELECT patient_id, from_m FROM episodes
    UNION SELECT patient_id, to_m + 1 FROM episodes
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
-- Patient-months of the panel with their dimensions on the month's last
-- day and the groups active then.
panel AS MATERIALIZED (
    SELECT patient_id, month_end, sex, zip3, clinic, payer, active,
        age_band(birth_date, age_90_plus, month_end) AS age_band
    FROM (
        SELECT *, pop_month_end(m) AS month_end
        FROM (
            SELECT g.patient_id, unnest(range(g.seg_from, g.seg_to + 1)) AS m,
                g.birth_date, g.age_90_plus, g.sex, g.zip3, g.clinic,
                coalesce(sp.payer, 'unknown') AS payer,
                coalesce(sg.active, 0) AS active
            FROM segments AS g
            LEFT JOIN segment_payer AS sp ON sp.patient_id = g.patient_id AND sp.seg_from = g.seg_from
            LEFT JOIN segment_groups AS sg ON sg.patient_id = g.patient_id AND sg.seg_from = g.seg_from
        )
    )
),
groups AS (
    SELECT DISTINCT condition, bit FROM condition_groups
),
-- The panel per month and stratum, by the set of active groups.
strata AS (
    SELECT month_end, age_band, sex, payer, zip3, clinic, active, count(*) AS patients
    FROM panel
    GROUP BY ALL
)
-- Patients with the condition, one by one.
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
JOIN groups AS g ON (pn.active >> g.bit) & 1 = 1
UNION ALL
-- The rest of the panel, counted.
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
JOIN groups AS g ON (s.active >> g.bit) & 1 = 0
GROUP BY ALL
