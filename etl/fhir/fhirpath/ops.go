package fhirpath

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// bools are boxed once so that boolean results never allocate.
var (
	trueItem  any = true
	falseItem any = false
)

func boolItem(b bool) any {
	if b {
		return trueItem
	}
	return falseItem
}

// tri is a three-valued boolean.
type tri uint8

const (
	unknown tri = iota
	isFalse
	isTrue
)

func triOf(b bool) tri {
	if b {
		return isTrue
	}
	return isFalse
}

// toTri applies FHIRPath singleton evaluation for a Boolean-typed input:
// empty is unknown, a boolean is itself, any other single item is true, and
// more than one item is an error.
func toTri(c []any, what string) (tri, error) {
	switch len(c) {
	case 0:
		return unknown, nil
	case 1:
		if b, ok := Plain(c[0]).(bool); ok {
			return triOf(b), nil
		}
		return isTrue, nil
	}
	return unknown, fmt.Errorf("%s expects a single boolean, got %d items", what, len(c))
}

func (env *Env) triResult(mark int, t tri) []any {
	env.buf = env.buf[:mark]
	switch t {
	case isTrue:
		return env.one(trueItem)
	case isFalse:
		return env.one(falseItem)
	}
	return nil
}

type binNode struct {
	op   string
	l, r node
}

func (n *binNode) typ() string {
	switch n.op {
	case "=", "!=", "~", "!~", "<", ">", "<=", ">=", "and", "or", "xor", "implies", "in", "contains":
		return "boolean"
	case "&":
		return "string"
	case "/":
		return "decimal"
	case "div":
		return "integer"
	case "|":
		if lt := n.l.typ(); lt == n.r.typ() {
			return lt
		}
	case "+", "-", "*", "mod":
		lt, rt := n.l.typ(), n.r.typ()
		switch {
		case lt == "string" && rt == "string" && n.op == "+":
			return "string"
		case integerTypes[lt] && integerTypes[rt]:
			return "integer"
		case (lt == "decimal" || integerTypes[lt]) && (rt == "decimal" || integerTypes[rt]):
			return "decimal"
		}
	}
	return ""
}

func (n *binNode) eval(env *Env, this []any) ([]any, error) {
	mark := len(env.buf)
	switch n.op {
	case "and", "or", "implies":
		return n.evalLogic(env, this, mark)
	}
	l, err := n.l.eval(env, this)
	if err != nil {
		return nil, err
	}
	r, err := n.r.eval(env, this)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "=", "!=":
		if len(l) == 0 || len(r) == 0 {
			return env.triResult(mark, unknown), nil
		}
		t := equalCollections(l, r)
		if n.op == "!=" {
			t = not(t)
		}
		return env.triResult(mark, t), nil
	case "~", "!~":
		eq := equivalentCollections(l, r)
		if n.op == "!~" {
			eq = !eq
		}
		return env.triResult(mark, triOf(eq)), nil
	case "<", ">", "<=", ">=":
		if len(l) == 0 || len(r) == 0 {
			return env.triResult(mark, unknown), nil
		}
		if len(l) > 1 || len(r) > 1 {
			return nil, fmt.Errorf("%s needs single operands, got %d and %d items", n.op, len(l), len(r))
		}
		c, known, err := compareItems(l[0], r[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.op, err)
		}
		if !known {
			return env.triResult(mark, unknown), nil
		}
		var b bool
		switch n.op {
		case "<":
			b = c < 0
		case ">":
			b = c > 0
		case "<=":
			b = c <= 0
		case ">=":
			b = c >= 0
		}
		return env.triResult(mark, triOf(b)), nil
	case "xor":
		a, err := toTri(l, "xor")
		if err != nil {
			return nil, err
		}
		b, err := toTri(r, "xor")
		if err != nil {
			return nil, err
		}
		if a == unknown || b == unknown {
			return env.triResult(mark, unknown), nil
		}
		return env.triResult(mark, triOf(a != b)), nil
	case "|":
		if len(l)+len(r) > maxItems {
			return nil, errTooLarge
		}
		start := len(env.buf)
		for _, c := range [2][]any{l, r} {
			for _, it := range c {
				if !containsItem(env.buf[start:], it) {
					env.buf = append(env.buf, it)
				}
			}
		}
		// Move the union down over the operands, which are no longer needed.
		env.buf = append(env.buf[:mark], env.buf[start:]...)
		return env.result(mark), nil
	case "in", "contains":
		elem, coll := l, r
		if n.op == "contains" {
			elem, coll = r, l
		}
		switch {
		case len(elem) == 0:
			return env.triResult(mark, unknown), nil
		case len(elem) > 1:
			return nil, fmt.Errorf("%s needs a single element, got %d items", n.op, len(elem))
		}
		return env.triResult(mark, triOf(containsItem(coll, elem[0]))), nil
	case "&":
		ls, err := concatOperand(l)
		if err != nil {
			return nil, err
		}
		rs, err := concatOperand(r)
		if err != nil {
			return nil, err
		}
		env.buf = env.buf[:mark]
		return env.one(ls + rs), nil
	case "+", "-", "*", "/", "div", "mod":
		if len(l) == 0 || len(r) == 0 {
			env.buf = env.buf[:mark]
			return nil, nil
		}
		if len(l) > 1 || len(r) > 1 {
			return nil, fmt.Errorf("%s needs single operands, got %d and %d items", n.op, len(l), len(r))
		}
		v, ok, err := arith(n.op, l[0], r[0])
		if err != nil {
			return nil, err
		}
		env.buf = env.buf[:mark]
		if !ok {
			return nil, nil
		}
		return env.one(v), nil
	}
	return nil, fmt.Errorf("operator %s is not supported", n.op)
}

func not(t tri) tri {
	switch t {
	case isTrue:
		return isFalse
	case isFalse:
		return isTrue
	}
	return unknown
}

// evalLogic evaluates and, or and implies, skipping the right operand when
// the left one decides the result.
func (n *binNode) evalLogic(env *Env, this []any, mark int) ([]any, error) {
	l, err := n.l.eval(env, this)
	if err != nil {
		return nil, err
	}
	a, err := toTri(l, n.op)
	if err != nil {
		return nil, err
	}
	switch {
	case n.op == "and" && a == isFalse:
		return env.triResult(mark, isFalse), nil
	case n.op == "or" && a == isTrue:
		return env.triResult(mark, isTrue), nil
	case n.op == "implies" && a == isFalse:
		return env.triResult(mark, isTrue), nil
	}
	r, err := n.r.eval(env, this)
	if err != nil {
		return nil, err
	}
	b, err := toTri(r, n.op)
	if err != nil {
		return nil, err
	}
	var t tri
	switch n.op {
	case "and":
		switch {
		case b == isFalse:
			t = isFalse
		case a == isTrue && b == isTrue:
			t = isTrue
		}
	case "or":
		switch {
		case b == isTrue:
			t = isTrue
		case a == isFalse && b == isFalse:
			t = isFalse
		}
	case "implies":
		switch {
		case a == isTrue:
			t = b
		case b == isTrue:
			t = isTrue
		}
	}
	return env.triResult(mark, t), nil
}

// equalCollections implements = on non-empty collections: same size and
// pairwise equal items in order.
func equalCollections(l, r []any) tri {
	if len(l) != len(r) {
		return isFalse
	}
	res := isTrue
	for i := range l {
		switch equalItems(l[i], r[i]) {
		case isFalse:
			return isFalse
		case unknown:
			res = unknown
		}
	}
	return res
}

func isTemporalItem(item any) (temporal, bool, bool) {
	v, t := unwrap(item)
	if !temporalTypes[t] {
		return temporal{}, false, false
	}
	s, ok := v.(string)
	if !ok {
		return temporal{}, true, false
	}
	tv, ok := parseTemporal(s)
	if ok && (t == "dateTime" || t == "instant") && tv.kind == kindDate {
		tv.kind = kindDateTime
	}
	return tv, true, ok
}

// temporalPair parses both items as dates/times when either is typed as
// one. handled is false when neither is.
func temporalPair(a, b any) (ta, tb temporal, handled, ok bool) {
	ta, aTyped, aOK := isTemporalItem(a)
	tb, bTyped, bOK := isTemporalItem(b)
	if !aTyped && !bTyped {
		return ta, tb, false, false
	}
	if !aTyped {
		s, isStr := Plain(a).(string)
		if !isStr {
			return ta, tb, true, false
		}
		ta, aOK = parseTemporal(s)
	}
	if !bTyped {
		s, isStr := Plain(b).(string)
		if !isStr {
			return ta, tb, true, false
		}
		tb, bOK = parseTemporal(s)
	}
	return ta, tb, true, aOK && bOK
}

// equalItems implements = on two items.
func equalItems(a, b any) tri {
	if sa, ok := a.(string); ok {
		if sb, ok := b.(string); ok {
			return triOf(sa == sb)
		}
	}
	if ta, tb, handled, ok := temporalPair(a, b); handled {
		if !ok {
			return isFalse
		}
		c, known, comparable := compareTemporal(ta, tb)
		if !comparable {
			return isFalse
		}
		if !known {
			return unknown
		}
		return triOf(c == 0)
	}
	va, vb := Plain(a), Plain(b)
	switch x := va.(type) {
	case string:
		y, ok := vb.(string)
		return triOf(ok && x == y)
	case bool:
		y, ok := vb.(bool)
		return triOf(ok && x == y)
	case map[string]any:
		y, ok := vb.(map[string]any)
		if !ok {
			return isFalse
		}
		return triOf(deepEqual(x, y))
	}
	if sa, ok := numberText(va); ok {
		sb, ok := numberText(vb)
		if !ok {
			return isFalse
		}
		c, ok := compareDecimal(sa, sb)
		return triOf(ok && c == 0)
	}
	return isFalse
}

// deepEqual compares JSON values, numbers by value.
func deepEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !deepEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case nil:
		return b == nil
	}
	return equalItems(a, b) == isTrue
}

func containsItem(coll []any, item any) bool {
	for _, c := range coll {
		if equalItems(c, item) == isTrue {
			return true
		}
	}
	return false
}

// equivalentCollections implements ~: order-independent, strings compared
// case-insensitively with normalized whitespace, dates of different
// precision not equivalent.
func equivalentCollections(l, r []any) bool {
	if len(l) != len(r) {
		return false
	}
	used := make([]bool, len(r))
outer:
	for _, a := range l {
		for j, b := range r {
			if !used[j] && equivalentItems(a, b) {
				used[j] = true
				continue outer
			}
		}
		return false
	}
	return true
}

func equivalentItems(a, b any) bool {
	if _, _, handled, _ := temporalPair(a, b); handled {
		return equalItems(a, b) == isTrue
	}
	sa, okA := Plain(a).(string)
	sb, okB := Plain(b).(string)
	if okA && okB {
		return strings.EqualFold(strings.Join(strings.Fields(sa), " "), strings.Join(strings.Fields(sb), " "))
	}
	return equalItems(a, b) == isTrue
}

// compareItems orders two items: numbers by value, strings by code point,
// dates and times per FHIRPath precision rules (known is false when the
// precisions differ but agree as far as both go).
func compareItems(a, b any) (c int, known bool, err error) {
	if ta, tb, handled, ok := temporalPair(a, b); handled {
		if !ok {
			return 0, false, fmt.Errorf("cannot compare %s with %s", typeOf(a), typeOf(b))
		}
		c, known, comparable := compareTemporal(ta, tb)
		if !comparable {
			return 0, false, fmt.Errorf("cannot compare %s with %s", typeOf(a), typeOf(b))
		}
		return c, known, nil
	}
	va, vb := Plain(a), Plain(b)
	if sa, ok := va.(string); ok {
		if sb, ok := vb.(string); ok {
			return strings.Compare(sa, sb), true, nil
		}
	}
	if sa, ok := numberText(va); ok {
		if sb, ok := numberText(vb); ok {
			c, ok := compareDecimal(sa, sb)
			if ok {
				return c, true, nil
			}
		}
	}
	return 0, false, fmt.Errorf("cannot compare %s with %s", typeOf(a), typeOf(b))
}

func concatOperand(c []any) (string, error) {
	switch len(c) {
	case 0:
		return "", nil
	case 1:
		if s, ok := Plain(c[0]).(string); ok {
			return s, nil
		}
		return "", fmt.Errorf("& needs strings, got %s", typeOf(c[0]))
	}
	return "", fmt.Errorf("& needs single operands, got %d items", len(c))
}

// arith applies an arithmetic operator to two single items. ok is false when
// the result is empty (division by zero).
func arith(op string, a, b any) (any, bool, error) {
	if op == "+" {
		sa, okA := Plain(a).(string)
		sb, okB := Plain(b).(string)
		if okA && okB {
			return sa + sb, true, nil
		}
	}
	ta, okA := numberText(a)
	tb, okB := numberText(b)
	if !okA || !okB {
		if _, _, handled, _ := temporalPair(a, b); handled {
			return nil, false, fmt.Errorf("date/time arithmetic is not supported")
		}
		return nil, false, fmt.Errorf("%s needs numbers, got %s and %s", op, typeOf(a), typeOf(b))
	}
	ints := isIntegerItem(a, ta) && isIntegerItem(b, tb)
	switch op {
	case "+", "-", "*":
		if ints {
			x, err1 := strconv.ParseInt(ta, 10, 64)
			y, err2 := strconv.ParseInt(tb, 10, 64)
			if err1 == nil && err2 == nil {
				if r, ok := intArith(op[0], x, y); ok {
					return intItem(r), true, nil
				}
			}
		}
		s, err := decimalArith(op[0], ta, tb)
		if err != nil {
			return nil, false, err
		}
		if !ints && isIntegerText(s) {
			return &Typed{Type: "decimal", Value: json.Number(s)}, true, nil
		}
		return json.Number(s), true, nil
	case "/":
		s, ok, err := decimalDivide(ta, tb)
		if err != nil || !ok {
			return nil, false, err
		}
		if isIntegerText(s) {
			return &Typed{Type: "decimal", Value: json.Number(s)}, true, nil
		}
		return json.Number(s), true, nil
	case "div", "mod":
		s, ok, err := integerDivMod(op, ta, tb)
		if err != nil || !ok {
			return nil, false, err
		}
		if op == "mod" && !ints && isIntegerText(s) {
			return &Typed{Type: "decimal", Value: json.Number(s)}, true, nil
		}
		return json.Number(s), true, nil
	}
	return nil, false, fmt.Errorf("operator %s is not supported", op)
}

type negNode struct{ x node }

func (n *negNode) typ() string { return n.x.typ() }

func (n *negNode) eval(env *Env, this []any) ([]any, error) {
	mark := len(env.buf)
	c, err := n.x.eval(env, this)
	if err != nil {
		return nil, err
	}
	switch len(c) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, fmt.Errorf("unary - needs a single operand, got %d items", len(c))
	}
	s, ok := numberText(c[0])
	if !ok {
		return nil, fmt.Errorf("unary - needs a number, got %s", typeOf(c[0]))
	}
	var v any = json.Number(negateText(s))
	if t, ok := c[0].(*Typed); ok {
		v = &Typed{Type: t.Type, Value: v}
	}
	env.buf = env.buf[:mark]
	return env.one(v), nil
}

type typeOpNode struct {
	x    node
	op   string // is, as
	want string
}

func (n *typeOpNode) typ() string {
	if n.op == "is" {
		return "boolean"
	}
	return n.want
}

func (n *typeOpNode) eval(env *Env, this []any) ([]any, error) {
	mark := len(env.buf)
	c, err := n.x.eval(env, this)
	if err != nil {
		return nil, err
	}
	switch len(c) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, fmt.Errorf("%s needs a single operand, got %d items", n.op, len(c))
	}
	ok := isType(c[0], n.want)
	if n.op == "is" {
		return env.triResult(mark, triOf(ok)), nil
	}
	if !ok {
		return nil, nil
	}
	return c, nil
}
