-- in_value_set(csys, ccode, vs): whether the code ccode of code system csys
-- (a URI such as http://snomed.info/sct) is a member of the value set vs,
-- named by its canonical URL or its OID, as loaded into value_set_codes by
-- `carelens etl valuesets` (the expansion's codes). Measures select codes
-- this way, never by code lists pasted into SQL. NULL codes are members of
-- nothing; a value set that was not loaded has no members.
CREATE OR REPLACE TEMP MACRO in_value_set(csys, ccode, vs) AS EXISTS (
    SELECT 1
    FROM value_set_codes AS ivs_code
    WHERE (ivs_code.url = vs OR ivs_code.oid = vs)
      AND ivs_code.system = csys
      AND ivs_code.code = ccode
)
