package store

// The warehouse tables that loads write, in the column order of
// migrations/0001_warehouse.sql (TestTablesMatchSchema keeps them in step).
var (
	Clinics = &Table{Name: "clinics", Key: "clinic_id", Columns: []Column{
		{"clinic_id", String}, {"name", String},
	}}
	Patients = &Table{Name: "patients", Key: "patient_id", Columns: []Column{
		{"patient_id", String}, {"birth_date", Date}, {"birth_year", Int32}, {"age_90_plus", Bool},
		{"sex", String}, {"zip3", String}, {"state", String}, {"deceased_date", Date},
		{"clinic_id", String}, {"source", String},
	}}
	Encounters = &Table{Name: "encounters", Key: "encounter_key", Columns: []Column{
		{"encounter_key", String}, {"patient_id", String}, {"class", String}, {"status", String},
		{"type_code", String}, {"start_ts", Timestamp}, {"end_ts", Timestamp}, {"clinic_id", String},
	}}
	Appointments = &Table{Name: "appointments", Key: "appointment_key", Columns: []Column{
		{"appointment_key", String}, {"patient_id", String}, {"status", String}, {"service_type", String},
		{"clinic_id", String}, {"booked_at", Timestamp}, {"start_ts", Timestamp}, {"end_ts", Timestamp},
		{"cancelled_at", Timestamp},
	}}
	Conditions = &Table{Name: "conditions", Key: "condition_key", Columns: []Column{
		{"condition_key", String}, {"patient_id", String}, {"code_system", String}, {"code", String},
		{"icd10_code", String}, {"clinical_status", String}, {"verification_status", String},
		{"onset_date", Date}, {"abatement_date", Date}, {"recorded_date", Date},
	}}
	MedicationRequests = &Table{Name: "medication_requests", Key: "request_key", Columns: []Column{
		{"request_key", String}, {"patient_id", String}, {"rxnorm_code", String}, {"status", String},
		{"intent", String}, {"authored_on", Date}, {"days_supply", Int32}, {"quantity", Float64},
		{"refills", Int32},
	}}
	MedicationDispenses = &Table{Name: "medication_dispenses", Key: "dispense_key", Columns: []Column{
		{"dispense_key", String}, {"patient_id", String}, {"request_key", String}, {"rxnorm_code", String},
		{"status", String}, {"dispensed_on", Date}, {"days_supply", Int32}, {"quantity", Float64},
	}}
	Observations = &Table{Name: "observations", Key: "observation_key", Columns: []Column{
		{"observation_key", String}, {"patient_id", String}, {"encounter_key", String}, {"status", String},
		{"category", String}, {"panel_code", String}, {"code_system", String}, {"code", String}, {"value", Float64},
		{"unit", String}, {"effective_ts", Timestamp},
	}}
	Coverage = &Table{Name: "coverage", Key: "coverage_key", Columns: []Column{
		{"coverage_key", String}, {"patient_id", String}, {"status", String}, {"payer_id", String},
		{"payer_name", String}, {"payer_type", String}, {"period_start", Date}, {"period_end", Date},
	}}
	Contacts = &Table{Name: "contacts", Key: "patient_id", Columns: []Column{
		{"patient_id", String}, {"linked", Bool}, {"preferred_channel", String}, {"sms_opt_out", Bool},
		{"email_opt_out", Bool}, {"voice_opt_out", Bool}, {"portal_enrolled", Bool}, {"language", String},
		{"created_at", Timestamp}, {"updated_at", Timestamp},
	}}
	Campaigns = &Table{Name: "campaigns", Key: "campaign_id", Columns: []Column{
		{"campaign_id", String}, {"name", String}, {"purpose", String}, {"channel", String},
		{"start_date", Date}, {"end_date", Date},
	}}
	OutreachMessages = &Table{Name: "outreach_messages", Key: "message_key", Columns: []Column{
		{"message_key", String}, {"patient_id", String}, {"campaign_id", String}, {"purpose", String},
		{"channel", String}, {"status", String}, {"sent_at", Timestamp}, {"delivered_at", Timestamp},
		{"opened_at", Timestamp}, {"replied_at", Timestamp}, {"failed_at", Timestamp},
	}}
	SurveyResponses = &Table{Name: "survey_responses", Key: "response_key", Columns: []Column{
		{"response_key", String}, {"patient_id", String}, {"survey_id", String}, {"campaign_id", String},
		{"item", String}, {"answer", Int32}, {"answered_at", Timestamp},
	}}
	ValueSets = &Table{Name: "value_sets", Key: "url", Columns: []Column{
		{"url", String}, {"oid", String}, {"version", String}, {"name", String}, {"title", String},
		{"status", String}, {"codes", Int32},
	}}
	ValueSetCodes = &Table{Name: "value_set_codes", Key: "url", Columns: []Column{
		{"url", String}, {"oid", String}, {"system", String}, {"code", String}, {"display", String},
		{"system_version", String},
	}}
	Quarantine = &Table{Name: "quarantine", Columns: []Column{
		{"run_id", String}, {"source", String}, {"file", String}, {"line", Int64},
		{"entity", String}, {"reason", String},
	}}
)

// WarehouseTables lists the tables that hold loaded data.
var WarehouseTables = []*Table{
	Clinics, Patients, Encounters, Appointments, Conditions, MedicationRequests,
	MedicationDispenses, Observations, Coverage, Contacts, Campaigns, OutreachMessages,
	SurveyResponses, ValueSets, ValueSetCodes,
}
