-- 0002_value_sets: FHIR ValueSet expansions, so metrics select codes by
-- value-set URL or OID instead of pasting code lists into SQL.

CREATE TABLE value_sets (
    url       VARCHAR NOT NULL,  -- canonical URL
    oid       VARCHAR,           -- the OID when the value set has one (VSAC)
    version   VARCHAR,
    name      VARCHAR,
    title     VARCHAR,
    status    VARCHAR,
    codes     INTEGER NOT NULL   -- number of codes in value_set_codes
);

CREATE TABLE value_set_codes (
    url             VARCHAR NOT NULL,
    oid             VARCHAR,
    system          VARCHAR NOT NULL,  -- code system URI (http://snomed.info/sct, http://loinc.org, …)
    code            VARCHAR NOT NULL,
    display         VARCHAR,
    system_version  VARCHAR
);
