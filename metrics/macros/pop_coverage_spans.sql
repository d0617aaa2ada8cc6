-- pop_coverage_spans(): each coverage of a patient, with the months at
-- whose end it is in force, cs .. ce (month indexes, pop_month_index), and
-- its rank among the patient's coverages by payer_at's rule: on a day, the
-- coverage in force (status not entered-in-error or draft, started on or
-- before the day, not ended before it) with the latest start wins, then the
-- smallest key. A population metric takes, for a month, the coverage of
-- rank min among those in force at its end (arg_min(payer_type, rank)).
CREATE OR REPLACE TEMP MACRO pop_coverage_spans() AS TABLE
SELECT c.patient_id, c.payer_type,
    row_number() OVER (PARTITION BY c.patient_id
                       ORDER BY c.period_start DESC NULLS LAST, c.coverage_key) AS rank,
    coalesce(pop_month_index(c.period_start), -2147483647) AS cs,
    coalesce(pop_month_index(c.period_end)
             - CASE WHEN c.period_end = last_day(c.period_end) THEN 0 ELSE 1 END, 2147483646) AS ce
FROM coverage AS c
WHERE coalesce(c.status, '') NOT IN ('entered-in-error', 'draft')
