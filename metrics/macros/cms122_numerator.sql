-- cms122_numerator(gsa): CMS122
-- (DiabetesGlycemicStatusAssessmentGreaterThan9PercentFHIR 0.1.002)
-- "Numerator" (poor control, the inverse measure's bad outcome) from gsa,
-- the patient's cms122_glycemic_status for the period (pass a column: the
-- argument is expanded at each use). True when any of
--   * "Has No Record Of Glycemic Status Assessment": gsa is NULL — no
--     HbA1c or GMI performed in the period (one not performed — cancelled,
--     entered in error, only registered or preliminary — is no record);
--   * "Has Most Recent Glycemic Status Assessment Without Result": the
--     reading decided on has no value;
--   * "Has Most Recent Elevated Glycemic Status Assessment": its value is
--     > 9 '%'. Exactly 9.0 is not. A value in another unit is not compared
--     (docs/cms122.md, known limits) and so is not elevated.
CREATE OR REPLACE TEMP MACRO cms122_numerator(gsa) AS
    gsa IS NULL
    OR NOT gsa.has_value
    OR coalesce(gsa.unit = '%' AND gsa.value > 9, false)
