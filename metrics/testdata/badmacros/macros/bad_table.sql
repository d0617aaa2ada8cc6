-- A table macro whose query has a syntax error on line 5.
CREATE OR REPLACE TEMP MACRO bad_table(x) AS TABLE
SELECT patient_id
FROM appointments
WHERE status = x AND AND true
