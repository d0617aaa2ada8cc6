-- cms122_glycemic_percent(gsa): the value in percent of the glycemic status
-- reading CMS122 decides on (gsa, from cms122_glycemic_status; pass a
-- column), for a metric's value column: NULL when there is no reading, it
-- has no numeric value, or its unit is not % (UCUM '%').
CREATE OR REPLACE TEMP MACRO cms122_glycemic_percent(gsa) AS
    CASE WHEN gsa.unit = '%' THEN gsa.value END
