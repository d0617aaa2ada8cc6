package disclosure

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestNoSmallCountRecoverable attacks many random two-way tables published
// with all their margins (cells, row totals, column totals, grand total),
// as the metric API publishes them across coarser queries: for every line
// whose total is shown, what subtraction gives back (the total less the
// shown members) must be 0 or a count that may be shown, and a hidden
// numerator must not follow from a shown rate and denominator. In every
// other trial the numerator counts units of the denominator (a ratio), and
// the remainder, denominator − numerator, is attacked the same way.
func TestNoSmallCountRecoverable(t *testing.T) {
	p, _ := New(DefaultThreshold)
	rng := rand.New(rand.NewPCG(7, 11))
	count := func() float64 {
		switch rng.IntN(4) {
		case 0:
			return 0
		case 1:
			return float64(1 + rng.IntN(10)) // small: hidden
		default:
			return float64(11 + rng.IntN(80))
		}
	}
	for trial := 0; trial < 3000; trial++ {
		rows, cols := 2+rng.IntN(4), 2+rng.IntN(4)
		ratio := trial%2 == 1
		tab := Table{Dims: []string{"r", "c"}, Margins: []string{"r", "c"}, NumeratorIsCount: true, NumeratorInDenominator: ratio}
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				den := count()
				num := 0.0
				if den > 0 {
					num = float64(rng.IntN(int(den) + 1))
				}
				tab.Cells = append(tab.Cells, Cell{Coords: []string{fmt.Sprint(i), fmt.Sprint(j)}, Numerator: num, Denominator: den})
			}
		}
		prot, err := p.Protect(tab)
		if err != nil {
			t.Fatal(err)
		}
		type shown struct {
			c Cell
			m Mask
		}
		cell := func(i, j int) shown { return shown{tab.Cells[i*cols+j], prot.Cells[i*cols+j]} }
		tot := func(at map[string]string) shown {
			c, m, ok := prot.Total(at)
			if !ok {
				t.Fatalf("trial %d: no total at %v", trial, at)
			}
			return shown{c, m}
		}
		// Each line: its members and its total.
		type line struct {
			name    string
			members []shown
			total   shown
		}
		var lines []line
		for i := 0; i < rows; i++ {
			l := line{name: fmt.Sprintf("row %d", i), total: tot(map[string]string{"r": fmt.Sprint(i)})}
			for j := 0; j < cols; j++ {
				l.members = append(l.members, cell(i, j))
			}
			lines = append(lines, l)
		}
		for j := 0; j < cols; j++ {
			l := line{name: fmt.Sprintf("column %d", j), total: tot(map[string]string{"c": fmt.Sprint(j)})}
			for i := 0; i < rows; i++ {
				l.members = append(l.members, cell(i, j))
			}
			lines = append(lines, l)
		}
		grand := tot(map[string]string{})
		rowTotals := line{name: "row totals", total: grand}
		for i := 0; i < rows; i++ {
			rowTotals.members = append(rowTotals.members, tot(map[string]string{"r": fmt.Sprint(i)}))
		}
		colTotals := line{name: "column totals", total: grand}
		for j := 0; j < cols; j++ {
			colTotals.members = append(colTotals.members, tot(map[string]string{"c": fmt.Sprint(j)}))
		}
		lines = append(lines, rowTotals, colTotals)

		for _, l := range lines {
			measures := []string{"numerator", "denominator"}
			if ratio {
				measures = append(measures, "remainder")
			}
			for _, meas := range measures {
				get := func(s shown) (float64, bool) {
					switch meas {
					case "numerator":
						return s.c.Numerator, s.m.Numerator
					case "remainder":
						return s.c.Denominator - s.c.Numerator, s.m.Numerator || s.m.Denominator
					}
					return s.c.Denominator, s.m.Denominator
				}
				tv, thidden := get(l.total)
				if thidden {
					continue
				}
				recovered := tv
				anyHidden := false
				for _, m := range l.members {
					v, h := get(m)
					if h {
						anyHidden = true
					} else {
						recovered -= v
					}
				}
				if anyHidden && p.Hidden(recovered) {
					t.Fatalf("trial %d, %s: the hidden %ss sum to %v, recovered as the total less the shown ones", trial, l.name, meas, recovered)
				}
			}
			for _, m := range append(l.members, l.total) {
				if m.m.Numerator && !m.m.Value && !m.m.Denominator && m.c.Denominator != 0 {
					t.Fatalf("trial %d, %s: a hidden numerator follows from its shown rate and denominator", trial, l.name)
				}
			}
		}
		// Primary: no small count is shown at all.
		for _, s := range append(append([]shown{}, lines[0].members...), grand) {
			if (p.Hidden(s.c.Numerator) && !s.m.Numerator) || (p.Hidden(s.c.Denominator) && !s.m.Denominator) ||
				(ratio && p.Hidden(s.c.Denominator-s.c.Numerator) && !s.m.Numerator) {
				t.Fatalf("trial %d: a count from 1 to 10 is shown", trial)
			}
		}
	}
}
