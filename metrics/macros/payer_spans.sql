-- payer_spans(): payer_at's answer as spans of days, for metrics that need
-- the payer of many rows (appointments, messages): one row per patient and
-- span, with the payer type payer_at gives on every day d of the span,
-- span_start <= d < span_end. payer_at's answer for a patient can change
-- only on a day one of the patient's coverages starts (from the beginning
-- of time when the start is unknown) or the day after one ends, so it is
-- worked out once per such day and holds until the next. A day before all
-- of them, or a patient without coverage, is in no span: the caller's LEFT
-- JOIN gives NULL, 'unknown' as payer_at says.
CREATE OR REPLACE TEMP MACRO payer_spans() AS TABLE
SELECT _ps_k.patient_id, _ps_k.day AS span_start,
    lead(_ps_k.day, 1, DATE 'infinity') OVER (PARTITION BY _ps_k.patient_id ORDER BY _ps_k.day) AS span_end,
    payer_at(_ps_k.patient_id, _ps_k.day) AS payer
FROM (
    SELECT _ps_c.patient_id, coalesce(_ps_c.period_start, DATE '-infinity') AS day FROM coverage AS _ps_c
    UNION
    SELECT _ps_c.patient_id, _ps_c.period_end + 1 FROM coverage AS _ps_c WHERE _ps_c.period_end IS NOT NULL
) AS _ps_k
