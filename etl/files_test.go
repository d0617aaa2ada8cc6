package etl

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/etl/synth"
	"github.com/carelens/carelens/internal/store"
)

func openTestDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "w.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func runMini(t *testing.T, db *store.DB, v *deid.Vault) *Result {
	t.Helper()
	job := NewFilesJob(FilesOptions{Dir: "testdata/mini", DB: db, Vault: v, Profile: deid.ProfileLimited, BatchSize: 2})
	res, err := job.Run(context.Background())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}

// The expected numbers below are counted by hand from testdata/mini; the
// comment on each says why a record is quarantined.
func TestFilesJobMini(t *testing.T) {
	db := openTestDB(t)
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
	res := runMini(t, db, v)

	want := map[string][4]int64{ // read, loaded, quarantined, rows
		"ehr/Patient":          {5, 2, 3, 2}, // invalid birthDate, truncated JSON, an Encounter in the Patient file
		"ehr/Organization":     {2, 2, 0, 1}, // the payer is accepted but is not a clinic
		"ehr/Condition":        {0, 0, 0, 0}, // listed in the manifest, missing on disk: a file-level quarantine row
		"ehr/Coverage":         {1, 1, 0, 1},
		"ehr/Encounter":        {1, 1, 0, 1},
		"ehr/Appointment":      {6, 4, 2, 3}, // "no-show" is not a status; no Patient participant; ap-2 twice
		"ehr/Observation":      {3, 2, 1, 3}, // BP panel gives 2 rows; value "high" is not a number
		"crm/contacts":         {4, 3, 1, 3}, // channel "pager"
		"crm/campaigns":        {2, 2, 0, 2},
		"crm/messages":         {7, 3, 4, 3}, // unknown contact, delivered before sent, bad sent_at, short row
		"crm/survey_responses": {3, 2, 1, 2}, // cahps answer 7 out of 1..4
	}
	got := map[string][4]int64{}
	for _, c := range res.Counts {
		got[c.Source+"/"+c.Entity] = [4]int64{c.Read, c.Loaded, c.Quarantined, c.Rows}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counts\n got %v\nwant %v", got, want)
	}
	if res.Read != 34 || res.Loaded != 22 || res.Quarantined != 12 || res.Read != res.Loaded+res.Quarantined {
		t.Errorf("totals read=%d loaded=%d quarantined=%d, want 34 22 12", res.Read, res.Loaded, res.Quarantined)
	}
	if res.Linked != 2 || res.Unlinked != 1 {
		t.Errorf("contacts linked=%d unlinked=%d, want 2 and 1", res.Linked, res.Unlinked)
	}
	if res.SnapshotID != 1 || res.Status != "succeeded" {
		t.Errorf("snapshot %d status %s", res.SnapshotID, res.Status)
	}
	// The data's time is the manifest's transactionTime, not the clock.
	if asOf := queryStrings(t, db, `SELECT strftime(data_as_of, '%Y-%m-%dT%H:%M:%S') FROM etl_runs`); fmt.Sprint(asOf) != "[2025-12-31T23:59:59]" {
		t.Errorf("data_as_of = %v, want the manifest's 2025-12-31T23:59:59", asOf)
	}

	// Quarantine rows: where and why, and reconciled with the counts (plus
	// one file-level row: Condition is in the manifest but not on disk).
	q := queryStrings(t, db, `SELECT file || ':' || line || ': ' || reason FROM quarantine ORDER BY file, line`)
	wantQ := []string{
		"crm/contacts.csv:4: preferred_channel: unknown code",
		"crm/messages.csv:4: contact_id: not a known contact",
		"crm/messages.csv:5: delivered_at: before sent_at",
		"crm/messages.csv:6: sent_at: invalid timestamp",
		"crm/messages.csv:7: wrong number of fields",
		"crm/survey_responses.csv:4: answer: not an integer in 1..4",
		"ehr/Appointment.000.ndjson:4: status: not a code of http://hl7.org/fhir/ValueSet/appointmentstatus",
		"ehr/Appointment.000.ndjson:5: patient_id: missing",
		"ehr/Condition.000.ndjson:0: file listed but missing",
		"ehr/Observation.000.ndjson:3: value: not a double",
		"ehr/Patient.000.ndjson:4: birth_date: invalid date",
		"ehr/Patient.000.ndjson:5: malformed JSON",
		"ehr/Patient.000.ndjson:6: resourceType Encounter where Patient expected",
	}
	if len(q) != len(wantQ) {
		t.Fatalf("quarantine:\n%s", strings.Join(q, "\n"))
	}
	for i := range q {
		if !strings.HasPrefix(q[i], wantQ[i]) {
			t.Errorf("quarantine[%d] = %q, want prefix %q", i, q[i], wantQ[i])
		}
	}

	// De-identified values.
	a, _ := v.Lookup(deid.NSPatient, "pat-a")
	b, _ := v.Lookup(deid.NSPatient, "pat-b")
	pats := queryStrings(t, db, `SELECT patient_id || ' ' || coalesce(birth_date::VARCHAR, '-') || ' ' || coalesce(birth_year::VARCHAR, '-') || ' ' ||
		age_90_plus || ' ' || sex || ' ' || zip3 || ' ' || state || ' ' || coalesce(clinic_id, '-') FROM patients ORDER BY birth_year NULLS LAST`)
	wantP := []string{a + " 1961-04-12 1961 false female 021 MA clinic-01", b + " - - true male 000 NV -"}
	if fmt.Sprint(pats) != fmt.Sprint(wantP) {
		t.Errorf("patients\n got %v\nwant %v", pats, wantP)
	}
	appts := queryStrings(t, db, `SELECT patient_id || ' ' || status || ' ' || coalesce(clinic_id, '-') || ' ' || coalesce(strftime(cancelled_at, '%Y-%m-%dT%H:%M'), '-') || ' ' || coalesce(strftime(booked_at, '%H:%M'), '-')
		FROM appointments ORDER BY start_ts`)
	wantA := []string{a + " fulfilled clinic-01 - 10:00", b + " fulfilled clinic-01 - 15:00", a + " cancelled - 2025-03-11T18:30 10:00"}
	if fmt.Sprint(appts) != fmt.Sprint(wantA) {
		t.Errorf("appointments\n got %v\nwant %v", appts, wantA)
	}
	obs := queryStrings(t, db, `SELECT coalesce(panel_code, '-') || ' ' || code || ' ' || value || ' ' || (encounter_key IS NOT NULL) FROM observations ORDER BY code`)
	wantO := []string{"- 4548-4 9.4 false", "85354-9 8462-4 86.0 true", "85354-9 8480-6 138.0 true"}
	if fmt.Sprint(obs) != fmt.Sprint(wantO) {
		t.Errorf("observations\n got %v\nwant %v", obs, wantO)
	}
	contacts := queryStrings(t, db, `SELECT patient_id || ' ' || linked || ' ' || preferred_channel || ' ' || email_opt_out || ' ' || portal_enrolled FROM contacts WHERE linked ORDER BY preferred_channel`)
	wantC := []string{a + " true sms true true", b + " true voice false false"}
	if fmt.Sprint(contacts) != fmt.Sprint(wantC) {
		t.Errorf("contacts\n got %v\nwant %v", contacts, wantC)
	}
	msgs := queryStrings(t, db, `SELECT patient_id || ' ' || status FROM outreach_messages ORDER BY sent_at, status`)
	c200, _ := v.Lookup(deid.NSContact, "C200")
	wantM := []string{a + " replied", b + " delivered", c200 + " failed"}
	if fmt.Sprint(msgs) != fmt.Sprint(wantM) {
		t.Errorf("messages\n got %v\nwant %v", msgs, wantM)
	}
	if s := queryStrings(t, db, `SELECT payer_type FROM coverage`); fmt.Sprint(s) != "[medicare]" {
		t.Errorf("payer types %v", s)
	}

	assertNoIdentifiers(t, db, []string{
		"Anneliese", "Quillfeather", "Tobias", "Okonkwo-Brandt", "Wilhelmina", "Fairweather-Osei", "Ezekiel", "Marchbanks",
		"MRN10000001", "MRN10000002", "MRN99999999", "999-11-2222", "617-555-01", "@example", "Larkspur Lane", "Aultman",
		"Cambridge", "Ely", "MBR-778899", "pat-a", "pat-b", "enc-1", "ap-1", "ap-2", "ap-3", "obs-bp", "cov-1",
		"C100", "C200", "C400", "M1", "M7", "R1", "see you Tuesday", "flu shot", "nurse was great",
	})
}

func TestFilesJobIdempotentAndStable(t *testing.T) {
	db := openTestDB(t)
	vpath := filepath.Join(t.TempDir(), "vault")
	v, _ := deid.OpenEncrypted(vpath, testVaultKey)
	runMini(t, db, v)
	before := tableCounts(t, db)
	ids := queryStrings(t, db, `SELECT patient_id FROM patients ORDER BY 1`)

	v2, err := deid.OpenEncrypted(vpath, testVaultKey) // as a new process would
	if err != nil {
		t.Fatal(err)
	}
	res := runMini(t, db, v2)
	if res.SnapshotID != 2 {
		t.Errorf("second snapshot = %d, want 2", res.SnapshotID)
	}
	if after := tableCounts(t, db); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("re-running changed the warehouse:\nbefore %v\nafter  %v", before, after)
	}
	if again := queryStrings(t, db, `SELECT patient_id FROM patients ORDER BY 1`); fmt.Sprint(again) != fmt.Sprint(ids) {
		t.Errorf("surrogates changed across runs: %v then %v", ids, again)
	}
}

func TestFailedRunKeepsLastGoodData(t *testing.T) {
	db := openTestDB(t)
	dir := t.TempDir()
	v, _ := deid.OpenEncrypted(filepath.Join(dir, "vault"), testVaultKey)
	runMini(t, db, v)
	before := tableCounts(t, db)

	// A vault that cannot be saved makes the run fail after all its inserts.
	blocked := filepath.Join(dir, "blocked")
	bad, err := deid.OpenEncrypted(blocked, testVaultKey)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(blocked, "x"), 0o700) // Save cannot rename over a folder
	job := NewFilesJob(FilesOptions{Dir: "testdata/mini", DB: db, Vault: bad, Profile: deid.ProfileLimited})
	res, err := job.Run(context.Background())
	if err == nil || res.Status != "failed" {
		t.Fatalf("run with unsavable vault: err=%v status=%s", err, res.Status)
	}
	if after := tableCounts(t, db); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("failed run changed the warehouse:\nbefore %v\nafter  %v", before, after)
	}
	if snap, _ := db.Snapshot(context.Background()); snap != 1 {
		t.Errorf("snapshot after failed run = %d, want 1", snap)
	}
	st := queryStrings(t, db, `SELECT status || ' ' || coalesce(snapshot_id::VARCHAR, '-') FROM etl_runs ORDER BY started_at`)
	if fmt.Sprint(st) != "[succeeded 1 failed -]" {
		t.Errorf("etl_runs = %v", st)
	}
}

func TestEmptySourceFails(t *testing.T) {
	db := openTestDB(t)
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
	job := NewFilesJob(FilesOptions{Dir: t.TempDir(), DB: db, Vault: v, Profile: deid.ProfileLimited})
	if _, err := job.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "no input files") {
		t.Fatalf("empty folder: %v", err)
	}
	if _, err := db.Snapshot(context.Background()); err == nil {
		t.Fatal("an empty folder made a snapshot")
	}
}

func queryStrings(t *testing.T, db *store.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s.String)
	}
	return out
}

func tableCounts(t *testing.T, db *store.DB) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, name := range queryStrings(t, db, `SELECT table_name FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_name NOT LIKE 'etl_%' AND table_name NOT IN ('quarantine', 'schema_migrations')`) {
		var n int
		db.QueryRow("SELECT count(*) FROM " + name).Scan(&n)
		m[name] = n
	}
	return m
}

// assertNoIdentifiers fails if any text value in any table of the database
// contains one of the identifiers.
func assertNoIdentifiers(t *testing.T, db *store.DB, identifiers []string) {
	t.Helper()
	leaks := ScanForStrings(t, db, identifiers)
	sort.Strings(leaks)
	for _, l := range leaks {
		t.Errorf("identifier leaked: %s", l)
	}
}

// ScanForStrings returns table.column: needle for every text value in the
// database containing one of needles.
func ScanForStrings(t testing.TB, db *store.DB, needles []string) []string {
	t.Helper()
	var leaks []string
	err := db.EachText(context.Background(), func(table, column, v string) {
		for _, n := range needles {
			if strings.Contains(v, n) {
				leaks = append(leaks, fmt.Sprintf("%s.%s contains %q", table, column, n))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return leaks
}

// The identifier scan must be able to fail: a value that is in the warehouse
// (a clinic name, organisational and allowed) is found.
func TestScanFindsPlantedValue(t *testing.T) {
	db := openTestDB(t)
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
	runMini(t, db, v)
	if leaks := ScanForStrings(t, db, []string{"Larkspur Family"}); len(leaks) != 1 || !strings.HasPrefix(leaks[0], "clinics.name") {
		t.Fatalf("scan found %v, want clinics.name", leaks)
	}
}

// Generated data with malformed lines: every line read is loaded or
// quarantined, the quarantine holds exactly the lines the generator broke
// (truth.json), and the counts per entity equal the lines written.
func TestGeneratedCorruptionReconciles(t *testing.T) {
	dir := t.TempDir()
	truth, err := synth.Generate(context.Background(), synth.Options{
		Patients: 300, Seed: 5, OutDir: dir, CorruptEvery: 40,
		From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(truth.Corrupted) == 0 {
		t.Fatal("generator corrupted nothing")
	}
	db := openTestDB(t)
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
	res, err := NewFilesJob(FilesOptions{Dir: dir, DB: db, Vault: v, Profile: deid.ProfileLimited}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Counts {
		if c.Read != c.Loaded+c.Quarantined {
			t.Errorf("%s/%s: read %d != loaded %d + quarantined %d", c.Source, c.Entity, c.Read, c.Loaded, c.Quarantined)
		}
		if want := int64(truth.Counts[c.Entity]); c.Read+c.Skipped != want {
			t.Errorf("%s/%s: read %d + skipped %d, generator wrote %d", c.Source, c.Entity, c.Read, c.Skipped, want)
		}
	}
	var total int
	for file, n := range truth.Corrupted {
		var got int
		db.QueryRow(`SELECT count(*) FROM quarantine WHERE file = ?`, file).Scan(&got)
		if got != n {
			t.Errorf("%s: %d quarantined, generator corrupted %d", file, got, n)
		}
		total += n
	}
	if res.Quarantined != int64(total) {
		t.Errorf("run quarantined %d, generator corrupted %d", res.Quarantined, total)
	}
}

// An incremental export: its deleted Bundles remove resources, its output
// updates one, and its error file is recorded against the run by severity
// and code without the diagnostics (which name a resource).
func TestIncrementalDeletesUpdatesAndErrors(t *testing.T) {
	db := openTestDB(t)
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
	runMini(t, db, v)
	res, err := NewFilesJob(FilesOptions{Dir: "testdata/mini-incr", DB: db, Vault: v, Profile: deid.ProfileLimited}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][4]int64{}
	for _, c := range res.Counts {
		got[c.Entity] = [4]int64{c.Read, c.Loaded, c.Quarantined, c.Rows}
	}
	want := map[string][4]int64{
		"deleted":          {3, 2, 1, 3}, // ap-3, pat-b and obs-a1c deleted; Basic is not loaded; a Patient is not a Bundle
		"OperationOutcome": {1, 0, 1, 0},
		"Appointment":      {1, 1, 0, 1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counts\n got %v\nwant %v", got, want)
	}
	a, _ := v.Lookup(deid.NSPatient, "pat-a")
	if p := queryStrings(t, db, `SELECT patient_id FROM patients`); fmt.Sprint(p) != "["+a+"]" {
		t.Errorf("patients after deleting pat-b: %v", p)
	}
	if s := queryStrings(t, db, `SELECT status FROM appointments ORDER BY start_ts`); fmt.Sprint(s) != "[noshow fulfilled]" {
		t.Errorf("appointments after update and delete: %v", s)
	}
	if s := queryStrings(t, db, `SELECT code FROM observations ORDER BY code`); fmt.Sprint(s) != "[8462-4 8480-6]" {
		t.Errorf("observations after deleting obs-a1c: %v", s)
	}
	reasons := queryStrings(t, db, `SELECT file || ':' || line || ': ' || reason FROM quarantine WHERE run_id = '`+res.RunID+`' ORDER BY file, line`)
	wantR := []string{
		"ehr/deleted/Bundle.000.ndjson:3: deleted file line is not a Bundle",
		"ehr/error/OperationOutcome.000.ndjson:1: server export error: error processing",
	}
	if fmt.Sprint(reasons) != fmt.Sprint(wantR) {
		t.Errorf("quarantine\n got %q\nwant %q", reasons, wantR)
	}
	if leaks := ScanForStrings(t, db, []string{"pat-zzz-4711"}); len(leaks) > 0 {
		t.Errorf("server diagnostics leaked: %v", leaks)
	}
	if asOf := queryStrings(t, db, `SELECT max(data_as_of)::VARCHAR FROM etl_runs`); fmt.Sprint(asOf) != "[2026-01-31 23:59:59]" {
		t.Errorf("data_as_of %v", asOf)
	}
}

// A file that breaks mid-way (a truncated gzip) keeps what was read before
// the break, is recorded with where it broke, and the other files load.
func TestBrokenFileDoesNotAbortOthers(t *testing.T) {
	dir := t.TempDir()
	copyFile := func(src, dst string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, dst), b, 0o600)
	}
	copyFile("testdata/mini/ehr/Encounter.000.ndjson", "Encounter.ndjson")
	copyFile("testdata/mini/ehr/Organization.000.ndjson", "Organization.ndjson")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(zw, `{"resourceType":"Appointment","id":"a%d","status":"booked","start":"2025-03-0%dT09:00:00Z","participant":[{"actor":{"reference":"Patient/p%d"}}]}`+"\n", i, 1+i%9, i%50)
	}
	zw.Close()
	os.WriteFile(filepath.Join(dir, "Appointment.ndjson.gz"), buf.Bytes()[:buf.Len()*2/3], 0o600)

	db := openTestDB(t)
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
	res, err := NewFilesJob(FilesOptions{Dir: dir, DB: db, Vault: v, Profile: deid.ProfileLimited}).Run(context.Background())
	if err != nil {
		t.Fatalf("a broken file aborted the run: %v", err)
	}
	counts := map[string]*Count{}
	for _, c := range res.Counts {
		counts[c.Entity] = c
	}
	if c := counts["Encounter"]; c == nil || c.Loaded != 1 {
		t.Fatalf("Encounter counts %+v", c)
	}
	ap := counts["Appointment"]
	if ap == nil || ap.Loaded == 0 || ap.Loaded >= 3000 || ap.Read != ap.Loaded {
		t.Fatalf("Appointment counts %+v: want the lines before the break loaded", ap)
	}
	q := queryStrings(t, db, `SELECT line || ': ' || reason FROM quarantine WHERE file = 'Appointment.ndjson.gz'`)
	if want := fmt.Sprintf("%d: file unreadable: unexpected EOF", ap.Read+1); len(q) != 1 || q[0] != want {
		t.Fatalf("quarantine %q, want [%q]", q, want)
	}
}
