package guard

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carelens/carelens/metrics"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// periodStart parses "2025-01", "2025-Q2" or "2025".
func periodStart(p string) time.Time {
	switch {
	case len(p) == 4:
		return date(p + "-01-01")
	case strings.Contains(p, "-Q"):
		var y, q int
		fmt.Sscanf(p, "%d-Q%d", &y, &q)
		return time.Date(y, time.Month(3*q-2), 1, 0, 0, 0, 0, time.UTC)
	}
	return date(p + "-01")
}

// c is a cell: period ("" without grain), dimension values, numerator and
// denominator; a negative number is a suppressed part.
type c struct {
	period   string
	dims     []string
	num, den float64
}

// q describes a published result.
type q struct {
	metric   string
	kind     metrics.Kind
	grain    metrics.Grain
	from, to string
	dims     []string
	filters  map[string]string
	cells    []c
}

func (x q) pub() *metrics.Published {
	if x.metric == "" {
		x.metric = "no_show_rate"
	}
	if x.kind == "" {
		x.kind = metrics.KindRatio
	}
	if x.grain == "" {
		x.grain = metrics.GrainNone
	}
	p := &metrics.Published{Meta: metrics.Meta{
		Metric: x.metric, Kind: x.kind, Grain: x.grain, From: date(x.from), To: date(x.to),
		Dims: x.dims, Filters: x.filters,
	}, Threshold: 11}
	part := func(v float64) *float64 {
		if v < 0 {
			return nil
		}
		return &v
	}
	for _, cl := range x.cells {
		cell := metrics.Cell{Period: cl.period, Dims: cl.dims, Numerator: part(cl.num), Denominator: part(cl.den)}
		if cl.dims == nil {
			cell.Dims = []string{}
		}
		if cl.period != "" {
			cell.PeriodStart = periodStart(cl.period)
		}
		cell.Suppressed = cell.Numerator == nil || cell.Denominator == nil
		p.Rows = append(p.Rows, cell)
	}
	return p
}

// total is a one-cell result over [from, to] without grain or dimensions.
func total(from, to string, num, den float64) q {
	return q{from: from, to: to, cells: []c{{num: num, den: den}}}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (k *clock) now() time.Time { k.mu.Lock(); defer k.mu.Unlock(); return k.t }
func (k *clock) add(d time.Duration) {
	k.mu.Lock()
	k.t = k.t.Add(d)
	k.mu.Unlock()
}

func newGuard(t *testing.T, opts Options) (*Guard, *clock) {
	t.Helper()
	k := &clock{t: date("2025-07-01").Add(9 * time.Hour)}
	if opts.Now == nil {
		opts.Now = k.now
	}
	g, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return g, k
}

// admit admits x for principal (not exempt) and fails the test on error.
func admit(t *testing.T, g *Guard, principal string, x q) Decision {
	t.Helper()
	d, err := g.Admit(principal, false, x.pub())
	if err != nil {
		t.Fatal(err)
	}
	if d.Refused != (d.Violation != nil) {
		t.Fatalf("non-exempt decision %+v: Refused must equal Violation != nil", d)
	}
	return d
}

func TestPairs(t *testing.T) {
	female := map[string]string{"sex": "female"}
	tests := []struct {
		name          string
		first, second q
		// overlap and measure of the violation; "" when allowed
		overlap Overlap
		measure string
	}{
		{
			name:  "Jan-Jun vs Feb-Jun totals differing by 7: refused",
			first: total("2025-01-01", "2025-06-30", 120, 400), second: total("2025-02-01", "2025-06-30", 113, 393),
			overlap: OverlapPeriod, measure: "denominator",
		},
		{
			name:  "the narrower range first: refused too",
			first: total("2025-02-01", "2025-06-30", 113, 393), second: total("2025-01-01", "2025-06-30", 120, 400),
			overlap: OverlapPeriod, measure: "denominator",
		},
		{
			name:  "difference 0: allowed",
			first: total("2025-01-01", "2025-06-30", 120, 400), second: total("2025-02-01", "2025-06-30", 120, 400),
		},
		{
			name:  "difference 11: allowed",
			first: total("2025-01-01", "2025-06-30", 120, 400), second: total("2025-02-01", "2025-06-30", 109, 389),
		},
		{
			name:  "difference 10: refused",
			first: total("2025-01-01", "2025-06-30", 120, 400), second: total("2025-02-01", "2025-06-30", 110, 390),
			overlap: OverlapPeriod, measure: "denominator",
		},
		{
			name:  "only the numerators differ by a small count: refused",
			first: total("2025-01-01", "2025-06-30", 120, 400), second: total("2025-02-01", "2025-06-30", 117, 350),
			overlap: OverlapPeriod, measure: "numerator",
		},
		{
			name:  "numerators and denominators differ by 30 and 33, the remainders by 3: refused",
			first: total("2025-01-01", "2025-06-30", 120, 400), second: total("2025-02-01", "2025-06-30", 90, 367),
			overlap: OverlapPeriod, measure: "remainder",
		},
		{
			name:   "count metric: a numerator is not a part of the denominator, no remainder",
			first:  q{kind: metrics.KindCount, from: "2025-01-01", to: "2025-06-30", cells: []c{{num: 120, den: 400}}},
			second: q{kind: metrics.KindCount, from: "2025-02-01", to: "2025-06-30", cells: []c{{num: 90, den: 367}}},
		},
		{
			name:  "a suppressed numerator is not compared",
			first: total("2025-01-01", "2025-06-30", -1, 400), second: total("2025-02-01", "2025-06-30", 117, 350),
		},
		{
			name:   "mean metric: numerators are sums of values, not counts",
			first:  q{kind: metrics.KindMean, from: "2025-01-01", to: "2025-06-30", cells: []c{{num: 1200, den: 400}}},
			second: q{kind: metrics.KindMean, from: "2025-02-01", to: "2025-06-30", cells: []c{{num: 1197, den: 380}}},
		},
		{
			name:  "filter sex=female vs no filter, difference 5: refused",
			first: total("2025-01-01", "2025-06-30", 20, 40),
			second: q{from: "2025-01-01", to: "2025-06-30", dims: []string{"sex"}, filters: female,
				cells: []c{{dims: []string{"female"}, num: 20, den: 35}}},
			overlap: OverlapFilter, measure: "denominator",
		},
		{
			name: "filter sex=female vs no filter, difference 15: allowed",
			first: q{from: "2025-01-01", to: "2025-06-30", dims: []string{"sex"}, filters: female,
				cells: []c{{dims: []string{"female"}, num: 0, den: 25}}},
			second: total("2025-01-01", "2025-06-30", 0, 40),
		},
		{
			name: "female Feb-Jun vs all Jan-Jun: refused",
			first: q{from: "2025-02-01", to: "2025-06-30", dims: []string{"sex"}, filters: female,
				cells: []c{{dims: []string{"female"}, num: 30, den: 120}}},
			second:  total("2025-01-01", "2025-06-30", 30, 126),
			overlap: OverlapPeriodFilter, measure: "denominator",
		},
		{
			name: "crossed: female Jan-Jun vs all Feb-Jun, neither inside the other: allowed",
			first: q{from: "2025-01-01", to: "2025-06-30", dims: []string{"sex"}, filters: female,
				cells: []c{{dims: []string{"female"}, num: 30, den: 120}}},
			second: total("2025-02-01", "2025-06-30", 30, 126),
		},
		{
			name: "female vs male: disjoint filters: allowed",
			first: q{from: "2025-01-01", to: "2025-06-30", dims: []string{"sex"}, filters: female,
				cells: []c{{dims: []string{"female"}, num: 30, den: 120}}},
			second: q{from: "2025-01-01", to: "2025-06-30", dims: []string{"sex"}, filters: map[string]string{"sex": "male"},
				cells: []c{{dims: []string{"male"}, num: 30, den: 125}}},
		},
		{
			name:   "non-nested ranges Jan-Mar vs Apr-Jun: allowed",
			first:  total("2025-01-01", "2025-03-31", 60, 200),
			second: total("2025-04-01", "2025-06-30", 62, 203),
		},
		{
			name:   "overlapping ranges Jan-Apr vs Mar-Jun: allowed (not a difference of two)",
			first:  total("2025-01-01", "2025-04-30", 60, 200),
			second: total("2025-03-01", "2025-06-30", 62, 203),
		},
		{
			name:   "another metric: allowed",
			first:  total("2025-01-01", "2025-06-30", 120, 400),
			second: q{metric: "late_cancellation_rate", from: "2025-02-01", to: "2025-06-30", cells: []c{{num: 113, den: 393}}},
		},
		{
			name: "by clinic: one clinic's difference is 4: refused",
			first: q{from: "2025-01-01", to: "2025-06-30", dims: []string{"clinic"}, cells: []c{
				{dims: []string{"clinic-01"}, num: 50, den: 200}, {dims: []string{"clinic-02"}, num: 40, den: 150}}},
			second: q{from: "2025-02-01", to: "2025-06-30", dims: []string{"clinic"}, cells: []c{
				{dims: []string{"clinic-01"}, num: 38, den: 170}, {dims: []string{"clinic-02"}, num: 40, den: 146}}},
			overlap: OverlapPeriod, measure: "denominator",
		},
		{
			name: "dimension order does not matter",
			first: q{from: "2025-01-01", to: "2025-06-30", dims: []string{"clinic", "sex"}, cells: []c{
				{dims: []string{"clinic-01", "female"}, num: 50, den: 200}}},
			second: q{from: "2025-02-01", to: "2025-06-30", dims: []string{"sex", "clinic"}, cells: []c{
				{dims: []string{"female", "clinic-01"}, num: 50, den: 197}}},
			overlap: OverlapPeriod, measure: "denominator",
		},
		{
			name: "other groupings are not compared",
			first: q{from: "2025-01-01", to: "2025-06-30", dims: []string{"clinic"}, cells: []c{
				{dims: []string{"clinic-01"}, num: 50, den: 200}}},
			second: q{from: "2025-02-01", to: "2025-06-30", dims: []string{"sex"}, cells: []c{
				{dims: []string{"clinic-01"}, num: 50, den: 197}}},
		},
		{
			name: "by month: a range re-cut on month boundaries shows the same cells: allowed",
			first: q{grain: metrics.GrainMonth, from: "2025-01-01", to: "2025-03-31", cells: []c{
				{period: "2025-01", num: 30, den: 100}, {period: "2025-02", num: 15, den: 80}, {period: "2025-03", num: 27, den: 81}}},
			second: q{grain: metrics.GrainMonth, from: "2025-02-01", to: "2025-03-31", cells: []c{
				{period: "2025-02", num: 15, den: 80}, {period: "2025-03", num: 27, den: 81}}},
		},
		{
			name: "by month: a month cut short by 2 days differs by 2: refused",
			first: q{grain: metrics.GrainMonth, from: "2025-03-01", to: "2025-03-31", cells: []c{
				{period: "2025-03", num: 27, den: 81}}},
			second: q{grain: metrics.GrainMonth, from: "2025-03-04", to: "2025-03-31", cells: []c{
				{period: "2025-03", num: 25, den: 79}}},
			overlap: OverlapPeriod, measure: "denominator",
		},
		{
			name: "by month: a cell hidden in one range and shown in the other: allowed",
			first: q{grain: metrics.GrainMonth, from: "2025-01-01", to: "2025-03-31", cells: []c{
				{period: "2025-01", num: 30, den: 100}, {period: "2025-02", num: -1, den: 80}, {period: "2025-03", num: -1, den: 81}}},
			second: q{grain: metrics.GrainMonth, from: "2025-01-01", to: "2025-02-28", cells: []c{
				{period: "2025-01", num: 30, den: 100}, {period: "2025-02", num: 15, den: 80}}},
		},
		{
			name:  "range total vs the months of a shorter range, summed: refused",
			first: total("2025-01-01", "2025-03-31", 72, 261),
			second: q{grain: metrics.GrainMonth, from: "2025-02-01", to: "2025-03-31", cells: []c{
				{period: "2025-02", num: 15, den: 80}, {period: "2025-03", num: 27, den: 176}}},
			overlap: OverlapPeriod, measure: "denominator",
		},
		{
			name: "yearly total vs months Feb-Dec summing to 7 less: refused",
			first: q{grain: metrics.GrainYear, from: "2024-01-01", to: "2024-12-31", cells: []c{
				{period: "2024", num: 0, den: 500}}},
			second:  q{grain: metrics.GrainMonth, from: "2024-02-01", to: "2024-12-31", cells: monthsFrom(2024, 2, 11, 0, 45, 493-45*10)},
			overlap: OverlapPeriod, measure: "denominator",
		},
		{
			name: "yearly total vs months Feb-Dec summing to 20 less: allowed",
			first: q{grain: metrics.GrainYear, from: "2024-01-01", to: "2024-12-31", cells: []c{
				{period: "2024", num: 0, den: 500}}},
			second: q{grain: metrics.GrainMonth, from: "2024-02-01", to: "2024-12-31", cells: monthsFrom(2024, 2, 11, 0, 40, 480-40*10)},
		},
		{
			// Jan's 5 no-shows are hidden and complemented in April, so the
			// month table alone is safe; but Q1 minus Feb and Mar is Jan.
			name: "quarter vs months with a complement outside the quarter: refused",
			first: q{grain: metrics.GrainQuarter, from: "2025-01-01", to: "2025-06-30", cells: []c{
				{period: "2025-Q1", num: 100, den: 400}, {period: "2025-Q2", num: 90, den: 380}}},
			second: q{grain: metrics.GrainMonth, from: "2025-01-01", to: "2025-06-30", cells: []c{
				{period: "2025-01", num: -1, den: 130}, {period: "2025-02", num: 45, den: 130}, {period: "2025-03", num: 50, den: 140},
				{period: "2025-04", num: -1, den: 120}, {period: "2025-05", num: 30, den: 130}, {period: "2025-06", num: 30, den: 130}}},
			overlap: OverlapTotal, measure: "numerator",
		},
		{
			name: "quarter vs months whose hidden cells sum to a large count: allowed",
			first: q{grain: metrics.GrainQuarter, from: "2025-01-01", to: "2025-03-31", cells: []c{
				{period: "2025-Q1", num: 100, den: 400}}},
			second: q{grain: metrics.GrainMonth, from: "2025-01-01", to: "2025-03-31", cells: []c{
				{period: "2025-01", num: -1, den: 130}, {period: "2025-02", num: -1, den: 130}, {period: "2025-03", num: 50, den: 140}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _ := newGuard(t, Options{})
			if d := admit(t, g, "alice", tt.first); d.Violation != nil {
				t.Fatalf("first query refused: %+v", d.Violation)
			}
			d := admit(t, g, "alice", tt.second)
			if tt.overlap == "" {
				if d.Violation != nil {
					t.Fatalf("refused (%+v), want allowed", *d.Violation)
				}
				if n := g.Remembered("alice"); n != 2 {
					t.Errorf("remembered %d results, want 2", n)
				}
				return
			}
			if d.Violation == nil {
				t.Fatalf("allowed, want refused (%s %s)", tt.overlap, tt.measure)
			}
			if d.Violation.Overlap != tt.overlap || d.Violation.Measure != tt.measure {
				t.Errorf("violation %s %s, want %s %s", d.Violation.Overlap, d.Violation.Measure, tt.overlap, tt.measure)
			}
			if n := g.Remembered("alice"); n != 1 {
				t.Errorf("remembered %d results, want 1 (a refused result is not remembered)", n)
			}
		})
	}
}

// monthsFrom returns n monthly cells of year from month m: numerator num
// each, denominator den each except the last, which takes last.
func monthsFrom(year, m, n int, num, den, last float64) []c {
	var out []c
	for i := 0; i < n; i++ {
		d := den
		if i == n-1 {
			d = last
		}
		out = append(out, c{period: fmt.Sprintf("%d-%02d", year, m+i), num: num, den: d})
	}
	return out
}

func TestViolationHoldsNoValues(t *testing.T) {
	g, k := newGuard(t, Options{})
	first := q{from: "2025-01-01", to: "2025-06-30", dims: []string{"clinic"},
		cells: []c{{dims: []string{"clinic-07"}, num: 40, den: 400}}}
	admit(t, g, "alice", first)
	at := k.now()
	k.add(time.Hour)
	second := q{grain: metrics.GrainMonth, from: "2025-01-01", to: "2025-06-30", dims: []string{"clinic", "sex"},
		filters: map[string]string{"sex": "female"},
		cells:   []c{{period: "2025-01", dims: []string{"clinic-07", "female"}, num: 0, den: 393}}}
	d := admit(t, g, "alice", second)
	if d.Violation == nil {
		t.Fatal("allowed")
	}
	want := Violation{Metric: "no_show_rate", Overlap: OverlapPeriodFilter, Measure: "denominator",
		Grain: metrics.GrainMonth, EarlierGrain: metrics.GrainNone, By: []string{"clinic"},
		Filters: []string{"sex"}, EarlierFilters: []string{}, EarlierAt: at}
	if !reflect.DeepEqual(*d.Violation, want) {
		t.Errorf("violation\n%+v\nwant\n%+v", *d.Violation, want)
	}
	if s := fmt.Sprintf("%+v", *d.Violation); strings.Contains(s, "female") || strings.Contains(s, "clinic-07") ||
		strings.Contains(s, "393") || strings.Contains(s, "400") {
		t.Errorf("violation holds values: %s", s)
	}
}

func TestExemptPrincipal(t *testing.T) {
	g, _ := newGuard(t, Options{})
	admit(t, g, "ops", total("2025-01-01", "2025-06-30", 120, 400))
	d, err := g.Admit("ops", true, total("2025-02-01", "2025-06-30", 113, 393).pub())
	if err != nil {
		t.Fatal(err)
	}
	if d.Refused || d.Violation == nil || d.Violation.Overlap != OverlapPeriod {
		t.Fatalf("exempt decision %+v, want allowed with a violation to audit", d)
	}
	if n := g.Remembered("ops"); n != 2 {
		t.Errorf("remembered %d results, want 2 (an exempt result is remembered)", n)
	}
}

func TestWindow(t *testing.T) {
	g, k := newGuard(t, Options{Window: 24 * time.Hour})
	admit(t, g, "alice", total("2025-01-01", "2025-06-30", 120, 400))
	k.add(23 * time.Hour)
	if d := admit(t, g, "alice", total("2025-02-01", "2025-06-30", 113, 393)); d.Violation == nil {
		t.Error("allowed within the window")
	}
	k.add(time.Hour + time.Second)
	if d := admit(t, g, "alice", total("2025-02-01", "2025-06-30", 113, 393)); d.Violation != nil {
		t.Errorf("refused after the window: %+v", *d.Violation)
	}
	if n := g.Remembered("alice"); n != 1 {
		t.Errorf("remembered %d, want 1", n)
	}
	// The periodic sweep frees idle principals' histories.
	k.add(25 * time.Hour)
	admit(t, g, "bob", total("2025-01-01", "2025-06-30", 1, 400))
	g.mu.Lock()
	_, alice := g.histories["alice"]
	g.mu.Unlock()
	if alice {
		t.Error("alice's expired history was not swept")
	}
}

func TestPrincipalsAreIsolated(t *testing.T) {
	g, _ := newGuard(t, Options{})
	admit(t, g, "bob", total("2025-01-01", "2025-06-30", 120, 400))
	if d := admit(t, g, "alice", total("2025-02-01", "2025-06-30", 113, 393)); d.Violation != nil {
		t.Errorf("bob's history refused alice: %+v", *d.Violation)
	}
	if d := admit(t, g, "bob", total("2025-02-01", "2025-06-30", 113, 393)); d.Violation == nil {
		t.Error("bob's own history did not refuse bob")
	}
	g.Forget("bob")
	if d := admit(t, g, "bob", total("2025-02-01", "2025-06-30", 113, 393)); d.Violation != nil {
		t.Error("Forget kept bob's history")
	}
}

func TestCapEviction(t *testing.T) {
	fill := func(g *Guard, n int) int {
		evicted := 0
		for i := 0; i < n; i++ {
			d := admit(t, g, "alice", q{metric: fmt.Sprintf("metric_%d", i), from: "2025-01-01", to: "2025-06-30",
				cells: []c{{num: 1, den: 1}}})
			evicted += d.Evicted
		}
		return evicted
	}
	g, _ := newGuard(t, Options{MaxQueries: 3})
	admit(t, g, "alice", total("2025-01-01", "2025-06-30", 120, 400))
	if ev := fill(g, 3); ev != 1 || g.Remembered("alice") != 3 {
		t.Fatalf("evicted %d, remembered %d; want 1 and 3", ev, g.Remembered("alice"))
	}
	if d := admit(t, g, "alice", total("2025-02-01", "2025-06-30", 113, 393)); d.Violation != nil {
		t.Error("an evicted result still refuses")
	}
	// Control: with room for all, the same sequence is refused.
	g, _ = newGuard(t, Options{MaxQueries: 5})
	admit(t, g, "alice", total("2025-01-01", "2025-06-30", 120, 400))
	if ev := fill(g, 3); ev != 0 {
		t.Fatalf("evicted %d with room for 5", ev)
	}
	if d := admit(t, g, "alice", total("2025-02-01", "2025-06-30", 113, 393)); d.Violation == nil {
		t.Error("allowed with the earlier result remembered")
	}
	// The cell budget evicts too, but keeps the newest result whatever its size.
	g, _ = newGuard(t, Options{MaxCells: 4})
	admit(t, g, "alice", total("2025-01-01", "2025-06-30", 120, 400))
	big := q{grain: metrics.GrainMonth, from: "2024-01-01", to: "2024-12-31", cells: monthsFrom(2024, 1, 12, 20, 40, 40)}
	if d := admit(t, g, "alice", big); d.Evicted != 1 || g.Remembered("alice") != 1 {
		t.Errorf("cell budget: evicted %d, remembered %d; want 1 and 1", d.Evicted, g.Remembered("alice"))
	}
}

func TestSameQueryReplacesItsResult(t *testing.T) {
	g, _ := newGuard(t, Options{MaxQueries: 2})
	admit(t, g, "alice", total("2025-01-01", "2025-06-30", 120, 400))
	// A reload changed the numbers: the same query is not a difference.
	for _, den := range []float64{403, 405, 410} {
		if d := admit(t, g, "alice", total("2025-01-01", "2025-06-30", 120, den)); d.Violation != nil || d.Evicted != 0 {
			t.Fatalf("repeat refused or evicting: %+v", d)
		}
	}
	if n := g.Remembered("alice"); n != 1 {
		t.Errorf("remembered %d, want 1", n)
	}
	// The latest numbers are the ones compared.
	if d := admit(t, g, "alice", total("2025-02-01", "2025-06-30", 120, 404)); d.Violation == nil {
		t.Error("allowed a difference of 6 with the latest result")
	}
}

// TestConcurrent runs, for each of many principals, two conflicting queries
// at once: exactly one of each pair must be refused, whatever the
// interleaving, and the race detector must stay quiet.
func TestConcurrent(t *testing.T) {
	g, _ := newGuard(t, Options{})
	const principals = 40
	var refused atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for p := 0; p < principals; p++ {
		name := fmt.Sprintf("user-%d", p)
		for _, x := range []q{total("2025-01-01", "2025-06-30", 120, 400), total("2025-02-01", "2025-06-30", 113, 393)} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				d, err := g.Admit(name, false, x.pub())
				if err != nil {
					t.Error(err)
				}
				if d.Refused {
					refused.Add(1)
				}
				g.Remembered(name)
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if p%10 == 0 {
				g.Forget("nobody")
			}
		}()
	}
	close(start)
	wg.Wait()
	if n := refused.Load(); n != principals {
		t.Errorf("%d refusals, want one per principal (%d)", n, principals)
	}
}

func TestMalformed(t *testing.T) {
	g, _ := newGuard(t, Options{})
	tests := map[string]*metrics.Published{
		"nil": nil,
		"dims mismatch": q{from: "2025-01-01", to: "2025-06-30", dims: []string{"clinic"},
			cells: []c{{dims: []string{"a", "b"}, num: 1, den: 1}}}.pub(),
		"period outside range": q{grain: metrics.GrainMonth, from: "2025-01-01", to: "2025-06-30",
			cells: []c{{period: "2025-09", num: 1, den: 1}}}.pub(),
		"two cells at once": q{grain: metrics.GrainMonth, from: "2025-01-01", to: "2025-06-30",
			cells: []c{{period: "2025-02", num: 1, den: 1}, {period: "2025-02", num: 1, den: 1}}}.pub(),
		"empty range": total("2025-06-30", "2025-01-01", 1, 1).pub(),
	}
	for name, p := range tests {
		if _, err := g.Admit("alice", false, p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(Options{Threshold: -1}); err == nil {
		t.Error("New accepted a negative threshold")
	}
	if _, err := New(Options{Window: -time.Hour}); err == nil {
		t.Error("New accepted a negative window")
	}
}

func TestThresholdOption(t *testing.T) {
	g, _ := newGuard(t, Options{Threshold: 5})
	admit(t, g, "alice", total("2025-01-01", "2025-06-30", 120, 400))
	if d := admit(t, g, "alice", total("2025-02-01", "2025-06-30", 113, 393)); d.Violation != nil {
		t.Error("a difference of 7 refused under threshold 5")
	}
	if d := admit(t, g, "alice", total("2025-03-01", "2025-06-30", 113, 389)); d.Violation == nil {
		t.Error("a difference of 4 allowed under threshold 5")
	}
}

func BenchmarkAdmit(b *testing.B) {
	g, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	clinics := make([]string, 20)
	for i := range clinics {
		clinics[i] = fmt.Sprintf("clinic-%02d", i)
	}
	// Result i covers months 1+i%12 to December, cut at day 31-i/12.
	result := func(i int) *metrics.Published {
		from := 1 + i%12
		x := q{grain: metrics.GrainMonth, from: fmt.Sprintf("2024-%02d-01", from), to: fmt.Sprintf("2024-12-%02d", 31-i/12),
			dims: []string{"clinic"}}
		for m := from; m <= 12; m++ {
			for _, cl := range clinics {
				x.cells = append(x.cells, c{period: fmt.Sprintf("2024-%02d", m), dims: []string{cl}, num: 30, den: 100})
			}
		}
		return x.pub()
	}
	// 200 remembered results of up to 240 cells each (equal values, so
	// every comparison is made and none refuses).
	for i := 0; i < DefaultMaxQueries; i++ {
		if d, _ := g.Admit("alice", false, result(i)); d.Refused {
			b.Fatal("refused")
		}
	}
	if n := g.Remembered("alice"); n != DefaultMaxQueries {
		b.Fatalf("remembered %d", n)
	}
	p := result(2)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if d, _ := g.Admit("alice", false, p); d.Refused {
			b.Fatal("refused")
		}
	}
}
