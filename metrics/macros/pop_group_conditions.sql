-- pop_group_conditions(): each condition record under each condition group
-- (pop_condition_groups) one of its codes belongs to: its own code
-- (conditions.code_system, code) or its ICD-10-CM coding (icd10_code); a
-- code may be in two groups (I13.0 is hypertension, heart failure and CKD),
-- and a record with both codes in one group is listed once for it.
CREATE OR REPLACE TEMP MACRO pop_group_conditions() AS TABLE
SELECT DISTINCT _pgc_cc.condition_key, _pgc_cc.patient_id, _pgc_gc.bit,
    _pgc_cc.clinical_status, _pgc_cc.verification_status,
    _pgc_cc.onset_date, _pgc_cc.recorded_date, _pgc_cc.abatement_date
FROM (
    SELECT c.condition_key, c.patient_id, c.code_system AS system, c.code,
        c.clinical_status, c.verification_status, c.onset_date, c.recorded_date, c.abatement_date
    FROM conditions AS c
    UNION ALL
    SELECT c.condition_key, c.patient_id, 'http://hl7.org/fhir/sid/icd-10-cm', c.icd10_code,
        c.clinical_status, c.verification_status, c.onset_date, c.recorded_date, c.abatement_date
    FROM conditions AS c
    WHERE c.icd10_code IS NOT NULL
) AS _pgc_cc
JOIN (
    SELECT DISTINCT g.bit, c.system, c.code
    FROM value_set_codes AS c
    JOIN pop_condition_groups() AS g ON g.url = c.url
) AS _pgc_gc ON _pgc_gc.system = _pgc_cc.system AND _pgc_gc.code = _pgc_cc.code
