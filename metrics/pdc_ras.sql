-- name: pdc_ras
-- title: RAS antagonist adherence (PDC ≥ 80 %)
-- description: Share of adults with fills of renin-angiotensin system antagonists (ACE inhibitors, ARBs, aliskiren) on two or more days in the year whose proportion of days covered (PQA PDC) is at least 0.80.
-- unit: ratio
-- kind: ratio
-- direction: higher_is_better
-- target: 0.80
-- grain: year
-- dimensions: clinic, age_band, sex, payer
-- spec: MEASURES.md "Medication adherence — Proportion of Days Covered (PQA PDC)"; PQA PDC-RASA; docs/pdc.md
-- version: 1

-- PQA Proportion of Days Covered for renin-angiotensin system antagonists:
-- ACE inhibitors, angiotensin receptor blockers and the direct renin
-- inhibitor aliskiren, alone or in combination products. The value set
-- leaves sacubitril/valsartan out; PQA's exclusion of its users is not
-- applied (docs/pdc.md).
--
-- One row per patient and calendar measurement year in which the patient is
-- in the denominator, dated 31 December of that year; numerator 1 when the
-- patient's PDC is at least 0.80. pdc_diabetes, pdc_ras and pdc_statins are
-- one query: from WITH on they differ only in the values of the params CTE
-- (pdc_test.go holds them to it). docs/pdc.md explains the method, the value
-- sets and every policy choice.
WITH params AS (
    SELECT
        -- The target class: fills of its codes count. Value sets whose URL is
        -- this one followed by "/" group its codes by ingredient, the "drug"
        -- of the same-drug shift; a code in none is a drug of its own.
        'https://carelens.dev/fhir/ValueSet/pdc-ras' AS class_url,
        -- A patient with a fill of these in the period is excluded (NULL: none).
        CAST(NULL AS VARCHAR) AS excluded_drug_url,
        'https://carelens.dev/fhir/ValueSet/pdc-hospice' AS hospice_url,
        'https://carelens.dev/fhir/ValueSet/pdc-esrd' AS esrd_url,
        -- Adherent when PDC ≥ this (0.90 for antiretrovirals).
        CAST(0.80 AS DECIMAL(4, 2)) AS adherent_at
),
-- The data's horizon: the day described by the newest committed run that
-- loaded EHR data (a Bulk export's transactionTime, else the run's start);
-- value-set and CRM loads say nothing about dispenses. A year still under way
-- is measured up to it (year to date); NULL (no such run) sets no limit.
horizon AS (
    SELECT CAST(max(r.data_as_of) AS DATE) AS as_of
    FROM etl_runs AS r
    WHERE r.status = 'succeeded'
      AND r.run_id IN (SELECT run_id FROM etl_run_counts WHERE source = 'ehr')
),
-- The class's RxNorm codes, each with its drug: the URL of the ingredient
-- value set holding it (the first by URL if several), else the code; drug_id
-- numbers the drugs (a small sort key for the windows below).
class_codes AS (
    SELECT code, drug, CAST(dense_rank() OVER (ORDER BY drug) AS INTEGER) AS drug_id
    FROM (
        SELECT c.code, coalesce(min(g.url), 'rxnorm:' || c.code) AS drug
        FROM value_set_codes AS c
        CROSS JOIN params
        LEFT JOIN value_set_codes AS g
            ON g.system = c.system
           AND g.code = c.code
           AND starts_with(g.url, params.class_url || '/')
        WHERE c.url = params.class_url
          AND c.system = 'http://www.nlm.nih.gov/research/umls/rxnorm'
        GROUP BY c.code
    )
),
-- Completed dispenses of the class with a fill date and a positive days'
-- supply: the claims. Fills before the year count too, for the supply they
-- carry into it. (MATERIALIZED: CTEs used more than once are computed once.)
fills AS MATERIALIZED (
    SELECT d.patient_id, d.dispense_key, d.dispensed_on, d.days_supply, cc.drug_id
    FROM medication_dispenses AS d
    JOIN class_codes AS cc ON cc.code = d.rxnorm_code
    WHERE d.status = 'completed'
      AND d.dispensed_on IS NOT NULL
      AND d.days_supply > 0
),
-- Same-drug shift without a loop. Number a patient's fills of one drug
-- k = 1, 2, … by fill date (ties by dispense key). The sequential rule, "a
-- fill starts on its fill date or on the day after the supply of the earlier
-- fills of that drug runs out, whichever is later", unrolls to
--     last_day_k = max over j ≤ k of (fill_date_j + days_j + … + days_k) − 1
--                = anchor_k + cum_days_k − 1
--     anchor_k   = max over j ≤ k of (fill_date_j − cum_days_(j−1))
-- where cum_days_k = days_1 + … + days_k: a running sum, then a running max.
-- The fill covers [anchor_k + cum_days_(k−1), anchor_k + cum_days_k − 1].
-- docs/pdc.md has the proof; pdc_test.go checks it claim by claim against
-- the loop.
supply AS (
    SELECT patient_id, dispense_key, dispensed_on, days_supply, drug_id,
        CAST(sum(days_supply) OVER drug_fills AS INTEGER) AS cum_days
    FROM fills
    WINDOW drug_fills AS (
        PARTITION BY patient_id, drug_id ORDER BY dispensed_on, dispense_key
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
shifted AS (
    SELECT patient_id, dispense_key, dispensed_on, days_supply, drug_id, cum_days,
        max(dispensed_on - (cum_days - days_supply)) OVER drug_fills AS anchor
    FROM supply
    WINDOW drug_fills AS (
        PARTITION BY patient_id, drug_id ORDER BY dispensed_on, dispense_key
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
claims AS (
    SELECT patient_id, dispense_key, dispensed_on, days_supply, drug_id, anchor,
        anchor + (cum_days - days_supply) AS first_day,
        anchor + (cum_days - 1) AS last_day
    FROM shifted
),
-- Runs of uninterrupted supply of one drug. A fill continues a run when it
-- starts no later than the day after the previous one ends, and then leaves
-- the anchor (the running max) unchanged; a fill after a gap raises it. So
-- the anchor names the run, and the run covers the days from its first
-- fill's first day to its last fill's last day without a gap. The union
-- below then sorts runs, not fills.
runs AS (
    SELECT patient_id, drug_id, min(first_day) AS first_day, max(last_day) AS last_day
    FROM claims
    GROUP BY patient_id, drug_id, anchor
),
-- Measurement periods: each calendar year in which the patient has a fill of
-- the class in the treatment period, which ends on 31 December, at death or
-- at the data's horizon, whichever comes first. The IPSD (index prescription
-- start date) is the period's first fill; the fills fall on two or more
-- distinct days exactly when the last comes after the first.
periods AS MATERIALIZED (
    SELECT f.patient_id, year(f.dispensed_on) AS measure_year,
        min(least(make_date(year(f.dispensed_on), 12, 31), p.deceased_date, horizon.as_of)) AS period_end,
        min(f.dispensed_on) AS ipsd,
        max(f.dispensed_on) AS last_fill
    FROM fills AS f
    JOIN patients AS p ON p.patient_id = f.patient_id
    CROSS JOIN horizon
    WHERE f.dispensed_on <= least(make_date(year(f.dispensed_on), 12, 31), p.deceased_date, horizon.as_of)
    GROUP BY f.patient_id, year(f.dispensed_on)
),
-- Hospice and ESRD codes (SNOMED CT, ICD-10-CM, HCPCS).
exclusion_codes AS (
    SELECT DISTINCT c.system, c.code
    FROM value_set_codes AS c
    CROSS JOIN params
    WHERE c.url IN (params.hospice_url, params.esrd_url)
),
-- Exclusion evidence, each with the span of days it covers: a hospice or ESRD
-- condition (by its own code or its ICD-10-CM coding) from its onset (else
-- its recorded date; neither: always) to its abatement (none: for good); a
-- hospice or dialysis encounter (by type) or procedure; a fill of the
-- excluded drugs. Codes are matched before patients are.
exclusion_evidence AS (
    SELECT c.patient_id, coalesce(c.onset_date, c.recorded_date) AS from_day, c.abatement_date AS to_day
    FROM conditions AS c
    WHERE coalesce(c.verification_status, '') NOT IN ('refuted', 'entered-in-error')
      AND (EXISTS (SELECT 1 FROM exclusion_codes AS x WHERE x.system = c.code_system AND x.code = c.code)
        OR c.icd10_code IN (SELECT code FROM exclusion_codes WHERE system = 'http://hl7.org/fhir/sid/icd-10-cm'))
    UNION ALL
    SELECT e.patient_id, CAST(e.start_ts AS DATE), CAST(coalesce(e.end_ts, e.start_ts) AS DATE)
    FROM encounters AS e
    WHERE e.status NOT IN ('cancelled', 'entered-in-error', 'planned')
      AND e.start_ts IS NOT NULL
      AND e.type_code IN (SELECT code FROM exclusion_codes)
    UNION ALL
    SELECT pc.patient_id, CAST(pc.performed_start AS DATE), CAST(coalesce(pc.performed_end, pc.performed_start) AS DATE)
    FROM procedures AS pc
    WHERE pc.status NOT IN ('entered-in-error', 'not-done', 'preparation')
      AND pc.performed_start IS NOT NULL
      AND EXISTS (SELECT 1 FROM exclusion_codes AS x WHERE x.system = pc.code_system AND x.code = pc.code)
    UNION ALL
    SELECT d.patient_id, d.dispensed_on, d.dispensed_on
    FROM medication_dispenses AS d
    WHERE d.status = 'completed'
      AND d.dispensed_on IS NOT NULL
      AND d.rxnorm_code IN (
            SELECT x.code
            FROM value_set_codes AS x
            CROSS JOIN params
            WHERE x.url = params.excluded_drug_url
              AND x.system = 'http://www.nlm.nih.gov/research/umls/rxnorm')
),
-- Patient-years excluded: evidence overlapping the measurement year up to
-- the period end.
excluded AS (
    SELECT DISTINCT pr.patient_id, pr.measure_year
    FROM exclusion_evidence AS x
    JOIN periods AS pr ON pr.patient_id = x.patient_id
    WHERE coalesce(x.from_day <= pr.period_end, true)
      AND coalesce(x.to_day >= make_date(pr.measure_year, 1, 1), true)
),
-- The denominator: patients 18 or older on 31 December (from the birth date,
-- else the birth year, which decides it on that day; 90+ counts), with fills
-- of the class on two or more distinct days in the period, not excluded.
eligible AS MATERIALIZED (
    SELECT pr.patient_id, pr.measure_year, pr.ipsd, pr.period_end,
        make_date(pr.measure_year, 12, 31) AS year_end,
        p.birth_date, p.birth_year, p.age_90_plus, p.sex, p.clinic_id
    FROM periods AS pr
    JOIN patients AS p ON p.patient_id = pr.patient_id
    WHERE pr.last_fill > pr.ipsd
      AND CASE
            WHEN p.age_90_plus THEN true
            WHEN p.birth_date IS NOT NULL THEN age_years(p.birth_date, make_date(pr.measure_year, 12, 31)) >= 18
            ELSE pr.measure_year - p.birth_year >= 18
          END
      AND NOT EXISTS (
            SELECT 1 FROM excluded AS x
            WHERE x.patient_id = pr.patient_id AND x.measure_year = pr.measure_year)
),
-- The runs clipped to the treatment period [IPSD, period end]: days after
-- the period are dropped, and supply carried in from fills before the period
-- (or before the IPSD) counts from the IPSD on.
intervals AS (
    SELECT e.patient_id, e.measure_year,
        greatest(r.first_day, e.ipsd) AS lo,
        least(r.last_day, e.period_end) AS hi
    FROM eligible AS e
    JOIN runs AS r ON r.patient_id = e.patient_id
    WHERE r.last_day >= e.ipsd
      AND r.first_day <= e.period_end
),
-- The union across drugs, without expanding days (gaps and islands): taken
-- in order of their first day, an interval adds the days after the furthest
-- last day of the intervals before it, if any. (The earlier intervals cover
-- exactly the days from this one's first day to that furthest day, so the
-- order among intervals starting on the same day does not matter.)
fresh AS (
    SELECT patient_id, measure_year,
        greatest(0, hi - greatest(lo, coalesce(max(hi) OVER earlier + 1, lo)) + 1) AS days
    FROM intervals
    WINDOW earlier AS (
        PARTITION BY patient_id, measure_year ORDER BY lo
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
covered AS (
    SELECT patient_id, measure_year, sum(days) AS covered_days
    FROM fresh
    GROUP BY patient_id, measure_year
),
-- Per patient and year: PDC = covered_days / treatment_days.
pdc AS (
    SELECT e.*,
        coalesce(cv.covered_days, 0) AS covered_days,
        e.period_end - e.ipsd + 1 AS treatment_days
    FROM eligible AS e
    LEFT JOIN covered AS cv
        ON cv.patient_id = e.patient_id
       AND cv.measure_year = e.measure_year
)
SELECT
    pdc.year_end AS period_date,
    pdc.patient_id AS patient_id,
    coalesce(pdc.clinic_id, 'unknown') AS clinic,
    age_band(coalesce(pdc.birth_date, make_date(pdc.birth_year, 1, 1)), pdc.age_90_plus, pdc.year_end) AS age_band,
    coalesce(pdc.sex, 'unknown') AS sex,
    payer_at(pdc.patient_id, pdc.period_end) AS payer,
    CASE WHEN pdc.covered_days >= params.adherent_at * pdc.treatment_days THEN 1 ELSE 0 END AS numerator,
    1 AS denominator,
    -- The patient's PDC, kept with the membership (cohorts, patient summary).
    CAST(pdc.covered_days AS DOUBLE) / pdc.treatment_days AS value
FROM pdc
CROSS JOIN params
