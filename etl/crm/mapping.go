package crm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/carelens/carelens/etl/crm/contract"
	"github.com/carelens/carelens/etl/datepolicy"
	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/internal/store"
)

// RecordError is a problem with one record; Reason names columns, never values.
type RecordError struct{ Reason string }

func (e *RecordError) Error() string { return e.Reason }

func bad(format string, args ...any) error { return &RecordError{Reason: fmt.Sprintf(format, args...)} }

// Mapper maps CRM records to warehouse rows through the vault.
type Mapper struct {
	Vault *deid.Vault
	// Linked and Unlinked count contacts matched and not matched to an EHR
	// patient by MRN.
	Linked, Unlinked int64
	// Dates is the profile's rule for a person's dates (nil keeps them).
	Dates *datepolicy.Policy
	// MessagePatients maps loaded messages' keys to their patients: under
	// the shifted profile an event takes its patient's shift. Loads fill it
	// before the events.
	MessagePatients map[string]string
}

// date applies the profile's date rule to a time of the patient.
func (m *Mapper) date(patient string, t time.Time) (time.Time, error) {
	return m.Dates.Date(patient, t)
}

// NeedsMessagePatients reports whether events need MessagePatients.
func (m *Mapper) NeedsMessagePatients() bool {
	return m.Dates != nil && m.Dates.Profile == deid.ProfileShifted
}

// Entity is one CRM export file and the table it fills.
type Entity struct {
	Name     string // contacts, campaigns, messages, survey_responses
	Table    *store.Table
	Required []string
	Map      func(m *Mapper, r Record, b *store.Batch, seq int64) error
}

// Events are the delivery events of the contract, latest state last.
var Events = []string{"delivered", "opened", "replied", "failed"}

// Entities are the CRM files in load order: contacts before the records that
// refer to them.
var Entities = []*Entity{
	{"contacts", store.Contacts, required("contacts"), mapContact},
	{"campaigns", store.Campaigns, required("campaigns"), mapCampaign},
	{"messages", store.OutreachMessages, required("messages"), mapMessage},
	{"message_events", store.MessageEvents, required("message_events"), mapEvent},
	{"survey_responses", store.SurveyResponses, required("survey_responses"), mapSurvey},
	{"consents", store.Consents, required("consents"), mapConsent},
}

func required(entity string) []string { return contract.Spec(entity).Required }

// EntityNamed returns the entity of a contract name, or nil.
func EntityNamed(name string) *Entity {
	for _, e := range Entities {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// Channels and purposes of the contract.
var (
	Channels = map[string]bool{"sms": true, "email": true, "voice": true, "portal": true}
	// ConsentChannels are the channels a consent record may name; all is
	// every channel.
	ConsentChannels = map[string]bool{"sms": true, "email": true, "voice": true, "portal": true, "all": true}
	ConsentStatuses = map[string]bool{"opt_in": true, "opt_out": true}
	eventCodes      = map[string]bool{"delivered": true, "opened": true, "replied": true, "failed": true}
	Purposes        = map[string]bool{
		"appointment_reminder": true, "refill_reminder": true, "preventive_care": true,
		"lab_result": true, "education": true, "survey": true,
	}
	// SurveyItems maps each item to its answer range.
	SurveyItems = map[string][2]int{
		"nps": {0, 10}, "cahps_rating": {0, 10}, "cahps_explain": {1, 4},
		"cahps_listen": {1, 4}, "cahps_respect": {1, 4}, "cahps_time": {1, 4},
	}
)

var errTime = errors.New("bad timestamp")

// errErased quarantines the records of a person erased under GDPR art. 17:
// later loads skip them.
var errErased = bad("contact_id: the person was erased (GDPR art. 17): not loaded")

// ParseTime parses a contract timestamp: RFC 3339, or "YYYY-MM-DD HH:MM:SS"
// as UTC. "" gives the zero time.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02 15:04:05", s); err == nil {
		return t, nil
	}
	return time.Time{}, errTime
}

func timeCol(r Record, col string) (time.Time, error) {
	t, err := ParseTime(r.Get(col))
	if err != nil {
		return t, bad("%s: invalid timestamp", col)
	}
	return t, nil
}

func dateCol(r Record, col string) (time.Time, error) {
	s := r.Get(col)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return t, bad("%s: invalid date", col)
	}
	return t, nil
}

func boolCol(r Record, col string) (bool, error) {
	switch strings.ToLower(r.Get(col)) {
	case "", "false", "0", "no", "n", "f":
		return false, nil
	case "true", "1", "yes", "y", "t":
		return true, nil
	}
	return false, bad("%s: not a boolean", col)
}

func codeCol(r Record, col string, allowed map[string]bool, required bool) (string, error) {
	v := strings.ToLower(r.Get(col))
	if v == "" {
		if required {
			return "", bad("%s: missing", col)
		}
		return "", nil
	}
	if !allowed[v] {
		return "", bad("%s: unknown code", col)
	}
	return v, nil
}

func need(r Record, cols ...string) error {
	for _, c := range cols {
		if r.Get(c) == "" {
			return bad("%s: missing", c)
		}
	}
	return nil
}

// contactPatient returns the surrogate of a contact already loaded.
func (m *Mapper) contactPatient(r Record) (string, error) {
	s, ok := m.Vault.Lookup(deid.NSContact, r.Get("contact_id"))
	if !ok {
		if m.Vault.IsErased(deid.NSContact, r.Get("contact_id")) {
			return "", errErased
		}
		return "", bad("contact_id: not a known contact")
	}
	return s, nil
}

func mapContact(m *Mapper, r Record, b *store.Batch, seq int64) error {
	if err := need(r, "contact_id"); err != nil {
		return err
	}
	channel, err := codeCol(r, "preferred_channel", Channels, false)
	if err != nil {
		return err
	}
	var flags [4]bool
	for i, c := range []string{"sms_opt_out", "email_opt_out", "voice_opt_out", "portal_enrolled"} {
		if flags[i], err = boolCol(r, c); err != nil {
			return err
		}
	}
	created, err := timeCol(r, "created_at")
	if err != nil {
		return err
	}
	updated, err := timeCol(r, "updated_at")
	if err != nil {
		return err
	}
	cid := r.Get("contact_id")
	if m.Vault.IsErased(deid.NSContact, cid) {
		return errErased
	}
	ehr, matched := "", false
	if mrn := r.Get("mrn"); mrn != "" {
		ehr, matched = m.Vault.Lookup(deid.NSMRNValue, mrn)
	}
	// A contact keeps the surrogate it was first given, so ids stay stable
	// across loads; it is linked when that is its EHR patient's.
	s, known := m.Vault.Lookup(deid.NSContact, cid)
	switch {
	case known:
	case matched:
		s = ehr
		if err := m.Vault.Bind(deid.NSContact, cid, s); err != nil {
			return err
		}
	default:
		if s, err = m.Vault.Surrogate(deid.NSContact, cid); err != nil {
			return err
		}
	}
	if created, err = m.date(s, created); err != nil {
		return err
	}
	if updated, err = m.date(s, updated); err != nil {
		return err
	}
	linked := matched && s == ehr
	if linked {
		m.Linked++
	} else {
		m.Unlinked++
	}
	b.Row().Str(s).Bool(linked).Str(channel).Bool(flags[0]).Bool(flags[1]).Bool(flags[2]).Bool(flags[3]).
		Str(strings.ToLower(r.Get("language"))).Time(created).Time(updated).End(seq)
	return nil
}

func mapCampaign(m *Mapper, r Record, b *store.Batch, seq int64) error {
	if err := need(r, "campaign_id", "name"); err != nil {
		return err
	}
	purpose, err := codeCol(r, "purpose", Purposes, true)
	if err != nil {
		return err
	}
	channel, err := codeCol(r, "channel", Channels, false)
	if err != nil {
		return err
	}
	start, err := dateCol(r, "start_date")
	if err != nil {
		return err
	}
	end, err := dateCol(r, "end_date")
	if err != nil {
		return err
	}
	b.Row().Str(r.Get("campaign_id")).Str(r.Get("name")).Str(purpose).Str(channel).Date(start).Date(end).End(seq)
	return nil
}

func mapMessage(m *Mapper, r Record, b *store.Batch, seq int64) error {
	if err := need(r, "message_id", "contact_id", "sent_at"); err != nil {
		return err
	}
	purpose, err := codeCol(r, "purpose", Purposes, true)
	if err != nil {
		return err
	}
	channel, err := codeCol(r, "channel", Channels, true)
	if err != nil {
		return err
	}
	var ts [5]time.Time
	cols := [5]string{"sent_at", "delivered_at", "opened_at", "replied_at", "failed_at"}
	for i, c := range cols {
		if ts[i], err = timeCol(r, c); err != nil {
			return err
		}
		if i > 0 && !ts[i].IsZero() && ts[i].Before(ts[0]) {
			return bad("%s: before sent_at", c)
		}
	}
	status := "sent"
	for i, st := range []string{"", "delivered", "opened", "replied", "failed"} {
		if i > 0 && !ts[i].IsZero() {
			status = st
		}
	}
	pid, err := m.contactPatient(r)
	if err != nil {
		return err
	}
	for i := range ts {
		if ts[i], err = m.date(pid, ts[i]); err != nil {
			return err
		}
	}
	b.Row().Str(m.Vault.RecordKey("crm:message", r.Get("message_id"))).Str(pid).Str(r.Get("campaign_id")).
		Str(purpose).Str(channel).Str(status).Time(ts[0]).Time(ts[1]).Time(ts[2]).Time(ts[3]).Time(ts[4]).End(seq)
	return nil
}

func mapSurvey(m *Mapper, r Record, b *store.Batch, seq int64) error {
	if err := need(r, "response_id", "contact_id", "survey_id", "answered_at"); err != nil {
		return err
	}
	item := strings.ToLower(r.Get("item"))
	rng, ok := SurveyItems[item]
	if !ok {
		return bad("item: unknown survey item")
	}
	answer, err := strconv.Atoi(r.Get("answer"))
	if err != nil || answer < rng[0] || answer > rng[1] {
		return bad("answer: not an integer in %d..%d", rng[0], rng[1])
	}
	at, err := timeCol(r, "answered_at")
	if err != nil {
		return err
	}
	pid, err := m.contactPatient(r)
	if err != nil {
		return err
	}
	if at, err = m.date(pid, at); err != nil {
		return err
	}
	b.Row().Str(m.Vault.RecordKey("crm:survey_response", r.Get("response_id"))).Str(pid).Str(r.Get("survey_id")).
		Str(r.Get("campaign_id")).Str(item).Int32(int32(answer), true).Time(at).End(seq)
	return nil
}

func mapEvent(m *Mapper, r Record, b *store.Batch, seq int64) error {
	if err := need(r, "event_id", "message_id", "occurred_at"); err != nil {
		return err
	}
	event, err := codeCol(r, "event", eventCodes, true)
	if err != nil {
		return err
	}
	at, err := timeCol(r, "occurred_at")
	if err != nil {
		return err
	}
	// The message may load later (or has loaded earlier): the event waits
	// in message_events under the message's key either way, except under the
	// shifted profile, where the event's time moves by its patient's shift.
	msg := m.Vault.RecordKey("crm:message", r.Get("message_id"))
	var pid string
	if m.NeedsMessagePatients() {
		var ok bool
		if pid, ok = m.MessagePatients[msg]; !ok {
			return bad("message_id: message not loaded (under the shifted profile an event needs its message's patient)")
		}
	}
	if at, err = m.date(pid, at); err != nil {
		return err
	}
	b.Row().Str(m.Vault.RecordKey("crm:message_event", r.Get("event_id"))).Str(msg).Str(event).Time(at).End(seq)
	return nil
}

func mapConsent(m *Mapper, r Record, b *store.Batch, seq int64) error {
	if err := need(r, "consent_id", "contact_id", "effective_at"); err != nil {
		return err
	}
	channel, err := codeCol(r, "channel", ConsentChannels, true)
	if err != nil {
		return err
	}
	status, err := codeCol(r, "status", ConsentStatuses, true)
	if err != nil {
		return err
	}
	at, err := timeCol(r, "effective_at")
	if err != nil {
		return err
	}
	pid, err := m.contactPatient(r)
	if err != nil {
		return err
	}
	if at, err = m.date(pid, at); err != nil {
		return err
	}
	b.Row().Str(m.Vault.RecordKey("crm:consent", r.Get("consent_id"))).Str(pid).Str(channel).Str(status).Time(at).End(seq)
	return nil
}
