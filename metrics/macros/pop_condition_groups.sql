-- pop_condition_groups(): the condition groups of the population metrics,
-- numbered 0, 1, … (bit; one bit each in a BIGINT: at most 63 groups):
-- every loaded ValueSet whose URL starts with
-- https://carelens.dev/fhir/ValueSet/condition-, named (condition) by the
-- rest of the URL (condition-diabetes -> diabetes).
-- metrics/valuesets/condition-groups.json holds carelens' ten groups.
CREATE OR REPLACE TEMP MACRO pop_condition_groups() AS TABLE
SELECT _pcg_vs.url, substr(_pcg_vs.url, length(_pcg_p.group_prefix) + 1) AS condition,
    CAST(dense_rank() OVER (ORDER BY substr(_pcg_vs.url, length(_pcg_p.group_prefix) + 1)) - 1 AS INTEGER) AS bit
FROM value_sets AS _pcg_vs
CROSS JOIN (SELECT 'https://carelens.dev/fhir/ValueSet/condition-' AS group_prefix) AS _pcg_p
WHERE starts_with(_pcg_vs.url, _pcg_p.group_prefix)
