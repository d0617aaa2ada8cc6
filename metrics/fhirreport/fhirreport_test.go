package fhirreport

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/carelens/carelens/internal/disclosure"
	"github.com/carelens/carelens/metrics"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestMeasurePeriod(t *testing.T) {
	for _, tt := range []struct {
		in, from, to, err string
	}{
		{in: "2025", from: "2025-01-01", to: "2025-12-31"},
		{in: "2024-02", from: "2024-02-01", to: "2024-02-29"},
		{in: "2025-03-04", from: "2025-03-04", to: "2025-03-04"},
		{in: "2025-01-01/2025-12-31", from: "2025-01-01", to: "2025-12-31"},
		{in: "2025-01/2025-06", from: "2025-01-01", to: "2025-06-30"},
		{in: "2024/2025", from: "2024-01-01", to: "2025-12-31"},
		{in: "", err: "period start: \"\" is not a date"},
		{in: "25", err: "is not a date"},
		{in: "2025-13", err: "month 13"},
		{in: "2025-02-30", err: "is not a date"},
		{in: "2025-12-31/2025-01-01", err: "period start 2025-12-31 is after its end 2025-01-01"},
		{in: "2025-01-01T00:00:00Z", err: "is not a date"},
		{in: "2025/", err: "period end"},
	} {
		from, to, err := ParsePeriod(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, metrics.ErrInvalid) {
				t.Errorf("ParsePeriod(%q) = %v, want an invalid error with %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || from.Format(time.DateOnly) != tt.from || to.Format(time.DateOnly) != tt.to {
			t.Errorf("ParsePeriod(%q) = %v..%v %v, want %s..%s", tt.in, from, to, err, tt.from, tt.to)
		}
	}
	if from, to, err := ParseBounds("2025-01-01", "2025"); err != nil || from != date("2025-01-01") || to != date("2025-12-31") {
		t.Errorf("ParseBounds = %v %v %v", from, to, err)
	}
}

func TestMeasureReportID(t *testing.T) {
	from, to := date("2025-01-01"), date("2025-12-31")
	if got := ReportID("cms165_bp_controlled", 2, 1, from, to, Summary); got != "cms165-bp-controlled-v2-s1-20250101-20251231" {
		t.Errorf("id %s", got)
	}
	if got := ReportID("cms165_bp_controlled", 2, 1, from, to, SubjectList); got != "cms165-bp-controlled-v2-s1-20250101-20251231-subjects" {
		t.Errorf("id %s", got)
	}
	long := strings.Repeat("a_very_long_metric_name", 4)
	a, b := ReportID(long, 1, 1, from, to, SubjectList), ReportID(long+"x", 1, 1, from, to, SubjectList)
	if len(a) != 64 || a == b || !strings.HasSuffix(a, "-v1-s1-20250101-20251231-subjects") {
		t.Errorf("long ids %s (%d), %s", a, len(a), b)
	}
}

func TestMeasureECQM(t *testing.T) {
	id, canonical, ok := ECQM(`MEASURES.md "CMS165"; eCQM CMS165 ControllingHighBloodPressureFHIR 0.1.000 (docs/cms165.md)`)
	if !ok || id != "CMS165" || canonical != "https://madie.cms.gov/Measure/ControllingHighBloodPressureFHIR|0.1.000" {
		t.Errorf("ECQM = %s %s %v", id, canonical, ok)
	}
	// A companion rate after an eCQM does not implement it.
	if _, _, ok := ECQM(`MEASURES.md "CMS122" (HEDIS GSD companion rate); populations of eCQM CMS122 0.1.002 (docs/cms122.md)`); ok {
		t.Error("a companion rate claims the eCQM")
	}
	if _, _, ok := ECQM("PQA PDC-STA"); ok {
		t.Error("PQA spec read as an eCQM")
	}
}

func TestMeasureParseType(t *testing.T) {
	for in, want := range map[string]Type{"": Summary, "summary": Summary, "population": Summary, "subject-list": SubjectList} {
		if got, err := ParseType(in); err != nil || got != want {
			t.Errorf("ParseType(%q) = %s %v", in, got, err)
		}
	}
	for _, in := range []string{"subject", "individual", "Summary"} {
		if _, err := ParseType(in); !errors.Is(err, metrics.ErrInvalid) {
			t.Errorf("ParseType(%q) = %v", in, err)
		}
	}
}

// TestMeasureBuild renders a published result with a withheld count and
// score, and compares the whole resource.
func TestMeasureBuild(t *testing.T) {
	res := &metrics.Result{Meta: metrics.Meta{Metric: "cms165_bp_controlled", Kind: metrics.KindRatio,
		Direction: metrics.HigherIsBetter, Version: 2, SnapshotID: 7, From: date("2025-01-01"), To: date("2025-12-31"),
		Grain: metrics.GrainNone, Scale: 1, Populations: []string{"initial_population", "denominator_exclusion"}},
		Rows: []metrics.Row{{Dims: []string{}, Numerator: 2, Denominator: 28, Populations: []float64{59, 31}}}}
	m, err := metrics.PublishMeasure(res, disclosure.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	d := &metrics.Definition{Name: "cms165_bp_controlled", Spec: "eCQM CMS165 ControllingHighBloodPressureFHIR 0.1.000"}
	r, err := Build(d, m, Summary, time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), "Clinic Group")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(r)
	want := `{"resourceType":"MeasureReport","id":"cms165-bp-controlled-v2-s7-20250101-20251231",` +
		`"extension":[{"url":"https://carelens.dev/fhir/StructureDefinition/metric-version","valueInteger":2},` +
		`{"url":"https://carelens.dev/fhir/StructureDefinition/snapshot-id","valueInteger":7},` +
		`{"url":"https://carelens.dev/fhir/StructureDefinition/suppression-threshold","valueInteger":11},` +
		`{"url":"https://carelens.dev/fhir/StructureDefinition/ecqm","extension":[{"url":"identifier","valueString":"CMS165"},` +
		`{"url":"measure","valueCanonical":"https://madie.cms.gov/Measure/ControllingHighBloodPressureFHIR|0.1.000"}]}],` +
		`"status":"complete","type":"summary","measure":"https://carelens.dev/fhir/Measure/cms165_bp_controlled|2",` +
		`"date":"2026-01-02T02:04:05Z","reporter":{"display":"Clinic Group"},"period":{"start":"2025-01-01","end":"2025-12-31"},` +
		`"improvementNotation":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/measure-improvement-notation","code":"increase","display":"Increased score indicates improvement"}]},` +
		`"group":[{"population":[` +
		`{"code":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/measure-population","code":"initial-population","display":"Initial Population"}]},"count":59},` +
		`{"code":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/measure-population","code":"denominator","display":"Denominator"}]},"count":59},` +
		`{"code":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/measure-population","code":"denominator-exclusion","display":"Denominator Exclusion"}]},"count":31},` +
		`{"code":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/measure-population","code":"numerator","display":"Numerator"}]},` +
		`"_count":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"masked"}]}}],` +
		`"measureScore":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"masked"}]}}]}`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// A published result never becomes a subject list.
	if _, err := Build(d, m, SubjectList, time.Now(), ""); err == nil {
		t.Error("subject list built from a published result")
	}
}
