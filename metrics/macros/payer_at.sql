-- payer_at(patient, on_date): the payer_type of the coverage of patient
-- (a patient_id) in force on on_date: status neither 'entered-in-error' nor
-- 'draft', period_start NULL or on/before on_date, period_end NULL or
-- on/after it. With several, the one that started last wins (ties: the
-- smallest coverage_key, so the choice is stable). 'unknown' when there is
-- none or its payer_type is NULL.
-- The answer for a patient changes only on a day one of the patient's
-- coverages starts (any day, when the start is unknown) or the day after one
-- ends. Queries over many rows (hundreds of thousands of appointments or
-- messages) therefore call payer_at once per such day and join the spans
-- between them, rather than once per row: see the payer_spans CTE of
-- no_show_rate.sql.
-- The alias _payer_c is unusual on purpose: DuckDB expands a macro in place,
-- so an alias here named like one of the caller's (say c) would capture the
-- caller's argument c.patient_id and compare coverage with itself.
CREATE OR REPLACE TEMP MACRO payer_at(patient, on_date) AS coalesce((
    SELECT first(_payer_c.payer_type ORDER BY _payer_c.period_start DESC NULLS LAST, _payer_c.coverage_key)
    FROM coverage AS _payer_c
    WHERE _payer_c.patient_id = patient
      AND coalesce(_payer_c.status, '') NOT IN ('entered-in-error', 'draft')
      AND (_payer_c.period_start IS NULL OR _payer_c.period_start <= CAST(on_date AS DATE))
      AND (_payer_c.period_end IS NULL OR _payer_c.period_end >= CAST(on_date AS DATE))
), 'unknown')
