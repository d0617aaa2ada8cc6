-- Three adults and a child; January 2025.
--   e1 adult, BP final               -> 1/1
--   e2 adult, BP entered-in-error    -> 0/1
--   e3 adult, no observation         -> 0/1
--   e4 child (10 years old)          -> not counted
--   e5 adult, inpatient              -> not counted
-- January: 1 of 3.
INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, clinic_id, source) VALUES
    ('a', DATE '1970-01-01', 1970, false, 'female', 'c1', 'ehr'),
    ('b', DATE '1980-01-01', 1980, false, 'male',   'c1', 'ehr'),
    ('k', DATE '2015-01-01', 2015, false, 'female', 'c1', 'ehr');
INSERT INTO encounters (encounter_key, patient_id, class, status, start_ts, clinic_id) VALUES
    ('e1', 'a', 'ambulatory', 'finished', TIMESTAMP '2025-01-10 09:00', 'c1'),
    ('e2', 'a', 'ambulatory', 'finished', TIMESTAMP '2025-01-20 09:00', 'c1'),
    ('e3', 'b', 'ambulatory', 'finished', TIMESTAMP '2025-01-21 09:00', 'c1'),
    ('e4', 'k', 'ambulatory', 'finished', TIMESTAMP '2025-01-22 09:00', 'c1'),
    ('e5', 'b', 'inpatient',  'finished', TIMESTAMP '2025-01-23 09:00', 'c1');
INSERT INTO observations (observation_key, patient_id, encounter_key, status, code_system, code, value, effective_ts) VALUES
    ('o1', 'a', 'e1', 'final',            'http://loinc.org', '8480-6', 128, TIMESTAMP '2025-01-10 09:05'),
    ('o2', 'a', 'e2', 'entered-in-error', 'http://loinc.org', '8480-6', 131, TIMESTAMP '2025-01-20 09:05'),
    ('o5', 'b', 'e5', 'final',            'http://loinc.org', '8480-6', 150, TIMESTAMP '2025-01-23 10:00');
