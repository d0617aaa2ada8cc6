package disclosure

import (
	"errors"
	"math"
	"testing"
)

func TestHidden(t *testing.T) {
	def := Policy{}
	five, err := New(5)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		p    Policy
		n    float64
		want bool
	}{
		{def, 0, false},
		{def, 1, true},
		{def, 10, true},
		{def, 10.5, true},
		{def, 11, false},
		{def, 130, false},
		{def, -3, true},
		{def, math.NaN(), true},
		{five, 4, true},
		{five, 5, false},
		{five, 7, false},
	}
	for _, tt := range tests {
		if got := tt.p.Hidden(tt.n); got != tt.want {
			t.Errorf("Policy{%d}.Hidden(%v) = %v, want %v", tt.p.Threshold(), tt.n, got, tt.want)
		}
	}
	if def.Threshold() != DefaultThreshold {
		t.Errorf("zero Policy threshold = %d, want %d", def.Threshold(), DefaultThreshold)
	}
	for _, bad := range []int{0, -11} {
		if _, err := New(bad); !errors.Is(err, ErrThreshold) {
			t.Errorf("New(%d) error = %v, want ErrThreshold", bad, err)
		}
	}
}

func TestPrimary(t *testing.T) {
	var p Policy
	all := Mask{Numerator: true, Denominator: true, Value: true}
	num := Mask{Numerator: true, Value: true}
	tests := []struct {
		name     string
		num, den float64
		isCount  bool
		want     Mask
	}{
		{"both large", 12, 130, true, Mask{}},
		{"small numerator hides it and the rate, denominator stays", 3, 130, true, num},
		{"small denominator hides everything", 2, 7, true, all},
		{"small denominator hides even a zero numerator", 0, 5, true, all},
		{"zero numerator is shown", 0, 20, true, Mask{}},
		{"empty cell is shown", 0, 0, true, Mask{}},
		{"mean: a small sum of values is not a count", 5, 12, false, Mask{}},
		{"mean: small denominator hides everything", 300, 4, false, all},
	}
	for _, tt := range tests {
		if got := p.Primary(tt.num, tt.den, tt.isCount); got != tt.want {
			t.Errorf("%s: Primary(%v, %v) = %+v, want %+v", tt.name, tt.num, tt.den, got, tt.want)
		}
	}
}

// cell builds a Cell; coords are given first for readability of the tables.
func cell(num, den float64, coords ...string) Cell {
	return Cell{Coords: coords, Numerator: num, Denominator: den}
}

func TestProtect(t *testing.T) {
	all := Mask{Numerator: true, Denominator: true, Value: true}
	num := Mask{Numerator: true, Value: true}
	none := Mask{}
	tests := []struct {
		name  string
		table Table
		want  []Mask
		// totals: masks of totals, keyed as Total's argument.
		totals []totalWant
	}{
		{
			name: "no margin: only primary suppression",
			table: Table{Dims: []string{"clinic"}, NumeratorIsCount: true, Cells: []Cell{
				cell(3, 50, "a"), cell(20, 60, "b"), cell(30, 40, "c"),
			}},
			want: []Mask{num, none, none},
		},
		{
			// 53 no-shows in total are shown: without a complement, a's
			// 3 = 53 - 20 - 30. The smallest other numerator (b's 20) goes.
			name: "one hidden numerator in a row with a total",
			table: Table{Dims: []string{"clinic"}, NumeratorIsCount: true, Margins: []string{"clinic"}, Cells: []Cell{
				cell(3, 50, "a"), cell(20, 60, "b"), cell(30, 40, "c"),
			}},
			want:   []Mask{num, num, none},
			totals: []totalWant{{at: map[string]string{}, num: 53, den: 150, mask: none}},
		},
		{
			// a's denominator 8 is hidden; 123 - 100 - 15 would give it
			// back, so b (the smallest other denominator) is hidden whole.
			// Then a's and b's numerators (2 + 5) are hidden together, but
			// 47 - 40 would still give their sum, 7, a count that may not
			// be shown: c's numerator goes too.
			name: "one hidden denominator in a row with a total",
			table: Table{Dims: []string{"clinic"}, NumeratorIsCount: true, Margins: []string{"clinic"}, Cells: []Cell{
				cell(2, 8, "a"), cell(5, 15, "b"), cell(40, 100, "c"),
			}},
			want:   []Mask{all, all, num},
			totals: []totalWant{{at: map[string]string{}, num: 47, den: 123, mask: none}},
		},
		{
			// a and b hide each other's cells, but their sums (3 no-shows,
			// 17 appointments) follow from the total: the 3 is small, so
			// c's numerator goes; 17 may be shown, so c's denominator stays.
			name: "two hidden cells whose small sum follows from the total",
			table: Table{Dims: []string{"clinic"}, NumeratorIsCount: true, Margins: []string{"clinic"}, Cells: []Cell{
				cell(2, 8, "a"), cell(1, 9, "b"), cell(40, 100, "c"),
			}},
			want: []Mask{all, all, num},
		},
		{
			// Hidden together, 6 + 7 = 13 may follow from the total.
			name: "two hidden cells whose sum may be shown",
			table: Table{Dims: []string{"clinic"}, NumeratorIsCount: true, Margins: []string{"clinic"}, Cells: []Cell{
				cell(6, 40, "a"), cell(7, 50, "b"), cell(40, 100, "c"),
			}},
			want: []Mask{num, num, none},
		},
		{
			name: "a small total is itself hidden and protects its line",
			table: Table{Dims: []string{"clinic"}, NumeratorIsCount: true, Margins: []string{"clinic"}, Cells: []Cell{
				cell(2, 30, "a"), cell(0, 40, "b"),
			}},
			want:   []Mask{num, none},
			totals: []totalWant{{at: map[string]string{}, num: 2, den: 70, mask: num}},
		},
		{
			//          c1      c2      c3   | total
			//   Jan   3/50   20/60   30/40  | 53/150
			//   Feb  15/45   25/70   12/33  | 52/148
			//   total 18/95  45/130  42/73  | 105/298
			// Jan-c1's 3 is hidden. Jan row: complement c2 (20 < 30).
			// Column c1: Jan-c1 alone hidden, so Feb-c1 (15) goes; column
			// c2: Feb-c2 (25) goes. Now every row and column with a shown
			// total has 0 or 2 hidden numerators; denominators all show.
			name: "two dimensions with margins both ways",
			table: Table{Dims: []string{"period", "clinic"}, NumeratorIsCount: true, Margins: []string{"period", "clinic"}, Cells: []Cell{
				cell(3, 50, "2025-01", "c1"), cell(20, 60, "2025-01", "c2"), cell(30, 40, "2025-01", "c3"),
				cell(15, 45, "2025-02", "c1"), cell(25, 70, "2025-02", "c2"), cell(12, 33, "2025-02", "c3"),
			}},
			want: []Mask{num, num, none, num, num, none},
			totals: []totalWant{
				{at: map[string]string{"period": "2025-01"}, num: 53, den: 150, mask: none},
				{at: map[string]string{"clinic": "c1"}, num: 18, den: 95, mask: none},
				{at: map[string]string{}, num: 105, den: 298, mask: none},
			},
		},
		{
			//          c1      c2      c3
			//   Jan   3/19   12/30   15/40
			//   Feb   4/22   11/25    0/20
			// Column c1 already hides two numerators. Row Jan needs a
			// partner for 3: c2 and c3 each open one new leak, so the
			// smaller (12) goes; row Feb then prefers c2 (11), which
			// closes column c2 instead of opening column c3. The four
			// hidden numerators form a rectangle; c3 stays whole.
			name: "complements close into a rectangle",
			table: Table{Dims: []string{"period", "clinic"}, NumeratorIsCount: true, Margins: []string{"period", "clinic"}, Cells: []Cell{
				cell(3, 19, "2025-01", "c1"), cell(12, 30, "2025-01", "c2"), cell(15, 40, "2025-01", "c3"),
				cell(4, 22, "2025-02", "c1"), cell(11, 25, "2025-02", "c2"), cell(0, 20, "2025-02", "c3"),
			}},
			want: []Mask{num, num, none, num, num, none},
			totals: []totalWant{
				{at: map[string]string{"period": "2025-01"}, num: 30, den: 89, mask: none},
				{at: map[string]string{"period": "2025-02"}, num: 15, den: 67, mask: none},
				// c1's 7 no-shows are a small total; c3's 15 (the smaller of
				// the other two) complements it in the line of totals.
				{at: map[string]string{"clinic": "c1"}, num: 7, den: 41, mask: num},
				{at: map[string]string{"clinic": "c3"}, num: 15, den: 60, mask: num},
				{at: map[string]string{"clinic": "c2"}, num: 23, den: 55, mask: none},
			},
		},
		{
			//          c1      c2      c3
			//   Jan   3/19   12/30   15/40
			//   Feb  14/25    0/20    2/7
			// Numerators: Jan-c1's 3 pairs with Feb-c1 (row Feb already
			// hides Feb-c3's) and Jan-c3 (column c3 already hides
			// Feb-c3's). Denominators: Feb-c3's 7 takes Jan-c3's 40 (the
			// only one in column c3); row Feb then needs a second one:
			// c1 costs one new leak (column c1's denominators), c2 two
			// (column c2's denominator and numerator), so Feb-c1 goes
			// whole, and column c1 takes Jan-c1 whole, which closes row
			// Jan too. Hidden: the rectangle c1/c3 x Jan/Feb; c2 stays.
			name: "a small denominator and a small numerator",
			table: Table{Dims: []string{"period", "clinic"}, NumeratorIsCount: true, Margins: []string{"period", "clinic"}, Cells: []Cell{
				cell(3, 19, "2025-01", "c1"), cell(12, 30, "2025-01", "c2"), cell(15, 40, "2025-01", "c3"),
				cell(14, 25, "2025-02", "c1"), cell(0, 20, "2025-02", "c2"), cell(2, 7, "2025-02", "c3"),
			}},
			want: []Mask{all, none, all, all, none, all},
		},
		{
			// Same grid with only the per-period totals (the dashboard's
			// all-clinics line): rows are protected, columns are not.
			name: "two dimensions, margin along one",
			table: Table{Dims: []string{"period", "clinic"}, NumeratorIsCount: true, Margins: []string{"clinic"}, Cells: []Cell{
				cell(3, 50, "2025-01", "c1"), cell(20, 60, "2025-01", "c2"), cell(30, 40, "2025-01", "c3"),
				cell(15, 45, "2025-02", "c1"), cell(25, 70, "2025-02", "c2"), cell(12, 33, "2025-02", "c3"),
			}},
			want: []Mask{num, num, none, none, none, none},
		},
		{
			// Denominators only (a mean), margins both ways:
			//          c1   c2  | total
			//   Jan     5   20  | 25
			//   Feb    30    0  | 30
			//   total  35   20  | 55
			// Jan-c1 (5) hidden -> Jan-c2 (20) complements it; column c1
			// -> Feb-c1 (30). Column c2 now hides 20 beside a 0: no
			// non-zero cell is left, so its total goes; likewise the Feb
			// total. The line of per-period totals then holds one hidden
			// (Feb) beside the grand total, so Jan's total goes; the line
			// of per-clinic totals hides c1's. Only Feb-c2's 0 and the
			// grand total stay.
			name: "complement falls back to the total and iterates",
			table: Table{Dims: []string{"period", "clinic"}, NumeratorIsCount: false, Margins: []string{"period", "clinic"}, Cells: []Cell{
				cell(50, 5, "2025-01", "c1"), cell(200, 20, "2025-01", "c2"),
				cell(300, 30, "2025-02", "c1"), cell(0, 0, "2025-02", "c2"),
			}},
			want: []Mask{all, all, all, none},
			totals: []totalWant{
				{at: map[string]string{"period": "2025-01"}, num: 250, den: 25, mask: all},
				{at: map[string]string{"period": "2025-02"}, num: 300, den: 30, mask: all},
				{at: map[string]string{"clinic": "c1"}, num: 350, den: 35, mask: all},
				{at: map[string]string{"clinic": "c2"}, num: 200, den: 20, mask: all},
				{at: map[string]string{}, num: 550, den: 55, mask: none},
			},
		},
	}
	var p Policy
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Protect(tt.table)
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range got.Cells {
				if m != tt.want[i] {
					t.Errorf("cell %v (%v/%v): mask %+v, want %+v", tt.table.Cells[i].Coords,
						tt.table.Cells[i].Numerator, tt.table.Cells[i].Denominator, m, tt.want[i])
				}
			}
			for _, tw := range tt.totals {
				c, m, ok := got.Total(tw.at)
				if !ok {
					t.Errorf("Total(%v): not found", tw.at)
					continue
				}
				if c.Numerator != tw.num || c.Denominator != tw.den || m != tw.mask {
					t.Errorf("Total(%v) = %v/%v %+v, want %v/%v %+v", tw.at, c.Numerator, c.Denominator, m, tw.num, tw.den, tw.mask)
				}
			}
			if len(tt.table.Margins) > 0 {
				assertNoLeak(t, got, tt.table)
			}
		})
	}
}

type totalWant struct {
	at       map[string]string
	num, den float64
	mask     Mask
}

// assertNoLeak checks the property complementary suppression exists for,
// independently of how Protect reaches it: along every margin dimension, no
// line of cells beside a visible total has exactly one hidden member.
func assertNoLeak(t *testing.T, p *Protected, tab Table) {
	t.Helper()
	type lineKey struct {
		dim   int
		total string
	}
	type tally struct{ hiddenNum, hiddenDen int }
	lines := map[lineKey]*tally{}
	for _, n := range p.nodes {
		for _, m := range tab.Margins {
			d := indexOf(tab.Dims, m)
			if n.coords[d] == total {
				continue
			}
			tc := append([]int(nil), n.coords...)
			tc[d] = total
			k := lineKey{d, key(tc)}
			if lines[k] == nil {
				lines[k] = &tally{}
			}
			if n.mask.Numerator {
				lines[k].hiddenNum++
			}
			if n.mask.Denominator {
				lines[k].hiddenDen++
			}
		}
	}
	for k, tl := range lines {
		tot := p.nodes[k.total]
		if !tot.mask.Denominator && tl.hiddenDen == 1 {
			t.Errorf("line along %s at %s: one hidden denominator beside a visible total", tab.Dims[k.dim], k.total)
		}
		if tab.NumeratorIsCount && !tot.mask.Numerator && tl.hiddenNum == 1 {
			t.Errorf("line along %s at %s: one hidden numerator beside a visible total", tab.Dims[k.dim], k.total)
		}
	}
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

func TestProtectMalformed(t *testing.T) {
	var p Policy
	tests := []struct {
		name  string
		table Table
	}{
		{"wrong number of coordinates", Table{Dims: []string{"a", "b"}, Cells: []Cell{cell(1, 1, "x")}}},
		{"duplicate cell", Table{Dims: []string{"a"}, Cells: []Cell{cell(1, 1, "x"), cell(2, 2, "x")}}},
		{"margin not a dimension", Table{Dims: []string{"a"}, Margins: []string{"b"}}},
		{"duplicate dimension", Table{Dims: []string{"a", "a"}}},
	}
	for _, tt := range tests {
		if _, err := p.Protect(tt.table); err == nil {
			t.Errorf("%s: Protect succeeded, want an error", tt.name)
		}
	}
}

func TestTotalLookup(t *testing.T) {
	var p Policy
	got, err := p.Protect(Table{Dims: []string{"period", "clinic"}, NumeratorIsCount: true, Margins: []string{"clinic"}, Cells: []Cell{
		cell(12, 40, "2025-01", "c1"), cell(11, 30, "2025-01", "c2"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := got.Total(map[string]string{"clinic": "c1"}); ok {
		t.Error("Total over period found, but period is not a margin")
	}
	if _, _, ok := got.Total(map[string]string{"period": "2024-12"}); ok {
		t.Error("Total at an unknown period found")
	}
	if _, _, ok := got.Total(map[string]string{"period": "2025-01", "region": "x"}); ok {
		t.Error("Total naming an unknown dimension found")
	}
	c, m, ok := got.Total(map[string]string{"period": "2025-01"})
	if !ok || c.Numerator != 23 || c.Denominator != 70 || m.Suppressed() || c.Coords[0] != "2025-01" || c.Coords[1] != "" {
		t.Errorf("Total(period=2025-01) = %+v %+v %v", c, m, ok)
	}
}

// TestRemainder: when the numerator counts units of the denominator, the
// units outside the numerator are a count too. 95 adherent of 100 shows
// that 5 are not, so the numerator and rate are withheld; 89 of 100 (11
// not) and 100 of 100 (none not) are shown. A mean's numerator has no
// remainder.
func TestRemainder(t *testing.T) {
	var p Policy
	num := Mask{Numerator: true, Value: true}
	for _, tt := range []struct {
		num, den float64
		ratio    bool
		want     Mask
	}{
		{95, 100, true, num},
		{89, 100, true, Mask{}},
		{100, 100, true, Mask{}},
		{95, 100, false, Mask{}},
		{3, 100, true, num},
	} {
		prot, err := p.Protect(Table{Dims: []string{"clinic"}, NumeratorIsCount: true, NumeratorInDenominator: tt.ratio,
			Cells: []Cell{{Coords: []string{"a"}, Numerator: tt.num, Denominator: tt.den}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := prot.Cells[0]; got != tt.want {
			t.Errorf("%v of %v (ratio %v): %+v, want %+v", tt.num, tt.den, tt.ratio, got, tt.want)
		}
	}
}
