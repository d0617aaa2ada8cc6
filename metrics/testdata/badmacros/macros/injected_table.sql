-- A table macro that smuggles a second statement.
CREATE OR REPLACE TEMP MACRO injected_table() AS TABLE
SELECT 1 AS x; DROP TABLE appointments
