-- pop_month_end(m): the last day of month m, a month index made by
-- pop_month_index (24300 -> 2025-01-31).
CREATE OR REPLACE TEMP MACRO pop_month_end(m) AS
    last_day(make_date(CAST(m // 12 AS INTEGER), CAST(m % 12 + 1 AS INTEGER), 1))
