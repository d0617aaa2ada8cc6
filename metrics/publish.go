package metrics

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/carelens/carelens/internal/disclosure"
)

// Computer computes exact metric results; *Engine implements it.
type Computer interface {
	Compute(ctx context.Context, name string, q Query) (*Result, error)
}

// Published is a result after disclosure control: the only form in which
// metric values may leave carelens.
type Published struct {
	Meta
	// Threshold is the smallest non-zero count shown.
	Threshold int
	// Rows follow the result's order. A suppressed part is nil.
	Rows []Cell

	grained   bool
	protected *disclosure.Protected
}

// Cell is one published aggregate. Numerator, Denominator and Value are nil
// when withheld (and Value also when undefined, for a zero denominator).
type Cell struct {
	Period      string
	PeriodStart time.Time
	// Dims holds one value per Published.Dims entry; in a total, "" for
	// each dimension summed over.
	Dims        []string
	Numerator   *float64
	Denominator *float64
	Value       *float64
	Suppressed  bool
}

// periodDim names the period in disclosure tables; no dimension may take it.
const periodDim = "period"

// Publish applies disclosure control to r. Every grouping (the period
// included) is treated as having published totals, since a coarser query
// returns them: a cell hidden alone in a line is complemented, so no small
// count is recovered by subtracting the visible cells from such a total.
func Publish(r *Result, p disclosure.Policy) (*Published, error) {
	if r.Grain == GrainRolling12 {
		return publishRolling(r, p)
	}
	t := disclosure.Table{NumeratorIsCount: r.Kind.NumeratorIsCount(), NumeratorInDenominator: r.Kind.NumeratorInDenominator()}
	grained := r.Grain != GrainNone && r.Grain != ""
	if grained {
		t.Dims = append(t.Dims, periodDim)
	}
	t.Dims = append(t.Dims, r.Dims...)
	t.Margins = t.Dims
	t.Cells = make([]disclosure.Cell, len(r.Rows))
	for i, row := range r.Rows {
		c := disclosure.Cell{Numerator: row.Numerator, Denominator: row.Denominator}
		if grained {
			c.Coords = append(c.Coords, row.Period)
		}
		c.Coords = append(c.Coords, row.Dims...)
		t.Cells[i] = c
	}
	prot, err := p.Protect(t)
	if err != nil {
		return nil, fmt.Errorf("metric %s: disclosure control: %w", r.Metric, err)
	}
	pub := &Published{Meta: r.Meta, Threshold: p.Threshold(), grained: grained, protected: prot}
	pub.Rows = make([]Cell, len(r.Rows))
	for i, row := range r.Rows {
		pub.Rows[i] = publishCell(&r.Meta, row.Period, row.PeriodStart, row.Dims, row.Numerator, row.Denominator, prot.Cells[i])
	}
	return pub, nil
}

// publishRolling publishes a rolling12 result. Neighbouring windows overlap
// in eleven months, so the difference of two shown windows is the
// difference of two months, and from the first window of the data on, the
// windows give away every month. A window is therefore shown only when each
// of its twelve months is shown in the monthly table (r.Months) after
// disclosure control with its margins: what the windows reveal, the monthly
// table already does.
func publishRolling(r *Result, p disclosure.Policy) (*Published, error) {
	if r.Months == nil {
		return nil, fmt.Errorf("metric %s: a rolling12 result without its months cannot be published", r.Metric)
	}
	months, err := Publish(r.Months, p)
	if err != nil {
		return nil, err
	}
	hidden := map[string]bool{}
	for _, c := range months.Rows {
		if c.Suppressed {
			hidden[c.Period+"\x00"+strings.Join(c.Dims, "\x00")] = true
		}
	}
	pub := &Published{Meta: r.Meta, Threshold: p.Threshold(), grained: true}
	pub.Rows = make([]Cell, len(r.Rows))
	for i, row := range r.Rows {
		var m disclosure.Mask
		for k := 0; k < 12; k++ {
			month := PeriodLabel(GrainMonth, row.PeriodStart.AddDate(0, -k, 0))
			if hidden[month+"\x00"+strings.Join(row.Dims, "\x00")] {
				m = disclosure.Mask{Numerator: true, Denominator: true, Value: true}
				break
			}
		}
		pub.Rows[i] = publishCell(&r.Meta, row.Period, row.PeriodStart, row.Dims, row.Numerator, row.Denominator, m)
	}
	return pub, nil
}

func publishCell(meta *Meta, period string, start time.Time, dims []string, num, den float64, m disclosure.Mask) Cell {
	c := Cell{Period: period, PeriodStart: start, Dims: dims, Suppressed: m.Suppressed()}
	if !m.Numerator {
		c.Numerator = &num
	}
	if !m.Denominator {
		c.Denominator = &den
	}
	if v, ok := meta.Value(num, den); ok && !m.Value {
		c.Value = &v
	}
	return c
}

// Totals returns the published totals summed over the named dimensions
// ("period" for the period), one per combination of the remaining
// coordinates, in row order, with disclosure control applied consistently
// with the rows. For a filtered result, totals cover all values of the
// dimensions summed over, not only the filtered ones.
func (p *Published) Totals(over ...string) ([]Cell, error) {
	if p.protected == nil {
		return nil, invalidf("a %s result has no totals: its periods overlap; ask for the totals at another grain", p.Grain)
	}
	names := p.Dims
	if p.grained {
		names = append([]string{periodDim}, p.Dims...)
	}
	sum := map[string]bool{}
	for _, o := range over {
		if !contains(names, o) {
			return nil, invalidf("cannot total over %q: not a grouping of this result", o)
		}
		sum[o] = true
	}
	seen := map[string]bool{}
	var out []Cell
	for _, row := range p.Rows {
		at := map[string]string{}
		if p.grained && !sum[periodDim] {
			at[periodDim] = row.Period
		}
		for i, d := range p.Dims {
			if !sum[d] {
				at[d] = row.Dims[i]
			}
		}
		k := fmt.Sprint(sortedPairs(at))
		if seen[k] {
			continue
		}
		seen[k] = true
		c, m, ok := p.protected.Total(at)
		if !ok {
			return nil, fmt.Errorf("metric %s: no total at %v", p.Metric, at)
		}
		period, start := "", time.Time{}
		if p.grained && !sum[periodDim] {
			period, start = row.Period, row.PeriodStart
		}
		dims := make([]string, len(p.Dims))
		for i, d := range p.Dims {
			dims[i] = at[d]
		}
		out = append(out, publishCell(&p.Meta, period, start, dims, c.Numerator, c.Denominator, m))
	}
	return out, nil
}

func sortedPairs(m map[string]string) []string {
	s := make([]string, 0, len(m))
	for k, v := range m {
		s = append(s, k+"="+v)
	}
	sort.Strings(s)
	return s
}

// Disclose computes q through c and publishes it under p. Filters are
// applied after disclosure control, to the table grouped by the filtered
// dimensions as well, so a filtered request shows exactly the cells (and
// the complementary suppressions) of the unfiltered one and the two cannot
// be played against each other. The filtered dimensions are therefore part
// of the rows' Dims even when q.By does not name them.
func Disclose(ctx context.Context, c Computer, name string, q Query, p disclosure.Policy) (*Published, error) {
	for d, v := range q.Filters {
		if v == "" {
			return nil, invalidf("filter %s has an empty value", d)
		}
	}
	full := q
	full.Filters = nil
	full.By = append([]string(nil), q.By...)
	var fdims []string
	for d := range q.Filters {
		fdims = append(fdims, d)
	}
	sort.Strings(fdims)
	for _, d := range fdims {
		if !contains(full.By, d) {
			full.By = append(full.By, d)
		}
	}
	res, err := c.Compute(ctx, name, full)
	if err != nil {
		return nil, err
	}
	pub, err := Publish(res, p)
	if err != nil {
		return nil, err
	}
	if len(q.Filters) == 0 {
		return pub, nil
	}
	pub.Filters = make(map[string]string, len(q.Filters))
	for k, v := range q.Filters {
		pub.Filters[k] = v
	}
	kept := pub.Rows[:0:0]
	for _, row := range pub.Rows {
		match := true
		for i, d := range pub.Dims {
			if v, ok := q.Filters[d]; ok && row.Dims[i] != v {
				match = false
				break
			}
		}
		if match {
			kept = append(kept, row)
		}
	}
	pub.Rows = kept
	return pub, nil
}
