-- name: pdc_statins
-- title: Statin adherence (PDC ≥ 80 %)
-- description: Share of adults with fills of statins on two or more days in the year whose proportion of days covered (PQA PDC) is at least 0.80.
-- unit: ratio
-- kind: ratio
-- direction: higher_is_better
-- target: 0.80
-- grain: year
-- dimensions: clinic, age_band, sex, payer
-- spec: MEASURES.md "Medication adherence — Proportion of Days Covered (PQA PDC)"; PQA PDC-STA; docs/pdc.md
-- version: 1

-- PQA Proportion of Days Covered for statins (HMG-CoA reductase inhibitors,
-- alone or in combination products).
--
-- One row per patient and calendar measurement year in which the patient is
-- in the denominator, dated 31 December of that year; numerator 1 when the
-- patient's PDC is at least 0.80. The method is the shared table
-- macro pdc_rows (macros/pdc_rows.sql); docs/pdc.md explains it, the value
-- sets and every policy choice.
SELECT *
FROM pdc_rows('https://carelens.dev/fhir/ValueSet/pdc-statins', NULL)
