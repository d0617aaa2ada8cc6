package fhirreport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/carelens/carelens/internal/disclosure"
	"github.com/carelens/carelens/metrics"
)

// Canonical URLs.
const (
	// Base is the canonical base of carelens' FHIR artefacts: a metric is
	// the Measure Base/Measure/<name>, versioned by the metric's version.
	Base = "https://carelens.dev/fhir"
	// Extension URLs carelens defines.
	ExtMetricVersion        = Base + "/StructureDefinition/metric-version"
	ExtSnapshotID           = Base + "/StructureDefinition/snapshot-id"
	ExtSuppressionThreshold = Base + "/StructureDefinition/suppression-threshold"
	ExtECQM                 = Base + "/StructureDefinition/ecqm"
	// ECQMBase is the canonical base of the CMS eCQMs (MADiE), as the
	// published test decks name them.
	ECQMBase = "https://madie.cms.gov/Measure/"

	// DataAbsentReason is the core extension marking a withheld value.
	DataAbsentReason = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
	// MeasurePopulationSystem is the code system of population codes.
	MeasurePopulationSystem = "http://terminology.hl7.org/CodeSystem/measure-population"
	// ImprovementNotationSystem is the code system of improvementNotation.
	ImprovementNotationSystem = "http://terminology.hl7.org/CodeSystem/measure-improvement-notation"

	// MediaType is the FHIR JSON media type.
	MediaType = "application/fhir+json"
)

// Type is a MeasureReport type.
type Type string

// The report types carelens produces.
const (
	// Summary: population counts and score, after disclosure control.
	Summary Type = "summary"
	// SubjectList: exact counts and, per population, the list of patients.
	SubjectList Type = "subject-list"
)

// ParseType reads a report type: "summary" (or "population", the
// $evaluate-measure reportType meaning the same) or "subject-list"; "" is
// Summary.
func ParseType(s string) (Type, error) {
	switch s {
	case "", string(Summary), "population":
		return Summary, nil
	case string(SubjectList):
		return SubjectList, nil
	}
	return "", invalidf("reportType %q: want summary or subject-list", s)
}

// MeasureReport is a FHIR R4 MeasureReport, with the elements carelens
// fills, in the specification's order.
type MeasureReport struct {
	ResourceType        string           `json:"resourceType"`
	ID                  string           `json:"id"`
	Contained           []List           `json:"contained,omitempty"`
	Extension           []Extension      `json:"extension,omitempty"`
	Status              string           `json:"status"`
	Type                Type             `json:"type"`
	Measure             string           `json:"measure"`
	Date                string           `json:"date,omitempty"`
	Reporter            *Reference       `json:"reporter,omitempty"`
	Period              Period           `json:"period"`
	ImprovementNotation *CodeableConcept `json:"improvementNotation,omitempty"`
	Group               []Group          `json:"group"`
}

// Group is MeasureReport.group.
type Group struct {
	Population   []Population `json:"population"`
	MeasureScore *Quantity    `json:"measureScore,omitempty"`
}

// Population is MeasureReport.group.population. A withheld count is absent
// and its _count element carries the data-absent-reason extension.
type Population struct {
	Code           CodeableConcept `json:"code"`
	Count          *int64          `json:"count,omitempty"`
	CountElement   *Element        `json:"_count,omitempty"`
	SubjectResults *Reference      `json:"subjectResults,omitempty"`
}

// Element holds the extensions of a primitive value.
type Element struct {
	Extension []Extension `json:"extension"`
}

// Quantity is a FHIR Quantity (measureScore).
type Quantity struct {
	Extension []Extension `json:"extension,omitempty"`
	Value     *float64    `json:"value,omitempty"`
	Unit      string      `json:"unit,omitempty"`
}

// Extension is a FHIR extension with the value types carelens uses.
type Extension struct {
	URL            string      `json:"url"`
	Extension      []Extension `json:"extension,omitempty"`
	ValueCode      string      `json:"valueCode,omitempty"`
	ValueInteger   *int64      `json:"valueInteger,omitempty"`
	ValueString    string      `json:"valueString,omitempty"`
	ValueCanonical string      `json:"valueCanonical,omitempty"`
}

// CodeableConcept is a FHIR CodeableConcept.
type CodeableConcept struct {
	Coding []Coding `json:"coding"`
}

// Coding is a FHIR Coding.
type Coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

// Reference is a FHIR Reference.
type Reference struct {
	Reference string `json:"reference,omitempty"`
	Display   string `json:"display,omitempty"`
}

// Period is a FHIR Period of dates.
type Period struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// List is a contained FHIR List of Patient references.
type List struct {
	ResourceType string      `json:"resourceType"`
	ID           string      `json:"id"`
	Status       string      `json:"status"`
	Mode         string      `json:"mode"`
	Title        string      `json:"title,omitempty"`
	Entry        []ListEntry `json:"entry,omitempty"`
}

// ListEntry is List.entry.
type ListEntry struct {
	Item Reference `json:"item"`
}

// populationDisplay are the measure-population codes' displays.
var populationDisplay = map[string]string{
	metrics.PopulationInitial:     "Initial Population",
	metrics.PopulationDenominator: "Denominator",
	metrics.PopulationExclusion:   "Denominator Exclusion",
	metrics.PopulationNumerator:   "Numerator",
}

// Source is what Generate reads; *metrics.Engine implements it.
type Source interface {
	List() []*metrics.Definition
	metrics.Computer
}

// MemberSource lists a metric's patient-level membership, for subject
// lists; *metrics.Engine implements it.
type MemberSource interface {
	Members(ctx context.Context, name string, from, to time.Time) ([]metrics.Member, *metrics.Meta, error)
}

// Request asks for one measure's report.
type Request struct {
	// Measure is the metric's name.
	Measure string
	// From and To are the measurement period's first and last days.
	From, To time.Time
	// Type is Summary (the zero value means Summary) or SubjectList.
	Type Type
	// Policy is the disclosure policy of a summary.
	Policy disclosure.Policy
	// Now is the report's date (default time.Now).
	Now time.Time
	// Reporter, when set, is the reporter's display name.
	Reporter string
}

// Report is a generated MeasureReport and what it is made of.
type Report struct {
	Resource *MeasureReport
	// Result is the populations and score the resource shows; for a
	// summary its Published results are for the repeated-query guard.
	Result *metrics.MeasureResult
	// Subjects counts the distinct patients listed (subject-list only).
	Subjects int
}

// Generate builds req's MeasureReport from src. A summary is computed over
// the period with GrainNone and passes metrics.PublishMeasure; a subject
// list reads the membership (src must implement MemberSource) and is exact:
// the caller must have checked that the requester may see it, and audits
// it. Errors carry the metrics kinds: ErrNotFound for an unknown metric,
// ErrInvalid for a metric that is not a ratio or a bad period,
// ErrUnavailable without data, ErrRefused when the warehouse's
// de-identification profile rules the metric out.
func Generate(ctx context.Context, src Source, req Request) (*Report, error) {
	var d *metrics.Definition
	for _, def := range src.List() {
		if def.Name == req.Measure {
			d = def
			break
		}
	}
	if d == nil {
		return nil, &kindError{metrics.ErrNotFound, fmt.Sprintf("no measure named %q", req.Measure)}
	}
	if d.Kind != metrics.KindRatio {
		return nil, invalidf("%s is a %s metric: a MeasureReport reports proportion (ratio) metrics only", d.Name, d.Kind)
	}
	if req.From.IsZero() || req.To.IsZero() || req.From.After(req.To) {
		return nil, invalidf("the measurement period must have a start on or before its end")
	}
	if req.Type == "" {
		req.Type = Summary
	}
	if req.Now.IsZero() {
		req.Now = time.Now()
	}
	var m *metrics.MeasureResult
	switch req.Type {
	case Summary:
		res, err := src.Compute(ctx, d.Name, metrics.Query{From: req.From, To: req.To, Grain: metrics.GrainNone})
		if err != nil {
			return nil, err
		}
		if m, err = metrics.PublishMeasure(res, req.Policy); err != nil {
			return nil, err
		}
	case SubjectList:
		ms, ok := src.(MemberSource)
		if !ok {
			return nil, fmt.Errorf("measure %s: subject lists need the metric membership, which this source does not give", d.Name)
		}
		members, meta, err := ms.Members(ctx, d.Name, req.From, req.To)
		if err != nil {
			return nil, err
		}
		if m, err = metrics.MeasureSubjects(members, meta); err != nil {
			return nil, err
		}
	default:
		return nil, invalidf("report type %q: want summary or subject-list", req.Type)
	}
	res, err := Build(d, m, req.Type, req.Now, req.Reporter)
	if err != nil {
		return nil, err
	}
	rep := &Report{Resource: res, Result: m}
	if req.Type == SubjectList {
		seen := map[string]bool{}
		for _, p := range m.Populations {
			for _, id := range p.Subjects {
				seen[id] = true
			}
		}
		rep.Subjects = len(seen)
	}
	return rep, nil
}

// Build renders m, the result of metric d over m.From..m.To, as a
// MeasureReport of type typ dated now. A withheld count or score carries
// the data-absent-reason "masked"; an undefined score (no unit left in the
// denominator) "not-applicable". A subject-list result's populations each
// reference a contained List of their patients. An exact result may only
// become a subject-list report, and a published one only a summary.
func Build(d *metrics.Definition, m *metrics.MeasureResult, typ Type, now time.Time, reporter string) (*MeasureReport, error) {
	if (typ == SubjectList) != m.Exact {
		return nil, fmt.Errorf("measure %s: a subject list is built from an exact result, a summary from a published one", m.Metric)
	}
	r := &MeasureReport{
		ResourceType: "MeasureReport",
		ID:           ReportID(m.Metric, m.Version, m.SnapshotID, m.From, m.To, typ),
		Status:       "complete",
		Type:         typ,
		Measure:      MeasureCanonical(m.Metric, m.Version),
		Date:         now.UTC().Format(time.RFC3339),
		Period:       Period{Start: m.From.Format(time.DateOnly), End: m.To.Format(time.DateOnly)},
	}
	if reporter != "" {
		r.Reporter = &Reference{Display: reporter}
	}
	r.Extension = append(r.Extension,
		Extension{URL: ExtMetricVersion, ValueInteger: i64(int64(m.Version))},
		Extension{URL: ExtSnapshotID, ValueInteger: i64(m.SnapshotID)})
	if !m.Exact {
		r.Extension = append(r.Extension, Extension{URL: ExtSuppressionThreshold, ValueInteger: i64(int64(m.Threshold))})
	}
	if id, canonical, ok := ECQM(d.Spec); ok {
		r.Extension = append(r.Extension, Extension{URL: ExtECQM, Extension: []Extension{
			{URL: "identifier", ValueString: id},
			{URL: "measure", ValueCanonical: canonical},
		}})
	}
	switch m.Direction {
	case metrics.HigherIsBetter:
		r.ImprovementNotation = &CodeableConcept{Coding: []Coding{{System: ImprovementNotationSystem, Code: "increase", Display: "Increased score indicates improvement"}}}
	case metrics.LowerIsBetter:
		r.ImprovementNotation = &CodeableConcept{Coding: []Coding{{System: ImprovementNotationSystem, Code: "decrease", Display: "Decreased score indicates improvement"}}}
	}
	var g Group
	for _, p := range m.Populations {
		pop := Population{Code: CodeableConcept{Coding: []Coding{{System: MeasurePopulationSystem, Code: p.Code, Display: populationDisplay[p.Code]}}}}
		if p.Count == nil {
			pop.CountElement = &Element{Extension: []Extension{{URL: DataAbsentReason, ValueCode: "masked"}}}
		} else {
			n, err := count(*p.Count)
			if err != nil {
				return nil, fmt.Errorf("measure %s: %s: %w", m.Metric, p.Code, err)
			}
			pop.Count = &n
		}
		if typ == SubjectList {
			l := List{ResourceType: "List", ID: p.Code, Status: "current", Mode: "snapshot",
				Title: populationDisplay[p.Code]}
			for _, id := range p.Subjects {
				l.Entry = append(l.Entry, ListEntry{Item: Reference{Reference: "Patient/" + id}})
			}
			r.Contained = append(r.Contained, l)
			pop.SubjectResults = &Reference{Reference: "#" + l.ID}
		}
		g.Population = append(g.Population, pop)
	}
	switch {
	case m.Score != nil:
		v := *m.Score
		g.MeasureScore = &Quantity{Value: &v}
		if m.Scale != 0 && m.Scale != 1 {
			g.MeasureScore.Unit = "per " + strconv.FormatFloat(m.Scale, 'f', -1, 64)
		}
	case m.ScoreWithheld:
		g.MeasureScore = &Quantity{Extension: []Extension{{URL: DataAbsentReason, ValueCode: "masked"}}}
	default:
		g.MeasureScore = &Quantity{Extension: []Extension{{URL: DataAbsentReason, ValueCode: "not-applicable"}}}
	}
	r.Group = []Group{g}
	return r, nil
}

func i64(v int64) *int64 { return &v }

// count converts a population sum to a FHIR integer.
func count(v float64) (int64, error) {
	if v < 0 || v != math.Trunc(v) || v > math.MaxInt32 {
		return 0, fmt.Errorf("count %v is not a number of units", v)
	}
	return int64(v), nil
}

// MeasureCanonical is the canonical URL of metric name at version, as
// MeasureReport.measure: Base/Measure/<name>|<version>.
func MeasureCanonical(name string, version int) string {
	return Base + "/Measure/" + name + "|" + strconv.Itoa(version)
}

// maxID is the longest FHIR id.
const maxID = 64

// ReportID is a report's deterministic id: the metric's name (underscores
// as hyphens), version, snapshot and period, and "-subjects" for a subject
// list, e.g. "cms165-bp-controlled-v2-s1-20250101-20251231". A name too long
// for FHIR's 64 characters is cut and completed with a hash of it.
func ReportID(name string, version int, snapshot int64, from, to time.Time, typ Type) string {
	rest := fmt.Sprintf("-v%d-s%d-%s-%s", version, snapshot, from.Format("20060102"), to.Format("20060102"))
	if typ == SubjectList {
		rest += "-subjects"
	}
	n := strings.ReplaceAll(name, "_", "-")
	if len(n)+len(rest) > maxID {
		sum := sha256.Sum256([]byte(name))
		h := hex.EncodeToString(sum[:4])
		keep := maxID - len(rest) - len(h) - 1
		if keep < 1 {
			return (n + rest)[:maxID]
		}
		n = n[:keep] + "-" + h
	}
	return n + rest
}

// ecqmSpec finds an eCQM in a metric's spec header: "eCQM CMS165
// ControllingHighBloodPressureFHIR 0.1.000".
var ecqmSpec = regexp.MustCompile(`\beCQM\s+(CMS[0-9]+)\s+([A-Za-z][A-Za-z0-9]*)\s+([0-9]+\.[0-9]+\.[0-9]+)\b`)

// ECQM returns the eCQM a metric's spec says it implements: its CMS id and
// the published measure's canonical (ECQMBase + name | version). ok is
// false when the spec names none (a metric after an eCQM without
// implementing it, such as a companion rate, names no measure name and
// version).
func ECQM(spec string) (id, canonical string, ok bool) {
	m := ecqmSpec.FindStringSubmatch(spec)
	if m == nil {
		return "", "", false
	}
	return m[1], ECQMBase + m[2] + "|" + m[3], true
}

// kindError is an error of a metrics kind with a plain message.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func invalidf(format string, args ...any) error {
	return &kindError{metrics.ErrInvalid, fmt.Sprintf(format, args...)}
}
