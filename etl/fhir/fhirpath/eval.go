package fhirpath

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// ErrUndefinedVar is returned (wrapped) when an expression refers to an
// external constant the Env does not define.
var ErrUndefinedVar = errors.New("undefined variable")

// Env is the evaluation environment: the resource, the external constants and
// reusable scratch memory. The zero Env is ready to use. An Env must not be
// used by two goroutines at once; reusing one Env across evaluations is what
// makes evaluation allocation-free in the common case.
type Env struct {
	// Resource is %resource and %rootResource: the resource being processed.
	Resource any
	// Vars holds external constants by name without the %. A value is one
	// collection item (a JSON value or *Typed), a []any for a collection, or
	// nil for the empty collection.
	Vars map[string]any
	// RowIndex is %rowIndex, the SQL-on-FHIR index of the current element of
	// the enclosing forEach, forEachOrNull or repeat (0 outside one).
	RowIndex int

	buf     []any // arena for intermediate collections
	index   int   // $index
	context []any // %context
	depth   int
	steps   int // function calls in the current evaluation
}

// maxSteps bounds the function calls of one evaluation, so that nested
// lambdas over large collections fail rather than run for hours.
const maxSteps = 1 << 22

// Eval evaluates the expression with input as the initial collection
// ($this, %context) and returns a new slice owned by the caller. The items
// themselves are shared with the input resource and with the expression's
// literals: treat them as read-only. Evaluation errors (a comparison of
// incompatible types, a singleton expected but several items found, an
// undefined variable) are returned wrapped with the expression's text.
func (e *Expr) Eval(env *Env, input []any) ([]any, error) {
	return e.AppendEval(nil, env, input)
}

// AppendEval evaluates like Eval and appends the result items to dst,
// returning the extended slice; with a reused dst it does not allocate for
// navigation, filtering and comparison.
func (e *Expr) AppendEval(dst []any, env *Env, input []any) ([]any, error) {
	mark := len(env.buf)
	savedCtx, savedIdx, savedDepth := env.context, env.index, env.depth
	env.context, env.steps = input, 0
	r, err := e.root.eval(env, input)
	if err == nil {
		dst = append(dst, r...)
	} else {
		err = fmt.Errorf("fhirpath: %q: %w", e.src, err)
	}
	clear(env.buf[mark:])
	env.buf = env.buf[:mark]
	env.context, env.index, env.depth = savedCtx, savedIdx, savedDepth
	return dst, err
}

// result returns the arena region from mark as a collection whose capacity
// ends at its length, so that appending to it can never clobber the arena.
func (env *Env) result(mark int) []any {
	n := len(env.buf)
	return env.buf[mark:n:n]
}

// one appends item to the arena and returns it as a one-item collection.
func (env *Env) one(item any) []any {
	n := len(env.buf)
	env.buf = append(env.buf, item)
	return env.buf[n : n+1 : n+1]
}

// node is a compiled expression tree node. eval returns the node's result
// for the term input this; results are read-only and may alias the input,
// literals or the arena.
type node interface {
	eval(env *Env, this []any) ([]any, error)
	typ() string
}

// input evaluates src, or returns this when src is nil (a term).
func input(env *Env, src node, this []any) ([]any, error) {
	if src == nil {
		return this, nil
	}
	return src.eval(env, this)
}

// appendValue appends a JSON property value to buf, flattening arrays and
// dropping nulls.
func appendValue(buf []any, v any) []any {
	switch x := v.(type) {
	case nil:
		return buf
	case []any:
		for _, it := range x {
			if it != nil {
				buf = append(buf, it)
			}
		}
		return buf
	}
	return append(buf, v)
}

func asMap(item any) map[string]any {
	if t, ok := item.(*Typed); ok {
		item = t.Value
	}
	m, _ := item.(map[string]any)
	return m
}

// --- literals and variables ---

type litNode struct {
	items []any
	t     string
}

func newLit(v any, t string) *litNode {
	items := []any{v}
	return &litNode{items: items[:1:1], t: t}
}

func (n *litNode) eval(*Env, []any) ([]any, error) { return n.items, nil }
func (n *litNode) typ() string                     { return n.t }

type varNode struct{ name string }

// Built-in FHIR terminology constants; an Env.Vars entry of the same name
// takes precedence.
var (
	ucumURL  any = "http://unitsofmeasure.org"
	sctURL   any = "http://snomed.info/sct"
	loincURL any = "http://loinc.org"
)

func (n *varNode) eval(env *Env, this []any) ([]any, error) {
	var v any
	switch n.name {
	case "resource", "rootResource":
		if env.Resource == nil {
			return nil, nil
		}
		v = env.Resource
	case "context":
		return env.context, nil
	case "rowIndex":
		v = intItem(int64(env.RowIndex))
	case "ucum", "sct", "loinc":
		if c, ok := env.Vars[n.name]; ok {
			return varValue(env, c), nil
		}
		switch n.name {
		case "ucum":
			v = ucumURL
		case "sct":
			v = sctURL
		default:
			v = loincURL
		}
	default:
		c, ok := env.Vars[n.name]
		if !ok {
			return nil, fmt.Errorf("%w %%%s", ErrUndefinedVar, n.name)
		}
		return varValue(env, c), nil
	}
	return env.one(v), nil
}

// varValue returns the collection of an Env.Vars value.
func varValue(env *Env, c any) []any {
	switch x := c.(type) {
	case nil:
		return nil
	case []any:
		return x[:len(x):len(x)]
	}
	return env.one(c)
}

func (n *varNode) typ() string {
	switch n.name {
	case "rowIndex":
		return "integer"
	case "ucum", "sct", "loinc":
		return "uri"
	}
	return ""
}

type thisNode struct{}

func (thisNode) eval(_ *Env, this []any) ([]any, error) { return this, nil }
func (thisNode) typ() string                            { return "" }

type indexVarNode struct{}

func (indexVarNode) eval(env *Env, _ []any) ([]any, error) {
	return env.one(intItem(int64(env.index))), nil
}
func (indexVarNode) typ() string { return "integer" }

// --- navigation ---

type memberNode struct {
	src  node
	name string
	// primExt is set when the result feeds extension(): primitive values
	// then carry their "_name" element so that its extensions are found.
	primExt bool
}

func (n *memberNode) typ() string { return "" }

func (n *memberNode) eval(env *Env, this []any) ([]any, error) {
	in, err := input(env, n.src, this)
	if err != nil {
		return nil, err
	}
	mark := len(env.buf)
	for _, it := range in {
		m := asMap(it)
		if m == nil {
			continue
		}
		if v, ok := m[n.name]; ok {
			if n.primExt {
				if ext, ok := m["_"+n.name]; ok {
					env.buf = appendWithElement(env.buf, v, ext)
					continue
				}
			}
			env.buf = appendValue(env.buf, v)
			continue
		}
		if isUpper(n.name[0]) {
			// A type name navigates to a resource of that type (Patient.name).
			if rt, _ := m["resourceType"].(string); rt == n.name {
				env.buf = append(env.buf, it)
			}
			continue
		}
		env.buf = appendChoice(env.buf, m, n.name)
	}
	return env.result(mark), nil
}

// appendWithElement appends primitive values paired with their "_name"
// element (an object, or an array aligned with the values) as *Typed items
// whose Elem is that element.
func appendWithElement(buf []any, v, elem any) []any {
	vals, isArr := v.([]any)
	elems, _ := elem.([]any)
	if !isArr {
		vals = []any{v}
		elems = []any{elem}
	}
	for i, it := range vals {
		if it == nil {
			continue
		}
		var em map[string]any
		if i < len(elems) {
			em, _ = elems[i].(map[string]any)
		}
		if _, isMap := it.(map[string]any); isMap || em == nil {
			buf = append(buf, it)
			continue
		}
		buf = append(buf, &Typed{Value: it, Elem: em})
	}
	return buf
}

// appendChoice appends the value of choice element name[x] (valueQuantity for
// value), typed by its key suffix, if m has one.
func appendChoice(buf []any, m map[string]any, name string) []any {
	for k, v := range m {
		if len(k) <= len(name) || k[:len(name)] != name || !isUpper(k[len(name)]) {
			continue
		}
		t, ok := choiceSuffix[k[len(name):]]
		if !ok || v == nil {
			continue
		}
		if arr, ok := v.([]any); ok {
			for _, it := range arr {
				if it != nil {
					buf = append(buf, &Typed{Type: t, Value: it})
				}
			}
			return buf
		}
		return append(buf, &Typed{Type: t, Value: v})
	}
	return buf
}

// choiceNode is name.ofType(T): it reads key name+T (valueQuantity) and falls
// back to filtering a plain name element by type.
type choiceNode struct {
	src  node
	name string
	want string
	key  string
	// wrap marks types whose values cannot be told apart from their JSON
	// form alone and so are returned as *Typed.
	wrap bool
}

func newChoiceNode(src node, name, want string) *choiceNode {
	return &choiceNode{
		src: src, name: name, want: want, key: name + upperFirst(want),
		wrap: want == "dateTime" || want == "instant" || want == "decimal",
	}
}

func (n *choiceNode) typ() string { return n.want }

func (n *choiceNode) eval(env *Env, this []any) ([]any, error) {
	in, err := input(env, n.src, this)
	if err != nil {
		return nil, err
	}
	mark := len(env.buf)
	for _, it := range in {
		m := asMap(it)
		if m == nil {
			continue
		}
		if v, ok := m[n.key]; ok {
			env.buf = n.appendTyped(env.buf, v)
			continue
		}
		if v, ok := m[n.name]; ok {
			start := len(env.buf)
			env.buf = appendValue(env.buf, v)
			kept := start
			for _, x := range env.buf[start:] {
				if isType(x, n.want) {
					env.buf[kept] = x
					kept++
				}
			}
			env.buf = env.buf[:kept]
		}
	}
	return env.result(mark), nil
}

func (n *choiceNode) appendTyped(buf []any, v any) []any {
	if !n.wrap {
		return appendValue(buf, v)
	}
	switch x := v.(type) {
	case nil:
		return buf
	case []any:
		for _, it := range x {
			buf = n.appendTyped(buf, it)
		}
		return buf
	case string:
		// A dateTime with a time part reads as one without help.
		if (n.want == "dateTime" || n.want == "instant") && len(x) > 10 {
			return append(buf, v)
		}
	case json.Number:
		if n.want == "decimal" && !isIntegerText(string(x)) {
			return append(buf, v)
		}
	}
	return append(buf, &Typed{Type: n.want, Value: v})
}

type indexerNode struct {
	src node
	idx node
}

func (n *indexerNode) typ() string { return n.src.typ() }

func (n *indexerNode) eval(env *Env, this []any) ([]any, error) {
	in, err := n.src.eval(env, this)
	if err != nil {
		return nil, err
	}
	ix, err := n.idx.eval(env, this)
	if err != nil {
		return nil, err
	}
	if len(ix) == 0 {
		return nil, nil
	}
	i, err := integerArg(ix, "index")
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= int64(len(in)) {
		return nil, nil
	}
	return in[i : i+1 : i+1], nil
}

// integerArg converts a singleton integer collection.
func integerArg(c []any, what string) (int64, error) {
	if len(c) != 1 {
		return 0, fmt.Errorf("%s must be a single integer, got %d items", what, len(c))
	}
	s, ok := numberText(c[0])
	if !ok || !isIntegerItem(c[0], s) {
		return 0, fmt.Errorf("%s must be an integer, got %s", what, typeOf(c[0]))
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %s out of range", what, s)
	}
	return v, nil
}
