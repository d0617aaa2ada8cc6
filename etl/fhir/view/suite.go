package view

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Result is the outcome of one conformance test.
type Result struct {
	File         string
	Title        string
	Tags         []string
	Experimental bool
	Passed       bool
	// Reason explains a failure ("" when passed).
	Reason string
}

// Report is the outcome of a conformance suite run, in file and test order.
type Report struct {
	Results []Result
}

// Summary counts passed and failed tests; experimental-tagged tests are
// counted separately from the others.
type Summary struct {
	Passed, Failed, Total                                     int
	ExperimentalPassed, ExperimentalFailed, ExperimentalTotal int
}

func (s Summary) String() string {
	return fmt.Sprintf("%d passed, %d failed (of %d); experimental: %d passed, %d failed (of %d)",
		s.Passed, s.Failed, s.Total, s.ExperimentalPassed, s.ExperimentalFailed, s.ExperimentalTotal)
}

// Summary counts the report's results.
func (r *Report) Summary() Summary {
	var s Summary
	for _, res := range r.Results {
		switch {
		case res.Experimental && res.Passed:
			s.ExperimentalPassed++
		case res.Experimental:
			s.ExperimentalFailed++
		case res.Passed:
			s.Passed++
		default:
			s.Failed++
		}
	}
	s.Total = s.Passed + s.Failed
	s.ExperimentalTotal = s.ExperimentalPassed + s.ExperimentalFailed
	return s
}

// Failures returns the failed results.
func (r *Report) Failures() []Result {
	var out []Result
	for _, res := range r.Results {
		if !res.Passed {
			out = append(out, res)
		}
	}
	return out
}

// WriteJSON writes the report in the SQL-on-FHIR test report format
// (test_report/test-report.schema.json): an object keyed by test file name,
// each {"tests": [{"name": title, "result": {"passed": bool}}]}, with the
// failure reason as result.error.
func (r *Report) WriteJSON(w io.Writer) error {
	type result struct {
		Passed bool   `json:"passed"`
		Error  string `json:"error,omitempty"`
	}
	type test struct {
		Name   string `json:"name"`
		Result result `json:"result"`
	}
	type file struct {
		Tests []test `json:"tests"`
	}
	out := map[string]*file{}
	for _, res := range r.Results {
		f := out[res.File]
		if f == nil {
			f = &file{Tests: []test{}}
			out[res.File] = f
		}
		f.Tests = append(f.Tests, test{Name: res.Title, Result: result{Passed: res.Passed, Error: res.Reason}})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

type suiteFile struct {
	Tags      []string         `json:"tags"`
	Resources []map[string]any `json:"resources"`
	Tests     []suiteTest      `json:"tests"`
}

type suiteTest struct {
	Title         string           `json:"title"`
	Tags          []string         `json:"tags"`
	View          any              `json:"view"`
	Expect        []map[string]any `json:"expect"`
	ExpectCount   *json.Number     `json:"expectCount"`
	ExpectError   bool             `json:"expectError"`
	ExpectColumns []string         `json:"expectColumns"`
}

// RunSuite runs every test of every *.json file in dir (the SQL-on-FHIR v2
// tests folder; tests.schema.json and other files without tests are
// skipped) for which filter, if not nil, returns true. A test passes when
// the view fails to parse, compile or run exactly when expectError is set,
// and otherwise produces the expected columns and rows. Rows are compared as
// a multiset (order-insensitive), values by JSON value with numbers compared
// by value. An error is returned only when the folder or a file cannot be
// read or decoded.
func RunSuite(dir string, filter func(file, title string) bool) (*Report, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	rep := &Report{}
	for _, path := range paths {
		name := filepath.Base(path)
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read suite: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var f suiteFile
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("decode %s: %w", name, err)
		}
		for _, t := range f.Tests {
			if filter != nil && !filter(name, t.Title) {
				continue
			}
			tags := append(slices.Clone(f.Tags), t.Tags...)
			res := Result{File: name, Title: t.Title, Tags: tags, Experimental: slices.Contains(tags, "experimental")}
			res.Reason = runTest(f.Resources, t)
			res.Passed = res.Reason == ""
			rep.Results = append(rep.Results, res)
		}
	}
	return rep, nil
}

// runTest returns why the test failed, or "".
func runTest(resources []map[string]any, t suiteTest) string {
	cols, rows, err := evaluate(t.View, resources)
	if t.ExpectError {
		if err == nil {
			return fmt.Sprintf("expected an error, got %d rows", len(rows))
		}
		return ""
	}
	if err != nil {
		return "unexpected error: " + err.Error()
	}
	if t.ExpectColumns != nil && !slices.Equal(t.ExpectColumns, cols) {
		return fmt.Sprintf("columns %v, want %v", cols, t.ExpectColumns)
	}
	if t.ExpectCount != nil {
		if n, err := t.ExpectCount.Int64(); err != nil || int(n) != len(rows) {
			return fmt.Sprintf("%d rows, want %s", len(rows), t.ExpectCount)
		}
	}
	if t.Expect != nil {
		if msg := matchRows(cols, rows, t.Expect); msg != "" {
			return msg
		}
	}
	return ""
}

// evaluate runs a view over the resources, returning column names and rows.
func evaluate(view any, resources []map[string]any) ([]string, [][]any, error) {
	d, err := FromJSON(view)
	if err != nil {
		return nil, nil, err
	}
	v, err := d.Compile()
	if err != nil {
		return nil, nil, err
	}
	var cols []string
	for _, c := range v.Columns() {
		cols = append(cols, c.Name)
	}
	var rows [][]any
	for _, r := range resources {
		err := v.Rows(r, func(row []any) error {
			rows = append(rows, slices.Clone(row))
			return nil
		})
		if err != nil {
			return cols, rows, err
		}
	}
	return cols, rows, nil
}

// matchRows pairs every actual row with a distinct expected row.
func matchRows(cols []string, rows [][]any, expect []map[string]any) string {
	if len(rows) != len(expect) {
		return fmt.Sprintf("%d rows, want %d: got %s", len(rows), len(expect), showRows(cols, rows))
	}
	used := make([]bool, len(expect))
outer:
	for _, row := range rows {
		for j, want := range expect {
			if !used[j] && rowEqual(cols, row, want) {
				used[j] = true
				continue outer
			}
		}
		return fmt.Sprintf("unexpected row %s; got %s", showRows(cols, [][]any{row}), showRows(cols, rows))
	}
	return ""
}

func rowEqual(cols []string, row []any, want map[string]any) bool {
	for k := range want {
		if !slices.Contains(cols, k) {
			return false
		}
	}
	for i, c := range cols {
		if !valueEqual(row[i], want[c]) {
			return false
		}
	}
	return true
}

// valueEqual compares an output value with an expected JSON value; a
// missing expected value equals null.
func valueEqual(got, want any) bool {
	switch w := want.(type) {
	case nil:
		return got == nil
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			return false
		}
		c, ok := compareNumbers(string(g), string(w))
		return ok && c == 0
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !valueEqual(g[i], w[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, v := range w {
			if !valueEqual(g[k], v) {
				return false
			}
		}
		return true
	}
	return got == want
}

func showRows(cols []string, rows [][]any) string {
	var parts []string
	for _, r := range rows {
		m := map[string]any{}
		for i, c := range cols {
			m[c] = r[i]
		}
		b, _ := json.Marshal(m)
		parts = append(parts, string(b))
	}
	s := strings.Join(parts, ", ")
	if len(s) > 2000 {
		s = s[:2000] + "…"
	}
	return "[" + s + "]"
}

// compareNumbers compares two JSON numbers exactly.
func compareNumbers(a, b string) (int, bool) {
	x, ok1 := new(big.Rat).SetString(a)
	y, ok2 := new(big.Rat).SetString(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	return x.Cmp(y), true
}
