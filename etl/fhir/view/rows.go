package view

import (
	"errors"
	"fmt"

	"github.com/carelens/carelens/etl/fhir/fhirpath"
)

// ErrMultipleValues is wrapped by Rows when a column that is not declared a
// collection gets more than one value.
var ErrMultipleValues = errors.New("multiple values for a column that is not a collection")

// ErrWhereNotBoolean is wrapped by Rows when a where path evaluates to
// something other than a single boolean or nothing.
var ErrWhereNotBoolean = errors.New("where path is not a boolean")

// maxRepeatDepth bounds the recursion of a repeat select, which a path such
// as "$this" would otherwise make endless.
const maxRepeatDepth = 1000

// runState is the per-call scratch memory of Rows, pooled by the View.
type runState struct {
	env  fhirpath.Env
	row  []any
	one  []any   // a one-item input collection
	foci [][]any // per select node: the elements being iterated
	tmp  [][]any // per repeat depth: children being visited
	col  []any   // column results
	// frames holds the continuation frames of the selects being run.
	frames []frame
	emit   func(row []any) error
	// emitErr is the error emit returned, passed through unwrapped.
	emitErr error
}

func (v *View) newState() any {
	return &runState{
		env:  fhirpath.Env{Vars: v.vars},
		row:  make([]any, len(v.columns)),
		one:  make([]any, 1),
		foci: make([][]any, v.nodes),
	}
}

// Rows emits the rows the view produces for one resource, in the order of
// the specification's processing model. A resource of another type produces
// no rows; so does one that fails a where filter.
//
// row has one value per column, in the order of Columns: nil, string, bool,
// json.Number, map[string]any, or []any (never nil) for a collection column.
// The row slice is reused after emit returns, so copy what you keep; []any
// collection values are allocated per row and may be kept. The resource is
// only read.
//
// An error from emit stops processing and is returned as is. Evaluation
// errors (ErrMultipleValues, ErrWhereNotBoolean, FHIRPath type errors) are
// returned wrapped with the resource type and id; rows emitted before the
// error stay emitted.
func (v *View) Rows(resource map[string]any, emit func(row []any) error) error {
	if rt, _ := resource["resourceType"].(string); rt != v.resource {
		return nil
	}
	st := v.pool.Get().(*runState)
	defer v.release(st)
	st.env.Resource = resource
	st.emit = emit
	err := st.rows(v, resource)
	if err == nil || (st.emitErr != nil && errors.Is(err, st.emitErr)) {
		return err
	}
	id, _ := resource["id"].(string)
	if v.name != "" {
		return fmt.Errorf("view %s: %s/%s: %w", v.name, v.resource, id, err)
	}
	return fmt.Errorf("view: %s/%s: %w", v.resource, id, err)
}

func (v *View) release(st *runState) {
	clear(st.row)
	st.one[0] = nil
	for i := range st.foci {
		clear(st.foci[i])
	}
	for i := range st.tmp {
		clear(st.tmp[i])
	}
	clear(st.col)
	clear(st.frames[:cap(st.frames)])
	st.frames = st.frames[:0]
	st.env.Resource, st.emit, st.emitErr = nil, nil, nil
	v.pool.Put(st)
}

func (st *runState) rows(v *View, resource map[string]any) error {
	for i, w := range v.where {
		st.one[0] = resource
		res, err := w.AppendEval(st.col[:0], &st.env, st.one)
		st.col = res
		if err != nil {
			return fmt.Errorf("where[%d]: %w", i, err)
		}
		switch len(res) {
		case 0:
			return nil
		case 1:
			b, ok := fhirpath.Plain(res[0]).(bool)
			if !ok {
				return fmt.Errorf("where[%d] %q: %w", i, w, ErrWhereNotBoolean)
			}
			if !b {
				return nil
			}
		default:
			return fmt.Errorf("where[%d] %q: %w (%d values)", i, w, ErrWhereNotBoolean, len(res))
		}
	}
	clear(st.row)
	return st.run(v.root, resource, 0, -1)
}

// frame is the continuation of a select: after the current select's own
// columns are bound, its nested selects (step < len(children)), then its
// unionAll (step == len(children)), then the enclosing frame run. Frames
// live in runState.frames and refer to each other by index (-1 for none), so
// that they are reused across calls instead of allocated.
type frame struct {
	sel      *selNode
	step     int
	focus    any
	rowIndex int
	up       int
}

// push appends a frame and returns its index; the caller pops it by
// truncating st.frames to that index when done.
func (st *runState) push(f frame) int {
	st.frames = append(st.frames, f)
	return len(st.frames) - 1
}

// run binds select s for node: once, or once per element of its
// forEach/forEachOrNull/repeat, continuing with frame up for each binding.
func (st *runState) run(s *selNode, node any, rowIndex int, up int) error {
	if s.iter == iterNone {
		return st.enter(s, node, rowIndex, up)
	}
	st.env.RowIndex = rowIndex
	foci := st.foci[s.id][:0]
	var err error
	if s.iter == iterRepeat {
		foci, err = st.repeat(s.repeat, node, foci, 0)
	} else {
		st.one[0] = node
		foci, err = s.iterExpr.AppendEval(foci, &st.env, st.one)
	}
	st.foci[s.id] = foci
	if err != nil {
		return err
	}
	if len(foci) == 0 {
		if s.iter != iterForEachOrNull {
			return nil
		}
		for i, slot := range s.slots {
			st.row[slot] = s.nulls[i]
		}
		return st.next(up)
	}
	for i, f := range foci {
		if err := st.enter(s, f, i, up); err != nil {
			return err
		}
	}
	return nil
}

// repeat appends the depth-first, pre-order traversal of node's descendants
// along the repeat paths to dst.
func (st *runState) repeat(exprs []*fhirpath.Expr, node any, dst []any, depth int) ([]any, error) {
	if depth >= maxRepeatDepth {
		return dst, fmt.Errorf("repeat nested deeper than %d levels", maxRepeatDepth)
	}
	for len(st.tmp) <= depth {
		st.tmp = append(st.tmp, nil)
	}
	for _, e := range exprs {
		st.one[0] = node
		kids, err := e.AppendEval(st.tmp[depth][:0], &st.env, st.one)
		st.tmp[depth] = kids
		if err != nil {
			return dst, err
		}
		for _, k := range kids {
			dst = append(dst, k)
			if dst, err = st.repeat(exprs, k, dst, depth+1); err != nil {
				return dst, err
			}
		}
	}
	return dst, nil
}

// enter binds the columns of s for focus and continues with its nested
// selects.
func (st *runState) enter(s *selNode, focus any, rowIndex int, up int) error {
	if err := st.columns(s, focus, rowIndex); err != nil {
		return err
	}
	fi := st.push(frame{sel: s, focus: focus, rowIndex: rowIndex, up: up})
	err := st.next(fi)
	st.frames = st.frames[:fi]
	return err
}

// next runs the rest of frame fi, emitting the row when nothing is left.
func (st *runState) next(fi int) error {
	if fi < 0 {
		if err := st.emit(st.row); err != nil {
			st.emitErr = err
			return err
		}
		return nil
	}
	fr := st.frames[fi]
	s := fr.sel
	if fr.step < len(s.children) {
		nf := fr
		nf.step++
		ni := st.push(nf)
		err := st.run(s.children[fr.step], fr.focus, fr.rowIndex, ni)
		st.frames = st.frames[:ni]
		return err
	}
	if fr.step == len(s.children) && len(s.union) > 0 {
		nf := fr
		nf.step++
		ni := st.push(nf)
		defer func() { st.frames = st.frames[:ni] }()
		for _, u := range s.union {
			if err := st.run(u, fr.focus, fr.rowIndex, ni); err != nil {
				return err
			}
		}
		return nil
	}
	return st.next(fr.up)
}

// columns evaluates the columns of s for focus into the row.
func (st *runState) columns(s *selNode, focus any, rowIndex int) error {
	st.env.RowIndex = rowIndex
	for i := range s.cols {
		c := &s.cols[i]
		st.one[0] = focus
		res, err := c.expr.AppendEval(st.col[:0], &st.env, st.one)
		st.col = res
		if err != nil {
			return fmt.Errorf("column %s: %w", c.name, err)
		}
		switch {
		case c.collection:
			out := make([]any, len(res))
			for j, it := range res {
				out[j] = fhirpath.Plain(it)
			}
			st.row[c.slot] = out
		case len(res) == 0:
			st.row[c.slot] = nil
		case len(res) == 1:
			st.row[c.slot] = fhirpath.Plain(res[0])
		default:
			return fmt.Errorf("column %s: %w (%d values)", c.name, ErrMultipleValues, len(res))
		}
	}
	return nil
}
