-- age_years(birth_date, on_date): completed years of age on on_date of a
-- person born on birth_date (NULL when either is NULL). The birthday counts
-- as completed on the day itself; one born on 29 February completes a year
-- on 1 March in non-leap years.
CREATE OR REPLACE TEMP MACRO age_years(birth_date, on_date) AS
    year(CAST(on_date AS DATE)) - year(CAST(birth_date AS DATE))
    - CASE
        WHEN month(CAST(on_date AS DATE)) * 100 + day(CAST(on_date AS DATE))
           < month(CAST(birth_date AS DATE)) * 100 + day(CAST(birth_date AS DATE))
        THEN 1 ELSE 0
      END
