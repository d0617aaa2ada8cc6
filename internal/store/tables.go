package store

// The warehouse tables that Go mappers (the CRM's) write, in the column order
// of migrations/0001_warehouse.sql (TestTablesMatchSchema keeps them in
// step). The EHR and value-set tables are filled through ViewDefinitions
// (etl/fhir/views), which take their columns from the live schema.
var (
	Contacts = &Table{Name: "contacts", Key: "patient_id", Version: "updated_at", Columns: []Column{
		{"patient_id", String}, {"linked", Bool}, {"preferred_channel", String}, {"sms_opt_out", Bool},
		{"email_opt_out", Bool}, {"voice_opt_out", Bool}, {"portal_enrolled", Bool}, {"language", String},
		{"created_at", Timestamp}, {"updated_at", Timestamp},
	}}
	Campaigns = &Table{Name: "campaigns", Key: "campaign_id", Columns: []Column{
		{"campaign_id", String}, {"name", String}, {"purpose", String}, {"channel", String},
		{"start_date", Date}, {"end_date", Date},
	}}
	OutreachMessages = &Table{Name: "outreach_messages", Key: "message_key",
		Earliest: []string{"delivered_at", "opened_at", "replied_at", "failed_at"}, Columns: []Column{
			{"message_key", String}, {"patient_id", String}, {"campaign_id", String}, {"purpose", String},
			{"channel", String}, {"status", String}, {"sent_at", Timestamp}, {"delivered_at", Timestamp},
			{"opened_at", Timestamp}, {"replied_at", Timestamp}, {"failed_at", Timestamp},
		}}
	SurveyResponses = &Table{Name: "survey_responses", Key: "response_key", Columns: []Column{
		{"response_key", String}, {"patient_id", String}, {"survey_id", String}, {"campaign_id", String},
		{"item", String}, {"answer", Int32}, {"answered_at", Timestamp},
	}}
	MessageEvents = &Table{Name: "message_events", Key: "event_key", Columns: []Column{
		{"event_key", String}, {"message_key", String}, {"event", String}, {"occurred_at", Timestamp},
	}}
	Consents = &Table{Name: "consents", Key: "consent_key", Columns: []Column{
		{"consent_key", String}, {"patient_id", String}, {"channel", String}, {"status", String},
		{"effective_at", Timestamp},
	}}
	Quarantine = &Table{Name: "quarantine", Columns: []Column{
		{"run_id", String}, {"source", String}, {"file", String}, {"line", Int64},
		{"entity", String}, {"reason", String},
	}}
)

// WarehouseTables lists the tables Go mappers fill.
var WarehouseTables = []*Table{Contacts, Campaigns, OutreachMessages, MessageEvents, SurveyResponses, Consents}
