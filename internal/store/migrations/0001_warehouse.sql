-- 0001_warehouse: the canonical, de-identified warehouse.
--
-- Every patient-level table is keyed by patient_id, a random surrogate drawn
-- from the vault (etl/deid). Record keys (*_key) are keyed one-way pseudonyms
-- of the source record ids; the key lives in the vault, never here. No name,
-- address, phone, email, MRN, SSN, source id or free text is stored.
-- Tables carry no PRIMARY KEY: loads upsert by key with DELETE + INSERT inside
-- one transaction, which DuckDB's index constraints do not allow.

CREATE TABLE patients (
    patient_id     VARCHAR NOT NULL,
    birth_date     DATE,              -- NULL when age_90_plus
    birth_year     INTEGER,           -- NULL when age_90_plus
    age_90_plus    BOOLEAN NOT NULL,  -- aged over 89 at load: ages collapse to "90+"
    sex            VARCHAR NOT NULL,  -- female | male | other | unknown
    zip3           VARCHAR,           -- first three ZIP digits; restricted areas -> '000'
    state          VARCHAR,           -- two-letter state (allowed under Safe Harbor)
    deceased_date  DATE,
    clinic_id      VARCHAR,           -- managing organisation / home clinic
    source         VARCHAR NOT NULL
);

CREATE TABLE clinics (
    clinic_id  VARCHAR NOT NULL,
    name       VARCHAR NOT NULL
);

CREATE TABLE encounters (
    encounter_key  VARCHAR NOT NULL,
    patient_id     VARCHAR NOT NULL,
    class          VARCHAR NOT NULL,  -- ambulatory | inpatient | emergency | telehealth | other
    status         VARCHAR NOT NULL,
    type_code      VARCHAR,
    start_ts       TIMESTAMP,
    end_ts         TIMESTAMP,
    clinic_id      VARCHAR
);

CREATE TABLE appointments (
    appointment_key  VARCHAR NOT NULL,
    patient_id       VARCHAR NOT NULL,
    status           VARCHAR NOT NULL, -- FHIR AppointmentStatus
    service_type     VARCHAR,
    clinic_id        VARCHAR,
    booked_at        TIMESTAMP,        -- Appointment.created
    start_ts         TIMESTAMP,
    end_ts           TIMESTAMP,
    cancelled_at     TIMESTAMP         -- cancellation time (R5 cancellationDate extension)
);

CREATE TABLE conditions (
    condition_key        VARCHAR NOT NULL,
    patient_id           VARCHAR NOT NULL,
    code_system          VARCHAR NOT NULL, -- code system URI of code (SNOMED CT preferred, else ICD-10-CM, else the first coding)
    code                 VARCHAR NOT NULL,
    icd10_code           VARCHAR,          -- the ICD-10-CM coding when the resource has both
    clinical_status      VARCHAR,
    verification_status  VARCHAR,
    onset_date           DATE,
    abatement_date       DATE,
    recorded_date        DATE
);

CREATE TABLE medication_requests (
    request_key     VARCHAR NOT NULL,
    patient_id      VARCHAR NOT NULL,
    rxnorm_code     VARCHAR,
    status          VARCHAR NOT NULL,
    intent          VARCHAR,
    authored_on     DATE,
    days_supply     INTEGER,  -- dispenseRequest.expectedSupplyDuration in days
    quantity        DOUBLE,
    refills         INTEGER
);

CREATE TABLE medication_dispenses (
    dispense_key    VARCHAR NOT NULL,
    patient_id      VARCHAR NOT NULL,
    request_key     VARCHAR,
    rxnorm_code     VARCHAR,
    status          VARCHAR NOT NULL,
    dispensed_on    DATE,     -- whenHandedOver (else whenPrepared)
    days_supply     INTEGER,
    quantity        DOUBLE
);

-- One row per value: a simple Observation gives one row (panel_code NULL); a
-- panel with components (BP 85354-9) gives one row per component.
CREATE TABLE observations (
    observation_key  VARCHAR NOT NULL,
    patient_id       VARCHAR NOT NULL,
    encounter_key    VARCHAR,
    status           VARCHAR NOT NULL,
    category         VARCHAR,
    panel_code       VARCHAR,
    code_system      VARCHAR NOT NULL,  -- code system URI of code (LOINC preferred)
    code             VARCHAR NOT NULL,
    value            DOUBLE,
    unit             VARCHAR,
    effective_ts     TIMESTAMP
);

CREATE TABLE coverage (
    coverage_key   VARCHAR NOT NULL,
    patient_id     VARCHAR NOT NULL,
    status         VARCHAR,
    payer_id       VARCHAR,
    payer_name     VARCHAR,
    payer_type     VARCHAR,  -- medicare | medicaid | commercial | self_pay | other
    period_start   DATE,
    period_end     DATE
);

-- CRM contacts: one row per contact, keyed by the patient surrogate.
CREATE TABLE contacts (
    patient_id         VARCHAR NOT NULL,
    linked             BOOLEAN NOT NULL, -- matched to an EHR patient through the vault
    preferred_channel  VARCHAR,          -- sms | email | voice | portal
    sms_opt_out        BOOLEAN NOT NULL,
    email_opt_out      BOOLEAN NOT NULL,
    voice_opt_out      BOOLEAN NOT NULL,
    portal_enrolled    BOOLEAN NOT NULL,
    language           VARCHAR,
    created_at         TIMESTAMP,
    updated_at         TIMESTAMP
);

CREATE TABLE campaigns (
    campaign_id   VARCHAR NOT NULL,
    name          VARCHAR NOT NULL,
    purpose       VARCHAR NOT NULL,
    channel       VARCHAR,
    start_date    DATE,
    end_date      DATE
);

CREATE TABLE outreach_messages (
    message_key    VARCHAR NOT NULL,
    patient_id     VARCHAR NOT NULL,
    campaign_id    VARCHAR,
    purpose        VARCHAR NOT NULL, -- appointment_reminder | refill_reminder | preventive_care | lab_result | education | survey
    channel        VARCHAR NOT NULL, -- sms | email | voice | portal
    status         VARCHAR NOT NULL, -- latest state: sent | delivered | opened | replied | failed
    sent_at        TIMESTAMP,
    delivered_at   TIMESTAMP,
    opened_at      TIMESTAMP,
    replied_at     TIMESTAMP,
    failed_at      TIMESTAMP
);

CREATE TABLE survey_responses (
    response_key   VARCHAR NOT NULL,
    patient_id     VARCHAR NOT NULL,
    survey_id      VARCHAR NOT NULL,
    campaign_id    VARCHAR,
    item           VARCHAR NOT NULL, -- nps | cahps_* (see docs/crm-export.md)
    answer         INTEGER,
    answered_at    TIMESTAMP
);

-- ETL bookkeeping. A run that commits creates a snapshot; metrics report the
-- snapshot they were computed on.
CREATE TABLE etl_runs (
    run_id            VARCHAR NOT NULL,
    snapshot_id       BIGINT,           -- NULL for a run that did not commit
    job               VARCHAR NOT NULL,
    status            VARCHAR NOT NULL, -- succeeded | failed
    deid_profile      VARCHAR NOT NULL,
    started_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP NOT NULL,
    duration_ms       BIGINT NOT NULL,
    rows_read         BIGINT NOT NULL,
    rows_loaded       BIGINT NOT NULL,
    rows_quarantined  BIGINT NOT NULL,
    error             VARCHAR,
    data_as_of        TIMESTAMP         -- the source's own time: a Bulk export's transactionTime, else the run's start
);

CREATE TABLE etl_run_counts (
    run_id            VARCHAR NOT NULL,
    source            VARCHAR NOT NULL, -- ehr | crm
    entity            VARCHAR NOT NULL, -- Patient, Encounter, …, contacts, messages, …
    rows_read         BIGINT NOT NULL,
    rows_loaded       BIGINT NOT NULL,
    rows_quarantined  BIGINT NOT NULL,
    rows_skipped      BIGINT NOT NULL   -- records of a type carelens does not load: counted, not read further
);

-- A quarantined record: where it is and why, never its contents.
CREATE TABLE quarantine (
    run_id   VARCHAR NOT NULL,
    source   VARCHAR NOT NULL,
    file     VARCHAR NOT NULL,
    line     BIGINT NOT NULL,
    entity   VARCHAR,
    reason   VARCHAR NOT NULL
);
