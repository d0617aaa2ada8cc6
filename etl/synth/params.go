package synth

// Params are the generator's model parameters. Generate uses DefaultParams
// and records them in truth.json, so that a test can check a measure against
// the effect that was put into the data. docs/generator.md explains each.
type Params struct {
	Appointments AppointmentParams `json:"appointments"`
	Adherence    AdherenceParams   `json:"adherence"`
	HbA1c        HbA1cParams       `json:"hba1c"`
	BP           BPParams          `json:"bp"`
	Outreach     OutreachParams    `json:"outreach"`
	Acute        AcuteParams       `json:"acute"`
}

// AppointmentParams drive scheduling and attendance. A due appointment is a
// no-show with probability logistic(NoshowBaseLogit + NoshowLeadPerWeek ×
// lead weeks + ReminderLogOdds × [a reminder was delivered in the
// ReminderWindowDays before start] + the patient's propensity ~ N(0,
// NoshowPatientSD)).
type AppointmentParams struct {
	VisitsPerYearBase         float64 `json:"visits_per_year_base"`
	VisitsPerYearPerCondition float64 `json:"visits_per_year_per_condition"`
	VisitsPerYearInfant       float64 `json:"visits_per_year_infant"` // under 2 years, well-child visits
	FutureDays                int     `json:"future_days"`            // booked appointments run this far past the export
	LeadShortShare            float64 `json:"lead_short_share"`       // lead time 0–7 days
	LeadMediumShare           float64 `json:"lead_medium_share"`      // 7–35 days; the rest 35–120 days
	NoshowBaseLogit           float64 `json:"noshow_base_logit"`
	NoshowLeadPerWeek         float64 `json:"noshow_lead_per_week"`
	ReminderLogOdds           float64 `json:"reminder_log_odds"`
	ReminderWindowDays        int     `json:"reminder_window_days"`
	NoshowPatientSD           float64 `json:"noshow_patient_sd"`
	ReminderShare             float64 `json:"reminder_share"`   // of appointments with a reachable contact
	CancelProb                float64 `json:"cancel_prob"`      // cancelled at least LateCancelHours before start
	LateCancelProb            float64 `json:"late_cancel_prob"` // cancelled less than LateCancelHours before start
	LateCancelHours           int     `json:"late_cancel_hours"`
	EnteredInErrorProb        float64 `json:"entered_in_error_prob"`
	TelehealthShare           float64 `json:"telehealth_share"` // kept visits that are VR encounters
}

// AdherenceParams drive prescriptions and fills. Each treated patient has
// one adherence propensity a in (0, 1]; a refill comes daysSupply × (1/a − 1)
// days late on average (exponential), or early with EarlyRefillProb.
type AdherenceParams struct {
	TreatProb            float64 `json:"treat_prob"` // a patient with the condition is prescribed its class
	AdherentShare        float64 `json:"adherent_share"`
	AdherentMin          float64 `json:"adherent_min"`
	PartialShare         float64 `json:"partial_share"`
	PartialMin           float64 `json:"partial_min"`
	PartialMax           float64 `json:"partial_max"`
	DropoffShare         float64 `json:"dropoff_share"` // the rest: adherent, then stop refilling at a random date
	PrimaryNonadherence  float64 `json:"primary_nonadherence"`
	EarlyRefillProb      float64 `json:"early_refill_prob"`
	EarlyRefillMaxDays   int     `json:"early_refill_max_days"`
	SwitchProb           float64 `json:"switch_prob"` // per treated class, a switch to another drug of the class
	Supply90Share        float64 `json:"supply_90_share"`
	HistoryDays          int     `json:"history_days"` // fills are exported from this many days before From
	RecentCoverageWindow int     `json:"recent_coverage_window_days"`
}

// HbA1cParams: a diabetic's value = Intercept + SlopePerPDC × c + N(0, SD),
// where c is the share of the RecentCoverageWindow days before the test
// covered by diabetes-drug fills (0 for a prescription never filled, 0.8 for
// a diabetic managed without drugs). Values are clamped to 4.2..15 %.
type HbA1cParams struct {
	Intercept        float64 `json:"intercept"`
	SlopePerPDC      float64 `json:"slope_per_pdc"`
	SD               float64 `json:"sd"`
	NondiabeticMean  float64 `json:"nondiabetic_mean"`
	NondiabeticSD    float64 `json:"nondiabetic_sd"`
	MinIntervalDays  int     `json:"min_interval_days"`
	TestProb         float64 `json:"test_prob"`          // at a kept visit once MinIntervalDays have passed
	NeverTestedShare float64 `json:"never_tested_share"` // diabetics whose HbA1c is never measured
	ScreenProb       float64 `json:"screen_prob"`        // non-diabetic adults 45+, per visit
}

// BPParams: a hypertensive's systolic = SystolicIntercept + SystolicSlopePerPDC
// × recent RAS coverage + SystolicAgeSlope × (age − 60) + N(0, SystolicSD),
// diastolic likewise; others draw around the normotensive means.
type BPParams struct {
	SystolicIntercept    float64 `json:"systolic_intercept"`
	SystolicSlopePerPDC  float64 `json:"systolic_slope_per_pdc"`
	SystolicAgeSlope     float64 `json:"systolic_age_slope"`
	SystolicSD           float64 `json:"systolic_sd"`
	DiastolicIntercept   float64 `json:"diastolic_intercept"`
	DiastolicSlopePerPDC float64 `json:"diastolic_slope_per_pdc"`
	DiastolicSD          float64 `json:"diastolic_sd"`
	NormalSystolicMean   float64 `json:"normotensive_systolic_mean"`
	NormalSystolicAge    float64 `json:"normotensive_systolic_age_slope"`
	NormalDiastolicMean  float64 `json:"normotensive_diastolic_mean"`
	MeasureProb          float64 `json:"measure_prob"`          // adults at an AMB visit
	RepeatProb           float64 `json:"repeat_prob"`           // a second, lower reading at the same visit when the first is ≥ 140/90
	AcuteMeasureProb     float64 `json:"acute_measure_prob"`    // a reading during an ED visit or inpatient stay
	AcuteSystolicExcess  float64 `json:"acute_systolic_excess"` // added to acute readings
}

// OutreachParams drive CRM contacts, consents, messages and their delivery
// events.
type OutreachParams struct {
	ContactShare          float64            `json:"contact_share"`           // patients with a CRM contact carrying their MRN
	UnmatchedContactShare float64            `json:"unmatched_contact_share"` // extra contacts whose MRN matches no patient
	DeliveryProb          map[string]float64 `json:"delivery_prob"`
	OpenProb              map[string]float64 `json:"open_prob"`  // given delivered
	ReplyProb             map[string]float64 `json:"reply_prob"` // given opened
	RefillOverdueDays     int                `json:"refill_overdue_days"`
	RefillReminderShare   float64            `json:"refill_reminder_share"`
	RefillReplyFillBoost  float64            `json:"refill_reply_fill_boost"` // P(fill within RefillReplyWindowDays of a reply)
	RefillReplyWindowDays int                `json:"refill_reply_window_days"`
	FluOutreachProb       float64            `json:"flu_outreach_prob"`
	ScreeningPerYear      float64            `json:"screening_per_year"` // ages 50–75
	PreventiveVisitBoost  float64            `json:"preventive_visit_boost"`
	PreventiveWindowDays  int                `json:"preventive_window_days"`
	EducationPerYear      float64            `json:"education_per_year"` // chronic patients
	LabResultProb         float64            `json:"lab_result_prob"`
	SurveyProb            float64            `json:"survey_prob"`     // after a kept visit
	SurveyResponse        float64            `json:"survey_response"` // given delivered
	SurveyFullShare       float64            `json:"survey_full_share"`
	SurveyCommentProb     float64            `json:"survey_comment_prob"`
	// EventShare of messages report their later states (delivered, opened,
	// replied, failed) as message_events rows, one per state reached, instead
	// of in the message's timestamp columns.
	EventShare float64 `json:"event_share"`
	// EventDuplicate: an event row is followed by a repeated notification
	// (a new event id, 1–600 s later); the true time is the earliest.
	EventDuplicate float64 `json:"event_duplicate"`
	// EventResend: an event row is written twice, same id and content (an
	// at-least-once feed).
	EventResend float64 `json:"event_resend"`
	// ConsentReoptin: a contact not opted out of sms records an sms opt-out
	// and, later, an sms opt-in.
	ConsentReoptin float64 `json:"consent_reoptin"`
	// ConsentWithdrawAll: a contact withdraws consent to every channel (an
	// `all` opt-out); its three opt-out flags are set and it is not messaged.
	ConsentWithdrawAll float64 `json:"consent_withdraw_all"`
}

// AcuteParams drive emergency and inpatient encounters.
type AcuteParams struct {
	EmergencyPerYear          float64 `json:"emergency_per_year"`
	EmergencyPerCondition     float64 `json:"emergency_per_condition"`
	InpatientPerYear          float64 `json:"inpatient_per_year"`
	InpatientPerCondition     float64 `json:"inpatient_per_condition"`
	FollowUp7Prob             float64 `json:"follow_up_7_prob"`
	FollowUp30Prob            float64 `json:"follow_up_30_prob"` // a follow-up on days 8–30, when none within 7
	ReadmitProb               float64 `json:"readmit_prob"`
	DeathProbOver75PerYear    float64 `json:"death_prob_over_75_per_year"`
	DeathProbUnder75PerYear   float64 `json:"death_prob_under_75_per_year"`
	DeathProbPerConditionYear float64 `json:"death_prob_per_condition_per_year"`
}

// DefaultParams returns the parameters Generate uses.
func DefaultParams() Params {
	return Params{
		Appointments: AppointmentParams{
			VisitsPerYearBase:         2.0,
			VisitsPerYearPerCondition: 1.3,
			VisitsPerYearInfant:       5,
			FutureDays:                60,
			LeadShortShare:            0.25,
			LeadMediumShare:           0.45,
			NoshowBaseLogit:           -2.1,
			NoshowLeadPerWeek:         0.09,
			ReminderLogOdds:           -0.7,
			ReminderWindowDays:        7,
			NoshowPatientSD:           0.7,
			ReminderShare:             0.7,
			CancelProb:                0.09,
			LateCancelProb:            0.035,
			LateCancelHours:           24,
			EnteredInErrorProb:        0.004,
			TelehealthShare:           0.15,
		},
		Adherence: AdherenceParams{
			TreatProb:            0.85,
			AdherentShare:        0.55,
			AdherentMin:          0.85,
			PartialShare:         0.30,
			PartialMin:           0.35,
			PartialMax:           0.80,
			DropoffShare:         0.15,
			PrimaryNonadherence:  0.10,
			EarlyRefillProb:      0.20,
			EarlyRefillMaxDays:   10,
			SwitchProb:           0.08,
			Supply90Share:        0.35,
			HistoryDays:          365,
			RecentCoverageWindow: 90,
		},
		HbA1c: HbA1cParams{
			Intercept:        10.4,
			SlopePerPDC:      -3.6,
			SD:               0.7,
			NondiabeticMean:  5.4,
			NondiabeticSD:    0.3,
			MinIntervalDays:  80,
			TestProb:         0.9,
			NeverTestedShare: 0.10,
			ScreenProb:       0.05,
		},
		BP: BPParams{
			SystolicIntercept:    160,
			SystolicSlopePerPDC:  -32,
			SystolicAgeSlope:     0.25,
			SystolicSD:           11,
			DiastolicIntercept:   96,
			DiastolicSlopePerPDC: -17,
			DiastolicSD:          7,
			NormalSystolicMean:   117,
			NormalSystolicAge:    0.3,
			NormalDiastolicMean:  75,
			MeasureProb:          0.95,
			RepeatProb:           0.3,
			AcuteMeasureProb:     0.6,
			AcuteSystolicExcess:  12,
		},
		Outreach: OutreachParams{
			ContactShare:          0.92,
			UnmatchedContactShare: 0.02,
			DeliveryProb:          map[string]float64{"sms": 0.95, "email": 0.92, "voice": 0.80, "portal": 0.98},
			OpenProb:              map[string]float64{"sms": 0.75, "email": 0.45, "voice": 0.60, "portal": 0.50},
			ReplyProb:             map[string]float64{"sms": 0.35, "email": 0.12, "voice": 0.40, "portal": 0.25},
			RefillOverdueDays:     7,
			RefillReminderShare:   0.7,
			RefillReplyFillBoost:  0.6,
			RefillReplyWindowDays: 14,
			FluOutreachProb:       0.5,
			ScreeningPerYear:      0.3,
			PreventiveVisitBoost:  0.15,
			PreventiveWindowDays:  60,
			EducationPerYear:      0.8,
			LabResultProb:         0.6,
			SurveyProb:            0.3,
			SurveyResponse:        0.35,
			SurveyFullShare:       0.7,
			SurveyCommentProb:     0.25,
			EventShare:            0.5,
			EventDuplicate:        0.05,
			EventResend:           0.02,
			ConsentReoptin:        0.03,
			ConsentWithdrawAll:    0.005,
		},
		Acute: AcuteParams{
			EmergencyPerYear:          0.12,
			EmergencyPerCondition:     0.10,
			InpatientPerYear:          0.02,
			InpatientPerCondition:     0.04,
			FollowUp7Prob:             0.45,
			FollowUp30Prob:            0.5,
			ReadmitProb:               0.12,
			DeathProbOver75PerYear:    0.035,
			DeathProbUnder75PerYear:   0.002,
			DeathProbPerConditionYear: 0.004,
		},
	}
}
