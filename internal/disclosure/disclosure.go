package disclosure

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// DefaultThreshold is the smallest count that may be shown: counts 1..10 are
// hidden (the CMS cell-size suppression policy, also PCORnet's).
const DefaultThreshold = 11

// ErrThreshold reports an unusable threshold.
var ErrThreshold = errors.New("suppression threshold must be at least 1")

// Policy decides which counts may be published. The zero Policy uses
// DefaultThreshold, so a forgotten setting never disables suppression.
type Policy struct {
	threshold int
}

// New returns a policy that hides counts from 1 to threshold-1. A threshold
// below 1 is an ErrThreshold; 1 hides nothing (only for tests and
// experiments: carelens' configuration enforces at least 11).
func New(threshold int) (Policy, error) {
	if threshold < 1 {
		return Policy{}, fmt.Errorf("%w: got %d", ErrThreshold, threshold)
	}
	return Policy{threshold: threshold}, nil
}

// Threshold returns the smallest non-zero count the policy shows.
func (p Policy) Threshold() int {
	if p.threshold == 0 {
		return DefaultThreshold
	}
	return p.threshold
}

// Hidden reports whether the count n must not be shown: 0 is shown, anything
// whose magnitude is below the threshold is not, nor is NaN.
func (p Policy) Hidden(n float64) bool {
	return n != 0 && !(math.Abs(n) >= float64(p.Threshold()))
}

// Mask says which parts of a cell must be withheld.
type Mask struct {
	Numerator   bool
	Denominator bool
	Value       bool
}

// Suppressed reports whether any part of the cell is withheld.
func (m Mask) Suppressed() bool { return m.Numerator || m.Denominator || m.Value }

// Primary applies primary suppression to one cell with no published totals
// beside it: the denominator is hidden when small; the numerator when it
// counts units and is small, or whenever the denominator is hidden; the value
// whenever either is. numeratorIsCount is false for means and scores, whose
// numerator is a sum of values rather than a count.
func (p Policy) Primary(numerator, denominator float64, numeratorIsCount bool) Mask {
	var m Mask
	m.Denominator = p.Hidden(denominator)
	m.Numerator = m.Denominator || (numeratorIsCount && p.Hidden(numerator))
	m.Value = m.Numerator || m.Denominator
	return m
}

// Table is a grid of aggregate cells about to be published, together with a
// statement of which totals are (or can otherwise be) published beside it.
type Table struct {
	// Dims names the table's dimensions; every cell has one coordinate per
	// dimension, in this order.
	Dims []string
	// Cells are the table's cells. Coordinates must be unique.
	Cells []Cell
	// NumeratorIsCount is true when numerators count units (ratios, counts)
	// and false when they are sums of values (means, scores).
	NumeratorIsCount bool
	// NumeratorInDenominator is true when the numerator's units are among
	// the denominator's (a ratio: adherent patients among eligible ones), so
	// denominator − numerator counts units too (the non-adherent) and is
	// protected as a count: 95 of 100 shows that 5 are not.
	NumeratorInDenominator bool
	// Margins names the dimensions whose totals are shown, or could be
	// obtained by a coarser query: for each, every line of cells along that
	// dimension is checked against its total.
	Margins []string
}

// Cell is one aggregate: its coordinates and its numerator and denominator.
type Cell struct {
	Coords      []string
	Numerator   float64
	Denominator float64
}

// Protected is the outcome of Protect: a mask per cell and per total.
type Protected struct {
	// Cells holds one Mask per Table.Cells entry, in the same order.
	Cells []Mask

	dims   []string
	values []map[string]int
	nodes  map[string]*node
}

// Total returns the total of the cells whose coordinates equal at on the
// dimensions at names, summed over every other dimension, with its mask. The
// totalled dimensions must all be margins of the table; ok is false when
// they are not, when at names a dimension or value the table does not have,
// or when no cell contributes to the total.
func (p *Protected) Total(at map[string]string) (c Cell, m Mask, ok bool) {
	coords := make([]int, len(p.dims))
	for d, name := range p.dims {
		v, kept := at[name]
		if !kept {
			coords[d] = total
			continue
		}
		i, known := p.values[d][v]
		if !known {
			return Cell{}, Mask{}, false
		}
		coords[d] = i
	}
	if len(at) != len(p.dims)-countTotals(coords) {
		return Cell{}, Mask{}, false // at names a dimension the table lacks
	}
	n, ok := p.nodes[key(coords)]
	if !ok {
		return Cell{}, Mask{}, false
	}
	c = Cell{Coords: make([]string, len(p.dims)), Numerator: n.num, Denominator: n.den}
	for d, name := range p.dims {
		if v, kept := at[name]; kept {
			c.Coords[d] = v
		}
	}
	return c, n.mask, true
}

// total marks a coordinate summed over.
const total = -1

type node struct {
	coords   []int
	num, den float64
	mask     Mask
	lines    []*line // the lines the node is a member of
}

func (n *node) value(meas measure) float64 {
	switch meas {
	case denominator:
		return n.den
	case remainder:
		return n.den - n.num
	}
	return n.num
}

// hidden reports whether meas is withheld. The remainder is known exactly
// when both numerator and denominator are shown.
func (n *node) hidden(meas measure) bool {
	if meas == denominator {
		return n.mask.Denominator
	}
	return n.mask.Numerator
}

// hide withholds meas; a hidden denominator takes the numerator with it,
// the remainder is withheld by withholding the numerator, and any of them
// takes the value.
func (n *node) hide(meas measure) {
	if meas == denominator {
		n.mask.Denominator = true
	}
	n.mask.Numerator = true
	n.mask.Value = true
}

type measure int

const (
	denominator measure = iota
	numerator
	// remainder is denominator − numerator, for tables whose numerator
	// counts units of the denominator.
	remainder
)

// line is a set of cells along one margin dimension and the total they sum to.
type line struct {
	total   *node
	members []*node
}

// Protect applies primary suppression to every cell and every total implied
// by t.Margins, then complementary suppression until no line of cells along a
// margin dimension has exactly one hidden member beside a visible total. It
// fails only on a malformed table (coordinates of the wrong length, duplicate
// cells, a margin that is not a dimension).
func (p Policy) Protect(t Table) (*Protected, error) {
	dimIndex := make(map[string]int, len(t.Dims))
	for i, d := range t.Dims {
		if _, dup := dimIndex[d]; dup {
			return nil, fmt.Errorf("protect: dimension %q listed twice", d)
		}
		dimIndex[d] = i
	}
	var margins []int
	seenMargin := map[int]bool{}
	for _, m := range t.Margins {
		i, ok := dimIndex[m]
		if !ok {
			return nil, fmt.Errorf("protect: margin %q is not a dimension of the table", m)
		}
		if !seenMargin[i] {
			seenMargin[i] = true
			margins = append(margins, i)
		}
	}
	out := &Protected{
		Cells:  make([]Mask, len(t.Cells)),
		dims:   append([]string(nil), t.Dims...),
		values: make([]map[string]int, len(t.Dims)),
		nodes:  make(map[string]*node, len(t.Cells)),
	}
	for d := range out.values {
		out.values[d] = map[string]int{}
	}
	// order keeps every iteration deterministic: cells first, in input order,
	// then totals in the order they are first reached.
	var order []*node
	base := make([]*node, len(t.Cells))
	for i, c := range t.Cells {
		if len(c.Coords) != len(t.Dims) {
			return nil, fmt.Errorf("protect: cell %d has %d coordinates for %d dimensions", i, len(c.Coords), len(t.Dims))
		}
		coords := make([]int, len(t.Dims))
		for d, v := range c.Coords {
			idx, ok := out.values[d][v]
			if !ok {
				idx = len(out.values[d])
				out.values[d][v] = idx
			}
			coords[d] = idx
		}
		k := key(coords)
		if _, dup := out.nodes[k]; dup {
			return nil, fmt.Errorf("protect: two cells at %s", strings.Join(c.Coords, ", "))
		}
		n := &node{coords: coords, num: c.Numerator, den: c.Denominator}
		out.nodes[k] = n
		base[i] = n
		order = append(order, n)
	}
	// Totals: one node per non-empty subset of the margin dimensions and per
	// combination of the remaining coordinates that occurs.
	for subset := 1; subset < 1<<len(margins); subset++ {
		for _, b := range base {
			coords := append([]int(nil), b.coords...)
			for j, d := range margins {
				if subset&(1<<j) != 0 {
					coords[d] = total
				}
			}
			k := key(coords)
			n, ok := out.nodes[k]
			if !ok {
				n = &node{coords: coords}
				out.nodes[k] = n
				order = append(order, n)
			}
			n.num += b.num
			n.den += b.den
		}
	}
	for _, n := range order {
		n.mask = p.Primary(n.num, n.den, t.NumeratorIsCount)
		if t.NumeratorInDenominator && p.Hidden(n.den-n.num) {
			n.hide(remainder)
		}
	}
	// Lines: every node with a real coordinate on margin dimension d belongs
	// to the line whose total has that coordinate summed over.
	var lines []*line
	byTotal := map[string]*line{}
	for _, n := range order {
		for _, d := range margins {
			if n.coords[d] == total {
				continue
			}
			tc := append([]int(nil), n.coords...)
			tc[d] = total
			tk := strconv.Itoa(d) + "|" + key(tc)
			ln, ok := byTotal[tk]
			if !ok {
				ln = &line{total: out.nodes[key(tc)]}
				byTotal[tk] = ln
				lines = append(lines, ln)
			}
			ln.members = append(ln.members, n)
			n.lines = append(n.lines, ln)
		}
	}
	measures := []measure{denominator}
	if t.NumeratorIsCount {
		measures = append(measures, numerator)
	}
	if t.NumeratorInDenominator {
		measures = append(measures, remainder)
	}
	for changed := true; changed; {
		changed = false
		for _, ln := range lines {
			for _, meas := range measures {
				if p.complement(ln, meas, measures) {
					changed = true
				}
			}
		}
	}
	for i, n := range base {
		out.Cells[i] = n.mask
	}
	return out, nil
}

// complement hides one more part of ln when its total's meas is shown and
// its hidden members could be recovered by subtraction: exactly one member
// hidden, or several whose sum (the total minus the visible members) is a
// count the policy hides. It picks, among the visible non-zero members, the
// one whose hiding opens the fewest new single-hidden lines elsewhere (so
// complements close into rectangles instead of cascading), then the
// smallest, then the first; with no candidate it hides the total. It
// reports whether it hid anything.
func (p Policy) complement(ln *line, meas measure, measures []measure) bool {
	if ln.total.hidden(meas) {
		return false
	}
	hidden := 0
	var hiddenSum float64
	var pick *node
	pickCost := 0
	for _, m := range ln.members {
		if m.hidden(meas) {
			hidden++
			hiddenSum += m.value(meas)
			continue
		}
		v := m.value(meas)
		if v <= 0 {
			continue
		}
		cost := m.newLeaks(meas, measures, ln)
		if pick == nil || cost < pickCost || (cost == pickCost && v < pick.value(meas)) {
			pick, pickCost = m, cost
		}
	}
	if hidden == 0 || (hidden > 1 && !p.Hidden(hiddenSum)) {
		return false
	}
	if pick == nil {
		pick = ln.total
	}
	pick.hide(meas)
	return true
}

// newLeaks counts the lines other than skip that hiding n's meas would leave
// with exactly one hidden member beside a visible total. Hiding a
// denominator hides every measure; hiding a numerator or a remainder hides
// both of them.
func (n *node) newLeaks(meas measure, measures []measure, skip *line) int {
	affected := measures
	if meas != denominator {
		affected = nil
		for _, m := range measures {
			if m != denominator {
				affected = append(affected, m)
			}
		}
	}
	leaks := 0
	for _, l := range n.lines {
		if l == skip {
			continue
		}
		for _, m := range affected {
			if n.hidden(m) || l.total.hidden(m) {
				continue
			}
			others := 0
			for _, o := range l.members {
				if o.hidden(m) {
					others++
				}
			}
			if others == 0 {
				leaks++
			}
		}
	}
	return leaks
}

func key(coords []int) string {
	var b strings.Builder
	for i, c := range coords {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(c))
	}
	return b.String()
}

func countTotals(coords []int) int {
	n := 0
	for _, c := range coords {
		if c == total {
			n++
		}
	}
	return n
}
