-- age_band(birth_date, age_90_plus, on_date): the policy age band
-- (MEASURES.md, "Age bands") of a person on on_date: '0-17', '18-44',
-- '45-64', '65-74', '75-89' or '90+'.
-- Age counts completed years: a birthday on 29 February completes on
-- 1 March in non-leap years. A patient flagged age_90_plus has no birth date
-- in the warehouse (PRIVACY.md) and is always '90+'. An unknown birth date,
-- or a date before birth, gives 'unknown'.
CREATE OR REPLACE TEMP MACRO age_band(birth_date, age_90_plus, on_date) AS
    CASE
        WHEN coalesce(age_90_plus, false) THEN '90+'
        WHEN birth_date IS NULL OR on_date IS NULL OR CAST(on_date AS DATE) < CAST(birth_date AS DATE) THEN 'unknown'
        ELSE CASE
            WHEN age_years(birth_date, on_date) < 18 THEN '0-17'
            WHEN age_years(birth_date, on_date) < 45 THEN '18-44'
            WHEN age_years(birth_date, on_date) < 65 THEN '45-64'
            WHEN age_years(birth_date, on_date) < 75 THEN '65-74'
            WHEN age_years(birth_date, on_date) < 90 THEN '75-89'
            ELSE '90+'
        END
    END
