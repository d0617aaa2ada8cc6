-- payer_at(patient, on_date): the payer_type of the coverage of patient
-- (a patient_id) in force on on_date: status neither 'entered-in-error' nor
-- 'draft', period_start NULL or on/before on_date, period_end NULL or
-- on/after it. With several, the one that started last wins (ties: the
-- smallest coverage_key, so the choice is stable). 'unknown' when there is
-- none or its payer_type is NULL.
CREATE OR REPLACE TEMP MACRO payer_at(patient, on_date) AS coalesce((
    SELECT first(c.payer_type ORDER BY c.period_start DESC NULLS LAST, c.coverage_key)
    FROM coverage AS c
    WHERE c.patient_id = patient
      AND coalesce(c.status, '') NOT IN ('entered-in-error', 'draft')
      AND (c.period_start IS NULL OR c.period_start <= CAST(on_date AS DATE))
      AND (c.period_end IS NULL OR c.period_end >= CAST(on_date AS DATE))
), 'unknown')
