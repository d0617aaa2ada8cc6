package etl

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/etl/fhir"
	"github.com/carelens/carelens/internal/store"
)

// Procedures load through etl/fhir/views/procedures.json: keys are the same
// pseudonyms the Go mappers give, the patient is its surrogate, a Period and
// a dateTime both give performed_start, and a missing subject quarantines.
func TestViewTableProcedures(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Procedure.ndjson"), []byte(strings.Join([]string{
		`{"resourceType":"Procedure","id":"pr-1","status":"completed","code":{"coding":[{"system":"http://snomed.info/sct","code":"73761001","display":"Colonoscopy"}]},"subject":{"reference":"Patient/pat-a","display":"Anneliese Quillfeather"},"encounter":{"reference":"Encounter/enc-1"},"performedPeriod":{"start":"2025-03-04T09:00:00Z","end":"2025-03-04T09:40:00Z"}}`,
		`{"resourceType":"Procedure","id":"pr-2","status":"completed","subject":{"reference":"Patient/pat-b"},"performedDateTime":"2025-04-01"}`,
		`{"resourceType":"Procedure","id":"pr-3","status":"completed","subject":{"reference":"Group/g1"}}`,
		`{"resourceType":"Procedure","id":"pr-4","subject":{"reference":"Patient/pat-a"}}`,
	}, "\n")), 0o600)
	db := openTestDB(t)
	v, _ := deid.OpenVault(filepath.Join(t.TempDir(), "vault"))
	res, err := NewFilesJob(FilesOptions{Dir: dir, DB: db, Vault: v, Profile: deid.ProfileLimited}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Read != 4 || res.Loaded != 2 || res.Quarantined != 2 {
		t.Fatalf("read %d loaded %d quarantined %d, want 4 2 2", res.Read, res.Loaded, res.Quarantined)
	}
	a, _ := v.Lookup(deid.NSPatient, "pat-a")
	got := queryStrings(t, db, `SELECT procedure_key || ' ' || patient_id || ' ' || coalesce(encounter_key, '-') || ' ' || coalesce(code, '-') || ' ' ||
		strftime(performed_start, '%Y-%m-%dT%H:%M') || ' ' || coalesce(strftime(performed_end, '%H:%M'), '-') FROM procedures ORDER BY performed_start`)
	b, _ := v.Lookup(deid.NSPatient, "pat-b")
	want := []string{
		v.RecordKey("Procedure", "pr-1") + " " + a + " " + v.RecordKey("Encounter", "enc-1") + " 73761001 2025-03-04T09:00 09:40",
		v.RecordKey("Procedure", "pr-2") + " " + b + " - - 2025-04-01T00:00 -",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("procedures\n got %v\nwant %v", got, want)
	}
	q := queryStrings(t, db, `SELECT line || ': ' || reason FROM quarantine ORDER BY line`)
	if fmt.Sprint(q) != "[3: patient_id: missing 4: status: missing]" {
		t.Errorf("quarantine %q", q)
	}
	if leaks := ScanForStrings(t, db, []string{"Anneliese", "Colonoscopy", "pat-a", "pr-1", "enc-1"}); len(leaks) > 0 {
		t.Errorf("leaks: %v", leaks)
	}
}

// A view that does not fit its table, or that would let an identifier in,
// is refused with every problem named.
func TestViewRefusals(t *testing.T) {
	db := openTestDB(t)
	describe := func(table string) ([]store.ColumnInfo, error) { return db.Describe(context.Background(), table) }
	head := `{"resourceType":"ViewDefinition","status":"active","resource":"Procedure","name":"%s","select":[{"column":[%s]}]}`
	key := `{"name":"procedure_key","path":"getResourceKey()","type":"string","tag":[{"name":"carelens:deid","value":"record"}]},
		{"name":"patient_id","path":"subject.getReferenceKey(Patient)","type":"string","tag":[{"name":"carelens:deid","value":"patient"}]},
		{"name":"status","path":"status","type":"code"}`
	for _, c := range []struct{ name, file, body, want string }{
		{"name differs from file", "procs.json", fmt.Sprintf(head, "procedures", key), `view name "procedures" must be the file name "procs"`},
		{"no such table", "nowhere.json", fmt.Sprintf(head, "nowhere", key), "no table nowhere"},
		{"no such column", "procedures.json", fmt.Sprintf(head, "procedures", key+`,{"name":"colour","path":"id","type":"string"}`), "column colour: the table has no such column"},
		{"identifier path", "procedures.json", fmt.Sprintf(head, "procedures", key+`,{"name":"code","path":"subject.display","type":"string"}`), `selects an identifier or free text`},
		{"free text path", "procedures.json", fmt.Sprintf(head, "procedures", key+`,{"name":"code","path":"note.text","type":"string"}`), `selects an identifier or free text`},
		{"type mismatch", "procedures.json", fmt.Sprintf(head, "procedures", key+`,{"name":"performed_start","path":"performed.ofType(dateTime)","type":"date"}`), "the view gives DATE, the table has TIMESTAMP"},
		{"required column missing", "procedures.json", fmt.Sprintf(head, "procedures", `{"name":"procedure_key","path":"getResourceKey()","type":"string","tag":[{"name":"carelens:deid","value":"record"}]}`), "table column patient_id is NOT NULL"},
		{"no key", "procedures.json", fmt.Sprintf(head, "procedures", `{"name":"procedure_key","path":"getResourceKey()","type":"string"},{"name":"patient_id","path":"subject.getReferenceKey(Patient)","type":"string","tag":[{"name":"carelens:deid","value":"patient"}]},{"name":"status","path":"status","type":"code"}`), "no column tagged carelens:deid=record"},
		{"unknown deid", "procedures.json", fmt.Sprintf(head, "procedures", key+`,{"name":"code","path":"code.coding.code","type":"code","tag":[{"name":"carelens:deid","value":"hash"}]}`), `unknown carelens:deid "hash"`},
		{"collection column", "procedures.json", fmt.Sprintf(head, "procedures", key+`,{"name":"code","path":"code.coding.code","type":"code","collection":true}`), "collection columns are not loaded"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ents, errs := fhir.LoadViews(fstest.MapFS{c.file: {Data: []byte(c.body)}}, describe)
			if len(ents) != 0 || len(errs) == 0 || !strings.Contains(fmt.Sprint(errs), c.want) {
				t.Fatalf("entities %d, errors %v; want an error containing %q", len(ents), errs, c.want)
			}
		})
	}
	// A run with a bad view fails before loading anything.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Procedure.ndjson"), nil, 0o600)
	v, _ := deid.OpenVault(filepath.Join(t.TempDir(), "vault"))
	bad := fstest.MapFS{"procedures.json": {Data: []byte(fmt.Sprintf(head, "procedures", key+`,{"name":"code","path":"subject.display","type":"string"}`))}}
	if _, err := NewFilesJob(FilesOptions{Dir: dir, DB: db, Vault: v, Profile: deid.ProfileLimited, Views: bad}).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "view definitions") {
		t.Fatalf("a run with a bad view: %v", err)
	}
}

// A Bulk manifest's deletion reaches a table loaded through a view too.
func TestDeletedReachesViewTables(t *testing.T) {
	full, incr := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(full, "Procedure.ndjson"), []byte(
		`{"resourceType":"Procedure","id":"pr-1","status":"completed","subject":{"reference":"Patient/pat-a"}}`+"\n"+
			`{"resourceType":"Procedure","id":"pr-2","status":"completed","subject":{"reference":"Patient/pat-a"}}`+"\n"), 0o600)
	os.MkdirAll(filepath.Join(incr, "deleted"), 0o700)
	os.WriteFile(filepath.Join(incr, "deleted", "Bundle.000.ndjson"), []byte(
		`{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"DELETE","url":"Procedure/pr-1"}}]}`+"\n"), 0o600)
	os.WriteFile(filepath.Join(incr, "manifest.json"), []byte(
		`{"transactionTime":"2026-01-01T00:00:00Z","output":[],"deleted":[{"type":"Bundle","url":"deleted/Bundle.000.ndjson"}],"error":[]}`), 0o600)
	db := openTestDB(t)
	v, _ := deid.OpenVault(filepath.Join(t.TempDir(), "vault"))
	for _, dir := range []string{full, incr} {
		if _, err := NewFilesJob(FilesOptions{Dir: dir, DB: db, Vault: v, Profile: deid.ProfileLimited}).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := queryStrings(t, db, `SELECT procedure_key FROM procedures`); fmt.Sprint(got) != "["+v.RecordKey("Procedure", "pr-2")+"]" {
		t.Fatalf("procedures after deleting pr-1: %v", got)
	}
}
