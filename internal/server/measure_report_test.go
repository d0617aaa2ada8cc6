package server

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/carelens/carelens/etl"
	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/internal/store"
	"github.com/carelens/carelens/metrics"
)

// measureMetric is a test proportion metric with eCQM populations over the
// table measure_fixture.
const measureMetric = `-- name: ecqm_test
-- title: Test proportion measure
-- description: One row per unit of measure_fixture, with its eCQM populations.
-- unit: ratio
-- kind: ratio
-- direction: higher_is_better
-- grain: year
-- spec: eCQM CMS999 TestMeasureFHIR 1.2.003
-- version: 3
SELECT period_date, patient_id, numerator, denominator, initial_population, denominator_exclusion FROM measure_fixture
`

// measureFixture holds, per year (units: initial population, excluded, left
// in the denominator, in the numerator):
//
//	2021  54, 14 excluded (2 on 1 January), 40 left, 20 in the numerator
//	2022  45,  5 excluded, 40 left (3 on 1 January), 15 in the numerator
//	2023  37, 30 excluded (patient p-2 twice), 7 left, 3 in the numerator
//
// Everything else is dated 31 December.
const measureFixture = `CREATE TABLE measure_fixture (period_date DATE, patient_id VARCHAR, numerator INTEGER,
	denominator INTEGER, initial_population INTEGER, denominator_exclusion INTEGER);
CREATE TEMP TABLE cells (year INTEGER, jan1 INTEGER, excluded INTEGER, left_ INTEGER, numer INTEGER);
INSERT INTO cells VALUES (2021, 2, 14, 40, 20), (2022, 3, 5, 40, 15), (2023, 0, 30, 7, 3);
INSERT INTO measure_fixture
SELECT CASE WHEN i < jan1 THEN make_date(year, 1, 1) ELSE make_date(year, 12, 31) END,
	'x' || CAST(year AS VARCHAR) || '-' || CAST(CASE WHEN year = 2023 AND i = 1 THEN 2 ELSE i END AS VARCHAR), 0, 0, 1, 1
FROM cells, range(0, 100) AS r(i) WHERE i < excluded AND year <> 2022;
INSERT INTO measure_fixture
SELECT make_date(year, 12, 31), 'x' || CAST(year AS VARCHAR) || '-' || CAST(i AS VARCHAR), 0, 0, 1, 1
FROM cells, range(0, 100) AS r(i) WHERE i < excluded AND year = 2022;
INSERT INTO measure_fixture
SELECT CASE WHEN year = 2022 AND i >= left_ - jan1 THEN make_date(year, 1, 1) ELSE make_date(year, 12, 31) END,
	'n' || CAST(year AS VARCHAR) || '-' || CAST(i AS VARCHAR), CASE WHEN i < numer THEN 1 ELSE 0 END, 1, 1, 0
FROM cells, range(0, 100) AS r(i) WHERE i < left_;
DROP TABLE cells;`

// newMeasureEnv is a server whose engine reads the no-show fixture and
// measure_fixture (snapshot 1, loaded under profile), with the built-in
// metrics and ecqm_test.
func newMeasureEnv(t *testing.T, profile string, opts Options) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	noShow, err := os.ReadFile("testdata/fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{string(noShow), measureFixture, fmt.Sprintf(`INSERT INTO etl_runs VALUES
		('run-1', 1, 'files', 'succeeded', '%s', now(), now(), 0, 0, 0, 0, NULL, TIMESTAMP '2025-03-31 23:59:59', NULL, NULL);
		INSERT INTO etl_run_counts VALUES ('run-1', 'ehr', 'Appointment', 0, 0, 0, 0)`, profile)} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	defs := fstest.MapFS{"ecqm_test.sql": {Data: []byte(measureMetric)}}
	err = fs.WalkDir(metrics.Builtin, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(metrics.Builtin, path)
		defs[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	reg, errs := metrics.Load(ctx, defs, db)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	opts.Metrics = metrics.NewEngine(db, reg, metrics.EngineOptions{})
	return newEnv(t, false, opts)
}

const (
	fhirJSON   = "application/fhir+json"
	popSystem  = `"system":"http://terminology.hl7.org/CodeSystem/measure-population"`
	masked     = `"_count":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"masked"}]}`
	scoreMask  = `"measureScore":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"masked"}]}`
	ecqmTestID = "ecqm-test-v3-s1-"
)

// pop renders a population as the report does: count is a number, or
// "masked".
func pop(code, display, count string) string {
	c := `"count":` + count
	if count == "masked" {
		c = masked
	}
	return `{"code":{"coding":[{` + popSystem + `,"code":"` + code + `","display":"` + display + `"}]},` + c + `}`
}

func ecqmTestHead(id, from, to, typ string, threshold bool) string {
	ext := `{"url":"https://carelens.dev/fhir/StructureDefinition/metric-version","valueInteger":3},` +
		`{"url":"https://carelens.dev/fhir/StructureDefinition/snapshot-id","valueInteger":1},`
	if threshold {
		ext += `{"url":"https://carelens.dev/fhir/StructureDefinition/suppression-threshold","valueInteger":11},`
	}
	ext += `{"url":"https://carelens.dev/fhir/StructureDefinition/ecqm","extension":[{"url":"identifier","valueString":"CMS999"},` +
		`{"url":"measure","valueCanonical":"https://madie.cms.gov/Measure/TestMeasureFHIR|1.2.003"}]}`
	return `{"resourceType":"MeasureReport","id":"` + id + `","extension":[` + ext + `],"status":"complete","type":"` + typ + `",` +
		`"measure":"https://carelens.dev/fhir/Measure/ecqm_test|3","date":"DATE",` +
		`"period":{"start":"` + from + `","end":"` + to + `"},` +
		`"improvementNotation":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/measure-improvement-notation","code":"increase","display":"Increased score indicates improvement"}]},`
}

var reportDate = regexp.MustCompile(`"date":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"`)

// normalise validates a MeasureReport body and replaces its date (the time
// of the request) by DATE.
func normalise(t *testing.T, body string) string {
	t.Helper()
	validateMeasureReport(t, []byte(body))
	if !reportDate.MatchString(body) {
		t.Errorf("no UTC date in %s", body)
	}
	return reportDate.ReplaceAllString(compact(t, body), `"date":"DATE"`)
}

func TestMeasureReportSummary(t *testing.T) {
	e := newMeasureEnv(t, "limited", Options{})
	tests := []struct {
		name, target, want string
	}{
		{
			name:   "all shown",
			target: "/api/v1/measures/ecqm_test/report?period=2021",
			want: ecqmTestHead(ecqmTestID+"20210101-20211231", "2021-01-01", "2021-12-31", "summary", true) +
				`"group":[{"population":[` + pop("initial-population", "Initial Population", "54") + `,` +
				pop("denominator", "Denominator", "54") + `,` + pop("denominator-exclusion", "Denominator Exclusion", "14") + `,` +
				pop("numerator", "Numerator", "20") + `],"measureScore":{"value":0.5}}]}`,
		},
		{
			// 5 exclusions hidden, and the initial population and
			// denominator (45 − 40 would give them away); the score
			// 15/40 stays.
			name:   "small exclusions, complemented",
			target: "/api/v1/measures/ecqm_test/report?periodStart=2022-01-01&periodEnd=2022-12-31",
			want: ecqmTestHead(ecqmTestID+"20220101-20221231", "2022-01-01", "2022-12-31", "summary", true) +
				`"group":[{"population":[` + pop("initial-population", "Initial Population", "masked") + `,` +
				pop("denominator", "Denominator", "masked") + `,` + pop("denominator-exclusion", "Denominator Exclusion", "masked") + `,` +
				pop("numerator", "Numerator", "15") + `],"measureScore":{"value":0.375}}]}`,
		},
		{
			// 7 units left (3 in the numerator): the numerator and score
			// are hidden, and the exclusions, since 37 − 30 = 7.
			name:   "small denominator, complemented",
			target: "/api/v1/measures/ecqm_test/report?period=2023-01-01/2023-12-31&reportType=summary",
			want: ecqmTestHead(ecqmTestID+"20230101-20231231", "2023-01-01", "2023-12-31", "summary", true) +
				`"group":[{"population":[` + pop("initial-population", "Initial Population", "37") + `,` +
				pop("denominator", "Denominator", "37") + `,` + pop("denominator-exclusion", "Denominator Exclusion", "masked") + `,` +
				pop("numerator", "Numerator", "masked") + `],` + scoreMask + `}]}`,
		},
		{
			name:   "no data in the period",
			target: "/api/v1/measures/ecqm_test/report?period=2020&reportType=population",
			want: ecqmTestHead(ecqmTestID+"20200101-20201231", "2020-01-01", "2020-12-31", "summary", true) +
				`"group":[{"population":[` + pop("initial-population", "Initial Population", "0") + `,` +
				pop("denominator", "Denominator", "0") + `,` + pop("denominator-exclusion", "Denominator Exclusion", "0") + `,` +
				pop("numerator", "Numerator", "0") + `],"measureScore":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"not-applicable"}]}}]}`,
		},
		{
			// A metric without eCQM populations: initial population =
			// denominator; lower is better. January 2025 of the no-show
			// fixture: 30 no-shows of 100 appointments.
			name:   "no-show rate",
			target: "/api/v1/measures/no_show_rate/report?period=2025-01",
			want: `{"resourceType":"MeasureReport","id":"no-show-rate-v1-s1-20250101-20250131","extension":[` +
				`{"url":"https://carelens.dev/fhir/StructureDefinition/metric-version","valueInteger":1},` +
				`{"url":"https://carelens.dev/fhir/StructureDefinition/snapshot-id","valueInteger":1},` +
				`{"url":"https://carelens.dev/fhir/StructureDefinition/suppression-threshold","valueInteger":11}],` +
				`"status":"complete","type":"summary","measure":"https://carelens.dev/fhir/Measure/no_show_rate|1","date":"DATE",` +
				`"period":{"start":"2025-01-01","end":"2025-01-31"},` +
				`"improvementNotation":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/measure-improvement-notation","code":"decrease","display":"Decreased score indicates improvement"}]},` +
				`"group":[{"population":[` + pop("initial-population", "Initial Population", "100") + `,` +
				pop("denominator", "Denominator", "100") + `,` + pop("numerator", "Numerator", "30") + `],"measureScore":{"value":0.3}}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, hdr, body := e.get(t, tt.target)
			if code != 200 || hdr.Get("Content-Type") != fhirJSON {
				t.Fatalf("= %d %s %s", code, hdr.Get("Content-Type"), body)
			}
			if got := normalise(t, body); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestMeasureReportErrors(t *testing.T) {
	e := newMeasureEnv(t, "limited", Options{})
	report := "/api/v1/measures/ecqm_test/report"
	tests := []struct {
		target string
		status int
		want   string
	}{
		{"/api/v1/measures/nope/report?period=2025", 404, `{"error":"no measure named \"nope\""}`},
		{report, 400, `{"error":"period is required: a year (period=2025), an interval (period=2025-01-01/2025-12-31), or periodStart and periodEnd"}`},
		{report + "?period=2025-13", 400, `{"error":"period start: \"2025-13\": month 13"}`},
		{report + "?period=2025-12-31/2025-01-01", 400, `{"error":"period start 2025-12-31 is after its end 2025-01-01"}`},
		{report + "?period=last-year", 400, `{"error":"period start: \"last-year\" is not a date: want YYYY, YYYY-MM or YYYY-MM-DD"}`},
		{report + "?periodStart=2025-01-01", 400, `{"error":"periodStart and periodEnd go together"}`},
		{report + "?period=2025&periodEnd=2025", 400, `{"error":"give period, or periodStart and periodEnd, not both"}`},
		{report + "?period=2025&period=2024", 400, `{"error":"parameter period is given 2 times"}`},
		{report + "?period=2025&reportType=individual", 400, `{"error":"reportType \"individual\": want summary or subject-list"}`},
		{report + "?period=2025&subject=Patient/1", 400, `{"error":"unknown parameter \"subject\": a measure report takes period (or periodStart and periodEnd) and reportType"}`},
		{report + "?period=2025&_format=xml", 400, `{"error":"_format \"xml\": only JSON (json, application/fhir+json) is served"}`},
		{"/api/v1/measures/readmission_30d/report?period=2025&_format=json", 200, ""},
	}
	for _, tt := range tests {
		code, hdr, body := e.get(t, tt.target)
		if code != tt.status || (tt.want != "" && compact(t, body) != tt.want) {
			t.Errorf("GET %s = %d %s, want %d %s", tt.target, code, strings.TrimSpace(body), tt.status, tt.want)
		}
		if code >= 400 && !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s: error as %s", tt.target, hdr.Get("Content-Type"))
		}
	}
	// No data yet: 503, as for metrics.
	empty := newEnv(t, false, Options{})
	code, _, body := empty.get(t, "/api/v1/measures/no_show_rate/report?period=2025")
	if want := `{"error":"no data loaded yet: run 'carelens etl run'"}`; code != 503 || compact(t, body) != want {
		t.Errorf("before any load = %d %s, want 503 %s", code, body, want)
	}
	// Dates of service under safe_harbor: 409, as for metrics.
	sh := newMeasureEnv(t, "safe_harbor", Options{})
	code, _, body = sh.get(t, report+"?period=2021")
	if code != 409 || !strings.Contains(body, "safe_harbor") {
		t.Errorf("safe_harbor = %d %s, want 409", code, body)
	}
	if strings.Contains(e.logs.String(), `"level":"ERROR"`) {
		t.Errorf("client errors were logged as failures:\n%s", e.logs)
	}
}

// TestMeasureReportGuard: a summary passes the repeated-query guard under
// the metric's name (shared with /api/v1/metrics) and, for its
// populations, under "<metric>:populations".
func TestMeasureReportGuard(t *testing.T) {
	k := newKeys(t)
	audit := &fakeAuditor{}
	e := newMeasureEnv(t, "limited", Options{Keys: k.ring, Auditor: audit})
	refusal := func(metric string) string {
		return `{"error":"refused: together with a result of ` + metric + ` you received earlier (a period overlap), ` +
			`this one would reveal a count below 11 by subtraction; ask for periods and filters that do not contain one another, ` +
			`or ask an administrator"}`
	}
	// 2022: the metric endpoint shows 15/40; from 2 January the report's
	// denominator after exclusions would be 37.
	if code, _, body := e.get(t, "/api/v1/metrics/ecqm_test?from=2022-01-01&to=2022-12-31&by=", bearer(k.alice)...); code != 200 {
		t.Fatalf("metric = %d %s", code, body)
	}
	code, _, body := e.get(t, "/api/v1/measures/ecqm_test/report?period=2022-01-02/2022-12-31", bearer(k.alice)...)
	if code != 403 || compact(t, body) != refusal("ecqm_test") {
		t.Errorf("report after the metric = %d %s", code, body)
	}
	// 2021: the numerator and the denominator after exclusions are the
	// same from 2 January, but 2 exclusions fall on 1 January.
	if code, _, body := e.get(t, "/api/v1/measures/ecqm_test/report?period=2021", bearer(k.alice)...); code != 200 {
		t.Fatalf("report 2021 = %d %s", code, body)
	}
	code, _, body = e.get(t, "/api/v1/measures/ecqm_test/report?period=2021-01-02/2021-12-31", bearer(k.alice)...)
	if code != 403 || compact(t, body) != refusal("ecqm_test:populations") {
		t.Errorf("report differencing exclusions = %d %s", code, body)
	}
	recs := audit.take()
	if len(recs) != 2 || recs[0].Action != ActionGuardRefused || recs[1].Details["metric"] != "ecqm_test:populations" {
		t.Errorf("audit %+v", recs)
	}
	// An admin gets it, audited.
	e.get(t, "/api/v1/measures/ecqm_test/report?period=2021", bearer(k.ops)...)
	code, _, body = e.get(t, "/api/v1/measures/ecqm_test/report?period=2021-01-02/2021-12-31", bearer(k.ops)...)
	recs = audit.take()
	if code != 200 || !strings.Contains(body, `"count":52`) || len(recs) != 1 || recs[0].Action != ActionGuardExempted {
		t.Errorf("admin = %d %s, audit %+v", code, body, recs)
	}
}

// subjectList is the 2023 subject list of ecqm_test: exact counts, and one
// contained List per population.
func subjectList(t *testing.T, body string) (counts map[string]int, lists map[string][]string, score any) {
	t.Helper()
	var r struct {
		Contained []struct {
			ID    string `json:"id"`
			Entry []struct {
				Item struct {
					Reference string `json:"reference"`
				} `json:"item"`
			} `json:"entry"`
		} `json:"contained"`
		Group []struct {
			Population []struct {
				Code struct {
					Coding []struct {
						Code string `json:"code"`
					} `json:"coding"`
				} `json:"code"`
				Count          *int `json:"count"`
				SubjectResults struct {
					Reference string `json:"reference"`
				} `json:"subjectResults"`
			} `json:"population"`
			MeasureScore map[string]any `json:"measureScore"`
		} `json:"group"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	counts, lists = map[string]int{}, map[string][]string{}
	byID := map[string][]string{}
	for _, c := range r.Contained {
		var refs []string
		for _, e := range c.Entry {
			refs = append(refs, e.Item.Reference)
		}
		byID["#"+c.ID] = refs
	}
	for _, p := range r.Group[0].Population {
		code := p.Code.Coding[0].Code
		if p.Count == nil {
			t.Errorf("%s: no count in a subject list", code)
			continue
		}
		counts[code] = *p.Count
		lists[code] = byID[p.SubjectResults.Reference]
	}
	return counts, lists, r.Group[0].MeasureScore["value"]
}

func TestMeasureReportSubjectList(t *testing.T) {
	k := newKeys(t)
	audit := &fakeAuditor{}
	e := newMeasureEnv(t, "limited", Options{Keys: k.ring, Auditor: audit})
	target := "/api/v1/measures/ecqm_test/report?period=2023&reportType=subject-list"

	// Analysts and the CRM may not; each refusal is audited.
	for _, key := range []string{k.alice, k.sync} {
		code, _, body := e.get(t, target, bearer(key)...)
		if code != 403 || !strings.Contains(body, "does not grant export_subjects") {
			t.Errorf("non-admin subject list = %d %s, want 403", code, body)
		}
	}
	recs := audit.take()
	want := []auditRecord{
		{"alice", ActionSubjectListRefused, map[string]any{"role": "analyst", "metric": "ecqm_test", "report_type": "subject-list"}},
		{"crm-sync", ActionSubjectListRefused, map[string]any{"role": "crm", "metric": "ecqm_test", "report_type": "subject-list"}},
	}
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("refusal audit %+v, want %+v", recs, want)
	}
	// The refusal names no metric that does not exist.
	e.get(t, "/api/v1/measures/no_such_metric/report?period=2023&reportType=subject-list", bearer(k.alice)...)
	if recs := audit.take(); len(recs) != 1 || recs[0].Details["metric"] != "" {
		t.Errorf("refusal of an unknown metric: %+v", recs)
	}

	// An admin gets exact counts and the patients.
	code, hdr, body := e.get(t, target, bearer(k.ops)...)
	if code != 200 || hdr.Get("Content-Type") != fhirJSON {
		t.Fatalf("admin subject list = %d %s", code, body)
	}
	validateMeasureReport(t, []byte(body))
	if !strings.Contains(body, `"id":"ecqm-test-v3-s1-20230101-20231231-subjects"`) || !strings.Contains(body, `"type":"subject-list"`) ||
		strings.Contains(body, "suppression-threshold") {
		t.Errorf("subject list head: %s", body)
	}
	counts, lists, score := subjectList(t, body)
	if want := map[string]int{"initial-population": 37, "denominator": 37, "denominator-exclusion": 30, "numerator": 3}; !reflect.DeepEqual(counts, want) {
		t.Errorf("counts %v, want %v", counts, want)
	}
	if score != 3.0/7 {
		t.Errorf("score %v, want 3/7", score)
	}
	// Patient x2023-2 has two excluded units: 36 patients for 37 units.
	for code, n := range map[string]int{"initial-population": 36, "denominator": 36, "denominator-exclusion": 29, "numerator": 3} {
		if len(lists[code]) != n {
			t.Errorf("%s lists %d patients, want %d", code, len(lists[code]), n)
		}
	}
	if fmt.Sprint(lists["numerator"]) != "[Patient/n2023-0 Patient/n2023-1 Patient/n2023-2]" {
		t.Errorf("numerator %v", lists["numerator"])
	}
	recs = audit.take()
	wantExport := auditRecord{"ops", ActionSubjectListExported, map[string]any{
		"role": "admin", "metric": "ecqm_test", "version": 3, "snapshot_id": int64(1), "period_start": "2023-01-01",
		"period_end": "2023-12-31", "report_id": "ecqm-test-v3-s1-20230101-20231231-subjects", "subjects": 36,
	}}
	if len(recs) != 1 || !reflect.DeepEqual(recs[0], wantExport) {
		t.Errorf("export audit %+v, want %+v", recs, wantExport)
	}
	// No patient id in the logs.
	if strings.Contains(e.logs.String(), "n2023-") || strings.Contains(e.logs.String(), "x2023-") {
		t.Errorf("a patient id reached the logs:\n%s", e.logs)
	}

	// Not returned when the export cannot be audited.
	audit.fail = true
	if code, _, body := e.get(t, target, bearer(k.ops)...); code != 500 || compact(t, body) != `{"error":"internal error"}` {
		t.Errorf("unaudited export = %d %s, want 500", code, body)
	}
	audit.fail = false
	// Open mode: everyone is an analyst, refused.
	open := newMeasureEnv(t, "limited", Options{Auditor: audit})
	if code, _, _ := open.get(t, target); code != 403 {
		t.Errorf("open mode subject list = %d, want 403", code)
	}
	// Without an audit trail there are no subject lists.
	noAudit := newMeasureEnv(t, "limited", Options{Keys: k.ring})
	if code, _, body := noAudit.get(t, target, bearer(k.ops)...); code != 503 || !strings.Contains(body, "audit trail") {
		t.Errorf("subject list without an auditor = %d %s, want 503", code, body)
	}
}

// cms165Deck is the official CMS165 test deck (../shared/data/ecqm).
var cms165Deck = filepath.Join("..", "..", "..", "shared", "data", "ecqm", "CMS165")

// TestMeasureReportCMS165Deck loads the official CMS165 test deck and asks
// for its 2025 MeasureReport: initial population 59, denominator 59,
// exclusions 31, numerator 2 (hidden in the summary, with the score),
// denominator after exclusions 28; the subject list names exactly the
// deck's patients of each population.
func TestMeasureReportCMS165Deck(t *testing.T) {
	if _, err := os.Stat(cms165Deck); err != nil {
		t.Skipf("CMS165 test deck absent (%v): it lives in ../shared/data/ecqm/CMS165 beside the checkout", err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	valueSets, _ := filepath.Glob(filepath.Join(cms165Deck, "valuesets-*.json"))
	if _, err := etl.NewValueSetJob(etl.ValueSetOptions{Paths: valueSets, DB: db}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	key, err := deid.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	vault, err := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := etl.NewFilesJob(etl.FilesOptions{Dir: cms165Deck, DB: db, Vault: vault, Profile: deid.ProfileLimited}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	reg, errs := metrics.Load(ctx, metrics.Builtin, db)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	k := newKeys(t)
	audit := &fakeAuditor{}
	e := newEnv(t, false, Options{Keys: k.ring, Auditor: audit, Metrics: metrics.NewEngine(db, reg, metrics.EngineOptions{})})

	code, _, body := e.get(t, "/api/v1/measures/cms165_bp_controlled/report?period=2025", bearer(k.alice)...)
	if code != 200 {
		t.Fatalf("summary = %d %s", code, body)
	}
	got := normalise(t, body)
	want := `"group":[{"population":[` + pop("initial-population", "Initial Population", "59") + `,` +
		pop("denominator", "Denominator", "59") + `,` + pop("denominator-exclusion", "Denominator Exclusion", "31") + `,` +
		pop("numerator", "Numerator", "masked") + `],` + scoreMask + `}]}`
	if !strings.HasSuffix(got, want) || !strings.Contains(got, `"measure":"https://carelens.dev/fhir/Measure/cms165_bp_controlled|2"`) ||
		!strings.Contains(got, `{"url":"measure","valueCanonical":"https://madie.cms.gov/Measure/ControllingHighBloodPressureFHIR|0.1.000"}`) ||
		!strings.Contains(got, `"period":{"start":"2025-01-01","end":"2025-12-31"}`) {
		t.Errorf("summary\n%s\nwant it to end with\n%s", got, want)
	}

	code, _, body = e.get(t, "/api/v1/measures/cms165_bp_controlled/report?period=2025&reportType=subject-list", bearer(k.ops)...)
	if code != 200 {
		t.Fatalf("subject list = %d %s", code, body)
	}
	validateMeasureReport(t, []byte(body))
	counts, lists, score := subjectList(t, body)
	if want := map[string]int{"initial-population": 59, "denominator": 59, "denominator-exclusion": 31, "numerator": 2}; !reflect.DeepEqual(counts, want) {
		t.Errorf("counts %v, want %v", counts, want)
	}
	if score != 2.0/28 {
		t.Errorf("score %v, want 2/28", score)
	}
	// The lists against the deck's expected populations, through the vault.
	f, err := os.Open(filepath.Join(cms165Deck, "expected_populations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	wantLists := map[string][]string{}
	for _, r := range recs[1:] {
		s, ok := vault.Lookup(deid.NSPatient, r[col["patient_id"]])
		if !ok {
			t.Fatalf("deck patient %s not loaded", r[col["patient_id"]])
		}
		ref := "Patient/" + s
		in := func(h string) bool { return r[col[h]] == "1" }
		for code, member := range map[string]bool{
			"initial-population": in("ip"), "denominator": in("denom"), "denominator-exclusion": in("denex"),
			"numerator": in("numer") && in("denom") && !in("denex"),
		} {
			if member {
				wantLists[code] = append(wantLists[code], ref)
			}
		}
	}
	for code, refs := range wantLists {
		sort.Strings(refs)
		if !reflect.DeepEqual(lists[code], refs) {
			t.Errorf("%s lists %d patients, the deck %d:\n got %v\nwant %v", code, len(lists[code]), len(refs), lists[code], refs)
		}
	}
	if a := audit.take(); len(a) != 1 || a[0].Details["subjects"] != 59 {
		t.Errorf("audit %+v", a)
	}
}

// validateMeasureReport checks a MeasureReport against the FHIR R4
// structure: known elements only, required elements and their
// cardinalities, value sets of the coded elements, primitive formats, and
// the invariants ext-1 (an extension has a value or extensions, not both),
// ele-1 (no empty element) and dom-3 (every contained resource is
// referenced from the report).
func validateMeasureReport(t *testing.T, body []byte) {
	t.Helper()
	var r map[string]any
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	v := &fhirCheck{t: t}
	v.keys("MeasureReport", r, []string{"resourceType", "id", "meta", "implicitRules", "language", "text", "contained", "extension",
		"modifierExtension", "identifier", "status", "type", "measure", "subject", "date", "reporter", "period",
		"improvementNotation", "group", "evaluatedResource"}, []string{"resourceType", "status", "type", "measure", "period"})
	v.equal("resourceType", r["resourceType"], "MeasureReport")
	v.match("id", r["id"], `^[A-Za-z0-9\-\.]{1,64}$`)
	v.oneOf("status", r["status"], "complete", "pending", "error")
	v.oneOf("type", r["type"], "individual", "subject-list", "summary", "data-collection")
	v.match("measure", r["measure"], `^https?://\S+(\|\S+)?$`)
	if d, ok := r["date"]; ok {
		v.match("date", d, `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`)
	}
	period := v.object("period", r["period"])
	v.keys("period", period, []string{"id", "extension", "start", "end"}, nil)
	for _, k := range []string{"start", "end"} {
		v.match("period."+k, period[k], `^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$`)
	}
	v.extensions("extension", r["extension"])
	if in, ok := r["improvementNotation"]; ok {
		v.codeable("improvementNotation", in, "http://terminology.hl7.org/CodeSystem/measure-improvement-notation", "increase", "decrease")
	}
	contained := map[string]bool{}
	for i, c := range v.array("contained", r["contained"], false) {
		res := v.object(fmt.Sprintf("contained[%d]", i), c)
		v.equal("contained.resourceType", res["resourceType"], "List")
		v.keys("List", res, []string{"resourceType", "id", "meta", "extension", "identifier", "status", "mode", "title", "code",
			"subject", "encounter", "date", "source", "orderedBy", "note", "entry", "emptyReason"}, []string{"status", "mode"})
		v.oneOf("List.status", res["status"], "current", "retired", "entered-in-error")
		v.oneOf("List.mode", res["mode"], "working", "snapshot", "changes")
		id, _ := res["id"].(string)
		v.match("List.id", id, `^[A-Za-z0-9\-\.]{1,64}$`)
		contained["#"+id] = false
		for _, e := range v.array("List.entry", res["entry"], false) {
			item := v.object("List.entry.item", v.object("List.entry", e)["item"])
			v.match("List.entry.item.reference", item["reference"], `^Patient/[A-Za-z0-9\-\.]{1,64}$`)
		}
	}
	groups := v.array("group", r["group"], true)
	for _, g := range groups {
		group := v.object("group", g)
		v.keys("group", group, []string{"id", "extension", "modifierExtension", "code", "population", "measureScore", "stratifier"}, nil)
		for _, p := range v.array("group.population", group["population"], true) {
			pop := v.object("population", p)
			v.keys("population", pop, []string{"id", "extension", "modifierExtension", "code", "count", "_count", "subjectResults"}, []string{"code"})
			v.codeable("population.code", pop["code"], "http://terminology.hl7.org/CodeSystem/measure-population",
				"initial-population", "numerator", "numerator-exclusion", "denominator", "denominator-exclusion",
				"denominator-exception", "measure-population", "measure-population-exclusion", "measure-observation")
			if c, ok := pop["count"]; ok {
				if n, ok := c.(float64); !ok || n != float64(int64(n)) || n < 0 || n > 2147483647 {
					v.fail("population.count %v is not an integer", c)
				}
			} else {
				ext := v.object("population._count", pop["_count"])
				v.keys("population._count", ext, []string{"id", "extension"}, []string{"extension"})
				v.extensions("population._count.extension", ext["extension"])
			}
			if sr, ok := pop["subjectResults"]; ok {
				ref, _ := v.object("subjectResults", sr)["reference"].(string)
				if _, ok := contained[ref]; !ok {
					v.fail("subjectResults %q references no contained resource", ref)
				}
				contained[ref] = true
				if r["type"] != "subject-list" {
					v.fail("subjectResults in a %v report", r["type"])
				}
			} else if r["type"] == "subject-list" {
				v.fail("a subject-list population without subjectResults")
			}
		}
		if s, ok := group["measureScore"]; ok {
			q := v.object("measureScore", s)
			v.keys("measureScore", q, []string{"id", "extension", "value", "comparator", "unit", "system", "code"}, nil)
			if _, ok := q["value"].(float64); !ok {
				if _, ok := q["extension"]; !ok {
					v.fail("measureScore has neither a value nor an extension")
				}
			}
			v.extensions("measureScore.extension", q["extension"])
		}
	}
	for ref, used := range contained {
		if !used {
			v.fail("contained %s is not referenced (dom-3)", ref)
		}
	}
}

// fhirCheck collects structural problems of a FHIR resource.
type fhirCheck struct{ t *testing.T }

func (v *fhirCheck) fail(format string, args ...any) {
	v.t.Helper()
	v.t.Errorf("FHIR MeasureReport: "+format, args...)
}

func (v *fhirCheck) object(path string, x any) map[string]any {
	v.t.Helper()
	m, ok := x.(map[string]any)
	if !ok {
		v.fail("%s is not an object: %v", path, x)
		return map[string]any{}
	}
	if len(m) == 0 {
		v.fail("%s is empty (ele-1)", path)
	}
	return m
}

func (v *fhirCheck) array(path string, x any, required bool) []any {
	v.t.Helper()
	if x == nil {
		if required {
			v.fail("%s is missing", path)
		}
		return nil
	}
	a, ok := x.([]any)
	if !ok || len(a) == 0 {
		v.fail("%s is not a non-empty array: %v", path, x)
	}
	return a
}

func (v *fhirCheck) keys(path string, m map[string]any, allowed, required []string) {
	v.t.Helper()
	for k := range m {
		if !contains(allowed, k) {
			v.fail("%s has no element %q", path, k)
		}
	}
	for _, k := range required {
		if _, ok := m[k]; !ok {
			v.fail("%s lacks the required %s", path, k)
		}
	}
}

func (v *fhirCheck) equal(path string, x any, want string) {
	v.t.Helper()
	if x != want {
		v.fail("%s = %v, want %s", path, x, want)
	}
}

func (v *fhirCheck) oneOf(path string, x any, values ...string) {
	v.t.Helper()
	s, _ := x.(string)
	if !contains(values, s) {
		v.fail("%s = %v, not one of %v", path, x, values)
	}
}

func (v *fhirCheck) match(path string, x any, re string) {
	v.t.Helper()
	s, ok := x.(string)
	if !ok || !regexp.MustCompile(re).MatchString(s) {
		v.fail("%s = %v does not match %s", path, x, re)
	}
}

func (v *fhirCheck) codeable(path string, x any, system string, codes ...string) {
	v.t.Helper()
	cc := v.object(path, x)
	v.keys(path, cc, []string{"id", "extension", "coding", "text"}, []string{"coding"})
	for _, c := range v.array(path+".coding", cc["coding"], true) {
		coding := v.object(path+".coding", c)
		v.keys(path+".coding", coding, []string{"id", "extension", "system", "version", "code", "display", "userSelected"}, []string{"system", "code"})
		v.equal(path+".coding.system", coding["system"], system)
		v.oneOf(path+".coding.code", coding["code"], codes...)
	}
}

func (v *fhirCheck) extensions(path string, x any) {
	v.t.Helper()
	for _, e := range v.array(path, x, false) {
		ext := v.object(path, e)
		v.match(path+".url", ext["url"], `^\S+$`)
		values := 0
		for k := range ext {
			switch {
			case k == "url" || k == "id":
			case k == "extension":
				v.extensions(path+".extension", ext[k])
			case strings.HasPrefix(k, "value"):
				values++
			default:
				v.fail("%s has no element %q", path, k)
			}
		}
		_, nested := ext["extension"]
		if (values == 1) == nested || values > 1 {
			v.fail("%s %v: want one value[x] or nested extensions (ext-1)", path, ext["url"])
		}
		if ext["url"] == "http://hl7.org/fhir/StructureDefinition/data-absent-reason" {
			v.oneOf(path+".valueCode", ext["valueCode"], "unknown", "asked-unknown", "temp-unknown", "not-asked",
				"asked-declined", "masked", "not-applicable", "unsupported", "as-text", "error", "not-a-number",
				"negative-infinity", "positive-infinity", "not-performed", "not-permitted")
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
