-- 0003_view_tables: tables filled by SQL-on-FHIR ViewDefinitions
-- (etl/fhir/views/<table>.json; the view's columns are these columns).

CREATE TABLE procedures (
    procedure_key   VARCHAR NOT NULL,
    patient_id      VARCHAR NOT NULL,
    encounter_key   VARCHAR,
    status          VARCHAR NOT NULL,
    code_system     VARCHAR,
    code            VARCHAR,
    performed_start TIMESTAMP,
    performed_end   TIMESTAMP
);

CREATE TABLE care_plans (
    care_plan_key   VARCHAR NOT NULL,
    patient_id      VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,
    intent          VARCHAR NOT NULL,
    category_system VARCHAR,
    category_code   VARCHAR,
    period_start    TIMESTAMP,
    period_end      TIMESTAMP,
    created         TIMESTAMP
);

-- Communications the EHR records (notices, reminders). The payload is free
-- text and is never selected.
CREATE TABLE communications (
    communication_key  VARCHAR NOT NULL,
    patient_id         VARCHAR NOT NULL,
    status             VARCHAR NOT NULL,
    category_code      VARCHAR,
    medium_code        VARCHAR,
    sent               TIMESTAMP,
    received           TIMESTAMP
);
