-- A CRM's own outreach tables, as a PostgreSQL source would find them.
-- Deliberately NOT carelens' export contract: other table and column names,
-- real PostgreSQL types (bigint and text keys, timestamptz and timestamp,
-- date, boolean, smallint, enums, check constraints) and jsonb columns
-- carelens must not read. crm_mapping.json maps the contract onto it.
-- Every table has a primary key and an updated_at column; booleans and
-- optional values are nullable so that "" in the contract (stored as NULL)
-- round-trips.

CREATE SCHEMA crm;

CREATE TYPE crm.channel AS ENUM ('sms', 'email', 'voice', 'portal');
CREATE TYPE crm.consent_status AS ENUM ('opt_in', 'opt_out');

-- contacts
CREATE TABLE crm.person (
	person_id     bigint PRIMARY KEY,
	chart_no      text,
	given_name    text,
	family_name   text,
	email_addr    text,
	mobile        text,
	channel_pref  crm.channel,
	sms_blocked   boolean,
	email_blocked boolean,
	voice_blocked boolean,
	portal_active boolean,
	locale        text CHECK (locale ~ '^[a-z]{2,3}(-[A-Za-z0-9]+)*$'),
	is_deleted    boolean NOT NULL DEFAULT false,
	profile       jsonb NOT NULL DEFAULT '{}',
	created_at    timestamptz,
	updated_at    timestamptz NOT NULL DEFAULT now()
);

-- campaigns: a text key
CREATE TABLE crm.campaign (
	code            text PRIMARY KEY,
	title           text NOT NULL,
	goal            text NOT NULL CHECK (goal IN ('appointment_reminder', 'refill_reminder',
		'preventive_care', 'lab_result', 'education', 'survey')),
	default_channel crm.channel,
	starts_on       date,
	ends_on         date,
	budget          numeric(12, 2),
	updated_at      timestamptz NOT NULL DEFAULT now()
);

-- messages: sent_ts is a timestamp without time zone (the CRM writes UTC)
CREATE TABLE crm.outreach (
	outreach_id   bigint PRIMARY KEY,
	person_id     bigint NOT NULL,
	campaign_code text,
	reason        text NOT NULL,
	medium        crm.channel NOT NULL,
	content       text,
	sent_ts       timestamp NOT NULL,
	delivered_ts  timestamptz,
	opened_ts     timestamptz,
	replied_ts    timestamptz,
	failed_ts     timestamptz,
	failure_text  text,
	meta          jsonb NOT NULL DEFAULT '{}',
	updated_at    timestamptz NOT NULL DEFAULT now()
);

-- message_events: a mixed-case column that needs quoting
CREATE TABLE crm.delivery_event (
	delivery_event_id bigint PRIMARY KEY,
	outreach_id       bigint NOT NULL,
	"EventKind"       text NOT NULL CHECK ("EventKind" IN ('delivered', 'opened', 'replied', 'failed')),
	happened_at       timestamptz NOT NULL,
	provider_payload  jsonb,
	updated_at        timestamptz NOT NULL DEFAULT now()
);

-- survey_responses
CREATE TABLE crm.survey_answer (
	answer_id     bigint PRIMARY KEY,
	person_id     bigint NOT NULL,
	instrument    text NOT NULL,
	campaign_code text,
	question      text NOT NULL,
	score         smallint NOT NULL CHECK (score BETWEEN 0 AND 10),
	remark        text,
	answered_ts   timestamptz NOT NULL,
	updated_at    timestamptz NOT NULL DEFAULT now()
);

-- consents
CREATE TABLE crm.consent_log (
	consent_log_id bigint PRIMARY KEY,
	person_id      bigint NOT NULL,
	scope          text NOT NULL CHECK (scope IN ('sms', 'email', 'voice', 'portal', 'all')),
	status         crm.consent_status NOT NULL,
	effective_ts   timestamptz NOT NULL,
	source_system  text NOT NULL DEFAULT 'crm',
	updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Incremental pulls filter on updated_at.
CREATE INDEX ON crm.person (updated_at);
CREATE INDEX ON crm.campaign (updated_at);
CREATE INDEX ON crm.outreach (updated_at);
CREATE INDEX ON crm.delivery_event (updated_at);
CREATE INDEX ON crm.survey_answer (updated_at);
CREATE INDEX ON crm.consent_log (updated_at);
