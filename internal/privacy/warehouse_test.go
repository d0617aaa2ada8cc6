package privacy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carelens/carelens/etl"
	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/etl/synth"
	"github.com/carelens/carelens/internal/privacy"
	"github.com/carelens/carelens/internal/store"
)

// ecqmDir holds the CMS122/CMS165 value-set bundles (../shared beside the
// checkout); the test loads them when present, so value_sets and
// value_set_codes hold real terminology text.
const ecqmDir = "../../../shared/data/ecqm"

// sourceIDs are the identifiers a vault would hold for a generated
// population, read back from its files: Patient ids, MRNs (system|value and
// the value alone), CRM contact ids, plus every canary.
type sourceIDs struct {
	pairs    [][2]string
	canaries []string
}

func (s *sourceIDs) each(yield func(ns, id string) bool) {
	for _, p := range s.pairs {
		if !yield(p[0], p[1]) {
			return
		}
	}
}

func readSourceIDs(t *testing.T, dir string) *sourceIDs {
	t.Helper()
	s := &sourceIDs{}
	f, err := os.Open(filepath.Join(dir, "ehr", "Patient.000.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var p struct {
			ID         string
			Identifier []struct{ System, Value string }
		}
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		s.pairs = append(s.pairs, [2]string{deid.NSPatient, p.ID})
		for _, id := range p.Identifier {
			s.pairs = append(s.pairs, [2]string{deid.NSMRN, id.System + "|" + id.Value}, [2]string{deid.NSMRNValue, id.Value})
		}
	}
	cf, err := os.Open(filepath.Join(dir, "crm", "contacts.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	rows, err := csv.NewReader(cf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		s.pairs = append(s.pairs, [2]string{deid.NSContact, r[0]})
	}
	raw, err := os.ReadFile(filepath.Join(dir, "canaries.txt"))
	if err != nil {
		t.Fatal(err)
	}
	s.canaries = strings.Split(strings.TrimSpace(string(raw)), "\n")
	for _, c := range s.canaries {
		s.pairs = append(s.pairs, [2]string{"canary", c})
	}
	return s
}

// loadWarehouse generates a population with canaries (and corrupt lines, so
// quarantine has rows), loads it and the eCQM value sets into a DuckDB file,
// and returns the source folder, the open database and the ETL's log.
func loadWarehouse(t *testing.T) (string, *store.DB, *bytes.Buffer) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := synth.Generate(ctx, synth.Options{Patients: 400, Seed: 9, From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		To: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC), OutDir: dir, CorruptEvery: 45, Canaries: true}); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(dir, "w.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key, err := deid.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	v, err := deid.OpenEncrypted(filepath.Join(dir, "v.vault"), key)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	res, err := etl.NewFilesJob(etl.FilesOptions{Dir: dir, DB: db, Vault: v, Profile: deid.ProfileLimited, Logger: logger}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Quarantined == 0 || res.Loaded < 10_000 {
		t.Fatalf("load: %d loaded, %d quarantined", res.Loaded, res.Quarantined)
	}
	if files, _ := filepath.Glob(filepath.Join(ecqmDir, "*", "valuesets-*.json")); len(files) > 0 {
		if _, err := etl.NewValueSetJob(etl.ValueSetOptions{Paths: files, DB: db, Logger: logger}).Run(ctx); err != nil {
			t.Fatal(err)
		}
	} else {
		t.Logf("%s absent: value sets not loaded", ecqmDir)
	}
	return dir, db, &log
}

// TestGeneratedWarehouseScansClean: a whole generated warehouse (EHR, CRM,
// quarantine, bookkeeping, value sets) holds no identifier, no source id and
// no canary outside the built-in allowances; the ETL log holds no canary
// either. Then a canary planted in a clinic name, a contact id in a
// quarantine reason and an e-mail in a campaign name are each caught.
func TestGeneratedWarehouseScansClean(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and loads a population")
	}
	ctx := context.Background()
	dir, db, log := loadWarehouse(t)
	ids := readSourceIDs(t, dir)
	rep, err := privacy.Scan(ctx, db, privacy.ScanOptions{SourceIDs: ids.each})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	if !rep.Clean() {
		t.Fatalf("generated warehouse is not clean:\n%s", text.String())
	}
	if rep.SourceIDs.Checked < 4*400 || rep.SourceIDs.TooShort != 0 || rep.Values < 20_000 {
		t.Errorf("scanned too little:\n%s", text.String())
	}
	allowed := map[string]bool{}
	for _, f := range rep.Findings {
		allowed[f.Table+"."+f.Column+" "+string(f.Kind)] = true
	}
	if !allowed["conditions.code_system url"] || !allowed["observations.code_system url"] {
		t.Errorf("code-system URLs not reported as allowed:\n%s", text.String())
	}
	t.Logf("clean warehouse:\n%s", text.String())

	for _, c := range ids.canaries {
		if strings.Contains(log.String(), c) {
			t.Fatalf("ETL log holds canary %q", c)
		}
	}
	if strings.Contains(strings.ToLower(log.String()), "canary") {
		t.Fatal("ETL log mentions a canary")
	}

	// Planted violations are caught.
	var clinic, contact string
	for _, c := range ids.canaries {
		switch {
		case strings.HasPrefix(c, "ZcanaryF") && clinic == "":
			clinic = c
		case strings.HasPrefix(c, "ZcanaryC") && contact == "":
			contact = c
		}
	}
	for _, q := range []string{
		fmt.Sprintf(`UPDATE clinics SET name = name || ' (Dr. %s)' WHERE clinic_id = 'clinic-03'`, clinic),
		fmt.Sprintf(`UPDATE quarantine SET reason = 'contact_id %s: not a known contact' WHERE rowid = (SELECT min(rowid) FROM quarantine)`, contact),
		`UPDATE campaigns SET name = 'Write to flu@clinic.example.org' WHERE campaign_id = 'CMP-LAB'`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	rep, err = privacy.Scan(ctx, db, privacy.ScanOptions{SourceIDs: ids.each})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rep.Failures() {
		got = append(got, fmt.Sprintf("%s.%s %s %d", f.Table, f.Column, f.Kind, f.Count))
	}
	want := []string{"campaigns.name email 1", "clinics.name source_id:canary 1", "quarantine.reason source_id:canary 1",
		"quarantine.reason source_id:crm:contact 1"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("planted violations: found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDuckDBFileHoldsNoCanary greps the bytes of the warehouse file, after
// a checkpoint, for every canary: names and ids by their Zcanary prefix,
// e-mails by their domain, phones and SSNs by their number.
func TestDuckDBFileHoldsNoCanary(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and loads a population")
	}
	dir, db, _ := loadWarehouse(t)
	ids := readSourceIDs(t, dir)
	grep := func() []string {
		t.Helper()
		if _, err := db.Exec(`CHECKPOINT`); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(dir, "w.duckdb"))
		if err != nil {
			t.Fatal(err)
		}
		var hits []string
		if i := bytes.Index(bytes.ToLower(raw), []byte("canary")); i >= 0 {
			hits = append(hits, "canary@"+fmt.Sprint(i))
		}
		numbers := map[string]bool{}
		for _, c := range ids.canaries {
			if c[0] >= '0' && c[0] <= '9' {
				numbers[c] = true
			}
		}
		for _, m := range regexp.MustCompile(`\d{3}-\d{2,3}-\d{4}`).FindAll(raw, -1) {
			if numbers[string(m)] {
				hits = append(hits, string(m))
			}
		}
		return hits
	}
	if hits := grep(); len(hits) > 0 {
		t.Fatalf("warehouse file holds canaries: %q", hits)
	}
	// The control: a canary written into the warehouse shows in the file.
	var phone string
	for _, c := range ids.canaries {
		if c[0] >= '0' && c[0] <= '9' && c[3] == '-' && c[7] == '-' {
			phone = c
			break
		}
	}
	if _, err := db.Exec(`CREATE TABLE leak AS SELECT ? AS v, ? AS w`, ids.canaries[0], phone); err != nil {
		t.Fatal(err)
	}
	if hits := grep(); len(hits) != 2 {
		t.Fatalf("planted canaries not found in the file bytes: %q", hits)
	}
}
