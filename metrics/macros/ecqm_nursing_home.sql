-- ecqm_nursing_home(pat, age, mp_start, mp_end): AdvancedIllnessandFrailty
-- 1.16.000 "Is Age 66 or Older Living Long Term in a Nursing Home": patient
-- pat is 66 or older (age, at the end of the measurement period
-- mp_start..mp_end) and the last housing status assessment (LOINC 71802-3:
-- final, amended or corrected, survey category) ending on or before the
-- period's last day answers "Lives in a nursing home" (SNOMED CT
-- 160734000). Assessments sort by the end of their effective time (an open
-- Period never ends, so it is never "on or before"); ties are broken by
-- record key so the answer is stable.
CREATE OR REPLACE TEMP MACRO ecqm_nursing_home(pat, age, mp_start, mp_end) AS
    coalesce(age >= 66 AND (
        SELECT enh_obs.value_system = 'http://snomed.info/sct' AND enh_obs.value_code = '160734000'
        FROM observations AS enh_obs
        WHERE enh_obs.patient_id = pat
          AND enh_obs.code_system = 'http://loinc.org' AND enh_obs.code = '71802-3'
          AND enh_obs.status IN ('final', 'amended', 'corrected') AND enh_obs.category = 'survey'
          AND CAST(enh_obs.effective_until AS DATE) <= CAST(mp_end AS DATE)
        ORDER BY enh_obs.effective_until DESC, enh_obs.observation_key DESC
        LIMIT 1
    ), false)
