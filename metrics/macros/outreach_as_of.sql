-- outreach_as_of(oao_source): the time the data of one source describes,
-- oao_source 'ehr' or 'crm': the newest data_as_of of a committed (succeeded)
-- ETL run that loaded records of that source (it has etl_run_counts rows
-- with that source). A Bulk Data export gives its transactionTime; a files
-- run its manifest's transactionTime, else its start (for EHR and CRM files
-- loaded together, both sources get that time); a CRM pull its start.
-- Outreach metrics need both sources: the messages (CRM) and what followed
-- them (EHR), so an outcome window counts only when it is over by both.
-- NULL when no such run committed (no limit; callers coalesce).
CREATE OR REPLACE TEMP MACRO outreach_as_of(oao_source) AS (
    SELECT max(_oao_run.data_as_of)
    FROM etl_runs AS _oao_run
    WHERE _oao_run.status = 'succeeded'
      AND _oao_run.run_id IN (
            SELECT _oao_cnt.run_id
            FROM etl_run_counts AS _oao_cnt
            WHERE _oao_cnt.source = oao_source)
)
