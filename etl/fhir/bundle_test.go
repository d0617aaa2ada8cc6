package fhir

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// references returns every Reference.reference in a resource, in document
// order of a depth-first walk over sorted keys.
func references(t *testing.T, raw []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("resource is not JSON: %v", err)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x["reference"].(string); ok {
				out = append(out, s)
			}
			for _, k := range sortedKeys(x) {
				if k != "reference" {
					walk(x[k])
				}
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

func sortedKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return ks
}

// A transaction Bundle the way eCQM test decks export it: RESTful fullUrls
// whose ids differ from the resources' own, relative references to those
// fullUrls, and references to ids no entry has.
func TestBundleEntriesRESTfulFullURLs(t *testing.T) {
	doc := `{"resourceType":"Bundle","type":"transaction","entry":[
	 {"fullUrl":"https://madie.cms.gov/Patient/p1","resource":{"resourceType":"Patient","id":"p1"},"request":{"method":"PUT","url":"Patient/p1"}},
	 {"fullUrl":"https://madie.cms.gov/Encounter/Encounter-7","resource":{"resourceType":"Encounter","id":"e-uuid","subject":{"reference":"Patient/p1"}}},
	 {"fullUrl":"https://madie.cms.gov/Observation/Observation-7","resource":{"resourceType":"Observation","id":"o-uuid","status":"final",
	   "subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/Encounter-7/_history/3"},
	   "hasMember":[{"reference":"Observation/elsewhere"},{"reference":"#contained-1"},{"reference":"https://madie.cms.gov/Encounter/Encounter-7"}],
	   "valueQuantity":{"value":139.50,"unit":"mm[Hg]"}}}
	]}`
	entries, err := BundleEntries([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Fatalf("%d entries, want 3", len(entries))
	}
	for i, e := range entries {
		if e.Pos != int64(i+1) || e.Skip != "" {
			t.Errorf("entry %d: pos %d skip %q", i, e.Pos, e.Skip)
		}
	}
	if got := []string{entries[0].Type, entries[1].Type, entries[2].Type}; !reflect.DeepEqual(got, []string{"Patient", "Encounter", "Observation"}) {
		t.Errorf("types %v", got)
	}
	// The relative reference, with its version, names the entry whose
	// fullUrl is the base plus the reference: it becomes that entry's
	// Type/id. The absolute one too. A reference no entry matches and a
	// contained one stay as they are. (Order: encounter, then hasMember's
	// three, then subject.)
	want := []string{"Encounter/e-uuid", "Observation/elsewhere", "#contained-1", "Encounter/e-uuid", "Patient/p1"}
	if got := references(t, entries[2].Resource); !reflect.DeepEqual(got, want) {
		t.Errorf("observation references\n got %v\nwant %v", got, want)
	}
	// Numbers keep their text through the rewrite.
	if !strings.Contains(string(entries[2].Resource), `139.50`) {
		t.Errorf("value 139.50 lost its form: %s", entries[2].Resource)
	}
	// An entry without references to resolve is passed on as it was.
	if string(entries[0].Resource) != `{"resourceType":"Patient","id":"p1"}` {
		t.Errorf("patient rewritten: %s", entries[0].Resource)
	}
}

// A Synthea-style transaction: urn:uuid fullUrls, references to them, and
// POST entries whose resources have no id (they take the uuid).
func TestBundleEntriesURNs(t *testing.T) {
	doc := `{"resourceType":"Bundle","type":"transaction","entry":[
	 {"fullUrl":"urn:uuid:6b0d5f6e-0000-4000-8000-000000000001","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
	 {"fullUrl":"urn:uuid:6b0d5f6e-0000-4000-8000-000000000002","resource":{"resourceType":"Condition","id":"c-1",
	   "subject":{"reference":"urn:uuid:6b0d5f6e-0000-4000-8000-000000000001"},"encounter":{"reference":"urn:uuid:6b0d5f6e-0000-4000-8000-00000000ffff"}}},
	 {"request":{"method":"DELETE","url":"Condition/old"}},
	 {"fullUrl":"urn:uuid:x","resource":{"id":"no-type"}},
	 {"fullUrl":"urn:uuid:y","resource":[1,2]}
	]}`
	entries, err := BundleEntries([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	json.Unmarshal(entries[0].Resource, &p)
	if p["id"] != "6b0d5f6e-0000-4000-8000-000000000001" {
		t.Errorf("patient id %v, want the fullUrl's uuid", p["id"])
	}
	if got := references(t, entries[1].Resource); !reflect.DeepEqual(got, []string{"urn:uuid:6b0d5f6e-0000-4000-8000-00000000ffff", "Patient/6b0d5f6e-0000-4000-8000-000000000001"}) {
		t.Errorf("condition references %v", got)
	}
	skips := []string{entries[2].Skip, entries[3].Skip, entries[4].Skip}
	want := []string{
		"Bundle DELETE entry: deletions are not applied from bundles",
		"Bundle entry resource without a valid resourceType",
		"Bundle entry resource is not a JSON object",
	}
	if !reflect.DeepEqual(skips, want) {
		t.Errorf("skips\n got %q\nwant %q", skips, want)
	}
	for _, e := range entries[2:] {
		if e.Resource != nil || e.Type != "" {
			t.Errorf("entry %d: skipped but has type %q / a resource", e.Pos, e.Type)
		}
	}
}

func TestBundleEntriesDocuments(t *testing.T) {
	// A single resource is a one-entry set.
	entries, err := BundleEntries([]byte(`{"resourceType":"Library","id":"lib","type":{"coding":[{"code":"logic-library"}]}}`))
	if err != nil || len(entries) != 1 || entries[0].Type != "Library" || entries[0].Pos != 1 {
		t.Errorf("single resource: %+v, %v", entries, err)
	}
	for _, c := range []struct{ doc, want string }{
		{`{"resourceType":"Bundle","type":"history","entry":[]}`, "Bundle type history is not a set of resources to load"},
		{`{"resourceType":"Bundle","type":"transaction-response"}`, "Bundle type transaction-response is not a set of resources to load"},
		{`{"resourceType":"Bundle","entry":[]}`, "Bundle without type"},
		{`{"resourceType":"Bundle","type":"collection","entry":{}}`, "malformed Bundle"},
		{`{"name":"not FHIR"}`, ErrNotBundle.Error()},
		{`{"resourceType":"Bundle",`, "malformed JSON"},
	} {
		_, err := BundleEntries([]byte(c.doc))
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v, want %q", c.doc, err, c.want)
		}
	}
	if _, err := BundleEntries([]byte(`"text"`)); err == nil || errors.Is(err, ErrNotBundle) {
		t.Errorf("a JSON string: error %v, want malformed JSON", err)
	}
	entries, err = BundleEntries([]byte(`{"resourceType":"Bundle","type":"collection"}`))
	if err != nil || len(entries) != 0 {
		t.Errorf("empty collection: %v, %v", entries, err)
	}
}

func TestRestBase(t *testing.T) {
	for in, want := range map[string]string{
		"https://madie.cms.gov/Encounter/Encounter-7-1": "https://madie.cms.gov/",
		"http://h/fhir/r4/Patient/123":                  "http://h/fhir/r4/",
		"urn:uuid:6b0d5f6e":                             "",
		"":                                              "",
		"http://h/Patient/":                             "",
		"http://h/patient/1":                            "",
	} {
		if got := restBase(in); got != want {
			t.Errorf("restBase(%q) = %q, want %q", in, got, want)
		}
	}
}
