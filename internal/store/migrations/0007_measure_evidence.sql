-- 0007_measure_evidence: what eCQM logic reads that the views used to drop
-- (CMS165 Controlling High Blood Pressure, and the Hospice, Palliative Care
-- and Advanced Illness and Frailty libraries other eCQMs such as CMS122
-- share; docs/cms165.md). The added columns are nullable: rows loaded
-- before this migration hold NULL until their resource loads again.

-- Encounter.class.code as sent (v3 ActCode AMB, EMER, IMP, ACUTE, NONAC,
-- PRENC, SS, …). `class` keeps the reporting category, which merges codes
-- CMS165 tells apart (it ignores readings taken in EMER, IMP, ACUTE, NONAC,
-- PRENC and SS encounters, not in OBSENC ones).
ALTER TABLE encounters ADD COLUMN class_code VARCHAR;
-- The code system of type_code: value sets name a code by system and code.
ALTER TABLE encounters ADD COLUMN type_system VARCHAR;
-- Encounter.hospitalization.dischargeDisposition (first coding): a
-- discharge to hospice care excludes a patient from CMS165 and CMS122.
ALTER TABLE encounters ADD COLUMN discharge_system VARCHAR;
ALTER TABLE encounters ADD COLUMN discharge_code VARCHAR;

-- The end of Observation.effective as an interval: Period.end, or the
-- dateTime or instant itself; NULL for a Period without an end (still
-- open). effective_ts is the start.
ALTER TABLE observations ADD COLUMN effective_until TIMESTAMP;
-- value[x] when it is a CodeableConcept (first coding): the answer of an
-- assessment such as hospice care (Yes), housing status or equipment used.
ALTER TABLE observations ADD COLUMN value_system VARCHAR;
ALTER TABLE observations ADD COLUMN value_code VARCHAR;

-- The end of Procedure.performed as an interval: Period.end, or
-- performedDateTime itself; NULL for a Period without an end.
-- (performed_end stays Period.end alone.)
ALTER TABLE procedures ADD COLUMN performed_until TIMESTAMP;

-- Orders of devices (frailty evidence: walkers, wheelchairs, oxygen).
CREATE TABLE device_requests (
    device_request_key  VARCHAR NOT NULL,
    patient_id          VARCHAR NOT NULL,
    status              VARCHAR NOT NULL,
    intent              VARCHAR NOT NULL,
    code_system         VARCHAR,  -- codeCodeableConcept, first coding (a Device reference gives NULL)
    code                VARCHAR,
    authored_on         DATE,
    do_not_perform      BOOLEAN   -- the QI-Core doNotPerform modifier extension; NULL when absent
);

-- Orders of services (hospice care ordered for a patient).
CREATE TABLE service_requests (
    service_request_key VARCHAR NOT NULL,
    patient_id          VARCHAR NOT NULL,
    status              VARCHAR NOT NULL,
    intent              VARCHAR NOT NULL,
    code_system         VARCHAR,  -- code, first coding
    code                VARCHAR,
    authored_on         DATE
);
