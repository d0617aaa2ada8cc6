package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carelens/carelens/internal/store"
)

// measuresWarehouse writes a warehouse file with no-show data: 2025-01, 40
// appointments due (12 no-shows), each its own patient; 2025-02, 5 due (2
// no-shows) for patient p-feb.
func measuresWarehouse(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `
		INSERT INTO appointments (appointment_key, patient_id, status, clinic_id, start_ts)
		SELECT 'jan-' || CAST(i AS VARCHAR), 'p-jan-' || CAST(i AS VARCHAR), CASE WHEN i < 12 THEN 'noshow' ELSE 'fulfilled' END,
			'clinic-01', TIMESTAMP '2025-01-15 09:00' FROM range(0, 40) AS r(i);
		INSERT INTO appointments (appointment_key, patient_id, status, clinic_id, start_ts)
		SELECT 'feb-' || CAST(i AS VARCHAR), 'p-feb', CASE WHEN i < 2 THEN 'noshow' ELSE 'fulfilled' END,
			'clinic-01', TIMESTAMP '2025-02-10 09:00' FROM range(0, 5) AS r(i);
		INSERT INTO etl_runs VALUES ('run-1', 1, 'files', 'succeeded', 'limited', now(), now(), 0, 0, 0, 0, NULL,
			TIMESTAMP '2025-12-31 23:59:59', NULL, NULL);
		INSERT INTO etl_run_counts VALUES ('run-1', 'ehr', 'Appointment', 0, 0, 0, 0)`)
	if err != nil {
		t.Fatal(err)
	}
}

// measurePopulations reads a MeasureReport's population counts ("masked"
// when withheld) and score.
func measurePopulations(t *testing.T, out string) (map[string]string, any, map[string]any) {
	t.Helper()
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if r["resourceType"] != "MeasureReport" || r["status"] != "complete" {
		t.Fatalf("not a complete MeasureReport: %s", out)
	}
	got := map[string]string{}
	group := r["group"].([]any)[0].(map[string]any)
	for _, p := range group["population"].([]any) {
		pop := p.(map[string]any)
		code := pop["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"].(string)
		if c, ok := pop["count"]; ok {
			b, _ := json.Marshal(c)
			got[code] = string(b)
		} else if strings.Contains(func() string { b, _ := json.Marshal(pop["_count"]); return string(b) }(), `"masked"`) {
			got[code] = "masked"
		}
	}
	return got, group["measureScore"].(map[string]any)["value"], r
}

func TestMeasuresReportCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, auditLog := filepath.Join(dir, "w.duckdb"), filepath.Join(dir, "audit.log")
	measuresWarehouse(t, db)
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, environ: []string{"CARELENS_AUDIT_LOG=" + auditLog, "CARELENS_DB=" + filepath.Join(dir, "other.duckdb")}}
	runCLI := func(args ...string) int {
		stdout.Reset()
		stderr.Reset()
		return run(ctx, args, e)
	}

	if code := runCLI("measures", "--help"); code != 0 || !strings.Contains(stdout.String(), "carelens measures report NAME --period PERIOD") {
		t.Errorf("measures --help = %d %q", code, stdout.String())
	}
	if code := runCLI("measures", "report", "--help"); code != 0 || !strings.Contains(stderr.String(), "Usage: carelens measures report NAME") ||
		!strings.Contains(stderr.String(), "-period") {
		t.Errorf("measures report --help = %d %q", code, stderr.String())
	}
	if code := runCLI("measures"); code != 2 {
		t.Errorf("measures = %d, want 2", code)
	}
	if code := runCLI("measures", "report", "no_show_rate"); code != 2 || !strings.Contains(stderr.String(), "--period is required") {
		t.Errorf("without --period = %d %q", code, stderr.String())
	}
	if code := runCLI("--help"); code != 0 || !strings.Contains(stdout.String(), "measures") {
		t.Errorf("carelens --help lacks measures: %s", stdout.String())
	}

	// A summary; NAME may follow the flags.
	if code := runCLI("measures", "report", "--period", "2025-01", "--db", db, "no_show_rate"); code != 0 {
		t.Fatalf("summary = %d %s", code, stderr.String())
	}
	pops, score, r := measurePopulations(t, stdout.String())
	if want := map[string]string{"initial-population": "40", "denominator": "40", "numerator": "12"}; !equalMaps(pops, want) || score != 0.3 {
		t.Errorf("January: %v score %v, want %v score 0.3", pops, score, want)
	}
	if r["id"] != "no-show-rate-v1-s1-20250101-20250131" || r["type"] != "summary" {
		t.Errorf("id %v type %v", r["id"], r["type"])
	}
	// Small counts are hidden.
	if code := runCLI("measures", "report", "no_show_rate", "--period", "2025-02", "--db", db); code != 0 {
		t.Fatalf("summary = %d %s", code, stderr.String())
	}
	if pops, _, _ := measurePopulations(t, stdout.String()); !equalMaps(pops, map[string]string{"initial-population": "masked", "denominator": "masked", "numerator": "masked"}) {
		t.Errorf("February: %v, want everything masked", pops)
	}

	// A subject list needs an actor, and is audited.
	if code := runCLI("measures", "report", "no_show_rate", "--period", "2025-02", "--type", "subject-list", "--db", db); code != 1 ||
		!strings.Contains(stderr.String(), "--actor is required") {
		t.Errorf("subject list without --actor = %d %q", code, stderr.String())
	}
	if _, err := os.Stat(auditLog); err == nil {
		t.Error("the audit log was written before any export")
	}
	if code := runCLI("measures", "report", "no_show_rate", "--period", "2025-02", "--type", "subject-list", "--actor", "ops", "--db", db); code != 0 {
		t.Fatalf("subject list = %d %s", code, stderr.String())
	}
	pops, score, r = measurePopulations(t, stdout.String())
	if !equalMaps(pops, map[string]string{"initial-population": "5", "denominator": "5", "numerator": "2"}) || score != 0.4 || r["type"] != "subject-list" {
		t.Errorf("subject list: %v score %v type %v", pops, score, r["type"])
	}
	// p-feb's five appointments: one patient in each list.
	if n := strings.Count(stdout.String(), `"reference": "Patient/p-feb"`); n != 3 {
		t.Errorf("p-feb listed %d times, want once per population:\n%s", n, stdout.String())
	}
	f, err := os.Open(auditLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var entries []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, m)
	}
	if len(entries) != 1 || entries[0]["actor"] != "ops" || entries[0]["action"] != "measure_report.subject_list" {
		t.Fatalf("audit entries %v", entries)
	}
	d, _ := json.Marshal(entries[0]["details"])
	if want := `{"metric":"no_show_rate","period_end":"2025-02-28","period_start":"2025-02-01","report_id":"no-show-rate-v1-s1-20250201-20250228-subjects","snapshot_id":1,"subjects":1,"version":1,"via":"cli"}`; string(d) != want {
		t.Errorf("audit details %s, want %s", d, want)
	}
	if strings.Contains(stderr.String(), "p-feb") {
		t.Errorf("a patient id reached the log: %s", stderr.String())
	}

	// Errors.
	if code := runCLI("measures", "report", "nope", "--period", "2025", "--db", db); code != 1 || !strings.Contains(stderr.String(), `no measure named "nope"`) {
		t.Errorf("unknown measure = %d %q", code, stderr.String())
	}
	if code := runCLI("measures", "report", "no_show_rate", "--period", "2025-1", "--db", db); code != 1 || !strings.Contains(stderr.String(), "--period") {
		t.Errorf("bad period = %d %q", code, stderr.String())
	}
	if code := runCLI("measures", "report", "no_show_rate", "extra", "--period", "2025", "--db", db); code != 2 {
		t.Errorf("two names = %d", code)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
