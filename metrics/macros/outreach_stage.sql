-- outreach_stage(os_by, os_delivered, os_opened, os_replied): the furthest
-- funnel stage an outreach message reached by the time os_by, by the rules
-- of outreach_reached: 'responded', 'opened', 'delivered', else
-- 'not_delivered' (failed, or no delivery, open or reply seen by then).
-- Conversion metrics report it as their `reached` dimension.
CREATE OR REPLACE TEMP MACRO outreach_stage(os_by, os_delivered, os_opened, os_replied) AS
    CASE
        WHEN outreach_reached('responded', os_by, os_delivered, os_opened, os_replied) THEN 'responded'
        WHEN outreach_reached('opened', os_by, os_delivered, os_opened, os_replied) THEN 'opened'
        WHEN outreach_reached('delivered', os_by, os_delivered, os_opened, os_replied) THEN 'delivered'
        ELSE 'not_delivered'
    END
