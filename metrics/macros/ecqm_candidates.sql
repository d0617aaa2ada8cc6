-- ecqm_candidates(): the patient-years an eCQM with calendar measurement
-- periods starts from: each patient and year (mp_start .. mp_end, 1 January
-- to 31 December) in which the patient has an encounter, since every
-- initial population needs a qualifying encounter during the period, with
-- birth_date, age_90_plus, sex, clinic_id, zip3 and the age on 31 December
-- (age_years; NULL without a birth date, as for the 90+).
CREATE OR REPLACE TEMP MACRO ecqm_candidates() AS TABLE
SELECT
    _ec_per.patient_id,
    _ec_per.mp_start,
    _ec_per.mp_end,
    _ec_pt.birth_date,
    _ec_pt.age_90_plus,
    _ec_pt.sex,
    _ec_pt.clinic_id,
    _ec_pt.zip3,
    age_years(_ec_pt.birth_date, _ec_per.mp_end) AS age
FROM (
    SELECT DISTINCT
        _ec_enc.patient_id,
        make_date(year(_ec_enc.start_ts), 1, 1)   AS mp_start,
        make_date(year(_ec_enc.start_ts), 12, 31) AS mp_end
    FROM encounters AS _ec_enc
    WHERE _ec_enc.start_ts IS NOT NULL
) AS _ec_per
JOIN patients AS _ec_pt ON _ec_pt.patient_id = _ec_per.patient_id
