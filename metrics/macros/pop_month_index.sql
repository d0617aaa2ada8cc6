-- pop_month_index(d): the month of day d as one integer, year * 12 + month
-- - 1 (January 2025 is 24300), so that month arithmetic is integer
-- arithmetic: the month after m is m + 1, the 24 months ending with m are
-- m - 23 .. m. NULL when d is NULL. pop_month_end turns it back into a day.
-- Used by the population-trend metrics (prevalence_per_1000,
-- incidence_per_1000, care_plan_coverage).
CREATE OR REPLACE TEMP MACRO pop_month_index(d) AS
    year(CAST(d AS DATE)) * 12 + month(CAST(d AS DATE)) - 1
