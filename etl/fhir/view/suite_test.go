package view

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// reportPath, when set (go test -run TestConformance -args -report
// test_report.json), receives the suite's test report.
var reportPath = flag.String("report", "", "write the SQL-on-FHIR test report to this file")

// suiteDir is the SQL-on-FHIR v2 conformance suite shared by all carelens
// checkouts.
var suiteDir = filepath.Join("..", "..", "..", "..", "shared", "data", "sql-on-fhir-v2", "tests")

// TestConformance runs the public SQL-on-FHIR v2 suite and fails when fewer
// than 95 % of the non-experimental tests pass.
func TestConformance(t *testing.T) {
	if _, err := os.Stat(suiteDir); err != nil {
		t.Skipf("SQL-on-FHIR v2 suite not found at %s: %v", suiteDir, err)
	}
	rep, err := RunSuite(suiteDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *reportPath != "" {
		f, err := os.Create(*reportPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := rep.WriteJSON(f); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	s := rep.Summary()
	t.Logf("%d passed, %d failed", s.Passed, s.Failed)
	t.Logf("experimental: %d passed, %d failed", s.ExperimentalPassed, s.ExperimentalFailed)
	for _, f := range rep.Failures() {
		exp := ""
		if f.Experimental {
			exp = " (experimental)"
		}
		t.Logf("FAIL %s: %s%s: %s", f.File, f.Title, exp, f.Reason)
	}
	if s.Total == 0 {
		t.Fatal("the suite has no tests")
	}
	if float64(s.Passed) < 0.95*float64(s.Total) {
		t.Errorf("%d of %d non-experimental tests pass, want at least 95 %%", s.Passed, s.Total)
	}
}
