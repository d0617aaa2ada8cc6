-- age_band(birth_date, age_90_plus, on_date): the policy age band
-- (MEASURES.md, "Age bands") of a person on on_date: '0-17', '18-44',
-- '45-64', '65-74', '75-89' or '90+'.
-- Age counts completed years: a birthday on 29 February completes on
-- 1 March in non-leap years. A patient flagged age_90_plus has no birth date
-- in the warehouse (PRIVACY.md) and is always '90+'. An unknown birth date,
-- or a date before birth, gives 'unknown'.
-- The age is worked out once per call (age_years) and looked up in a list of
-- the 91 ages 0..90 (90 standing for 90 and over), so the band's bounds are
-- written once, in the lambda; the list is a constant DuckDB builds once per
-- query, not per row.
CREATE OR REPLACE TEMP MACRO age_band(birth_date, age_90_plus, on_date) AS
    CASE
        WHEN coalesce(age_90_plus, false) THEN '90+'
        WHEN birth_date IS NULL OR on_date IS NULL OR CAST(on_date AS DATE) < CAST(birth_date AS DATE) THEN 'unknown'
        ELSE list_transform(range(0, 91), _age_band_a ->
                CASE
                    WHEN _age_band_a < 18 THEN '0-17'
                    WHEN _age_band_a < 45 THEN '18-44'
                    WHEN _age_band_a < 65 THEN '45-64'
                    WHEN _age_band_a < 75 THEN '65-74'
                    WHEN _age_band_a < 90 THEN '75-89'
                    ELSE '90+'
                END)[least(age_years(birth_date, on_date), 90) + 1]
    END
