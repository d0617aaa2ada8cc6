-- cms122_denominator_exclusion(pat, age, mp_start, mp_end): CMS122
-- (DiabetesGlycemicStatusAssessmentGreaterThan9PercentFHIR 0.1.002)
-- "Denominator Exclusions" for patient pat, aged age at the end of the
-- measurement period mp_start..mp_end; any of
--   * Hospice 6.12.000 "Has Hospice Services" (ecqm_hospice);
--   * AdvancedIllnessandFrailty 1.16.000 "Is Age 66 or Older Living Long
--     Term in a Nursing Home" (ecqm_nursing_home);
--   * AdvancedIllnessandFrailty 1.16.000 "Is Age 66 or Older with Advanced
--     Illness and Frailty": 66 or older, frail, and an advanced illness
--     (onset in the year before or during the period) or an active dementia
--     medication order whose supply overlaps that time. Unlike CMS165's
--     "Is Age 66 to 80 with Advanced Illness and Frailty or Is Age 81 or
--     Older with Frailty" there is no frailty-alone branch at 81+. That
--     definition's 66-80 branch is this one without the upper bound, so
--     ecqm_advanced_illness_frailty is asked with the age capped at 80: for
--     any age of 66 or more it then evaluates frailty and (advanced illness
--     or dementia medication), and below 66 it is false. (The initial
--     population stops at 75, where both definitions agree anyway.)
--   * PalliativeCare 1.11.000 "Has Palliative Care in the Measurement
--     Period" (ecqm_palliative_care).
CREATE OR REPLACE TEMP MACRO cms122_denominator_exclusion(pat, age, mp_start, mp_end) AS
    ecqm_hospice(pat, mp_start, mp_end)
    OR ecqm_nursing_home(pat, age, mp_start, mp_end)
    OR ecqm_advanced_illness_frailty(pat, CASE WHEN age > 80 THEN 80 ELSE age END, mp_start, mp_end)
    OR ecqm_palliative_care(pat, mp_start, mp_end)
