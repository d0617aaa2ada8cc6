package etl

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/etl/fhir"
	"github.com/carelens/carelens/internal/store"
)

// Procedures load through etl/fhir/views/procedures.json: keys are keyed
// pseudonyms of the ids, the patient is its surrogate, a Period and
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
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
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
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
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
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
	for _, dir := range []string{full, incr} {
		if _, err := NewFilesJob(FilesOptions{Dir: dir, DB: db, Vault: v, Profile: deid.ProfileLimited}).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := queryStrings(t, db, `SELECT procedure_key FROM procedures`); fmt.Sprint(got) != "["+v.RecordKey("Procedure", "pr-2")+"]" {
		t.Fatalf("procedures after deleting pr-1: %v", got)
	}
}

// loadNDJSON writes files (type → lines) into a folder and loads it.
func loadNDJSON(t *testing.T, files map[string][]string) (*store.DB, *deid.Vault, *Result) {
	t.Helper()
	dir := t.TempDir()
	for typ, lines := range files {
		os.WriteFile(filepath.Join(dir, typ+".ndjson"), []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	}
	db := openTestDB(t)
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
	res, err := NewFilesJob(FilesOptions{Dir: dir, DB: db, Vault: v, Profile: deid.ProfileLimited}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return db, v, res
}

// The translations the core views declare: ConceptMaps with their unmapped
// and default codes, the AppointmentStatus binding, supply durations in days,
// BP components, and MRNs going to the vault only. Expected values follow
// the terminology files and the view descriptions.
func TestCoreViewTranslations(t *testing.T) {
	cov := func(id, code string) string {
		typ := ""
		if code != "" {
			typ = `"type":{"coding":[{"system":"urn:oid:2.16.840.1.113883.3.221.5","code":"` + code + `"}]},`
		}
		return `{"resourceType":"Coverage","id":"` + id + `","status":"active",` + typ + `"beneficiary":{"reference":"Patient/p1"},"payor":[{"reference":"Patient/p1","display":"Wilhelmina Example"}]}`
	}
	enc := func(id, class string) string {
		c := ""
		if class != "" {
			c = `"class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"` + class + `"},`
		}
		return `{"resourceType":"Encounter","id":"` + id + `","status":"finished",` + c + `"subject":{"reference":"Patient/p1"}}`
	}
	mr := func(id, dur string) string {
		return `{"resourceType":"MedicationRequest","id":"` + id + `","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"dispenseRequest":{"expectedSupplyDuration":` + dur + `}}`
	}
	db, v, res := loadNDJSON(t, map[string][]string{
		"Patient": {
			`{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1960-05-01","identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"system":"urn:mrn:east","value":"MRN-4411"},{"system":"urn:ssn","value":"999-12-3456"}],"address":[{"use":"work","postalCode":"10001","state":"ny"},{"use":"home","postalCode":"02139","state":" ma "}]}`,
			`{"resourceType":"Patient","id":"p2","gender":"intersex"}`,
			`{"resourceType":"Patient","id":"p3"}`,
		},
		"Coverage":  {cov("c1", "1"), cov("c2", "121"), cov("c3", "2"), cov("c4", "511"), cov("c5", "6"), cov("c6", "81"), cov("c7", "821"), cov("c8", "95"), cov("c9", "")},
		"Encounter": {enc("e1", "AMB"), enc("e2", "VR"), enc("e3", "EMER"), enc("e4", "IMP"), enc("e5", "XYZ"), enc("e6", "")},
		"Appointment": {
			`{"resourceType":"Appointment","id":"a1","status":"noshow","participant":[{"actor":{"reference":"Location/loc-1"}},{"actor":{"reference":"Patient/p1"}}]}`,
			`{"resourceType":"Appointment","id":"a2","status":"no-show","participant":[{"actor":{"reference":"Patient/p1"}}]}`,
		},
		"MedicationRequest": {
			mr("m1", `{"value":30,"unit":"days","system":"http://unitsofmeasure.org","code":"d"}`),
			mr("m2", `{"value":2,"unit":"wk"}`),
			mr("m3", `{"value":3,"unit":"Months"}`),
			mr("m4", `{"value":7.5,"code":"d"}`),
			mr("m5", `{"value":20,"code":"a"}`),
			mr("m6", `{"value":4000,"code":"d"}`),
		},
		"Observation": {
			`{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://snomed.info/sct","code":"75367002"},{"system":"http://loinc.org","code":"85354-9"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2025-02-03T10:00:00Z","component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":142,"unit":"mm[Hg]"}},{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":91,"code":"mm[Hg]"}}]}`,
			`{"resourceType":"Observation","id":"o2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Patient/p1"},"effectivePeriod":{"start":"2025-02-04"},"valueQuantity":{"value":9.4,"unit":"%"}}`,
		},
	})
	if res.Quarantined != 1 {
		t.Errorf("quarantined %d, want 1 (the appointment whose status is not an AppointmentStatus code)", res.Quarantined)
	}
	check := func(what, q string, want ...string) {
		t.Helper()
		if got := queryStrings(t, db, q); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s\n got %v\nwant %v", what, got, want)
		}
	}
	p1, _ := v.Lookup(deid.NSPatient, "p1")
	check("patients: sex through the ConceptMap, home address first, state upper-cased",
		`SELECT sex || ' ' || coalesce(zip3, '-') || ' ' || coalesce(state, '-') || ' ' || age_90_plus FROM patients ORDER BY sex`,
		"female 021 MA false", "unknown - - false", "unknown - - false")
	check("coverage.payer_type by Source of Payment Typology category",
		`SELECT string_agg(payer_type, ' ' ORDER BY coverage_key) FROM (SELECT payer_type, coverage_key FROM coverage) GROUP BY ALL`,
		sortedByKey(v, "Coverage", map[string]string{"c1": "medicare", "c2": "medicare", "c3": "medicaid", "c4": "commercial", "c5": "commercial", "c6": "self_pay", "c7": "self_pay", "c8": "other", "c9": "other"}))
	check("encounters.class",
		`SELECT string_agg(class, ' ' ORDER BY encounter_key) FROM encounters`,
		sortedByKey(v, "Encounter", map[string]string{"e1": "ambulatory", "e2": "telehealth", "e3": "emergency", "e4": "inpatient", "e5": "other", "e6": "other"}))
	check("appointments: the valid one, its Location as clinic",
		`SELECT status || ' ' || clinic_id || ' ' || (patient_id = '`+p1+`') FROM appointments`, "noshow loc-1 true")
	check("days_supply: d, wk x7, months x30; 7.5 rounds to 8; unknown unit and > 3650 are NULL",
		`SELECT string_agg(coalesce(days_supply::VARCHAR, 'NULL'), ' ' ORDER BY request_key) FROM medication_requests`,
		sortedByKey(v, "MedicationRequest", map[string]string{"m1": "30", "m2": "14", "m3": "90", "m4": "8", "m5": "NULL", "m6": "NULL"}))
	check("observations: a BP panel gives one row per component under the panel's LOINC code; a simple value one row",
		`SELECT coalesce(panel_code, '-') || ' ' || code || ' ' || value || ' ' || unit || ' ' || strftime(effective_ts, '%Y-%m-%d') FROM observations ORDER BY code`,
		"- 4548-4 9.4 % 2025-02-04", "85354-9 8462-4 91.0 mm[Hg] 2025-02-03", "85354-9 8480-6 142.0 mm[Hg] 2025-02-03")
	if s, ok := v.Lookup(deid.NSMRN, "urn:mrn:east|MRN-4411"); !ok || s != p1 {
		t.Errorf("MRN binding: %q %v, want p1's surrogate", s, ok)
	}
	if s, ok := v.Lookup(deid.NSMRNValue, "MRN-4411"); !ok || s != p1 {
		t.Errorf("MRN value binding: %q %v", s, ok)
	}
	if _, ok := v.Lookup(deid.NSMRN, "urn:ssn|999-12-3456"); ok {
		t.Error("an SSN identifier was bound as an MRN")
	}
	if leaks := ScanForStrings(t, db, []string{"MRN-4411", "999-12-3456", "Wilhelmina", "02139"}); len(leaks) > 0 {
		t.Errorf("leaks: %v", leaks)
	}
}

// sortedByKey lists values in the order of their records' keys, as
// string_agg(... ORDER BY key) gives them.
func sortedByKey(v *deid.Vault, typ string, byID map[string]string) string {
	type kv struct{ k, v string }
	var all []kv
	for id, val := range byID {
		all = append(all, kv{v.RecordKey(typ, id), val})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].k < all[j].k })
	var out []string
	for _, x := range all {
		out = append(out, x.v)
	}
	return strings.Join(out, " ")
}

// Tags that cannot work are refused when the views load.
func TestViewTagRefusals(t *testing.T) {
	db := openTestDB(t)
	describe := func(table string) ([]store.ColumnInfo, error) { return db.Describe(context.Background(), table) }
	head := `{"resourceType":"ViewDefinition","status":"active","resource":"Encounter","name":"encounters","select":[{"column":[%s]}]}`
	base := `{"name":"encounter_key","path":"getResourceKey()","type":"string","tag":[{"name":"carelens:deid","value":"record"}]},
		{"name":"patient_id","path":"subject.getReferenceKey(Patient)","type":"string","tag":[{"name":"carelens:deid","value":"patient"}]},
		{"name":"status","path":"status","type":"code"}`
	cls := `,{"name":"class","path":"class.code","type":"code","tag":[%s]}`
	for _, c := range []struct{ name, cols, want string }{
		{"unknown concept map", base + fmt.Sprintf(cls, `{"name":"carelens:conceptmap","value":"https://example.org/none"}`), "no ConceptMap https://example.org/none"},
		{"unknown value set", base + fmt.Sprintf(cls, `{"name":"carelens:valueset","value":"https://example.org/vs"}`), "no ValueSet https://example.org/vs"},
		{"bad default", base + `,{"name":"start_ts","path":"period.start","type":"dateTime","tag":[{"name":"carelens:default","value":"soon"}]}`, `default: "soon" is not a timestamp`},
		{"require not boolean", base + `,{"name":"ok","path":"status","type":"code","tag":[{"name":"carelens:require","value":"why"}]}`, "a carelens:require column is boolean"},
		{"vault without patient", `{"name":"encounter_key","path":"getResourceKey()","type":"string","tag":[{"name":"carelens:deid","value":"record"}]},{"name":"status","path":"status","type":"code"},{"name":"mrn","path":"identifier.value","type":"string","collection":true,"tag":[{"name":"carelens:vault","value":"mrn"}]}`, "needs exactly one carelens:deid=patient column"},
		{"unknown vault kind", base + `,{"name":"ssn","path":"identifier.value","type":"string","tag":[{"name":"carelens:vault","value":"ssn"}]}`, `unknown carelens:vault "ssn"`},
		{"two keys", base + `,{"name":"type_code","path":"id","type":"string","tag":[{"name":"carelens:key","value":"true"}]},{"name":"clinic_id","path":"id","type":"string","tag":[{"name":"carelens:key","value":"true"}]}`, "more than one column tagged carelens:key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ents, errs := fhir.LoadViews(fstest.MapFS{"encounters.json": {Data: []byte(fmt.Sprintf(head, c.cols))}}, describe)
			if len(ents) != 0 || !strings.Contains(fmt.Sprint(errs), c.want) {
				t.Fatalf("entities %d, errors %v; want an error containing %q", len(ents), errs, c.want)
			}
		})
	}
}
