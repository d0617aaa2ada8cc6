-- ecqm_qualifying_encounter(pat, mp_start, mp_end): AdultOutpatientEncounters
-- 4.11.000 "Qualifying Encounters" (CMS165, CMS122): a performed encounter
-- (status finished, arrived, triaged, in-progress or onleave) typed as an
-- office visit, annual wellness visit, preventive care visit 18 and up
-- (initial or established), home healthcare service, virtual encounter or
-- telephone visit, whose period lies within the measurement period
-- mp_start..mp_end at day precision ("during day of"). A period without an
-- end runs to the end of time, so it is not within the measurement period.
CREATE OR REPLACE TEMP MACRO ecqm_qualifying_encounter(pat, mp_start, mp_end) AS EXISTS (
    SELECT 1
    FROM encounters AS eqe_enc
    WHERE eqe_enc.patient_id = pat
      AND eqe_enc.status IN ('finished', 'arrived', 'triaged', 'in-progress', 'onleave')
      AND (in_value_set(eqe_enc.type_system, eqe_enc.type_code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.101.12.1001') -- Office Visit
        OR in_value_set(eqe_enc.type_system, eqe_enc.type_code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.526.3.1240')         -- Annual Wellness Visit
        OR in_value_set(eqe_enc.type_system, eqe_enc.type_code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.101.12.1025') -- Preventive Care Services Established Office Visit, 18 and Up
        OR in_value_set(eqe_enc.type_system, eqe_enc.type_code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.101.12.1023') -- Preventive Care Services Initial Office Visit, 18 and Up
        OR in_value_set(eqe_enc.type_system, eqe_enc.type_code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.101.12.1016') -- Home Healthcare Services
        OR in_value_set(eqe_enc.type_system, eqe_enc.type_code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.101.12.1089') -- Virtual Encounter
        OR in_value_set(eqe_enc.type_system, eqe_enc.type_code, 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.101.12.1080')) -- Telephone Visits
      AND CAST(eqe_enc.start_ts AS DATE) >= CAST(mp_start AS DATE)
      AND CAST(eqe_enc.end_ts AS DATE) <= CAST(mp_end AS DATE)
)
