package view

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/carelens/carelens/etl/fhir/fhirpath"
)

// View is a compiled ViewDefinition. It is immutable and safe for concurrent
// use: Rows may be called from several goroutines at once.
type View struct {
	name     string
	resource string
	columns  []Column
	where    []*fhirpath.Expr
	root     *selNode
	nodes    int
	vars     map[string]any
	pool     sync.Pool // *runState
}

type iterKind uint8

const (
	iterNone iterKind = iota
	iterForEach
	iterForEachOrNull
	iterRepeat
)

// selNode is a compiled selection structure.
type selNode struct {
	id       int
	iter     iterKind
	iterExpr *fhirpath.Expr
	repeat   []*fhirpath.Expr
	cols     []colNode
	children []*selNode
	union    []*selNode
	nulls    []any // the subtree's value in a forEachOrNull null row, by slot
	slots    []int // every output slot written in this subtree
}

type colNode struct {
	slot       int
	name       string
	expr       *fhirpath.Expr
	collection bool
	// rowIndex marks a column whose path is just %rowIndex: it is 0, not
	// null, in the null row of a forEachOrNull (conformance suite,
	// row_index.json).
	rowIndex bool
}

// Load parses and compiles a ViewDefinition.
func Load(b []byte) (*View, error) {
	d, err := Parse(b)
	if err != nil {
		return nil, err
	}
	return d.Compile()
}

// Compile compiles every FHIRPath expression of the definition, checks that
// each %constant it uses is defined and lays out the output columns. Errors
// wrap ErrInvalid and name the element at fault.
func (d *Definition) Compile() (*View, error) {
	var p problems
	if d.Resource == "" {
		p.add("resource", "required")
	}
	if len(d.Select) == 0 {
		p.add("select", "at least one select is required")
	}
	validateColumns(&p, d)
	if err := p.err(); err != nil {
		return nil, err
	}
	v := &View{name: d.Name, resource: d.Resource, vars: map[string]any{}}
	for _, c := range d.Constants {
		v.vars[c.Name] = &fhirpath.Typed{Type: c.Type, Value: c.Value}
	}
	compile := func(at, path string) *fhirpath.Expr {
		e, err := fhirpath.Parse(path)
		if err != nil {
			p.add(at, "%v", err)
			return nil
		}
		for _, name := range e.Vars() {
			if _, ok := v.vars[name]; !ok {
				p.add(at, "undefined constant %%%s in %q", name, path)
			}
		}
		return e
	}
	for i, w := range d.Where {
		at := fmt.Sprintf("where[%d].path", i)
		e := compile(at, w.Path)
		if e == nil {
			continue
		}
		if t := e.Type(); t != "" && t != "boolean" {
			p.add(at, "%q is of type %s, not boolean", w.Path, t)
		}
		v.where = append(v.where, e)
	}
	var build func(at string, s Select, union []colNode) *selNode
	build = func(at string, s Select, union []colNode) *selNode {
		n := &selNode{id: v.nodes}
		v.nodes++
		switch {
		case s.ForEach != "":
			n.iter, n.iterExpr = iterForEach, compile(at+".forEach", s.ForEach)
		case s.ForEachOrNull != "":
			n.iter, n.iterExpr = iterForEachOrNull, compile(at+".forEachOrNull", s.ForEachOrNull)
		case len(s.Repeat) > 0:
			n.iter = iterRepeat
			for i, r := range s.Repeat {
				n.repeat = append(n.repeat, compile(fmt.Sprintf("%s.repeat[%d]", at, i), r))
			}
		}
		for i, c := range s.Column {
			e := compile(fmt.Sprintf("%s.column[%d].path", at, i), c.Path)
			slot := len(v.columns)
			if union != nil {
				// A later unionAll branch writes the first branch's slots.
				slot = union[0].slot
				union = union[1:]
			} else {
				out := c
				out.Tags = slices.Clone(c.Tags)
				if out.Type == "" && e != nil {
					out.Type = e.Type()
				}
				v.columns = append(v.columns, out)
			}
			n.cols = append(n.cols, colNode{slot: slot, name: c.Name, expr: e, collection: c.Collection,
				rowIndex: strings.TrimSpace(c.Path) == "%rowIndex"})
		}
		for i, sub := range s.Select {
			child := build(fmt.Sprintf("%s.select[%d]", at, i), sub, union)
			if union != nil {
				union = union[len(child.ownCols()):]
			}
			n.children = append(n.children, child)
		}
		for i, u := range s.UnionAll {
			var ucols []colNode
			if i > 0 {
				ucols = n.union[0].ownCols()
			} else if union != nil {
				ucols = union
			}
			b := build(fmt.Sprintf("%s.unionAll[%d]", at, i), u, ucols)
			n.union = append(n.union, b)
		}
		n.slots = n.ownSlots()
		for _, c := range n.ownCols() {
			var v any
			if c.rowIndex {
				v = json.Number("0")
			}
			n.nulls = append(n.nulls, v)
		}
		return n
	}
	root := &selNode{id: v.nodes}
	v.nodes++
	for i, s := range d.Select {
		root.children = append(root.children, build(fmt.Sprintf("select[%d]", i), s, nil))
	}
	root.slots = root.ownSlots()
	v.root = root
	if err := p.err(); err != nil {
		return nil, err
	}
	v.pool.New = func() any { return v.newState() }
	return v, nil
}

// ownCols lists the columns of a select subtree in output order: its
// columns, its nested selects', then its first unionAll branch's.
func (n *selNode) ownCols() []colNode {
	out := slices.Clone(n.cols)
	for _, c := range n.children {
		out = append(out, c.ownCols()...)
	}
	if len(n.union) > 0 {
		out = append(out, n.union[0].ownCols()...)
	}
	return out
}

func (n *selNode) ownSlots() []int {
	var out []int
	for _, c := range n.ownCols() {
		out = append(out, c.slot)
	}
	return out
}

// Name returns the view's name ("" when the definition has none).
func (v *View) Name() string { return v.name }

// Resource returns the FHIR resource type the view applies to.
func (v *View) Resource() string { return v.resource }

// Columns returns the output columns in row order. The slice is a copy.
func (v *View) Columns() []Column {
	out := slices.Clone(v.columns)
	for i := range out {
		out[i].Tags = slices.Clone(out[i].Tags)
	}
	return out
}
