package metrics

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Kind says how a metric's value follows from its numerator and denominator.
type Kind string

const (
	// KindRatio: value = numerator / denominator, both counts (0/1 and 1
	// per row): a proportion such as the no-show rate.
	KindRatio Kind = "ratio"
	// KindCount: value = numerator, a count of units.
	KindCount Kind = "count"
	// KindMean: value = numerator / denominator, where the numerator sums a
	// per-row value and the denominator counts rows (e.g. days to follow-up).
	KindMean Kind = "mean"
	// KindScore: like KindMean for a bounded score (e.g. NPS, -100..100).
	KindScore Kind = "score"
)

var kinds = []Kind{KindRatio, KindCount, KindMean, KindScore}

// NumeratorIsCount reports whether numerators of this kind count units, so
// that disclosure control must treat them as counts.
func (k Kind) NumeratorIsCount() bool { return k == KindRatio || k == KindCount }

// NumeratorInDenominator reports whether numerators of this kind count
// units of the denominator (a ratio's numerator rows are among its
// denominator rows), so that denominator − numerator counts units too.
func (k Kind) NumeratorInDenominator() bool { return k == KindRatio }

// Value returns the metric value of a cell: the numerator for a count,
// numerator / denominator otherwise. ok is false when the value is undefined
// (a zero denominator).
func (k Kind) Value(numerator, denominator float64) (v float64, ok bool) {
	if k == KindCount {
		return numerator, true
	}
	if denominator == 0 {
		return 0, false
	}
	return numerator / denominator, true
}

// Direction says whether a higher or a lower value is the better outcome.
type Direction string

const (
	HigherIsBetter Direction = "higher_is_better"
	LowerIsBetter  Direction = "lower_is_better"
)

var directions = []Direction{HigherIsBetter, LowerIsBetter}

// Grain is a period length results are grouped by.
type Grain string

const (
	GrainNone    Grain = "none"
	GrainMonth   Grain = "month"
	GrainQuarter Grain = "quarter"
	GrainYear    Grain = "year"
	// GrainRolling12 labels each month with the twelve months ending with
	// it: the sums of that month and the eleven before.
	GrainRolling12 Grain = "rolling12"
	// GrainMeasurementYear groups by measurement year, twelve months from
	// the engine's measurement-year start month (January by default, when it
	// equals GrainYear but is labelled "MY2025").
	GrainMeasurementYear Grain = "measurement_year"
)

var grains = []Grain{GrainMonth, GrainQuarter, GrainYear, GrainRolling12, GrainMeasurementYear, GrainNone}

// units are the accepted values of the unit header key: what the value
// measures.
var units = []string{"ratio", "count", "days", "score", "per_1000"}

// Definition is one metric: its parsed header and its query.
type Definition struct {
	// Name identifies the metric; it equals the file name without ".sql".
	Name        string
	Title       string
	Description string
	Unit        string
	Kind        Kind
	Direction   Direction
	// Target is the goal value, nil when the metric has none.
	Target *float64
	// Grain is the period grain used when a query does not name one.
	Grain Grain
	// Dimensions are the columns results may be grouped and filtered by,
	// in declared order.
	Dimensions []string
	// Spec names the specification the metric implements.
	Spec string
	// Version is bumped whenever the definition's meaning changes; results
	// carry it and the result cache keys on it.
	Version int
	// YearsOnly is set by the header "dates: years" on a metric that needs
	// no more of a date than its year; other metrics need dates of service
	// and refuse to run on a warehouse loaded under the safe_harbor profile.
	YearsOnly bool
	// Scale multiplies numerator / denominator into the value (header
	// "scale", default 1): 1000 for a rate per 1,000.
	Scale float64
	// NumeratorMembers is set by the header "membership: numerator": only
	// the rows in the numerator must name their patient; rows in the
	// denominator alone may be counts of patients (patient_id NULL,
	// denominator the count). It is for population metrics whose
	// denominator is the whole panel and tens of millions of patient rows
	// (prevalence by condition group): their membership lists who has the
	// condition, and the panel is counted by period and stratum. Results
	// are the same sums either way. The default, "membership: full", needs
	// a patient on every row.
	NumeratorMembers bool
	// HasValue is set when the query returns the optional value column: each
	// row's measured value (a patient's PDC, last HbA1c …), kept with the
	// patient-level membership.
	HasValue bool
	// Populations lists the optional eCQM population columns the query
	// returns (initial_population, denominator_exclusion), in that order.
	// Rows of excluded units then carry denominator 0; a FHIR MeasureReport
	// is built from these sums.
	Populations []string

	// Hash identifies the definition's query and the macros it may call;
	// materialised results are reused only while it is unchanged.
	Hash string

	// File is the path of the definition inside the loaded file system.
	File string
	// SQL is the query: the file's text (header comments included, so line
	// numbers in database errors are file line numbers) without a trailing
	// semicolon.
	SQL string
}

// HasDimension reports whether name is one of the declared dimensions.
func (d *Definition) HasDimension(name string) bool {
	for _, dim := range d.Dimensions {
		if dim == name {
			return true
		}
	}
	return false
}

// headerKeys are every key a metric header may hold; required ones must be
// present with a value.
var headerKeys = []struct {
	name     string
	required bool
}{
	{"name", true},
	{"title", true},
	{"description", true},
	{"unit", true},
	{"kind", true},
	{"direction", true},
	{"target", false},
	{"grain", true},
	{"dimensions", false},
	{"spec", false},
	{"version", true},
	{"dates", false},
	{"scale", false},
	{"membership", false},
}

// Column names with a fixed meaning in the metric SQL contract, and names the
// engine's output uses; a dimension may not take any of them.
const (
	colPeriodDate  = "period_date"
	colPatientID   = "patient_id"
	colNumerator   = "numerator"
	colDenominator = "denominator"

	// Optional contract columns.
	colValue                = "value"
	colInitialPopulation    = "initial_population"
	colDenominatorExclusion = "denominator_exclusion"
)

// populationCols are the optional eCQM population columns, in report order.
var populationCols = []string{colInitialPopulation, colDenominatorExclusion}

var reservedNames = map[string]bool{
	colPeriodDate: true, colPatientID: true, colNumerator: true, colDenominator: true,
	"period": true, colValue: true, "suppressed": true, "scale": true,
	colInitialPopulation: true, colDenominatorExclusion: true,
	string(GrainMonth): true, string(GrainQuarter): true, string(GrainYear): true, string(GrainNone): true,
	string(GrainRolling12): true, string(GrainMeasurementYear): true,
}

var (
	identRE      = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	headerLineRE = regexp.MustCompile(`^--\s*([a-z][a-z0-9_]*)\s*:\s*(.*?)\s*$`)
)

// header locates a definition's parts in its file for error messages.
type header struct {
	lines map[string]int // line of each header key present
	body  int            // first line after the header
}

// parseDefinition parses the header of the metric file at path (base name
// stem) and returns the definition, where its parts are, and every problem
// found. The query itself is checked against the database later.
func parseDefinition(path, stem, text string) (*Definition, header, []error) {
	d := &Definition{File: path, SQL: trimStatement(text), Scale: 1}
	var errs []error
	fail := func(line int, format string, args ...any) {
		errs = append(errs, &Error{File: path, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	type entry struct {
		value string
		line  int
	}
	seen := map[string]entry{}
	lines := strings.Split(text, "\n")
	bodyLine := len(lines) + 1
	for i, raw := range lines {
		m := headerLineRE.FindStringSubmatch(strings.TrimRight(raw, "\r"))
		if m == nil {
			bodyLine = firstCodeLine(lines, i)
			break
		}
		key, value, line := m[1], m[2], i+1
		if !knownKey(key) {
			fail(line, "unknown header key %q", key)
			continue
		}
		if prev, dup := seen[key]; dup {
			fail(line, "header key %q repeats line %d", key, prev.line)
			continue
		}
		seen[key] = entry{value, line}
	}
	for _, k := range headerKeys {
		e, ok := seen[k.name]
		switch {
		case !ok && k.required:
			fail(1, "missing header key %q", k.name)
		case ok && e.value == "" && k.required:
			fail(e.line, "header key %q has no value", k.name)
		}
	}
	if e, ok := seen["name"]; ok && e.value != "" {
		d.Name = e.value
		if d.Name != stem {
			fail(e.line, "name %q does not match the file name %q", d.Name, stem)
		} else if !identRE.MatchString(d.Name) {
			fail(e.line, "name %q: use lower-case letters, digits and _", d.Name)
		}
	}
	d.Title = seen["title"].value
	d.Description = seen["description"].value
	d.Spec = seen["spec"].value
	if e, ok := seen["unit"]; ok && e.value != "" {
		d.Unit = e.value
		if !contains(units, e.value) {
			fail(e.line, "unit %q is not one of %s", e.value, strings.Join(units, ", "))
		}
	}
	if e, ok := seen["kind"]; ok && e.value != "" {
		d.Kind = Kind(e.value)
		if !contains(kinds, d.Kind) {
			fail(e.line, "kind %q is not one of %s", e.value, joinAny(kinds))
		}
	}
	if e, ok := seen["direction"]; ok && e.value != "" {
		d.Direction = Direction(e.value)
		if !contains(directions, d.Direction) {
			fail(e.line, "direction %q is not one of %s", e.value, joinAny(directions))
		}
	}
	if e, ok := seen["grain"]; ok && e.value != "" {
		d.Grain = Grain(e.value)
		if !contains(grains, d.Grain) {
			fail(e.line, "grain %q is not one of %s", e.value, joinAny(grains))
		}
	}
	// Keys with two values: the default one, "full", and the one that
	// sets a flag.
	choice := func(key, set string, flag *bool) {
		e, ok := seen[key]
		switch {
		case !ok || e.value == "full":
		case e.value == set:
			*flag = true
		default:
			fail(e.line, "%s %q is not full or %s", key, e.value, set)
		}
	}
	choice("dates", "years", &d.YearsOnly)
	choice("membership", "numerator", &d.NumeratorMembers)
	if e, ok := seen["version"]; ok && e.value != "" {
		v, err := strconv.Atoi(e.value)
		if err != nil || v < 1 {
			fail(e.line, "version %q is not a positive integer", e.value)
		}
		d.Version = v
	}
	if e, ok := seen["scale"]; ok {
		v, err := strconv.ParseFloat(e.value, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			fail(e.line, "scale %q is not a positive number", e.value)
		} else {
			d.Scale = v
		}
	}
	if e, ok := seen["target"]; ok && e.value != "" {
		t, err := strconv.ParseFloat(e.value, 64)
		switch {
		case err != nil || math.IsInf(t, 0) || math.IsNaN(t):
			fail(e.line, "target %q is not a number", e.value)
		case d.Kind == KindRatio && d.Scale == 1 && (t < 0 || t > 1):
			fail(e.line, "target %v is outside 0..1, the range of a ratio", t)
		default:
			d.Target = &t
		}
	}
	if e, ok := seen["dimensions"]; ok && e.value != "" {
		for _, dim := range strings.Split(e.value, ",") {
			dim = strings.TrimSpace(dim)
			switch {
			case !identRE.MatchString(dim):
				fail(e.line, "dimension %q: use lower-case letters, digits and _", dim)
			case reservedNames[dim]:
				fail(e.line, "dimension %q: the name is reserved", dim)
			case d.HasDimension(dim):
				fail(e.line, "dimension %q is listed twice", dim)
			default:
				d.Dimensions = append(d.Dimensions, dim)
			}
		}
	}
	if strings.TrimSpace(stripComments(d.SQL)) == "" {
		fail(bodyLine, "no query after the header")
	}
	h := header{lines: map[string]int{}, body: bodyLine}
	for k, e := range seen {
		h.lines[k] = e.line
	}
	return d, h, errs
}

// firstCodeLine returns the 1-based number of the first line from index
// start on that is neither blank nor a comment, or of line start itself when
// there is none.
func firstCodeLine(lines []string, start int) int {
	for i := start; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l != "" && !strings.HasPrefix(l, "--") {
			return i + 1
		}
	}
	return start + 1
}

func knownKey(k string) bool {
	for _, hk := range headerKeys {
		if hk.name == k {
			return true
		}
	}
	return false
}

// trimStatement removes trailing white space and one trailing semicolon.
func trimStatement(s string) string {
	s = strings.TrimRight(s, " \t\r\n")
	s = strings.TrimSuffix(s, ";")
	return strings.TrimRight(s, " \t\r\n")
}

// stripComments drops "--" line comments (outside string literals is not
// tracked: it is only used to see whether any SQL is left at all).
func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if i := strings.Index(l, "--"); i >= 0 {
			l = l[:i]
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

func contains[T comparable](xs []T, x T) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func joinAny[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
