// Package contract holds the vocabulary of the CRM export contract
// (docs/crm-export.md) that every CRM source shares: the entity names and
// the Record a source yields. It imports nothing of carelens, so sources
// (etl/crm/rest, etl/crm/pgsrc) build and test without the warehouse.
package contract

import "strings"

// Entity is one entity of the contract: its fields and those a record must
// have.
type Entity struct {
	Name     string
	Fields   []string
	Required []string
}

// Specs are the contract's entities in load order: contacts before the
// records that refer to them.
var Specs = []Entity{
	{"contacts",
		[]string{"contact_id", "mrn", "first_name", "last_name", "email", "phone", "preferred_channel",
			"sms_opt_out", "email_opt_out", "voice_opt_out", "portal_enrolled", "language", "created_at", "updated_at"},
		[]string{"contact_id"}},
	{"campaigns",
		[]string{"campaign_id", "name", "purpose", "channel", "start_date", "end_date"},
		[]string{"campaign_id", "name", "purpose"}},
	{"messages",
		[]string{"message_id", "contact_id", "campaign_id", "purpose", "channel", "body", "sent_at",
			"delivered_at", "opened_at", "replied_at", "failed_at", "failure_reason"},
		[]string{"message_id", "contact_id", "purpose", "channel", "sent_at"}},
	{"message_events",
		[]string{"event_id", "message_id", "event", "occurred_at"},
		[]string{"event_id", "message_id", "event", "occurred_at"}},
	{"survey_responses",
		[]string{"response_id", "contact_id", "survey_id", "campaign_id", "item", "answer", "comment", "answered_at"},
		[]string{"response_id", "contact_id", "survey_id", "item", "answer", "answered_at"}},
	{"consents",
		[]string{"consent_id", "contact_id", "channel", "status", "effective_at"},
		[]string{"consent_id", "contact_id", "channel", "status", "effective_at"}},
}

// Entities are the entity names in load order.
var Entities = func() []string {
	names := make([]string, len(Specs))
	for i, e := range Specs {
		names[i] = e.Name
	}
	return names
}()

// Spec returns the entity named name, or nil.
func Spec(name string) *Entity {
	for i := range Specs {
		if Specs[i].Name == name {
			return &Specs[i]
		}
	}
	return nil
}

// Record is one logical CRM record of an entity: its fields named as in the
// export contract and valued in the contract's text formats. Every source
// (CSV and NDJSON files, the REST pull, the PostgreSQL pull) yields Records,
// so all of them go through the same mappers into the same warehouse rows.
type Record interface {
	// Get returns the trimmed value of a contract field, "" when absent.
	Get(field string) string
}

// Fields is a Record built from named values.
type Fields map[string]string

// Get implements Record.
func (f Fields) Get(field string) string { return strings.TrimSpace(f[field]) }

// FieldError is a field whose value is not a scalar.
type FieldError struct{ Field string }

func (e *FieldError) Error() string { return "field " + SafeName(e.Field) + ": not a scalar value" }

// SourceError is a record a source could not turn into fields (a REST item
// that is not an object, a PostgreSQL value of an unsupported type); Reason
// names fields, never values.
type SourceError struct{ Reason string }

func (e *SourceError) Error() string { return e.Reason }

// SafeName returns a field name fit for a quarantine reason, else a
// placeholder: a reason never echoes arbitrary input.
func SafeName(s string) string {
	if len(s) == 0 || len(s) > 64 {
		return "(invalid name)"
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return "(invalid name)"
		}
	}
	return s
}
