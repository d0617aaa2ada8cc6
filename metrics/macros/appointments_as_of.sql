-- appointments_as_of(): the time the appointment data describes, the newest
-- data_as_of of a committed ETL run (a Bulk Data export's transactionTime, or
-- the run's start when the source gave none). Appointments that start later
-- had not happened when the data was taken (they are still booked for the
-- future), so they are not yet due and must not count as kept or missed.
-- NULL before any run committed.
CREATE OR REPLACE TEMP MACRO appointments_as_of() AS (
    SELECT max(data_as_of)
    FROM etl_runs
    WHERE status = 'succeeded'
)
