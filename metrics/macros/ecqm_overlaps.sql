-- ecqm_overlaps(t_start, t_until, d_from, d_to): whether the interval
-- [t_start, t_until] overlaps the days d_from..d_to, both inclusive: CQL's
-- "overlaps day of", which compares at day precision. The interval is what
-- FHIRHelpers.ToInterval (4.4.000) makes of a Period or a dateTime: t_until
-- NULL is a Period without an end, closed at the end of time (still open);
-- t_start NULL is an unknown start, so nothing is known to overlap.
CREATE OR REPLACE TEMP MACRO ecqm_overlaps(t_start, t_until, d_from, d_to) AS
    t_start IS NOT NULL
    AND CAST(t_start AS DATE) <= CAST(d_to AS DATE)
    AND (t_until IS NULL OR CAST(t_until AS DATE) >= CAST(d_from AS DATE))
