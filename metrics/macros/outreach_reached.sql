-- outreach_reached(or_stage, or_by, or_delivered, or_opened, or_replied):
-- whether an outreach message reached funnel stage or_stage by the time
-- or_by, given its delivered_at, opened_at and replied_at times (the
-- warehouse's outreach_messages columns: per state the earliest time any
-- message record or delivery event gave, docs/crm-export.md). A later state
-- proves the earlier ones, even when their own notification never came:
--   'delivered'  delivered, opened or replied (an open or a reply shows the
--                message reached the patient);
--   'opened'     opened or replied (an SMS or voice reply usually comes
--                without a read receipt);
--   'responded'  replied.
-- The stage's time is the earliest of those times; it counts when it is on
-- or before or_by. A failure (failed_at) alone reaches no stage; a message
-- with both a failure and a delivery notice counts as delivered (the
-- delivery was seen). False when no time is known, or_by is NULL or the
-- stage is none of the three.
CREATE OR REPLACE TEMP MACRO outreach_reached(or_stage, or_by, or_delivered, or_opened, or_replied) AS
    coalesce(
        CASE or_stage
            WHEN 'delivered' THEN least(or_delivered, or_opened, or_replied)
            WHEN 'opened' THEN least(or_opened, or_replied)
            WHEN 'responded' THEN or_replied
        END <= or_by,
        false)
