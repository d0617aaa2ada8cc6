package privacy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/carelens/carelens/internal/store"
)

func openDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec(t testing.TB, db *store.DB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// plantedIDs are the vault ids the scan test looks for.
var plantedIDs = idsOf(
	"ehr:patient", "1b4e28ba-2fa1-41d2-883f-0016d3cca427",
	"ehr:mrn-value", "MRN12345678",
	"crm:contact", "123456",
	"crm:contact", "55822004",
	"crm:contact", "C7654321",
	"crm:contact", "C1", // too short: ignored
)

// planted are identifiers put into the test database; no report may show
// any of them.
var planted = []string{
	"617-555-0123", "jane.doe@example.com", "123-45-6789", "MRN12345678", "https://portal.example.org/x",
	"10.1.2.3", "12 Main St", "1b4e28ba-2fa1-41d2-883f-0016d3cca427", "123456789", "203.0.113.9",
	"canary.1@canary.invalid", "PT-004211", "C7654321", "ehr.example.org", "storage.example.net",
}

func plantDB(t testing.TB) *store.DB {
	db := openDB(t)
	var safe []string
	for _, v := range safeValues {
		safe = append(safe, "("+sqlQuote(v)+")")
	}
	run := func(id, errMsg string, rows int) string {
		return fmt.Sprintf(`INSERT INTO etl_runs (run_id, job, status, deid_profile, started_at, finished_at, duration_ms,
			rows_read, rows_loaded, rows_quarantined, error) VALUES (%s, 'files', 'failed', 'limited', now(), now(), 1, %d, 0, 0, %s)`,
			sqlQuote(id), rows, sqlQuote(errMsg))
	}
	exec(t, db,
		`CREATE TABLE notes (body VARCHAR, safe VARCHAR, noted DATE, flag BOOLEAN)`,
		`INSERT INTO notes (body) VALUES ('call 617-555-0123'), ('call 617-555-0123'), ('jane.doe@example.com'),
			('SSN 123-45-6789'), ('MRN12345678'), ('see https://portal.example.org/x'), ('from 10.1.2.3'),
			('12 Main St'), ('patient 1b4e28ba-2fa1-41d2-883f-0016d3cca427'), ('ref PT-004211')`,
		`INSERT INTO notes (safe) VALUES `+strings.Join(safe, ", "),
		`CREATE TABLE legacy (ssn VARCHAR, code BIGINT)`,
		`INSERT INTO legacy VALUES ('123456789', 123456), ('987-65-4321', 7)`,
		`INSERT INTO value_sets (url, oid, codes) VALUES
			('http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.103.12.1001', '2.16.840.1.113883.3.464.1003.103.12.1001', 1)`,
		run("r1", "fetch https://ehr.example.org/fhir/$export: 503 Service Unavailable", 123456),
		run("r2", "dial tcp 203.0.113.9:443: i/o timeout", 5),
		`INSERT INTO quarantine VALUES ('r1', 'ehr', 'https://storage.example.net/out/Patient.ndjson', 3, 'Patient', 'malformed JSON'),
			('r1', 'crm', 'smith_MRN12345678.csv', 4, 'contacts', 'wrong number of fields')`,
		`INSERT INTO observations (observation_key, patient_id, status, code_system, code) VALUES
			('k1', 'p1', 'final', 'http://loinc.org', '55822004'), ('k2', 'p1', 'final', 'http://loinc.org', 'C7654321')`,
		`CREATE SCHEMA staging`,
		`CREATE TABLE staging.raw (v VARCHAR)`,
		`INSERT INTO staging.raw VALUES ('Canary.1@canary.invalid')`,
	)
	return db
}

func TestScanFindsPlanted(t *testing.T) {
	db := plantDB(t)
	rep, err := Scan(context.Background(), db, ScanOptions{
		SourceIDs:   plantedIDs,
		MRNPatterns: []string{`PT-\d{6}`},
		ServerHosts: []string{"https://ehr.example.org/fhir"},
		Allow:       []AllowRule{{Table: "notes", Column: "body", Kind: KindURL, Reason: "portal links"}},
		Workers:     3,
	})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		col     string
		kind    Kind
		count   int64
		values  int64
		example string
		allowed bool
	}
	var got []row
	for _, f := range rep.Findings {
		got = append(got, row{f.Table + "." + f.Column, f.Kind, f.Count, f.Values, f.Example, f.Allowed})
	}
	want := []row{
		{"etl_runs.error", KindIP, 1, 1, "2**.*.***.9", false},
		{"etl_runs.error", KindURL, 1, 1, "h****://***.*******.***/****/$*****t", true},
		{"etl_runs.rows_read", "source_id:crm:contact", 1, 1, "1****6", true},
		{"legacy.code", "source_id:crm:contact", 1, 1, "1****6", true},
		{"legacy.ssn", KindSSN, 2, 2, "1*******9", false},
		{"notes.body", KindEmail, 1, 1, "j***.***@*******.**m", false},
		{"notes.body", KindIP, 1, 1, "1*.*.*.3", false},
		{"notes.body", KindMRN, 2, 2, "M*********8", false},
		{"notes.body", KindPhone, 2, 1, "6**-***-***3", false},
		{"notes.body", "source_id:ehr:mrn-value", 1, 1, "M*********8", false},
		{"notes.body", "source_id:ehr:patient", 1, 1, "1*******-****-****-****-***********7", false},
		{"notes.body", KindSSN, 1, 1, "1**-**-***9", false},
		{"notes.body", KindStreet, 1, 1, "1* **** *t", false},
		{"notes.body", KindURL, 1, 1, "h****://******.*******.***/x", true},
		{"observations.code", "source_id:crm:contact", 1, 1, "C******1", false},
		{"observations.code", "source_id:crm:contact", 1, 1, "5******4", true},
		{"observations.code_system", KindURL, 2, 1, "h***://*****.**g", true},
		{"quarantine.file", KindMRN, 1, 1, "M*********8", false},
		{"quarantine.file", "source_id:ehr:mrn-value", 1, 1, "M*********8", false},
		{"quarantine.file", KindURL, 1, 1, "h****://*******.*******.***/***/*******.*****n", true},
		{"staging.raw.v", KindEmail, 1, 1, "C*****.*@******.******d", false},
		{"value_sets.url", KindURL, 1, 1, "h***://***.***.***.***/…*.*.***.****.***.**.***1", true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", fmtRows(got), fmtRows(want))
	}
	if rep.Clean() {
		t.Error("report with failures is clean")
	}
	if rep.SourceIDs.Checked != 5 || rep.SourceIDs.TooShort != 1 || rep.SourceIDs.MinLen != DefaultMinIDLen {
		t.Errorf("source ids %+v", rep.SourceIDs)
	}
	// notes.noted, notes.flag, etl_runs' and quarantine's timestamps, …
	if rep.Skipped < 2 || rep.Columns == 0 || rep.Tables < 4 {
		t.Errorf("tables %d columns %d skipped %d", rep.Tables, rep.Columns, rep.Skipped)
	}
	for _, f := range rep.Findings {
		if f.Allowed != (f.Reason != "") {
			t.Errorf("%s.%s %s: allowed %v with reason %q", f.Table, f.Column, f.Kind, f.Allowed, f.Reason)
		}
	}

	// The text and JSON reports never show a planted value.
	var text, js bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := json.NewEncoder(&js).Encode(rep); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{text.String(), js.String()} {
		for _, v := range planted {
			if strings.Contains(strings.ToLower(out), strings.ToLower(v)) {
				t.Errorf("report shows %q:\n%s", v, out)
			}
		}
	}
	if !strings.Contains(text.String(), "FAIL: 14 findings") || !strings.Contains(text.String(), "1 shorter than 6 characters ignored") ||
		!strings.Contains(text.String(), "portal links") {
		t.Errorf("text report:\n%s", text.String())
	}
	var back struct {
		Clean    bool      `json:"clean"`
		Findings []Finding `json:"findings"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Clean || !slices.Equal(back.Findings, rep.Findings) {
		t.Errorf("JSON round trip: clean %v, %d findings, err %v", back.Clean, len(back.Findings), err)
	}
}

func fmtRows[T any](rows []T) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "  %+v\n", r)
	}
	return b.String()
}

// TestScanDeterministic: the report does not depend on the number of
// workers (examples are the smallest match, not the first seen).
func TestScanDeterministic(t *testing.T) {
	db := plantDB(t)
	var first []byte
	for _, w := range []int{1, 2, 7} {
		rep, err := Scan(context.Background(), db, ScanOptions{SourceIDs: plantedIDs, Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(rep)
		if first == nil {
			first = b
		} else if !bytes.Equal(b, first) {
			t.Fatalf("workers %d: report differs:\n%s\n%s", w, b, first)
		}
	}
}

// TestScanAllowRules: without the built-in rules every URL fails; an
// unconfigured server's URL in etl_runs.error fails; a rule can allow a
// kind by pattern.
func TestScanAllowRules(t *testing.T) {
	db := plantDB(t)
	failures := func(opt ScanOptions) map[string]bool {
		t.Helper()
		rep, err := Scan(context.Background(), db, opt)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, f := range rep.Failures() {
			out[f.Table+"."+f.Column+" "+string(f.Kind)] = true
		}
		return out
	}
	def := failures(ScanOptions{})
	if def["value_sets.url url"] || def["observations.code_system url"] || def["quarantine.file url"] {
		t.Errorf("built-in rules not applied: %v", def)
	}
	if !def["etl_runs.error url"] || !def["notes.body url"] {
		t.Errorf("unconfigured server URL or a note's URL allowed: %v", def)
	}
	none := failures(ScanOptions{NoDefaultAllow: true})
	if !none["value_sets.url url"] || !none["observations.code_system url"] {
		t.Errorf("NoDefaultAllow kept built-in rules: %v", none)
	}
	r, err := ParseAllowRule("notes.*:* = legacy free text, migration pending")
	if err != nil || r.Reason != "legacy free text, migration pending" {
		t.Fatalf("ParseAllowRule: %+v, %v", r, err)
	}
	some := failures(ScanOptions{Allow: []AllowRule{r}})
	for k := range some {
		if strings.HasPrefix(k, "notes.") {
			t.Errorf("%s not allowed by notes.*:*", k)
		}
	}
	if !some["legacy.ssn ssn"] {
		t.Errorf("rule for notes allowed legacy: %v", some)
	}
}

func TestScanInvalidOptions(t *testing.T) {
	db := openDB(t)
	for _, opt := range []ScanOptions{
		{MinIDLen: -1},
		{MRNPatterns: []string{"("}},
		{MRNPatterns: []string{"x*"}},
		{Allow: []AllowRule{{Table: "t", Column: "c", Kind: KindURL}}},
		{Allow: []AllowRule{{Table: "[", Column: "c", Kind: KindURL, Reason: "r"}}},
	} {
		if _, err := Scan(context.Background(), db, opt); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%+v: err %v, want ErrInvalidOptions", opt, err)
		}
	}
	for _, s := range []string{"nodot:url", "t.c", ""} {
		if _, err := ParseAllowRule(s); err == nil {
			t.Errorf("ParseAllowRule(%q) accepted", s)
		}
	}
}

// TestScanEmptyWarehouseClean: a freshly migrated database is clean.
func TestScanEmptyWarehouseClean(t *testing.T) {
	rep, err := Scan(context.Background(), openDB(t), ScanOptions{SourceIDs: plantedIDs})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() || rep.Values == 0 { // schema_migrations has rows
		t.Errorf("empty warehouse: clean %v, %d values, findings %+v", rep.Clean(), rep.Values, rep.Findings)
	}
}

func TestScanCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Scan(ctx, plantDB(t), ScanOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
}
