-- pop_last_month(): the month index (pop_month_index) of the last month
-- whose last day the data covers: the month of the data's horizon when the
-- horizon is that month's last day, else the month before. The horizon is
-- the data_as_of day of the newest committed run that loaded EHR data (a
-- Bulk export's transactionTime, else the run's start), or, before any such
-- run, the day of the latest encounter. A month-end state (who is alive, in
-- the panel, with an active condition or care plan) is only known once the
-- month is over, so later months are left out.
CREATE OR REPLACE TEMP MACRO pop_last_month() AS (
    SELECT pop_month_index(plm_day.as_of)
           - CASE WHEN plm_day.as_of = last_day(plm_day.as_of) THEN 0 ELSE 1 END
    FROM (
        SELECT CAST(coalesce(
            (SELECT max(plm_run.data_as_of)
             FROM etl_runs AS plm_run
             WHERE plm_run.status = 'succeeded'
               AND plm_run.run_id IN (SELECT plm_cnt.run_id FROM etl_run_counts AS plm_cnt WHERE plm_cnt.source = 'ehr')),
            (SELECT max(plm_enc.start_ts) FROM encounters AS plm_enc)) AS DATE) AS as_of
    ) AS plm_day
)
