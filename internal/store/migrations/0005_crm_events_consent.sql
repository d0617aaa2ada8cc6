-- 0005_crm_events_consent: CRM delivery events and consent as data.
--
-- Delivery events arrive late, out of order and sometimes twice: each is
-- kept once (by its key) and outreach_messages carries, per state, the
-- earliest time any event or message record gave it. Consent records are
-- kept as they come; the current state per contact and channel is derived
-- from the latest effective time, so a later load of older data cannot
-- override it.

CREATE TABLE message_events (
    event_key     VARCHAR NOT NULL, -- pseudonym of the CRM event id
    message_key   VARCHAR NOT NULL, -- the message's key in outreach_messages (which may load later)
    event         VARCHAR NOT NULL, -- delivered | opened | replied | failed
    occurred_at   TIMESTAMP NOT NULL
);

CREATE TABLE consents (
    consent_key   VARCHAR NOT NULL, -- pseudonym of the CRM consent record id
    patient_id    VARCHAR NOT NULL,
    channel       VARCHAR NOT NULL, -- sms | email | voice | portal | all
    status        VARCHAR NOT NULL, -- opt_in | opt_out
    effective_at  TIMESTAMP NOT NULL
);

-- Derived after every CRM load: who can be reached by which channel now.
CREATE TABLE channel_consent (
    patient_id    VARCHAR NOT NULL,
    channel       VARCHAR NOT NULL, -- sms | email | voice | portal
    opted_out     BOOLEAN NOT NULL,
    effective_at  TIMESTAMP,        -- when the deciding record took effect (NULL: contact record without times)
    source        VARCHAR NOT NULL  -- consent (a consent record) | contact (the contact record's flags)
);

ALTER TABLE etl_runs ADD COLUMN contacts_linked BIGINT;
ALTER TABLE etl_runs ADD COLUMN contacts_unlinked BIGINT;
