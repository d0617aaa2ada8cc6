-- 0006_crm_sync: where each pulled CRM source stands, per entity.
--
-- watermark is the since of the next pull (the time the last complete pull
-- started, by the CRM's clock when it says). While a pull is under way its
-- cursor, since and start are kept here, committed with each page's rows, so
-- a failed run resumes from its last committed page.
CREATE TABLE crm_sync (
    source        VARCHAR NOT NULL,
    entity        VARCHAR NOT NULL,
    watermark     TIMESTAMP,        -- NULL: never completed (the next pull is full)
    cursor        VARCHAR,          -- NULL: no pull under way
    pull_since    TIMESTAMP,
    pull_started  TIMESTAMP,
    updated_at    TIMESTAMP NOT NULL
);
