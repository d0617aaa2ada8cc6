package guard

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/carelens/carelens/metrics"
)

// record is one remembered result: what was asked and, per combination of
// the grouping dimensions' values, the cells returned, by the days they
// cover.
type record struct {
	at        time.Time
	metric    string
	grain     metrics.Grain
	by        []string          // grouping dimensions, filtered ones excluded, sorted
	filters   map[string]string // nil when none
	from, to  int32             // days since 1970-01-01, inclusive
	numCounts bool              // numerators count units (ratio, count metrics)
	remCounts bool              // denominator − numerator counts units (ratio metrics)
	keys      []string          // keys of lines, sorted (deterministic comparisons)
	lines     map[string]*line
	cells     int
}

// line is the cells of one combination of dimension values, sorted by date.
// They never overlap (one per period), so the cells lying inside any date
// interval are a contiguous run, summed from the prefix sums.
type line struct {
	spans []span
	pre   []prefix // pre[i] sums spans[:i]; len(spans)+1 entries
}

// span is one published cell: the days it covers and its visible parts.
type span struct {
	start, end int32 // inclusive
	num, den   float64
	numOK      bool // numerator visible
	denOK      bool // denominator visible
}

type prefix struct {
	num, den, rem          float64 // visible parts
	hidNum, hidDen, hidRem int32   // hidden parts
	days                   int32   // days covered
}

// measures are the parts compared: denominators always, numerators when
// they count units (a mean's numerator is a sum of values, not people), and
// remainders (denominator − numerator: the units outside the numerator)
// when the numerator counts units of the denominator (ratios).
type measure int

const (
	measureDenominator measure = iota
	measureNumerator
	measureRemainder
)

func (m measure) String() string {
	switch m {
	case measureNumerator:
		return "numerator"
	case measureRemainder:
		return "remainder"
	}
	return "denominator"
}

func (s span) part(m measure) (float64, bool) {
	switch m {
	case measureNumerator:
		return s.num, s.numOK
	case measureRemainder:
		return s.den - s.num, s.numOK && s.denOK
	}
	return s.den, s.denOK
}

func (p prefix) part(m measure) (float64, int32) {
	switch m {
	case measureNumerator:
		return p.num, p.hidNum
	case measureRemainder:
		return p.rem, p.hidRem
	}
	return p.den, p.hidDen
}

// summarize turns a published result into a record.
func summarize(pub *metrics.Published, at time.Time) (*record, error) {
	if pub == nil {
		return nil, fmt.Errorf("guard: no result")
	}
	r := &record{
		at: at, metric: pub.Metric, grain: pub.Grain, numCounts: pub.Kind.NumeratorIsCount(),
		remCounts: pub.Kind.NumeratorInDenominator(),
		from:      day(pub.From), to: day(pub.To), lines: map[string]*line{},
	}
	if r.grain == "" {
		r.grain = metrics.GrainNone
	}
	if r.from > r.to {
		return nil, fmt.Errorf("guard: %s: range %s..%s is empty", pub.Metric, pub.From.Format(time.DateOnly), pub.To.Format(time.DateOnly))
	}
	if len(pub.Filters) > 0 {
		r.filters = make(map[string]string, len(pub.Filters))
		for k, v := range pub.Filters {
			r.filters[k] = v
		}
	}
	// Filtered dimensions are constant in the result: they restrict it,
	// they do not group it.
	var pos []int
	for i, d := range pub.Dims {
		if _, filtered := r.filters[d]; !filtered {
			r.by = append(r.by, d)
			pos = append(pos, i)
		}
	}
	sort.Sort(byName{r.by, pos})
	var kb strings.Builder
	for _, c := range pub.Rows {
		if len(c.Dims) != len(pub.Dims) {
			return nil, fmt.Errorf("guard: %s: a row has %d dimension values for %d dimensions", pub.Metric, len(c.Dims), len(pub.Dims))
		}
		s := span{start: r.from, end: r.to}
		if r.grain != metrics.GrainNone {
			if c.PeriodStart.IsZero() {
				return nil, fmt.Errorf("guard: %s: row of period %q has no start date", pub.Metric, c.Period)
			}
			end, err := periodEnd(c.PeriodStart, r.grain)
			if err != nil {
				return nil, fmt.Errorf("guard: %s: %w", pub.Metric, err)
			}
			s.start, s.end = max(day(c.PeriodStart), r.from), min(end, r.to)
			if s.start > s.end {
				return nil, fmt.Errorf("guard: %s: period %q lies outside the range", pub.Metric, c.Period)
			}
		}
		if c.Numerator != nil {
			s.num, s.numOK = *c.Numerator, true
		}
		if c.Denominator != nil {
			s.den, s.denOK = *c.Denominator, true
		}
		kb.Reset()
		for _, p := range pos {
			v := c.Dims[p]
			kb.WriteString(strconv.Itoa(len(v)))
			kb.WriteByte(':')
			kb.WriteString(v)
		}
		k := kb.String()
		ln, ok := r.lines[k]
		if !ok {
			ln = &line{}
			r.lines[k] = ln
			r.keys = append(r.keys, k)
		}
		ln.spans = append(ln.spans, s)
		r.cells++
	}
	sort.Strings(r.keys)
	for _, ln := range r.lines {
		sort.Slice(ln.spans, func(i, j int) bool { return ln.spans[i].start < ln.spans[j].start })
		ln.pre = make([]prefix, len(ln.spans)+1)
		for i, s := range ln.spans {
			if i > 0 && s.start <= ln.spans[i-1].end {
				return nil, fmt.Errorf("guard: %s: two cells cover the same days", pub.Metric)
			}
			p := ln.pre[i]
			if s.numOK {
				p.num += s.num
			} else {
				p.hidNum++
			}
			if s.denOK {
				p.den += s.den
			} else {
				p.hidDen++
			}
			if s.numOK && s.denOK {
				p.rem += s.den - s.num
			} else {
				p.hidRem++
			}
			p.days += s.end - s.start + 1
			ln.pre[i+1] = p
		}
	}
	return r, nil
}

// byName sorts dimension names and their positions together.
type byName struct {
	names []string
	pos   []int
}

func (b byName) Len() int           { return len(b.names) }
func (b byName) Less(i, j int) bool { return b.names[i] < b.names[j] }
func (b byName) Swap(i, j int) {
	b.names[i], b.names[j] = b.names[j], b.names[i]
	b.pos[i], b.pos[j] = b.pos[j], b.pos[i]
}

// day returns t's calendar date as days since 1970-01-01.
func day(t time.Time) int32 {
	y, m, d := t.Date()
	return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// periodEnd returns the last day of the period of grain starting at start.
func periodEnd(start time.Time, g metrics.Grain) (int32, error) {
	y, m, d := start.Date()
	first := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	switch g {
	case metrics.GrainMonth:
		return day(first.AddDate(0, 1, -1)), nil
	case metrics.GrainQuarter:
		return day(first.AddDate(0, 3, -1)), nil
	case metrics.GrainYear:
		return day(first.AddDate(1, 0, -1)), nil
	}
	return 0, fmt.Errorf("unknown grain %q", g)
}

// sameQuery reports whether r and o answer the same question (possibly on
// different data).
func (r *record) sameQuery(o *record) bool {
	return r.metric == o.metric && r.grain == o.grain && r.from == o.from && r.to == o.to &&
		equalStrings(r.by, o.by) && subset(r.filters, o.filters) && subset(o.filters, r.filters)
}

// compareRecords compares a new record with an earlier one and returns the
// first violation found, or nil.
func compareRecords(cur, old *record, threshold float64) *Violation {
	if cur.metric != old.metric || cur.to < old.from || old.to < cur.from || !equalStrings(cur.by, old.by) {
		return nil // another aggregate, or disjoint ranges: no cell lies inside another
	}
	curBroader := subset(cur.filters, old.filters) // cur's filters are among old's
	oldBroader := subset(old.filters, cur.filters)
	sameFilters := curBroader && oldBroader
	measures := []measure{measureDenominator}
	if cur.numCounts && old.numCounts {
		measures = append(measures, measureNumerator)
	}
	if cur.remCounts && old.remCounts {
		measures = append(measures, measureRemainder)
	}
	var f *finding
	if curBroader {
		f = compareInside(cur, old, sameFilters, measures, threshold)
	}
	if f == nil && oldBroader {
		f = compareInside(old, cur, sameFilters, measures, threshold)
	}
	if f == nil {
		return nil
	}
	return &Violation{
		Metric: cur.metric, Overlap: f.overlap, Measure: f.measure.String(),
		Grain: cur.grain, EarlierGrain: old.grain, By: append([]string(nil), cur.by...),
		Filters: names(cur.filters), EarlierFilters: names(old.filters), EarlierAt: old.at,
	}
}

type finding struct {
	overlap Overlap
	measure measure
}

// compareInside checks each visible cell of outer (whose filters are among
// inner's) against the sum of inner's cells of the same dimension values
// lying inside its dates: their difference counts the records outer covers
// and those inner cells do not (other days, other filter values, and the
// suppressed inner cells).
func compareInside(outer, inner *record, sameFilters bool, measures []measure, threshold float64) *finding {
	for _, k := range outer.keys {
		in, ok := inner.lines[k]
		if !ok {
			continue
		}
		// Both lines are sorted and free of overlaps, so the first inner
		// cell starting at or after x and the first ending after x only
		// move forward: one merge-like pass per line.
		i, j := 0, 0
		for _, x := range outer.lines[k].spans {
			for i < len(in.spans) && in.spans[i].start < x.start {
				i++
			}
			for j < len(in.spans) && in.spans[j].end <= x.end {
				j++
			}
			if i >= j {
				continue // no inner cell lies inside x
			}
			samePeriod := in.pre[j].days-in.pre[i].days == x.end-x.start+1
			for _, m := range measures {
				xv, visible := x.part(m)
				if !visible {
					continue
				}
				hi, hidHi := in.pre[j].part(m)
				lo, hidLo := in.pre[i].part(m)
				hidden := hidHi - hidLo
				if sameFilters && samePeriod && hidden == 0 {
					continue // the same records: nothing to learn
				}
				diff := math.Abs(xv - (hi - lo))
				if diff >= 1 && diff < threshold {
					return &finding{overlap: overlapOf(sameFilters, samePeriod), measure: m}
				}
			}
		}
	}
	return nil
}

func overlapOf(sameFilters, samePeriod bool) Overlap {
	switch {
	case !sameFilters && !samePeriod:
		return OverlapPeriodFilter
	case !sameFilters:
		return OverlapFilter
	case !samePeriod:
		return OverlapPeriod
	}
	return OverlapTotal
}

// subset reports whether every filter of a is in b with the same value.
func subset(a, b map[string]string) bool {
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func names(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
