-- name: primary_nonadherence
-- title: Primary non-adherence (new prescription not filled in 30 days)
-- description: Share of new prescriptions (a drug the patient was neither prescribed nor dispensed in the 180 days before) with no fill of the same drug within 30 days of the day they were written.
-- unit: ratio
-- kind: ratio
-- direction: lower_is_better
-- grain: month
-- dimensions: clinic, age_band, sex, payer
-- spec: MEASURES.md "Medication adherence — Proportion of Days Covered (PQA PDC)", primary non-adherence (policy); docs/pdc.md
-- version: 1

-- Unit: a new prescription, one row per patient, drug and day it was written
-- (period_date: MedicationRequest.authoredOn); several orders of one drug
-- written for a patient on one day count once. Numerator 1 when no fill of
-- the drug followed within window_days (30): primary non-adherence, lower is
-- better. Policy, documented in docs/pdc.md:
--
-- Prescriptions: medication requests with intent 'order', status 'active' or
-- 'completed' (a cancelled, draft, on-hold, stopped, unknown or
-- entered-in-error order is no prescription the patient was sent to fill),
-- an authored date and an RxNorm code (without one the drug is unknown).
--
-- The same drug: the same RxNorm code, or, for a code in one of the
-- ingredient value sets (URLs <ingredient_sets><class>/<ingredient>, e.g.
-- .../pdc-statins/atorvastatin: carelens' own, replaceable with
-- `carelens etl valuesets`), any code of that ingredient: atorvastatin 20 mg
-- and 40 mg tablets are one drug, and so are metformin and metformin
-- extended release. A code in no ingredient value set is a drug of its own.
--
-- New: no earlier prescription or fill of the same drug for the patient in
-- the new_after_days (180) days before the day it was written (days
-- -180 .. -1). Earlier prescriptions count when they were orders that
-- happened: status active, completed, stopped or on-hold (a stopped order
-- was still prescribed; cancelled, draft, unknown and entered-in-error ones
-- were not). Earlier fills are completed dispenses. So a renewal of a drug
-- the patient is taking, or a second order written while the first is
-- unfilled, is not new.
--
-- Filled: a completed dispense with a date from the day the prescription was
-- written to window_days after it (day 0 .. day 30; day 31 is too late) that
-- is of the same drug, or that names one of the unit's orders as its
-- authorizing prescription (medication_dispenses.request_key: a pharmacy may
-- substitute a product coded differently). A fill of another drug does not
-- count, nor does a dispense that was not completed.
--
-- Left out: prescriptions whose window is not over at the data's horizon
-- (written less than 30 days before it: day 30 after the horizon's day),
-- the horizon being the day described by the newest committed run that
-- loaded EHR data (as the PDC measures use; none: no limit), and
-- prescriptions of patients who died on or before day 30 (the window was cut
-- short), filled or not. The patient must be in patients. clinic is the
-- patient's home clinic; age band and payer are taken on the day written.
WITH params AS (
    SELECT
        30 AS window_days,       -- a fill on days 0 .. 30 after the day written counts
        180 AS new_after_days,   -- new: no prescription or fill of the drug in the 180 days before
        -- Value sets <ingredient_sets><class>/<ingredient> group RxNorm codes
        -- by ingredient (the PDC value sets').
        'https://carelens.dev/fhir/ValueSet/pdc-' AS ingredient_sets
),
horizon AS (
    SELECT CAST(max(r.data_as_of) AS DATE) AS as_of
    FROM etl_runs AS r
    WHERE r.status = 'succeeded'
      AND r.run_id IN (SELECT run_id FROM etl_run_counts WHERE source = 'ehr')
),
-- RxNorm codes in an ingredient value set, each with its ingredient (the
-- value set's URL; the first by URL if several).
ingredients AS (
    SELECT c.code, min(c.url) AS drug
    FROM value_set_codes AS c
    CROSS JOIN params
    WHERE c.system = 'http://www.nlm.nih.gov/research/umls/rxnorm'
      AND starts_with(c.url, params.ingredient_sets)
      AND contains(substr(c.url, length(params.ingredient_sets) + 1), '/')
    GROUP BY c.code
),
-- Orders that happened, each with its drug.
orders AS MATERIALIZED (
    SELECT q.request_key, q.patient_id, q.status, q.authored_on,
        coalesce(i.drug, 'rxnorm:' || q.rxnorm_code) AS drug
    FROM medication_requests AS q
    LEFT JOIN ingredients AS i ON i.code = q.rxnorm_code
    WHERE q.intent = 'order'
      AND q.status IN ('active', 'completed', 'stopped', 'on-hold')
      AND q.authored_on IS NOT NULL
      AND q.rxnorm_code IS NOT NULL
),
-- Completed dispenses, each with its drug.
fills AS MATERIALIZED (
    SELECT d.patient_id, d.request_key, d.dispensed_on,
        coalesce(i.drug, 'rxnorm:' || d.rxnorm_code) AS drug
    FROM medication_dispenses AS d
    LEFT JOIN ingredients AS i ON i.code = d.rxnorm_code
    WHERE d.status = 'completed'
      AND d.dispensed_on IS NOT NULL
),
-- The units: prescriptions (active or completed orders), one per patient,
-- drug and day, whose window is over, of living patients.
prescriptions AS (
    SELECT o.patient_id, o.drug, o.authored_on
    FROM orders AS o
    CROSS JOIN params
    CROSS JOIN horizon
    JOIN patients AS p ON p.patient_id = o.patient_id
    WHERE o.status IN ('active', 'completed')
      AND coalesce(o.authored_on + params.window_days <= horizon.as_of, true)
      AND coalesce(p.deceased_date > o.authored_on + params.window_days, true)
    GROUP BY o.patient_id, o.drug, o.authored_on
),
-- New ones: no order or fill of the drug in the days before.
new_prescriptions AS (
    SELECT n.*
    FROM prescriptions AS n
    CROSS JOIN params
    WHERE NOT EXISTS (
            SELECT 1 FROM orders AS o
            WHERE o.patient_id = n.patient_id
              AND o.drug = n.drug
              AND o.authored_on >= n.authored_on - params.new_after_days
              AND o.authored_on < n.authored_on)
      AND NOT EXISTS (
            SELECT 1 FROM fills AS f
            WHERE f.patient_id = n.patient_id
              AND f.drug = n.drug
              AND f.dispensed_on >= n.authored_on - params.new_after_days
              AND f.dispensed_on < n.authored_on)
),
-- Filled in the window: a fill of the drug, or a fill naming one of the
-- unit's orders (the active or completed orders of the drug written that
-- day).
outcomes AS (
    SELECT n.*,
        EXISTS (
            SELECT 1 FROM fills AS f
            WHERE f.patient_id = n.patient_id
              AND f.drug = n.drug
              AND f.dispensed_on BETWEEN n.authored_on AND n.authored_on + params.window_days)
        OR EXISTS (
            SELECT 1 FROM orders AS o
            JOIN fills AS f ON f.request_key = o.request_key AND f.patient_id = o.patient_id
            WHERE o.patient_id = n.patient_id
              AND o.drug = n.drug
              AND o.authored_on = n.authored_on
              AND o.status IN ('active', 'completed')
              AND f.dispensed_on BETWEEN n.authored_on AND n.authored_on + params.window_days) AS filled
    FROM new_prescriptions AS n
    CROSS JOIN params
)
SELECT
    u.authored_on AS period_date,
    u.patient_id AS patient_id,
    coalesce(p.clinic_id, 'unknown') AS clinic,
    age_band(coalesce(p.birth_date, make_date(p.birth_year, 1, 1)), p.age_90_plus, u.authored_on) AS age_band,
    coalesce(p.sex, 'unknown') AS sex,
    payer_at(u.patient_id, u.authored_on) AS payer,
    CASE WHEN u.filled THEN 0 ELSE 1 END AS numerator,
    1 AS denominator
FROM outcomes AS u
JOIN patients AS p ON p.patient_id = u.patient_id
