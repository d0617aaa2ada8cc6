-- appointments_as_of(): the time the EHR data describes, the newest
-- data_as_of of a committed ETL run that loaded EHR data (a Bulk Data
-- export's transactionTime, or the run's start when the source gave none).
-- Value-set and CRM loads say nothing about appointments, encounters or
-- fills, so they do not move it. Appointments that start later had not
-- happened when the data was taken (they are still booked for the future),
-- so they are not yet due and must not count as kept or missed; metrics with
-- an outcome window (follow-up, readmission, conversions) leave out index
-- events whose window ends after it. NULL before any EHR run committed.
CREATE OR REPLACE TEMP MACRO appointments_as_of() AS (
    SELECT max(_aao_r.data_as_of)
    FROM etl_runs AS _aao_r
    WHERE _aao_r.status = 'succeeded'
      AND _aao_r.run_id IN (SELECT _aao_c.run_id FROM etl_run_counts AS _aao_c WHERE _aao_c.source = 'ehr')
)
