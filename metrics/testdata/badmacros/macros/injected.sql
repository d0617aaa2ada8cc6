CREATE OR REPLACE TEMP MACRO injected(x) AS x + 1; DROP TABLE appointments
