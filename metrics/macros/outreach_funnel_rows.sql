-- outreach_funnel_rows(of_stage): the rows of the outreach funnel's rates,
-- outreach_delivered_rate, outreach_opened_rate and outreach_response_rate
-- (of_stage 'delivered', 'opened', 'responded'). Every rate is taken
-- against SENT messages (not against the previous step), so the three can
-- be read side by side.
--
-- Unit: one outreach message (a row of outreach_messages) with a sending
-- time, dated on the day it was sent (period_date), whatever its purpose,
-- channel or outcome: failed messages and messages that never got a delivery
-- notice are in the denominator. Messages to CRM contacts not linked to an
-- EHR patient count too (clinic, age band, sex and payer are then
-- 'unknown').
--
-- Stages (macro outreach_reached): delivered = delivered, opened or replied;
-- opened = opened or replied; responded = replied. A later state proves the
-- earlier ones: a reply to an SMS or a voice call comes without a read
-- receipt, an open without a delivery notice. A failure alone reaches no
-- stage. The times are outreach_messages' columns, which the ETL keeps as the
-- earliest time any message record or delivery event gave for each state
-- (docs/crm-export.md); message_events is not read again, so repeated and
-- resent events never count twice, and a message's several states count once
-- each.
--
-- Policy (params): a state counts only when reached within state_window of
-- sending (on or before sent_at + 7 days). Messages sent less than that
-- before the CRM data's horizon (outreach_as_of('crm'): the newest committed
-- run that loaded CRM data) are left out: their funnel is not complete yet,
-- and leaving them out keeps a month's rate from changing once its window
-- has closed. No CRM run recorded: no limit.
--
-- Dimensions: channel and purpose of the message; campaign its campaign_id
-- ('none' without one); clinic the patient's home clinic; age band (birth
-- year only: taken as born on 1 January) and payer on the sending day.
--
-- The payer follows payer_at's rule, worked out once per coverage change
-- rather than once per row (the table macro payer_spans).
CREATE OR REPLACE TEMP MACRO outreach_funnel_rows(of_stage) AS TABLE
WITH params AS (
    SELECT
        CAST(of_stage AS VARCHAR) AS stage, -- delivered | opened | responded
        INTERVAL 7 DAY   AS state_window
),
horizon AS (
    SELECT outreach_as_of('crm') AS as_of
),
payer_spans AS (
    SELECT * FROM payer_spans()
)
SELECT
    CAST(m.sent_at AS DATE)                                         AS period_date,
    m.patient_id                                                    AS patient_id,
    m.channel                                                       AS channel,
    m.purpose                                                       AS purpose,
    coalesce(m.campaign_id, 'none')                                 AS campaign,
    coalesce(p.clinic_id, 'unknown')                                AS clinic,
    age_band(coalesce(p.birth_date, make_date(p.birth_year, 1, 1)), p.age_90_plus, m.sent_at) AS age_band,
    coalesce(p.sex, 'unknown')                                      AS sex,
    coalesce(ps.payer, 'unknown')                                   AS payer,
    CASE WHEN outreach_reached(params.stage, m.sent_at + params.state_window,
                               m.delivered_at, m.opened_at, m.replied_at)
         THEN 1 ELSE 0 END                                          AS numerator,
    1                                                               AS denominator
FROM outreach_messages AS m
CROSS JOIN params
CROSS JOIN horizon
LEFT JOIN patients AS p ON p.patient_id = m.patient_id
LEFT JOIN payer_spans AS ps
  ON ps.patient_id = m.patient_id
 AND CAST(m.sent_at AS DATE) >= ps.span_start
 AND CAST(m.sent_at AS DATE) < ps.span_end
WHERE m.sent_at IS NOT NULL
  AND coalesce(m.sent_at + params.state_window <= horizon.as_of, true)
