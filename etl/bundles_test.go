package etl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/carelens/carelens/etl/deid"
)

// bundleFolder writes files (name → content) into a new folder.
func bundleFolder(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A folder of FHIR Bundles loads like an NDJSON export: every resource goes
// through its view, read = loaded + quarantined per type, a bad resource is
// quarantined at its file and entry position, a bad file whole, and the
// references between a bundle's entries reach the resources they name.
func TestFilesJobBundles(t *testing.T) {
	dir := bundleFolder(t, map[string]string{
		// eCQM deck style: RESTful fullUrls whose ids differ from the
		// resources'; the observation names its encounter by fullUrl.
		"a-deck.json": `{"resourceType":"Bundle","type":"transaction","entry":[
		 {"fullUrl":"https://madie.cms.gov/Patient/pat-a","resource":{"resourceType":"Patient","id":"pat-a","gender":"female","birthDate":"1958-12-31","name":[{"family":"Quillfeather"}]},"request":{"method":"PUT","url":"Patient/pat-a"}},
		 {"fullUrl":"https://madie.cms.gov/Encounter/Encounter-7-1","resource":{"resourceType":"Encounter","id":"enc-uuid","status":"finished",
		   "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"EMER"},
		   "type":[{"coding":[{"system":"http://snomed.info/sct","code":"4525004"}]}],
		   "subject":{"reference":"Patient/pat-a"},"period":{"start":"2025-01-01T00:00:00Z","end":"2025-01-01T01:00:00Z"},
		   "hospitalization":{"dischargeDisposition":{"coding":[{"system":"http://snomed.info/sct","code":"428361000124107"}]}}}},
		 {"fullUrl":"https://madie.cms.gov/Observation/Observation-7","resource":{"resourceType":"Observation","id":"obs-bp","status":"final",
		   "code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"subject":{"reference":"Patient/pat-a"},
		   "encounter":{"reference":"Encounter/Encounter-7-1"},"effectiveDateTime":"2025-01-01T00:30:00Z",
		   "component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":139,"code":"mm[Hg]"}},
		                {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":89,"code":"mm[Hg]"}}]}},
		 {"fullUrl":"https://madie.cms.gov/Observation/Observation-8","resource":{"resourceType":"Observation","id":"obs-housing","status":"final",
		   "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"survey"}]}],
		   "code":{"coding":[{"system":"http://loinc.org","code":"71802-3"}]},"subject":{"reference":"Patient/pat-a"},
		   "effectivePeriod":{"start":"2024-12-31T00:00:00Z"},
		   "valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"160734000"}]}}},
		 {"fullUrl":"https://madie.cms.gov/Procedure/Procedure-1","resource":{"resourceType":"Procedure","id":"proc-1","status":"completed",
		   "code":{"coding":[{"system":"http://snomed.info/sct","code":"108241001"}]},"subject":{"reference":"Patient/pat-a"},"performedDateTime":"2025-12-30T10:00:00Z"}},
		 {"fullUrl":"https://madie.cms.gov/DeviceRequest/DeviceRequest-1","resource":{"resourceType":"DeviceRequest","id":"dr-1","status":"completed","intent":"order",
		   "modifierExtension":[{"url":"http://hl7.org/fhir/us/qicore/StructureDefinition/qicore-doNotPerform","valueBoolean":true}],
		   "codeCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"183240000"}]},"subject":{"reference":"Patient/pat-a"},"authoredOn":"2025-11-01T23:59:00Z"}},
		 {"fullUrl":"https://madie.cms.gov/DeviceRequest/DeviceRequest-2","resource":{"resourceType":"DeviceRequest","id":"dr-2","status":"active","intent":"order",
		   "modifierExtension":[{"url":"http://hl7.org/fhir/us/qicore/StructureDefinition/qicore-doNotPeform","valueBoolean":true}],
		   "codeCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"183240000"}]},"subject":{"reference":"Patient/pat-a"}}},
		 {"fullUrl":"https://madie.cms.gov/ServiceRequest/ServiceRequest-1","resource":{"resourceType":"ServiceRequest","id":"sr-1","status":"draft","intent":"order",
		   "code":{"coding":[{"system":"http://snomed.info/sct","code":"385763009"}]},"subject":{"reference":"Patient/pat-a"},"authoredOn":"2025-01-02"}},
		 {"fullUrl":"https://madie.cms.gov/MeasureReport/mr-1","resource":{"resourceType":"MeasureReport","id":"mr-1"}}
		]}`,
		// Synthea style: urn:uuid fullUrls and ids assigned from them; an
		// Encounter without a subject (quarantined at entry 3), a DELETE.
		"b-synthea.json": `{"resourceType":"Bundle","type":"transaction","entry":[
		 {"fullUrl":"urn:uuid:0b5d0c1e-0000-4000-8000-000000000001","resource":{"resourceType":"Patient","gender":"male","birthDate":"1970-05-05"},"request":{"method":"POST","url":"Patient"}},
		 {"fullUrl":"urn:uuid:0b5d0c1e-0000-4000-8000-000000000002","resource":{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},
		   "subject":{"reference":"urn:uuid:0b5d0c1e-0000-4000-8000-000000000001"},"period":{"start":"2025-03-04T09:00:00Z","end":"2025-03-04T09:30:00Z"}},"request":{"method":"POST","url":"Encounter"}},
		 {"fullUrl":"urn:uuid:0b5d0c1e-0000-4000-8000-000000000003","resource":{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"}},"request":{"method":"POST","url":"Encounter"}},
		 {"request":{"method":"DELETE","url":"Encounter/gone"}}
		]}`,
		"c-broken.json": `{"resourceType":"Bundle","type":"transaction","entry":[`,
		"notes.txt":     `not read`,
	})
	db := openTestDB(t)
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
	res, err := NewFilesJob(FilesOptions{Dir: dir, DB: db, Vault: v, Profile: deid.ProfileLimited}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][4]int64{} // read, loaded, quarantined, skipped
	for _, c := range res.Counts {
		got[c.Entity] = [4]int64{c.Read, c.Loaded, c.Quarantined, c.Skipped}
		if c.Read != c.Loaded+c.Quarantined {
			t.Errorf("%s: read %d != loaded %d + quarantined %d", c.Entity, c.Read, c.Loaded, c.Quarantined)
		}
	}
	want := map[string][4]int64{
		"Patient":        {2, 2, 0, 0},
		"Encounter":      {3, 2, 1, 0}, // the one without a subject
		"Observation":    {2, 2, 0, 0},
		"Procedure":      {1, 1, 0, 0},
		"DeviceRequest":  {2, 2, 0, 0},
		"ServiceRequest": {1, 1, 0, 0},
		"MeasureReport":  {0, 0, 0, 1}, // a type carelens does not load
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counts\n got %v\nwant %v", got, want)
	}
	q := queryStrings(t, db, `SELECT file || ':' || line || ' ' || coalesce(entity, '-') || ': ' || reason FROM quarantine ORDER BY file, line`)
	wantQ := []string{
		"b-synthea.json:3 Encounter: patient_id: missing",
		"b-synthea.json:4 Bundle: Bundle DELETE entry: deletions are not applied from bundles",
		"c-broken.json:0 Bundle: file unreadable: malformed JSON",
	}
	if fmt.Sprint(q) != fmt.Sprint(wantQ) {
		t.Errorf("quarantine\n got %q\nwant %q", q, wantQ)
	}

	a, _ := v.Lookup(deid.NSPatient, "pat-a")
	enc := v.RecordKey("Encounter", "enc-uuid")
	// The observation's encounter reference, "Encounter/Encounter-7-1", is
	// the encounter whose id is enc-uuid.
	if got := queryStrings(t, db, `SELECT DISTINCT encounter_key FROM observations WHERE panel_code = '85354-9'`); fmt.Sprint(got) != "["+enc+"]" {
		t.Errorf("BP panel encounter %v, want %s", got, enc)
	}
	if got := queryStrings(t, db, `SELECT concat_ws(' ', patient_id, class, class_code, type_system, type_code, discharge_system, discharge_code) FROM encounters WHERE encounter_key = '`+enc+`'`); fmt.Sprint(got) !=
		"["+a+" emergency EMER http://snomed.info/sct 4525004 http://snomed.info/sct 428361000124107]" {
		t.Errorf("encounter %v", got)
	}
	// A dateTime is its own end; an open Period has none.
	if got := queryStrings(t, db, `SELECT concat_ws(' ', code, strftime(effective_ts, '%Y-%m-%dT%H:%M'), coalesce(strftime(effective_until, '%Y-%m-%dT%H:%M'), 'open'), value_system, value_code)
		FROM observations WHERE code IN ('8480-6', '71802-3') ORDER BY code`); fmt.Sprint(got) !=
		"[71802-3 2024-12-31T00:00 open http://snomed.info/sct 160734000 8480-6 2025-01-01T00:30 2025-01-01T00:30]" {
		t.Errorf("observations %v", got)
	}
	if got := queryStrings(t, db, `SELECT concat_ws(' ', coalesce(strftime(performed_end, '%H:%M'), '-'), strftime(performed_until, '%Y-%m-%dT%H:%M')) FROM procedures`); fmt.Sprint(got) != "[- 2025-12-30T10:00]" {
		t.Errorf("procedure end %v, want no Period end and performed_until the dateTime", got)
	}
	// Only the QI-Core doNotPerform extension counts (dr-2's URL is misspelt).
	if got := queryStrings(t, db, `SELECT concat_ws(' ', status, intent, code_system, code, coalesce(CAST(authored_on AS VARCHAR), '-'), coalesce(CAST(do_not_perform AS VARCHAR), 'null'))
		FROM device_requests ORDER BY status`); fmt.Sprint(got) !=
		"[active order http://snomed.info/sct 183240000 - null completed order http://snomed.info/sct 183240000 2025-11-01 true]" {
		t.Errorf("device requests %v", got)
	}
	if got := queryStrings(t, db, `SELECT concat_ws(' ', patient_id, status, intent, code, authored_on) FROM service_requests`); fmt.Sprint(got) != "["+a+" draft order 385763009 2025-01-02]" {
		t.Errorf("service requests %v", got)
	}
	// urn:uuid references reach the resource given that uuid as its id.
	s, ok := v.Lookup(deid.NSPatient, "0b5d0c1e-0000-4000-8000-000000000001")
	if !ok {
		t.Fatal("the Synthea patient has no surrogate: its id was not taken from its fullUrl")
	}
	if got := queryStrings(t, db, `SELECT encounter_key FROM encounters WHERE patient_id = '`+s+`'`); fmt.Sprint(got) != "["+v.RecordKey("Encounter", "0b5d0c1e-0000-4000-8000-000000000002")+"]" {
		t.Errorf("Synthea encounter %v", got)
	}
	if leaks := ScanForStrings(t, db, []string{"Quillfeather", "pat-a", "enc-uuid", "Encounter-7-1", "0b5d0c1e"}); len(leaks) > 0 {
		t.Errorf("leaks: %v", leaks)
	}
}

// A folder holding neither NDJSON nor bundles is still no input.
func TestFilesJobBundlesNoInput(t *testing.T) {
	dir := bundleFolder(t, map[string]string{"notes.txt": "x"})
	db := openTestDB(t)
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
	_, err := NewFilesJob(FilesOptions{Dir: dir, DB: db, Vault: v, Profile: deid.ProfileLimited}).Run(context.Background())
	if !errors.Is(err, ErrNoInput) {
		t.Fatalf("a folder without input: error %v, want ErrNoInput", err)
	}
}
