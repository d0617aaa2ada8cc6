package etl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"database/sql"
	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/etl/synth"
	"github.com/carelens/carelens/internal/store"
	"time"
)

// writeCRM writes crm/ files (name → lines) into a fresh folder.
func writeCRM(t *testing.T, files map[string][]string) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "crm"), 0o700)
	for name, lines := range files {
		if err := os.WriteFile(filepath.Join(dir, "crm", name), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Delivery events arrive before their message, twice, out of order and
// re-sent; consent and contact records arrive older than what is loaded.
// The warehouse keeps one row per message with each state at its earliest
// time, and the consent decided by the latest effective time. Expected
// values are worked out in the comments.
func TestCRMEventsAndConsent(t *testing.T) {
	contacts := "contact_id,mrn,first_name,preferred_channel,sms_opt_out,email_opt_out,language,created_at,updated_at"
	first := writeCRM(t, map[string][]string{
		"contacts.csv": {contacts,
			"C-1,,Oriel,sms,false,false,en,2024-01-01T00:00:00Z,2025-03-01T00:00:00Z",
			"C-2,,Pim,email,false,true,en,2024-01-01T00:00:00Z,2025-03-01T00:00:00Z"},
		"messages.ndjson": {
			`{"message_id":"M-1","contact_id":"C-1","purpose":"appointment_reminder","channel":"sms","sent_at":"2025-03-01T10:00:00Z","body":"Hi Oriel"}`,
			`{"message_id":"M-2","contact_id":"C-2","purpose":"refill_reminder","channel":"email","sent_at":"2025-03-01T10:00:00Z","delivered_at":"2025-03-01T10:05:00Z"}`},
		"message_events.ndjson": {
			`{"event_id":"E-1","message_id":"M-1","event":"opened","occurred_at":"2025-03-01T10:20:00Z"}`,
			`{"event_id":"E-2","message_id":"M-1","event":"delivered","occurred_at":"2025-03-01T10:02:00Z"}`,
			`{"event_id":"E-2","message_id":"M-1","event":"delivered","occurred_at":"2025-03-01T10:02:00Z"}`,
			`{"event_id":"E-3","message_id":"M-1","event":"delivered","occurred_at":"2025-03-01T10:40:00Z"}`,
			`{"event_id":"E-4","message_id":"M-9","event":"delivered","occurred_at":"2025-03-01T09:03:00Z"}`,
			`["E-5","M-1"]`,
			`{"event_id":"E-6","message_id":"M-1","event":{"code":"read"},"occurred_at":"2025-03-01T10:20:00Z"}`,
			`{"event_id":"E-7","message_id":"M-1","event":"bounced","occurred_at":"2025-03-01T10:20:00Z"}`},
		"consents.csv": {"consent_id,contact_id,channel,status,effective_at",
			"K-1,C-1,sms,opt_out,2025-04-01T00:00:00Z",
			"K-2,C-1,sms,opt_in,2025-02-01T00:00:00Z",
			"K-3,C-404,sms,opt_out,2025-02-01T00:00:00Z"},
	})
	db := openTestDB(t)
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
	run := func(dir string) *Result {
		t.Helper()
		res, err := NewFilesJob(FilesOptions{Dir: dir, DB: db, Vault: v, Profile: deid.ProfileLimited}).Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := run(first)
	counts := map[string]string{}
	for _, c := range res.Counts {
		counts[c.Entity] = fmt.Sprintf("%d=%d+%d", c.Read, c.Loaded, c.Quarantined)
	}
	// events: 8 lines, 5 loaded (E-2 twice), 3 quarantined (an array, a
	// nested value, an unknown event); consents: K-3's contact is unknown.
	if want := "map[consents:3=2+1 contacts:2=2+0 message_events:8=5+3 messages:2=2+0]"; fmt.Sprint(counts) != want {
		t.Errorf("counts %v, want %s", counts, want)
	}
	q := queryStrings(t, db, `SELECT file || ':' || line || ': ' || reason FROM quarantine ORDER BY file, line`)
	wantQ := "[crm/consents.csv:4: contact_id: not a known contact crm/message_events.ndjson:6: record is not a JSON object " +
		"crm/message_events.ndjson:7: field event: not a scalar value crm/message_events.ndjson:8: event: unknown code]"
	if fmt.Sprint(q) != wantQ {
		t.Errorf("quarantine %v", q)
	}
	msgs := func() []string {
		return queryStrings(t, db, `SELECT m.status || ' ' || coalesce(strftime(delivered_at, '%H:%M'), '-') || ' ' ||
			coalesce(strftime(opened_at, '%H:%M'), '-') || ' ' || coalesce(strftime(replied_at, '%H:%M'), '-')
			FROM outreach_messages m ORDER BY sent_at, purpose`)
	}
	// M-1 (appointment_reminder): delivered at the earliest of E-2/E-3,
	// opened by E-1 although it arrived first; M-2 from its own column.
	if got := fmt.Sprint(msgs()); got != "[opened 10:02 10:20 - delivered 10:05 - -]" {
		t.Errorf("messages after the first load: %s", got)
	}
	consent := func() []string {
		return queryStrings(t, db, `SELECT channel || ' ' || opted_out || ' ' || source FROM channel_consent
			WHERE patient_id = (SELECT patient_id FROM contacts WHERE language = 'en' AND preferred_channel = 'sms') ORDER BY channel`)
	}
	// C-1: sms decided by K-1 (latest, opt-out) over K-2 and the contact's
	// flag of 2025-03-01; other channels by the contact record.
	if got := fmt.Sprint(consent()); got != "[email false contact portal false contact sms true consent voice false contact]" {
		t.Errorf("C-1 consent after the first load: %s", got)
	}

	// A second load of older data, the late message M-9 and a new event.
	second := writeCRM(t, map[string][]string{
		"contacts.csv": {contacts,
			"C-1,,Oriel,voice,true,true,es,2024-01-01T00:00:00Z,2025-01-01T00:00:00Z"},
		"messages.csv": {"message_id,contact_id,purpose,channel,sent_at",
			"M-9,C-2,lab_result,email,2025-03-01T09:00:00Z",
			"M-1,C-1,appointment_reminder,sms,2025-03-01T10:00:00Z"},
		"message_events.csv": {"event_id,message_id,event,occurred_at",
			"E-8,M-1,replied,2025-03-01T11:00:00Z"},
		"consents.ndjson": {
			`{"consent_id":"K-4","contact_id":"C-1","channel":"all","status":"opt_in","effective_at":"2025-03-15T00:00:00Z"}`},
	})
	run(second)
	before := tableCounts(t, db)
	// M-9 takes E-4 (loaded a run earlier); M-1 keeps its states though its
	// record came again without them, and is replied now.
	if got := fmt.Sprint(msgs()); got != "[delivered 09:03 - - replied 10:02 10:20 11:00 delivered 10:05 - -]" {
		t.Errorf("messages after the second load: %s", got)
	}
	// The older contact record changed nothing (language en, sms channel);
	// K-4 (2025-03-15) beats the contact record (2025-03-01) for email,
	// voice and portal but not K-1 (2025-04-01) for sms.
	if got := fmt.Sprint(consent()); got != "[email false consent portal false consent sms true consent voice false consent]" {
		t.Errorf("C-1 consent after the second load: %s", got)
	}
	// Loading the same data again changes nothing.
	run(second)
	if after := tableCounts(t, db); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("re-run changed counts\nbefore %v\nafter  %v", before, after)
	}
	if got := fmt.Sprint(msgs()); got != "[delivered 09:03 - - replied 10:02 10:20 11:00 delivered 10:05 - -]" {
		t.Errorf("messages after a re-run: %s", got)
	}
	if leaks := ScanForStrings(t, db, []string{"Oriel", "Pim", "C-1", "M-1", "E-2", "K-1"}); len(leaks) > 0 {
		t.Errorf("leaks: %v", leaks)
	}
}

// A warehouse keeps one de-identification profile: a load under another is
// refused before it reads anything, and the data stays as it was.
func TestProfileChangeRefused(t *testing.T) {
	db := openTestDB(t)
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
	runMini(t, db, v)
	before := tableCounts(t, db)
	_, err := NewFilesJob(FilesOptions{Dir: "testdata/mini", DB: db, Vault: v, Profile: deid.ProfileSafeHarbor}).Run(context.Background())
	if !errors.Is(err, ErrProfileChange) || !strings.Contains(err.Error(), "limited") || !strings.Contains(err.Error(), "safe_harbor") {
		t.Fatalf("load under another profile: %v, want ErrProfileChange naming both", err)
	}
	if after := tableCounts(t, db); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the refused load changed the warehouse")
	}
}

// Under safe_harbor only years survive: every date of a person keeps its
// year alone, birth dates go (the birth year stays), and campaign dates
// (not a person's) stay as they are.
func TestSafeHarborDates(t *testing.T) {
	db := openTestDB(t)
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
	if _, err := NewFilesJob(FilesOptions{Dir: "testdata/mini", DB: db, Vault: v, Profile: deid.ProfileSafeHarbor}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	q := func(sql string) string {
		t.Helper()
		return fmt.Sprint(queryStrings(t, db, sql))
	}
	if got := q(`SELECT count(*) FROM patients WHERE birth_date IS NOT NULL`); got != "[0]" {
		t.Errorf("birth dates kept: %s", got)
	}
	if got := q(`SELECT count(*) FROM patients WHERE birth_year IS NOT NULL`); got == "[0]" {
		t.Errorf("no birth year kept")
	}
	for _, c := range []struct{ table, col string }{
		{"encounters", "start_ts"}, {"appointments", "start_ts"}, {"appointments", "booked_at"}, {"observations", "effective_ts"},
		{"coverage", "period_start"}, {"outreach_messages", "sent_at"}, {"outreach_messages", "delivered_at"},
		{"contacts", "created_at"}, {"survey_responses", "answered_at"},
	} {
		got := q(fmt.Sprintf(`SELECT count(*) FILTER (WHERE %[2]s IS NOT NULL) || '/' || count(*) FILTER (WHERE strftime(%[2]s, '%%m-%%d %%H:%%M:%%S') <> '01-01 00:00:00') FROM %[1]s`, c.table, c.col))
		if strings.HasPrefix(got, "[0/") || !strings.HasSuffix(got, "/0]") {
			t.Errorf("%s.%s: %s (values / values that are not 1 January)", c.table, c.col, got)
		}
	}
	if got := q(`SELECT count(*) FROM campaigns WHERE strftime(start_date, '%m-%d') <> '01-01'`); got == "[0]" {
		t.Errorf("campaign dates were truncated")
	}
}

// Erasing a patient deletes their rows from every table that holds them,
// the events of their messages included, and nobody else's; the erasure
// commits a snapshot of its own.
func TestErasePatientRows(t *testing.T) {
	db := openTestDB(t)
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
	dir := writeCRM(t, map[string][]string{
		"contacts.csv": {"contact_id,preferred_channel,updated_at", "C-1,sms,2025-03-01T00:00:00Z", "C-2,sms,2025-03-01T00:00:00Z"},
		"messages.csv": {"message_id,contact_id,purpose,channel,sent_at",
			"M-1,C-1,lab_result,sms,2025-03-01T09:00:00Z", "M-2,C-2,lab_result,sms,2025-03-01T09:00:00Z"},
		"message_events.csv": {"event_id,message_id,event,occurred_at",
			"E-1,M-1,delivered,2025-03-01T09:01:00Z", "E-2,M-2,delivered,2025-03-01T09:01:00Z"},
		"consents.csv": {"consent_id,contact_id,channel,status,effective_at", "K-1,C-1,sms,opt_out,2025-04-01T00:00:00Z"},
	})
	if _, err := NewFilesJob(FilesOptions{Dir: dir, DB: db, Vault: v, Profile: deid.ProfileLimited}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	s1, _ := v.Lookup(deid.NSContact, "C-1")
	s2, _ := v.Lookup(deid.NSContact, "C-2")
	deleted, err := ErasePatient(context.Background(), db, s1, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "map[channel_consent:4 consents:1 contacts:1 message_events:1 outreach_messages:1]"
	if fmt.Sprint(deleted) != want {
		t.Errorf("deleted %v, want %s", deleted, want)
	}
	for _, tbl := range []string{"contacts", "outreach_messages", "channel_consent"} {
		if got := queryStrings(t, db, fmt.Sprintf(`SELECT DISTINCT patient_id FROM %s`, tbl)); fmt.Sprint(got) != "["+s2+"]" {
			t.Errorf("%s after erasure: %v, want only the other patient", tbl, got)
		}
	}
	if got := queryStrings(t, db, `SELECT (SELECT count(*) FROM message_events) || ' ' || (SELECT count(*) FROM consents)`); fmt.Sprint(got) != "[1 0]" {
		t.Errorf("message_events after erasure: %v", got)
	}
	if got := queryStrings(t, db, `SELECT job || ' ' || snapshot_id FROM etl_runs ORDER BY snapshot_id DESC LIMIT 1`); fmt.Sprint(got) != "[privacy-erase 2]" {
		t.Errorf("erasure run: %v", got)
	}
}

// Under the shifted profile every date of a patient moves by that patient's
// own offset from the vault, in every table and source (delivery events by
// their message's patient), so intervals within a patient are kept; birth
// dates go and birth years stay.
func TestShiftedDates(t *testing.T) {
	ctx := context.Background()
	gen := t.TempDir()
	if _, err := synth.Generate(ctx, synth.Options{Patients: 150, Seed: 3, OutDir: gen,
		From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	vaultPath := filepath.Join(t.TempDir(), "vault")
	v1, _ := deid.OpenEncrypted(vaultPath, testVaultKey)
	limited := openTestDB(t)
	if _, err := NewFilesJob(FilesOptions{Dir: gen, DB: limited, Vault: v1, Profile: deid.ProfileLimited}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	v2 := copyVault(t, vaultPath)
	shifted := openTestDB(t)
	if _, err := NewFilesJob(FilesOptions{Dir: gen, DB: shifted, Vault: v2, Profile: deid.ProfileShifted}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	// Each (key, patient, time) of the shifted load, against the limited one.
	compare := func(table, key, col, patientExpr string) {
		t.Helper()
		q := fmt.Sprintf(`SELECT %[2]s, %[4]s, strftime(%[3]s, '%%Y-%%m-%%dT%%H:%%M:%%S') FROM %[1]s x WHERE %[3]s IS NOT NULL ORDER BY 1`, table, key, col, patientExpr)
		a, b := queryRows(t, limited, q), queryRows(t, shifted, q)
		if len(a) == 0 || len(a) != len(b) {
			t.Fatalf("%s.%s: %d rows limited, %d shifted", table, col, len(a), len(b))
		}
		for i := range a {
			days, err := v2.ShiftDays(a[i][1])
			if err != nil {
				t.Fatal(err)
			}
			orig, _ := time.Parse("2006-01-02T15:04:05", a[i][2])
			if want := orig.AddDate(0, 0, days).Format("2006-01-02T15:04:05"); b[i][0] != a[i][0] || b[i][2] != want {
				t.Fatalf("%s.%s row %d: shifted %v, want %s (shift %d days)", table, col, i, b[i], want, days)
			}
		}
	}
	compare("appointments", "appointment_key", "start_ts", "patient_id")
	compare("encounters", "encounter_key", "start_ts", "patient_id")
	compare("medication_dispenses", "dispense_key", "dispensed_on", "patient_id")
	compare("observations", "observation_key || coalesce(code, '')", "effective_ts", "patient_id")
	compare("outreach_messages", "message_key", "sent_at", "patient_id")
	compare("contacts", "patient_id", "created_at", "patient_id")
	compare("message_events", "event_key", "occurred_at", "(SELECT patient_id FROM outreach_messages m WHERE m.message_key = x.message_key)")
	if got := queryStrings(t, shifted, `SELECT count(*) FILTER (WHERE birth_date IS NOT NULL) || ' ' || count(*) FILTER (WHERE birth_year IS NULL AND NOT age_90_plus) FROM patients`); fmt.Sprint(got) != "[0 0]" {
		t.Errorf("shifted patients: birth dates kept / birth years missing: %v", got)
	}
}

// queryRows returns each row's columns as text.
func queryRows(t *testing.T, db *store.DB, q string) [][]string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	return out
}
