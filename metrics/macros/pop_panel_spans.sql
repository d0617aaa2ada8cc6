-- pop_panel_spans(death_month_counts): the active patient panel of the
-- population metrics (prevalence_per_1000, incidence_per_1000,
-- care_plan_coverage) as spans of month indexes (pop_month_index), one row
-- per patient and run: patient_id, first_m .. last_m, and the patient's
-- birth_date, age_90_plus, sex, zip3 and clinic ('unknown' when missing).
--
-- In the panel in a month (**policy**): a performed encounter (status in
-- visit_statuses) starting in the panel_months (24) calendar months ending
-- with it (on a month-end this is exactly "a visit in the 24 months before
-- the day"); born by the month's last day (no birth date, as for the 90+,
-- counts as born); and alive: on the month's last day (death_month_counts
-- false: the month of death is out) or on its first (true: it is in, so a
-- diagnosis in the month someone dies counts). Months after the data's
-- horizon are left out (pop_last_month).
CREATE OR REPLACE TEMP MACRO pop_panel_spans(death_month_counts) AS TABLE
WITH pp_params AS (
    SELECT
        24 AS panel_months,
        ['finished', 'arrived', 'triaged', 'in-progress', 'onleave'] AS visit_statuses
),
pp_bounds AS (
    SELECT pop_last_month() AS last_month
),
-- Months with a performed visit, per patient.
visit_months AS (
    SELECT DISTINCT e.patient_id, pop_month_index(e.start_ts) AS m
    FROM encounters AS e
    CROSS JOIN pp_params
    WHERE e.start_ts IS NOT NULL
      AND list_contains(pp_params.visit_statuses, e.status)
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
                g.prev_m IS NULL OR g.m - g.prev_m > pp_params.panel_months AS is_start,
                g.next_m IS NULL OR g.next_m - g.m > pp_params.panel_months AS is_end
            FROM visit_gaps AS g
            CROSS JOIN pp_params
        )
        WHERE is_start OR is_end
    )
    WHERE is_start
)
-- Runs of months in the panel, from the month of birth at the earliest,
-- cut at the data's last month and at death.
SELECT * FROM (
    SELECT r.patient_id,
        -- born by the month's last day (no birth date, as for the 90+: born)
        greatest(r.run_first, coalesce(pop_month_index(p.birth_date), r.run_first)) AS first_m,
        least(r.run_last + pp_params.panel_months - 1,
              pp_bounds.last_month,
              coalesce(pop_month_index(p.deceased_date)
                       - CASE WHEN death_month_counts THEN 0 ELSE 1 END, pp_bounds.last_month)) AS last_m,
        p.birth_date, p.age_90_plus,
        coalesce(p.sex, 'unknown') AS sex,
        coalesce(p.zip3, 'unknown') AS zip3,
        coalesce(p.clinic_id, 'unknown') AS clinic
    FROM visit_runs AS r
    JOIN patients AS p ON p.patient_id = r.patient_id
    CROSS JOIN pp_params
    CROSS JOIN pp_bounds
)
WHERE last_m >= first_m
