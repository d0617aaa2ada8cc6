-- age_key(on_date): the date on_date as the integer yyyymmdd (2025-03-01 is
-- 20250301; NULL when on_date is NULL). Completed years of age are a
-- difference of keys: age_years(birth_date, on_date) =
-- floor((age_key(on_date) - age_key(birth_date)) / 10000), since the years
-- differ by 10000 a year and month and day less than 10000 in all. So the
-- people aged lo..hi years on a day d are those whose age_key(birth_date)
-- is in age_key(d) - (hi + 1) * 10000 < key <= age_key(d) - lo * 10000: a
-- range a join can look up without working out each pair's age.
CREATE OR REPLACE TEMP MACRO age_key(on_date) AS
    year(CAST(on_date AS DATE)) * 10000 + month(CAST(on_date AS DATE)) * 100 + day(CAST(on_date AS DATE))
