package metrics

import (
	"fmt"
	"math"
	"sort"

	"github.com/carelens/carelens/internal/disclosure"
)

// Measure populations. A ratio metric is a proportion measure: its rows are
// the units of the initial population; the optional eCQM columns
// initial_population and denominator_exclusion say which units are in the
// initial population and which the denominator excludes (excluded rows carry
// denominator 0). Over one period:
//
//	initial population     sum(initial_population)
//	denominator            sum(denominator) + sum(denominator_exclusion)
//	denominator exclusion  sum(denominator_exclusion)
//	numerator              sum(numerator)
//	score                  numerator / (denominator − exclusion) = sum(numerator) / sum(denominator)
//
// For a metric without the eCQM columns, initial population = denominator =
// sum(denominator) and there is no exclusion population. These are the
// populations and score of a FHIR MeasureReport (metrics/fhirreport).

// Population codes, from the FHIR code system
// http://terminology.hl7.org/CodeSystem/measure-population, in report
// order.
const (
	PopulationInitial     = "initial-population"
	PopulationDenominator = "denominator"
	PopulationExclusion   = "denominator-exclusion"
	PopulationNumerator   = "numerator"
)

// PopulationCount is one population of a measure over a period.
type PopulationCount struct {
	// Code is the population's measure-population code (PopulationInitial …).
	Code string
	// Count is the number of units in the population; nil when disclosure
	// control withholds it.
	Count *float64
	// Subjects lists the population's distinct patients (surrogate ids),
	// sorted; set only in an exact result (MeasureSubjects).
	Subjects []string
}

// MeasureResult is a ratio metric's populations and score over one period:
// the content of a FHIR MeasureReport's group.
type MeasureResult struct {
	Meta
	// Exact is set for a patient-level result (MeasureSubjects): exact
	// counts and subject lists, for authorised callers only. Otherwise the
	// result has been through disclosure control (PublishMeasure).
	Exact bool
	// Threshold is the smallest non-zero count shown; 0 when Exact.
	Threshold int
	// Populations in report order: initial population, denominator,
	// denominator exclusion (metrics with eCQM populations only), numerator.
	Populations []PopulationCount
	// Score is numerator / (denominator − exclusion), scaled as Meta.Value
	// does; nil when withheld (ScoreWithheld) or undefined (no unit left in
	// the denominator).
	Score         *float64
	ScoreWithheld bool
	// Published are the values the result shows, as published results for
	// the repeated-query guard: the metric's own cell (numerator and
	// denominator after exclusions, as Publish gives it for the same range
	// with GrainNone, so the guard compares it with /api/v1/metrics results)
	// and, for metrics with eCQM populations, a result named
	// "<metric>:populations" with one row per population (initial
	// population, denominator, exclusion). Nil when Exact.
	Published []*Published
}

// Population returns the population with the given code.
func (m *MeasureResult) Population(code string) (PopulationCount, bool) {
	for _, p := range m.Populations {
		if p.Code == code {
			return p, true
		}
	}
	return PopulationCount{}, false
}

// PopulationsSuffix names the guard's result holding a measure's
// populations: "<metric>" + PopulationsSuffix.
const PopulationsSuffix = ":populations"

// checkMeasure refuses what is not one proportion over one range.
func checkMeasure(m *Meta) error {
	if m.Kind != KindRatio {
		return invalidf("%s is a %s metric: a MeasureReport reports proportion (ratio) metrics only", m.Metric, m.Kind)
	}
	if (m.Grain != GrainNone && m.Grain != "") || len(m.Dims) > 0 || len(m.Filters) > 0 {
		return invalidf("%s: a measure result covers one range, without period or dimension grouping or filters", m.Metric)
	}
	return nil
}

// measureSums are a measure's sums over its period.
type measureSums struct {
	num, den, ip, dx float64
	ecqm             bool
}

func (s measureSums) denominator() float64 { return s.den + s.dx }

func sumsOf(r *Result) measureSums {
	s := measureSums{ecqm: len(r.Populations) > 0}
	for _, row := range r.Rows {
		s.num += row.Numerator
		s.den += row.Denominator
		for i, c := range r.Populations {
			if i >= len(row.Populations) {
				break
			}
			switch c {
			case colInitialPopulation:
				s.ip += row.Populations[i]
			case colDenominatorExclusion:
				s.dx += row.Populations[i]
			}
		}
	}
	if !s.ecqm {
		s.ip = s.den
	}
	return s
}

// PublishMeasure applies disclosure control to r, a ratio metric computed
// over one range with GrainNone and no dimensions or filters, and returns
// its populations and score. The numerator and the denominator after
// exclusions are masked exactly as Publish masks r's cell (so the report
// agrees with /api/v1/metrics for the same range); the initial population,
// denominator and exclusion are hidden when they are counts from 1 to
// threshold-1, and, by complementary suppression, whenever a hidden count
// (or a sum of hidden parts that is such a count) could be recovered from
// the shown ones: the denominator is the exclusions plus the units left, and
// the initial population is the denominator plus the units that are neither
// (treated as known when there are none). Among the ways to hide enough, the
// one hiding the fewest populations, then the smallest total, is taken. The
// score is withheld when its numerator or its denominator (after
// exclusions) is.
func PublishMeasure(r *Result, p disclosure.Policy) (*MeasureResult, error) {
	if err := checkMeasure(&r.Meta); err != nil {
		return nil, err
	}
	pub, err := Publish(r, p)
	if err != nil {
		return nil, err
	}
	s := sumsOf(r)
	// The metric's cell as published: one row, or none when no unit falls
	// in the range (all counts 0, which is shown).
	cell := Cell{Numerator: ptr(0), Denominator: ptr(0)}
	if len(pub.Rows) == 1 {
		cell = pub.Rows[0]
	} else if len(pub.Rows) > 1 {
		return nil, fmt.Errorf("metric %s: %d rows for one range", r.Metric, len(pub.Rows))
	}
	out := &MeasureResult{Meta: r.Meta, Threshold: p.Threshold(), Score: cell.Value}
	out.ScoreWithheld = cell.Value == nil && cell.Suppressed
	show := func(v float64, shown bool) *float64 {
		if !shown {
			return nil
		}
		return ptr(v)
	}
	denShown, numShown := cell.Denominator != nil, cell.Numerator != nil
	if !s.ecqm {
		out.Populations = []PopulationCount{
			{Code: PopulationInitial, Count: show(s.den, denShown)},
			{Code: PopulationDenominator, Count: show(s.den, denShown)},
			{Code: PopulationNumerator, Count: show(s.num, numShown)},
		}
		out.Published = []*Published{pub}
		return out, nil
	}
	hide := protectPopulations(p, s, denShown)
	out.Populations = []PopulationCount{
		{Code: PopulationInitial, Count: show(s.ip, !hide[0])},
		{Code: PopulationDenominator, Count: show(s.denominator(), !hide[1])},
		{Code: PopulationExclusion, Count: show(s.dx, !hide[2])},
		{Code: PopulationNumerator, Count: show(s.num, numShown)},
	}
	pops := &Published{Meta: r.Meta, Threshold: p.Threshold()}
	pops.Metric = r.Metric + PopulationsSuffix
	pops.Dims = []string{"population"}
	pops.Populations = nil
	for _, pc := range out.Populations[:3] {
		pops.Rows = append(pops.Rows, Cell{Dims: []string{pc.Code}, Numerator: pc.Count, Denominator: pc.Count,
			Value: pc.Count, Suppressed: pc.Count == nil})
	}
	out.Published = []*Published{pub, pops}
	return out, nil
}

func ptr(v float64) *float64 { return &v }

// The complement rule for the populations works on three disjoint parts of
// the initial population: a, the units in neither the denominator nor its
// exclusions (none for the shipped eCQMs, whose denominator is the initial
// population); x, the exclusions; e, the units left in the denominator. A
// population is a sum of parts: initial population a+x+e, denominator x+e,
// exclusion x. What is known is the shown populations, e when the metric's
// denominator is shown, and a when it is 0 (conservatively: a measure's
// specification may say so). Any sum of parts that follows from what is
// known by addition and subtraction must not be a count from 1 to
// threshold-1.
var (
	partSets = [][3]int64{ // every non-empty sum of parts (a, x, e)
		{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 1, 0}, {1, 0, 1}, {0, 1, 1}, {1, 1, 1},
	}
	populationParts = [3][3]int64{{1, 1, 1}, {0, 1, 1}, {0, 1, 0}} // initial population, denominator, exclusion
)

// protectPopulations returns which of initial population, denominator and
// exclusion to hide.
func protectPopulations(p disclosure.Policy, s measureSums, eShown bool) [3]bool {
	parts := [3]float64{s.ip - s.denominator(), s.dx, s.den}
	values := [3]float64{s.ip, s.denominator(), s.dx}
	var primary [3]bool
	for i, v := range values {
		primary[i] = p.Hidden(v)
	}
	leaks := func(hide [3]bool) bool {
		var known [][3]int64
		for i := range populationParts {
			if !hide[i] {
				known = append(known, populationParts[i])
			}
		}
		if eShown {
			known = append(known, [3]int64{0, 0, 1})
		}
		if parts[0] == 0 {
			known = append(known, [3]int64{1, 0, 0})
		}
		r := rank(known)
		for _, set := range partSets {
			sum := float64(set[0])*parts[0] + float64(set[1])*parts[1] + float64(set[2])*parts[2]
			if p.Hidden(sum) && rank(append(known[:len(known):len(known)], set)) == r {
				return true
			}
		}
		return false
	}
	best, bestN, bestSum := [3]bool{true, true, true}, 4, math.Inf(1)
	for mask := 0; mask < 8; mask++ {
		var hide [3]bool
		n, sum := 0, 0.0
		for i := range hide {
			hide[i] = primary[i] || mask&(1<<i) != 0
			if hide[i] {
				n++
				sum += values[i]
			}
		}
		if n > bestN || (n == bestN && sum >= bestSum) || leaks(hide) {
			continue
		}
		best, bestN, bestSum = hide, n, sum
	}
	return best
}

// rank returns the rank of the integer row vectors, by fraction-free
// Gaussian elimination.
func rank(rows [][3]int64) int {
	m := make([][3]int64, len(rows))
	copy(m, rows)
	r := 0
	for col := 0; col < 3 && r < len(m); col++ {
		pivot := -1
		for i := r; i < len(m); i++ {
			if m[i][col] != 0 {
				pivot = i
				break
			}
		}
		if pivot < 0 {
			continue
		}
		m[r], m[pivot] = m[pivot], m[r]
		for i := r + 1; i < len(m); i++ {
			if m[i][col] == 0 {
				continue
			}
			a, b := m[r][col], m[i][col]
			for j := 0; j < 3; j++ {
				m[i][j] = m[i][j]*a - m[r][j]*b
			}
		}
		r++
	}
	return r
}

// MeasureSubjects returns the exact populations, score and subject lists of
// a ratio metric from its membership rows over one range (Engine.Members)
// and their meta. A unit is in the initial population when its
// initial_population is non-zero (its denominator, for a metric without
// eCQM populations), in the denominator when its denominator or exclusion
// is, in the exclusion when its exclusion is, in the numerator when its
// numerator is. Counts are sums over units; subject lists hold each patient
// once, so for a metric whose units are not patients (appointments) a list
// can be shorter than its count. The result holds patient ids and small
// counts: for authorised callers only, never published as it is.
func MeasureSubjects(members []Member, meta *Meta) (*MeasureResult, error) {
	if err := checkMeasure(meta); err != nil {
		return nil, err
	}
	ipAt, dxAt := -1, -1
	for i, c := range meta.Populations {
		switch c {
		case colInitialPopulation:
			ipAt = i
		case colDenominatorExclusion:
			dxAt = i
		}
	}
	ecqm := len(meta.Populations) > 0
	s := measureSums{ecqm: ecqm}
	sets := [4]map[string]bool{{}, {}, {}, {}}
	for _, m := range members {
		var ip, dx float64
		if ecqm {
			if ipAt >= 0 && ipAt < len(m.Populations) {
				ip = m.Populations[ipAt]
			}
			if dxAt >= 0 && dxAt < len(m.Populations) {
				dx = m.Populations[dxAt]
			}
		} else {
			ip = m.Denominator
		}
		s.num += m.Numerator
		s.den += m.Denominator
		s.ip += ip
		s.dx += dx
		for i, in := range []bool{ip != 0, m.Denominator != 0 || dx != 0, dx != 0, m.Numerator != 0} {
			if in {
				sets[i][m.PatientID] = true
			}
		}
	}
	list := func(set map[string]bool) []string {
		out := make([]string, 0, len(set))
		for id := range set {
			out = append(out, id)
		}
		sort.Strings(out)
		return out
	}
	out := &MeasureResult{Meta: *meta, Exact: true}
	out.Populations = []PopulationCount{
		{Code: PopulationInitial, Count: ptr(s.ip), Subjects: list(sets[0])},
		{Code: PopulationDenominator, Count: ptr(s.denominator()), Subjects: list(sets[1])},
		{Code: PopulationExclusion, Count: ptr(s.dx), Subjects: list(sets[2])},
		{Code: PopulationNumerator, Count: ptr(s.num), Subjects: list(sets[3])},
	}
	if !ecqm {
		out.Populations = append(out.Populations[:2], out.Populations[3])
	}
	if v, ok := meta.Value(s.num, s.den); ok {
		out.Score = &v
	}
	return out, nil
}
