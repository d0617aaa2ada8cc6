-- pdc_rows(pdc_class_url, pdc_excluded_drug_url): the PQA Proportion of
-- Days Covered of a drug class, as the rows of a metric: one per patient and
-- calendar measurement year in which the patient is in the denominator,
-- dated 31 December of that year, with clinic, age_band, sex and payer;
-- numerator 1 when the patient's PDC is at least 0.80, and the PDC as the
-- value. pdc_class_url is the URL of the class's ValueSet (its RxNorm
-- codes; ValueSets at that URL followed by "/" group them by ingredient,
-- the "drug" of the same-drug shift); pdc_excluded_drug_url, when not NULL,
-- names a ValueSet of drugs a fill of which in the period excludes the
-- patient (insulin for the diabetes measure). pdc_diabetes, pdc_ras and
-- pdc_statins are this table with their classes. docs/pdc.md explains the
-- method, the value sets and every policy choice; pdc_test.go checks it
-- against the PQA shift vectors claim by claim.
CREATE OR REPLACE TEMP MACRO pdc_rows(pdc_class_url, pdc_excluded_drug_url) AS TABLE
WITH params AS (
    SELECT
        -- The target class: fills of its codes count. Value sets whose URL is
        -- this one followed by "/" group its codes by ingredient, the "drug"
        -- of the same-drug shift; a code in none is a drug of its own.
        CAST(pdc_class_url AS VARCHAR) AS class_url,
        -- A patient with a fill of these in the period is excluded (NULL: none).
        CAST(pdc_excluded_drug_url AS VARCHAR) AS excluded_drug_url,
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
-- Patients, each numbered by its row (pnum: an integer key, cheaper than
-- the text patient_id to sort and join on), with the last day their fills
-- count (the day of death or the data's horizon, whichever comes first;
-- NULL: neither) and the first year on whose 31 December they are 18 or
-- older: the year of birth + 18, from the birth date, else the birth year,
-- which decides it on that day; 90+ always (0); neither known: never (NULL).
people AS (
    SELECT p.rowid AS pnum, p.patient_id,
        least(p.deceased_date, horizon.as_of) AS counts_until,
        CASE WHEN p.age_90_plus THEN 0 ELSE coalesce(year(p.birth_date), p.birth_year) + 18 END AS adult_from,
        p.birth_date, p.birth_year, p.age_90_plus, p.sex, p.clinic_id
    FROM patients AS p
    CROSS JOIN horizon
),
-- Completed dispenses of the class with a fill date and a positive days'
-- supply: the claims. Fills before the year count too, for the supply they
-- carry into it. Each fill has the end of its year's treatment period:
-- 31 December, or the patient's counts_until if earlier; a fill after it is
-- in no period (it still carries supply forward, which the period end cuts
-- off). fill_id finds the dispense again (claims, below).
fills AS (
    SELECT d.rowid AS fill_id, pe.pnum, d.dispensed_on, d.days_supply, cc.drug_id,
        least(make_date(year(d.dispensed_on), 12, 31), pe.counts_until) AS period_end
    FROM medication_dispenses AS d
    JOIN class_codes AS cc ON cc.code = d.rxnorm_code
    JOIN people AS pe ON pe.patient_id = d.patient_id
    WHERE d.status = 'completed'
      AND d.dispensed_on IS NOT NULL
      AND d.days_supply > 0
),
-- Same-drug shift without a loop. Number a patient's fills of one drug
-- k = 1, 2, … by fill date. The sequential rule, "a fill starts on its fill
-- date or on the day after the supply of the earlier fills of that drug runs
-- out, whichever is later", unrolls to
--     last_day_k = max over j ≤ k of (fill_date_j + days_j + … + days_k) − 1
--                = anchor_k + cum_days_k − 1
--     anchor_k   = max over j ≤ k of (fill_date_j − cum_days_(j−1))
-- where cum_days_k = days_1 + … + days_k: a running sum, then a running max.
-- The fill covers [anchor_k + cum_days_(k−1), anchor_k + cum_days_k − 1].
-- Fills of one drug on one day may be numbered in any order: the running max
-- is taken over every fill up to this one's day (RANGE), where the first of
-- them in the numbering holds it, so they all get the same anchor and
-- between them cover the same days whatever their order. The sorts need no
-- tie-breaker (claims, below, orders them by dispense key to report each
-- one's own days). docs/pdc.md has the proof; pdc_test.go checks it claim
-- by claim against the loop.
supply AS (
    SELECT fill_id, pnum, drug_id, dispensed_on, days_supply, period_end,
        CAST(sum(days_supply) OVER (
            PARTITION BY pnum, drug_id ORDER BY dispensed_on
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS INTEGER) AS cum_days
    FROM fills
),
shifted AS (
    SELECT fill_id, pnum, drug_id, dispensed_on, days_supply, period_end, cum_days,
        max(dispensed_on - (cum_days - days_supply)) OVER (
            PARTITION BY pnum, drug_id ORDER BY dispensed_on
            RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS anchor
    FROM supply
),
-- The days each fill covers once shifted: [first_day, last_day].
slices AS (
    SELECT fill_id, pnum, drug_id, dispensed_on, days_supply, period_end, anchor,
        anchor + (cum_days - days_supply) AS first_day,
        anchor + (cum_days - 1) AS last_day
    FROM shifted
),
-- Each claim with its own shifted days, fills of one drug on one day taken
-- in order of dispense key: for reports and tests; the measure needs only
-- slices.
claims AS (
    SELECT patient_id, dispense_key, pnum, drug_id, dispensed_on, days_supply, anchor,
        anchor + (cum_days - days_supply) AS first_day,
        anchor + (cum_days - 1) AS last_day
    FROM (
        SELECT d.patient_id, d.dispense_key, s.pnum, s.drug_id, s.dispensed_on, s.days_supply, s.anchor,
            CAST(sum(s.days_supply) OVER (
                PARTITION BY s.pnum, s.drug_id ORDER BY s.dispensed_on, d.dispense_key
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS INTEGER) AS cum_days
        FROM slices AS s
        JOIN medication_dispenses AS d ON d.rowid = s.fill_id
    )
),
-- The union across fills and drugs, without expanding days (gaps and
-- islands), in one pass over each patient's slices taken by the year of
-- their fill, then by first day. covered_before is the furthest last day of
-- the slices before this one (for the patient's first slice, the eve of its
-- first day). They cover every day from this slice's first day up to it, so
-- the slice adds only the days after it:
--   - the slices of the same year before it start no later than it does;
--   - the slices of earlier years' fills form, for each drug, runs of days
--     each starting on a fill date before this year, so their days in this
--     year run without a gap from 1 January to the furthest of their last
--     days (a run reaching this year began before it).
-- So the first slice of a year sees in covered_before how far the supply
-- carried into the year reaches. (The order among slices starting on the
-- same day does not matter.)
fresh AS (
    SELECT pnum, year(dispensed_on) AS measure_year, dispensed_on, period_end, first_day, last_day,
        coalesce(max(last_day) OVER (
            PARTITION BY pnum ORDER BY year(dispensed_on), first_day
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), first_day - 1) AS covered_before
    FROM slices
),
-- Measurement periods: each calendar year in which the patient has a fill of
-- the class in the treatment period, from the IPSD (index prescription start
-- date: the period's first fill) to the period end. The fills fall on two or
-- more distinct days exactly when the last comes after the first. Covered:
-- the days the year's slices add up to the period end, and the carried-in
-- supply from the IPSD on, which reaches the smallest covered_before of the
-- year (its first slice's). If the patient's first slice is in the year, it
-- is the IPSD's own, unshifted, and reaches the eve of the IPSD: nothing.
periods AS (
    SELECT pnum, measure_year, ipsd, last_fill, period_end,
        added_days + greatest(0, least(carried_to, period_end) - ipsd + 1) AS covered_days
    FROM (
        SELECT pnum, measure_year,
            min(dispensed_on) FILTER (WHERE dispensed_on <= period_end) AS ipsd,
            max(dispensed_on) FILTER (WHERE dispensed_on <= period_end) AS last_fill,
            any_value(period_end) AS period_end,
            sum(greatest(0, least(last_day, period_end) - greatest(first_day, covered_before + 1) + 1)) AS added_days,
            min(covered_before) AS carried_to
        FROM fresh
        GROUP BY pnum, measure_year
    )
    WHERE ipsd IS NOT NULL
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
excluded AS (
    SELECT pe.pnum, x.from_day, x.to_day
    FROM exclusion_evidence AS x
    JOIN people AS pe ON pe.patient_id = x.patient_id
),
-- The denominator: periods with fills of the class on two or more distinct
-- days, of patients 18 or older on 31 December, without exclusion evidence
-- overlapping the year up to the period end.
eligible AS (
    SELECT pr.pnum, pr.measure_year, pr.ipsd, pr.period_end, pr.covered_days,
        make_date(pr.measure_year, 12, 31) AS year_end,
        pe.patient_id, pe.birth_date, pe.birth_year, pe.age_90_plus, pe.sex, pe.clinic_id
    FROM periods AS pr
    JOIN people AS pe ON pe.pnum = pr.pnum
    ANTI JOIN excluded AS x
        ON x.pnum = pr.pnum
       AND coalesce(x.from_day <= pr.period_end, true)
       AND coalesce(x.to_day >= make_date(pr.measure_year, 1, 1), true)
    WHERE pr.last_fill > pr.ipsd
      AND pr.measure_year >= pe.adult_from
),
-- Per patient and year: PDC = covered_days / treatment_days.
pdc AS (
    SELECT e.*, e.period_end - e.ipsd + 1 AS treatment_days
    FROM eligible AS e
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
    CAST(pdc.covered_days AS DOUBLE) / pdc.treatment_days AS value
FROM pdc
CROSS JOIN params
