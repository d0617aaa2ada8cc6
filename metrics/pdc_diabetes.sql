-- name: pdc_diabetes
-- title: Diabetes medication adherence (PDC ≥ 80 %)
-- description: Share of adults with fills of non-insulin diabetes medications on two or more days in the year whose proportion of days covered (PQA PDC) is at least 0.80.
-- unit: ratio
-- kind: ratio
-- direction: higher_is_better
-- target: 0.80
-- grain: year
-- dimensions: clinic, age_band, sex, payer
-- spec: MEASURES.md "Medication adherence — Proportion of Days Covered (PQA PDC)"; PQA PDC-DR; docs/pdc.md
-- version: 1

-- PQA Proportion of Days Covered for diabetes medications (biguanides,
-- sulfonylureas, thiazolidinediones, DPP-4 inhibitors, GLP-1 receptor
-- agonists, meglitinides, SGLT2 inhibitors). Patients with an insulin fill in
-- the measurement year are excluded (PQA PDC-DR).
--
-- One row per patient and calendar measurement year in which the patient is
-- in the denominator, dated 31 December of that year; numerator 1 when the
-- patient's PDC is at least 0.80. The method is the shared table
-- macro pdc_rows (macros/pdc_rows.sql); docs/pdc.md explains it, the value
-- sets and every policy choice.
SELECT *
FROM pdc_rows('https://carelens.dev/fhir/ValueSet/pdc-diabetes', 'https://carelens.dev/fhir/ValueSet/pdc-insulin')
