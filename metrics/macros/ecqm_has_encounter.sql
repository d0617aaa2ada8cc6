-- ecqm_has_encounter(pat, vs, d_from, d_to): whether patient pat has a
-- performed Encounter whose type is in value set vs and whose period
-- overlaps the days d_from..d_to: "exists (([Encounter: vs])
-- .isEncounterPerformed()) E where E.period.toInterval() overlaps day of …".
-- Performed is Status 1.8.000's isEncounterPerformed(): status finished,
-- arrived, triaged, in-progress or onleave. The type is the encounter's
-- first type coding (encounters.type_system, type_code).
CREATE OR REPLACE TEMP MACRO ecqm_has_encounter(pat, vs, d_from, d_to) AS EXISTS (
    SELECT 1
    FROM encounters AS ehe_enc
    WHERE ehe_enc.patient_id = pat
      AND ehe_enc.status IN ('finished', 'arrived', 'triaged', 'in-progress', 'onleave')
      AND in_value_set(ehe_enc.type_system, ehe_enc.type_code, vs)
      AND ecqm_overlaps(ehe_enc.start_ts, ehe_enc.end_ts, d_from, d_to)
)
