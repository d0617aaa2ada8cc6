package view

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

func decodeJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// collect runs v over the resources and renders each row as JSON with the
// columns in order.
func collect(t *testing.T, v *View, resources ...map[string]any) []string {
	t.Helper()
	cols := v.Columns()
	var out []string
	for _, r := range resources {
		err := v.Rows(r, func(row []any) error {
			var b strings.Builder
			for i, c := range cols {
				if i > 0 {
					b.WriteString(" ")
				}
				j, _ := json.Marshal(row[i])
				b.WriteString(c.Name + "=" + string(j))
			}
			out = append(out, b.String())
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func mustLoad(t testing.TB, def string) *View {
	t.Helper()
	v, err := Load([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// bloodPressure is a US Core blood pressure Observation with two components.
const bloodPressure = `{
  "resourceType": "Observation", "id": "bp1", "status": "final",
  "subject": {"reference": "Patient/p1"},
  "effectiveDateTime": "2024-05-01T09:30:00+02:00",
  "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
  "component": [
    {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
     "valueQuantity": {"value": 128, "unit": "mm[Hg]"}},
    {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
     "valueQuantity": {"value": 82.5, "unit": "mm[Hg]"}}
  ]
}`

func TestRowsBloodPressure(t *testing.T) {
	v := mustLoad(t, `{
	  "resource": "Observation",
	  "constant": [{"name": "systolic", "valueCode": "8480-6"}],
	  "select": [
	    {"column": [
	      {"name": "id", "path": "getResourceKey()"},
	      {"name": "patient_id", "path": "subject.getReferenceKey(Patient)",
	       "tag": [{"name": "carelens:deid", "value": "patient"}]},
	      {"name": "effective", "path": "effective.ofType(dateTime)"}]},
	    {"forEach": "component", "column": [
	      {"name": "idx", "path": "%rowIndex"},
	      {"name": "code", "path": "code.coding.code.first()", "type": "code"},
	      {"name": "is_systolic", "path": "code.coding.code contains %systolic"},
	      {"name": "value", "path": "value.ofType(Quantity).value", "type": "decimal"}]}
	  ]
	}`)
	got := collect(t, v, decodeJSON(t, bloodPressure))
	want := []string{
		`id="bp1" patient_id="p1" effective="2024-05-01T09:30:00+02:00" idx=0 code="8480-6" is_systolic=true value=128`,
		`id="bp1" patient_id="p1" effective="2024-05-01T09:30:00+02:00" idx=1 code="8462-4" is_systolic=false value=82.5`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	cols := v.Columns()
	types := []string{}
	for _, c := range cols {
		types = append(types, c.Type)
	}
	// Declared types win; otherwise the type is inferred where the path
	// decides it, and unknown ("") where only a FHIR model could.
	if want := []string{"string", "string", "dateTime", "integer", "code", "boolean", "decimal"}; !slices.Equal(types, want) {
		t.Errorf("types %v, want %v", types, want)
	}
	if tag, ok := cols[1].Tag("carelens:deid"); !ok || tag != "patient" {
		t.Errorf("patient_id tag = %q, %v", tag, ok)
	}
	// Columns returns a copy.
	cols[1].Tags[0].Value = "changed"
	if tag, _ := v.Columns()[1].Tag("carelens:deid"); tag != "patient" {
		t.Error("Columns exposes the view's own tags")
	}
}

// patients are the resources of the row-semantics tests.
var patients = []string{
	`{"resourceType": "Patient", "id": "a", "active": true,
	  "name": [{"family": "A1", "given": ["x", "y"]}, {"family": "A2"}],
	  "telecom": [{"system": "phone", "value": "1"}]}`,
	`{"resourceType": "Patient", "id": "b", "active": false}`,
	`{"resourceType": "Observation", "id": "o"}`,
}

func TestRowsSemantics(t *testing.T) {
	tests := []struct {
		name, view string
		want       []string
	}{
		{"forEach", `{"resource": "Patient", "select": [
		    {"column": [{"name": "id", "path": "id"}]},
		    {"forEach": "name", "column": [{"name": "family", "path": "family"}]}]}`,
			[]string{`id="a" family="A1"`, `id="a" family="A2"`}},
		{"forEachOrNull", `{"resource": "Patient", "select": [
		    {"column": [{"name": "id", "path": "id"}]},
		    {"forEachOrNull": "name", "column": [{"name": "i", "path": "%rowIndex"}, {"name": "family", "path": "family"}],
		     "select": [{"column": [{"name": "given", "path": "given", "collection": true}]}]}]}`,
			[]string{`id="a" i=0 family="A1" given=["x","y"]`, `id="a" i=1 family="A2" given=[]`, `id="b" i=0 family=null given=null`}},
		{"cross join of siblings", `{"resource": "Patient", "select": [
		    {"forEach": "name", "column": [{"name": "family", "path": "family"}]},
		    {"forEach": "name.given", "column": [{"name": "given", "path": "$this"}]}]}`,
			[]string{`family="A1" given="x"`, `family="A1" given="y"`, `family="A2" given="x"`, `family="A2" given="y"`}},
		{"unionAll", `{"resource": "Patient", "select": [
		    {"column": [{"name": "id", "path": "id"}],
		     "unionAll": [
		       {"forEach": "name", "column": [{"name": "kind", "path": "'name'"}, {"name": "v", "path": "family"}]},
		       {"forEach": "telecom", "column": [{"name": "kind", "path": "'telecom'"}, {"name": "v", "path": "value"}]}]}]}`,
			[]string{`id="a" kind="name" v="A1"`, `id="a" kind="name" v="A2"`, `id="a" kind="telecom" v="1"`}},
		{"nested unionAll in a branch", `{"resource": "Patient", "select": [
		    {"unionAll": [
		       {"column": [{"name": "v", "path": "id"}]},
		       {"unionAll": [{"forEach": "name", "column": [{"name": "v", "path": "family"}]},
		                     {"forEach": "telecom", "column": [{"name": "v", "path": "value"}]}]}]}]}`,
			[]string{`v="a"`, `v="A1"`, `v="A2"`, `v="1"`, `v="b"`}},
		{"where", `{"resource": "Patient", "where": [{"path": "active"}, {"path": "name.exists()"}],
		    "select": [{"column": [{"name": "id", "path": "id"}]}]}`,
			[]string{`id="a"`}},
		{"where on empty", `{"resource": "Patient", "where": [{"path": "deceased.ofType(boolean)"}],
		    "select": [{"column": [{"name": "id", "path": "id"}]}]}`,
			nil},
		{"repeat", `{"resource": "Patient", "select": [
		    {"repeat": ["name", "given"], "column": [{"name": "i", "path": "%rowIndex"}, {"name": "t", "path": "$this.family | $this.ofType(string)"}]}]}`,
			[]string{`i=0 t="A1"`, `i=1 t="x"`, `i=2 t="y"`, `i=3 t="A2"`}},
		{"nested forEach with rowIndex", `{"resource": "Patient", "select": [
		    {"forEach": "name", "column": [{"name": "n", "path": "%rowIndex"}],
		     "select": [{"forEach": "given", "column": [{"name": "g", "path": "%rowIndex"}, {"name": "v", "path": "$this"}]}]}]}`,
			[]string{`n=0 g=0 v="x"`, `n=0 g=1 v="y"`}},
	}
	var res []map[string]any
	for _, p := range patients {
		res = append(res, decodeJSON(t, p))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := collect(t, mustLoad(t, tc.view), res...)
			if !slices.Equal(got, tc.want) {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestRowsErrors(t *testing.T) {
	res := decodeJSON(t, patients[0])
	tests := []struct {
		name, view string
		is         error
	}{
		{"multiple values", `{"resource": "Patient", "select": [{"column": [{"name": "f", "path": "name.family"}]}]}`, ErrMultipleValues},
		{"where not boolean", `{"resource": "Patient", "where": [{"path": "id"}], "select": [{"column": [{"name": "f", "path": "id"}]}]}`, ErrWhereNotBoolean},
		{"repeat forever", `{"resource": "Patient", "select": [{"repeat": ["$this"], "column": [{"name": "f", "path": "id"}]}]}`, nil},
		{"type error", `{"resource": "Patient", "select": [{"column": [{"name": "f", "path": "id < 1"}]}]}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := mustLoad(t, tc.view)
			err := v.Rows(res, func([]any) error { return nil })
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), "Patient/a") {
				t.Errorf("error %q does not name the resource", err)
			}
		})
	}
	// An emit error comes back as is and stops the run.
	stop := errors.New("stop")
	v := mustLoad(t, `{"resource": "Patient", "select": [{"forEach": "name", "column": [{"name": "f", "path": "family"}]}]}`)
	calls := 0
	err := v.Rows(res, func([]any) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("got %v after %d calls, want the emit error after 1", err, calls)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, view, want string
	}{
		{"not an object", `[]`, "must be a JSON object"},
		{"bad JSON", `{`, "decode"},
		{"trailing", `{} {}`, "trailing data"},
		{"no resource", `{"select": [{"column": [{"name": "a", "path": "id"}]}]}`, "resource: required"},
		{"bad resource", `{"resource": "patient", "select": [{"column": [{"name": "a", "path": "id"}]}]}`, "not a FHIR resource type"},
		{"no select", `{"resource": "Patient"}`, "select: required"},
		{"empty select", `{"resource": "Patient", "select": []}`, "at least one select"},
		{"bad view name", `{"name": "my view", "resource": "Patient", "select": [{"column": [{"name": "a", "path": "id"}]}]}`, "not a valid name"},
		{"bad column name", `{"resource": "Patient", "select": [{"column": [{"name": "1a", "path": "id"}]}]}`, "select[0].column[0].name"},
		{"missing path", `{"resource": "Patient", "select": [{"column": [{"name": "a"}]}]}`, "select[0].column[0].path: required"},
		{"missing name", `{"resource": "Patient", "select": [{"column": [{"path": "id"}]}]}`, "select[0].column[0].name: required"},
		{"collection not bool", `{"resource": "Patient", "select": [{"column": [{"name": "a", "path": "id", "collection": "yes"}]}]}`, "must be a boolean"},
		{"unknown key", `{"resource": "Patient", "select": [{"forEachOrNul": "name", "column": [{"name": "a", "path": "id"}]}]}`, `unknown element "forEachOrNul"`},
		{"two iterations", `{"resource": "Patient", "select": [{"forEach": "name", "forEachOrNull": "name", "column": [{"name": "a", "path": "id"}]}]}`, "at most one of"},
		{"forEach not string", `{"resource": "Patient", "select": [{"forEach": 1}]}`, "forEach: must be a string"},
		{"repeat not array", `{"resource": "Patient", "select": [{"repeat": "item"}]}`, "repeat: must be a non-empty array"},
		{"duplicate column", `{"resource": "Patient", "select": [{"column": [{"name": "a", "path": "id"}]}, {"forEach": "name", "column": [{"name": "a", "path": "family"}]}]}`, `column "a" is already defined`},
		{"union names", `{"resource": "Patient", "select": [{"unionAll": [{"column": [{"name": "a", "path": "id"}]}, {"column": [{"name": "b", "path": "id"}]}]}]}`, "differ from unionAll[0]"},
		{"union types", `{"resource": "Patient", "select": [{"unionAll": [{"column": [{"name": "a", "path": "id", "type": "id"}]}, {"column": [{"name": "a", "path": "id", "type": "integer"}]}]}]}`, "differ from unionAll[0]"},
		{"constant without value", `{"resource": "Patient", "constant": [{"name": "c"}], "select": [{"column": [{"name": "a", "path": "id"}]}]}`, "exactly one value[x], has 0"},
		{"constant two values", `{"resource": "Patient", "constant": [{"name": "c", "valueString": "x", "valueCode": "y"}], "select": [{"column": [{"name": "a", "path": "id"}]}]}`, "exactly one value[x], has 2"},
		{"constant bad type", `{"resource": "Patient", "constant": [{"name": "c", "valueQuantity": {}}], "select": [{"column": [{"name": "a", "path": "id"}]}]}`, `unknown element "valueQuantity"`},
		{"constant bad date", `{"resource": "Patient", "constant": [{"name": "c", "valueDate": "2020-1-1"}], "select": [{"column": [{"name": "a", "path": "id"}]}]}`, "not a valid date"},
		{"constant bad integer", `{"resource": "Patient", "constant": [{"name": "c", "valueInteger": 1.5}], "select": [{"column": [{"name": "a", "path": "id"}]}]}`, "must be an integer"},
		{"constant reserved", `{"resource": "Patient", "constant": [{"name": "resource", "valueString": "x"}], "select": [{"column": [{"name": "a", "path": "id"}]}]}`, "reserved"},
		{"constant twice", `{"resource": "Patient", "constant": [{"name": "c", "valueString": "x"}, {"name": "c", "valueString": "y"}], "select": [{"column": [{"name": "a", "path": "id"}]}]}`, "defined twice"},
		{"where without path", `{"resource": "Patient", "where": [{}], "select": [{"column": [{"name": "a", "path": "id"}]}]}`, "where[0].path"},
		{"tag without value", `{"resource": "Patient", "select": [{"column": [{"name": "a", "path": "id", "tag": [{"name": "x"}]}]}]}`, "tag[0].value"},
		// Compile errors.
		{"bad path", `{"resource": "Patient", "select": [{"column": [{"name": "a", "path": "name.("}]}]}`, "select[0].column[0].path: fhirpath"},
		{"undefined constant", `{"resource": "Patient", "select": [{"column": [{"name": "a", "path": "%nope"}]}]}`, "undefined constant %nope"},
		{"where literal not boolean", `{"resource": "Patient", "where": [{"path": "'x'"}], "select": [{"column": [{"name": "a", "path": "id"}]}]}`, "not boolean"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(tc.view))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
	// All problems are reported at once.
	_, err := Parse([]byte(`{"select": [{"column": [{"name": "1", "path": "id"}, {"name": "b"}]}]}`))
	if n := strings.Count(err.Error(), "\n") + 1; n != 3 {
		t.Errorf("got %d problems, want 3:\n%v", n, err)
	}
}

// TestParseAccepts checks that a complete, real-world ViewDefinition with
// resource metadata, tags, descriptions and every constant type parses.
func TestParseAccepts(t *testing.T) {
	d, err := Parse([]byte(`{
	  "resourceType": "ViewDefinition", "url": "http://example.org/v", "name": "patient_demographics",
	  "status": "active", "meta": {"profile": ["x"]}, "fhirVersion": ["4.0.1"], "resource": "Patient",
	  "constant": [
	    {"name": "b", "valueBoolean": true}, {"name": "i", "valueInteger": -3}, {"name": "p", "valuePositiveInt": 1},
	    {"name": "u", "valueUnsignedInt": 0}, {"name": "d", "valueDecimal": 1.50}, {"name": "dt", "valueDateTime": "2020-01-01T10:00:00Z"},
	    {"name": "da", "valueDate": "2020"}, {"name": "t", "valueTime": "10:00"}, {"name": "ins", "valueInstant": "2020-01-01T10:00:00.5+01:00"},
	    {"name": "l", "valueInteger64": "9007199254740993"}],
	  "select": [{"description": "x", "column": [
	    {"name": "id", "path": "getResourceKey()", "type": "id", "description": "key",
	     "tags": [{"name": "ansi/type", "value": "VARCHAR"}], "_name": {"extension": []}}]}],
	  "where": [{"path": "active", "description": "active only"}]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "patient_demographics" || len(d.Constants) != 10 || d.Constants[4].Type != "decimal" {
		t.Errorf("unexpected definition %+v", d)
	}
	v, err := d.Compile()
	if err != nil {
		t.Fatal(err)
	}
	if c := v.Columns()[0]; c.Type != "id" || c.Description != "key" || len(c.Tags) != 1 {
		t.Errorf("column %+v", c)
	}
}

// TestRowsConcurrent runs one View from several goroutines (meaningful under
// -race).
func TestRowsConcurrent(t *testing.T) {
	v := mustLoad(t, `{"resource": "Observation", "select": [
	  {"column": [{"name": "id", "path": "id"}]},
	  {"forEach": "component", "column": [{"name": "v", "path": "value.ofType(Quantity).value"}]}]}`)
	res := decodeJSON(t, bloodPressure)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				var got []string
				err := v.Rows(res, func(row []any) error {
					got = append(got, fmt.Sprintf("%v %v", row...))
					return nil
				})
				if err != nil || !slices.Equal(got, []string{"bp1 128", "bp1 82.5"}) {
					errs <- fmt.Errorf("got %v, %v", got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestReport(t *testing.T) {
	rep := &Report{Results: []Result{
		{File: "a.json", Title: "one", Passed: true},
		{File: "a.json", Title: "two", Reason: "1 rows, want 2"},
		{File: "b.json", Title: "three", Passed: true, Experimental: true},
	}}
	s := rep.Summary()
	if s != (Summary{Passed: 1, Failed: 1, Total: 2, ExperimentalPassed: 1, ExperimentalTotal: 1}) {
		t.Errorf("summary %+v", s)
	}
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got map[string]struct {
		Tests []struct {
			Name   string `json:"name"`
			Result struct {
				Passed bool `json:"passed"`
			} `json:"result"`
		} `json:"tests"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got["a.json"].Tests) != 2 || got["a.json"].Tests[1].Name != "two" ||
		got["a.json"].Tests[1].Result.Passed || !got["b.json"].Tests[0].Result.Passed {
		t.Errorf("report %s", b.String())
	}
}

// TestMatchRows checks the suite's row comparison: order-insensitive,
// numbers by value, missing expected keys as null, duplicates counted.
func TestMatchRows(t *testing.T) {
	cols := []string{"a", "b"}
	rows := [][]any{{json.Number("1.50"), "x"}, {json.Number("2"), nil}, {json.Number("2"), nil}}
	expect := func(s string) []map[string]any {
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var m []map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if msg := matchRows(cols, rows, expect(`[{"a": 2}, {"a": 1.5, "b": "x"}, {"a": 2.0, "b": null}]`)); msg != "" {
		t.Error(msg)
	}
	if msg := matchRows(cols, rows, expect(`[{"a": 2}, {"a": 1.5, "b": "x"}, {"a": 1.5, "b": "x"}]`)); msg == "" {
		t.Error("duplicate expected row matched twice")
	}
	if msg := matchRows(cols, rows, expect(`[{"a": 2}, {"a": 1.5, "b": "x"}, {"a": 2, "c": null}]`)); msg == "" {
		t.Error("unknown expected column matched")
	}
}
