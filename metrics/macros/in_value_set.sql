-- in_value_set(csys, ccode, vs): whether the code ccode of code system csys
-- (a URI such as http://snomed.info/sct) is a member of the value set vs,
-- named by its canonical URL or its OID, as loaded into value_set_codes by
-- `carelens etl valuesets` (the expansion's codes). Measures select codes
-- this way, never by code lists pasted into SQL. NULL codes are members of
-- nothing; a value set that was not loaded has no members.
--
-- Written as a membership test of the (system, code) pair in the value
-- set's codes rather than a correlated EXISTS: with vs a constant, as at
-- every call, the subquery does not depend on the row, so DuckDB builds
-- one hash table for it instead of a delimited join per call (the CMS165
-- query makes 45 of them).
CREATE OR REPLACE TEMP MACRO in_value_set(csys, ccode, vs) AS coalesce(
    {'system': csys, 'code': ccode} IN (
        SELECT {'system': ivs_code.system, 'code': ivs_code.code}
        FROM value_set_codes AS ivs_code
        WHERE ivs_code.url = vs OR ivs_code.oid = vs
    ),
    false)
