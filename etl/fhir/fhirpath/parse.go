package fhirpath

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Expr is a compiled FHIRPath expression. It is immutable and safe for
// concurrent use by multiple goroutines, each with its own Env.
type Expr struct {
	src  string
	root node
	vars []string
}

// String returns the source text of the expression.
func (e *Expr) String() string { return e.src }

// Vars returns the names (without %) of the external constants the
// expression refers to, other than the built-in ones (%resource,
// %rootResource, %context, %rowIndex, %ucum, %sct, %loinc), in order of first
// use. An Env must define each of them in Vars.
func (e *Expr) Vars() []string { return slices.Clone(e.vars) }

// Type returns the FHIR type name of the expression's result when it can be
// decided from the expression alone (a literal, a function with a fixed
// result type such as exists() or join(), an ofType(T), a comparison …) and
// "" otherwise: without a FHIR model, element navigation has no static type.
func (e *Expr) Type() string { return e.root.typ() }

// maxDepth bounds the nesting of an expression so that parsing and
// evaluation cannot exhaust the stack.
const maxDepth = 200

// builtinVars are environment variables that are not external constants.
var builtinVars = map[string]bool{
	"resource": true, "rootResource": true, "context": true, "rowIndex": true,
	"ucum": true, "sct": true, "loinc": true,
}

// Parse compiles a FHIRPath expression. Syntax errors, unknown functions,
// wrong argument counts and unsupported features are reported as a
// *ParseError with the offset of the offending token.
func Parse(expr string) (*Expr, error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	p := &parser{src: expr, toks: toks}
	root, err := p.parseExpr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errf(t.pos, "unexpected %s", t)
	}
	return &Expr{src: expr, root: root, vars: p.vars}, nil
}

// MustParse is Parse that panics on error, for expressions fixed at compile
// time.
func MustParse(expr string) *Expr {
	e, err := Parse(expr)
	if err != nil {
		panic(err)
	}
	return e
}

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
	vars  []string
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) advance() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errf(pos int, format string, args ...any) error {
	return &ParseError{Expr: p.src, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) isPunct(text string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == text
}

func (p *parser) expect(text string) error {
	t := p.peek()
	if t.kind != tPunct || t.text != text {
		return p.errf(t.pos, "expected '%s', found %s", text, t)
	}
	p.advance()
	return nil
}

// Binary operator precedence, lowest first (FHIRPath §9 / grammar).
func infixPrec(t token) int {
	switch t.kind {
	case tPunct:
		switch t.text {
		case "=", "~", "!=", "!~":
			return 5
		case "<", ">", "<=", ">=":
			return 6
		case "|":
			return 7
		case "+", "-", "&":
			return 9
		case "*", "/":
			return 10
		}
	case tIdent:
		switch t.text {
		case "implies":
			return 1
		case "or", "xor":
			return 2
		case "and":
			return 3
		case "in", "contains":
			return 4
		case "is", "as":
			return 8
		case "div", "mod":
			return 10
		}
	}
	return 0
}

func (p *parser) parseExpr(minPrec int) (node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errf(p.peek().pos, "expression nested too deeply")
	}
	left, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		prec := infixPrec(t)
		if prec == 0 || prec < minPrec {
			if t.kind == tIdent && infixPrec(t) == 0 && isCalendarUnit(t.text) {
				return nil, p.errf(t.pos, "quantity literals are not supported")
			}
			if t.kind == tString {
				if _, ok := left.(*litNode); ok {
					return nil, p.errf(t.pos, "quantity literals are not supported")
				}
			}
			return left, nil
		}
		p.advance()
		if t.text == "is" || t.text == "as" {
			typ, err := p.parseTypeSpecifier()
			if err != nil {
				return nil, err
			}
			left = &typeOpNode{x: left, op: t.text, want: normalizeType(typ)}
			continue
		}
		right, err := p.parseExpr(prec + 1)
		if err != nil {
			return nil, err
		}
		left = &binNode{op: t.text, l: left, r: right}
	}
}

func isCalendarUnit(s string) bool {
	switch s {
	case "year", "years", "month", "months", "week", "weeks", "day", "days", "hour", "hours",
		"minute", "minutes", "second", "seconds", "millisecond", "milliseconds":
		return true
	}
	return false
}

func (p *parser) parseTypeSpecifier() (string, error) {
	t := p.peek()
	if t.kind != tIdent && t.kind != tDelim {
		return "", p.errf(t.pos, "expected a type name, found %s", t)
	}
	p.advance()
	name := t.text
	if p.isPunct(".") && p.i+1 < len(p.toks) && (p.toks[p.i+1].kind == tIdent || p.toks[p.i+1].kind == tDelim) {
		p.advance()
		name += "." + p.advance().text
	}
	return name, nil
}

func (p *parser) parseUnary() (node, error) {
	if p.isPunct("+") || p.isPunct("-") {
		op := p.advance()
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxDepth {
			return nil, p.errf(op.pos, "expression nested too deeply")
		}
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		if op.text == "+" {
			return x, nil
		}
		if lit, ok := x.(*litNode); ok && len(lit.items) == 1 {
			if n, ok := lit.items[0].(json.Number); ok {
				return newLit(json.Number(negateText(string(n))), lit.t), nil
			}
		}
		return &negNode{x: x}, nil
	}
	term, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	return p.parsePostfix(term)
}

// maxChain bounds the number of invocations and indexers in one path.
const maxChain = 1000

func (p *parser) parsePostfix(x node) (node, error) {
	for steps := 0; ; steps++ {
		if steps > maxChain {
			return nil, p.errf(p.peek().pos, "path longer than %d steps", maxChain)
		}
		switch {
		case p.isPunct("."):
			p.advance()
			t := p.peek()
			if t.kind != tIdent && t.kind != tDelim {
				return nil, p.errf(t.pos, "expected a name after '.', found %s", t)
			}
			p.advance()
			n, err := p.invocation(x, t)
			if err != nil {
				return nil, err
			}
			x = n
		case p.isPunct("["):
			p.advance()
			idx, err := p.parseExpr(0)
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			x = &indexerNode{src: x, idx: idx}
		default:
			return x, nil
		}
	}
}

// invocation parses a member access or a function call on src (nil for a
// term at the start of an expression).
func (p *parser) invocation(src node, name token) (node, error) {
	if name.kind == tIdent && p.isPunct("(") {
		return p.function(src, name)
	}
	return &memberNode{src: src, name: name.text}, nil
}

func (p *parser) parseTerm() (node, error) {
	t := p.peek()
	switch t.kind {
	case tNumber:
		p.advance()
		typ := "integer"
		if strings.Contains(t.text, ".") {
			typ = "decimal"
		}
		return newLit(json.Number(t.text), typ), nil
	case tString:
		p.advance()
		return newLit(t.text, "string"), nil
	case tDate:
		p.advance()
		text := strings.TrimSuffix(t.text, "T")
		tv, ok := parseTemporal(text)
		if !ok {
			return nil, p.errf(t.pos, "invalid date/time literal @%s", t.text)
		}
		typ := tv.typeName()
		if strings.HasSuffix(t.text, "T") {
			typ = "dateTime"
		}
		text = strings.TrimPrefix(text, "T")
		return newLit(&Typed{Type: typ, Value: text}, typ), nil
	case tExt:
		p.advance()
		if !builtinVars[t.text] && !slices.Contains(p.vars, t.text) {
			p.vars = append(p.vars, t.text)
		}
		return &varNode{name: t.text}, nil
	case tSpecial:
		p.advance()
		switch t.text {
		case "this":
			return &thisNode{}, nil
		case "index":
			return &indexVarNode{}, nil
		}
		return nil, p.errf(t.pos, "$total is not supported")
	case tIdent, tDelim:
		p.advance()
		if t.kind == tIdent {
			switch t.text {
			case "true":
				return newLit(true, "boolean"), nil
			case "false":
				return newLit(false, "boolean"), nil
			}
		}
		return p.invocation(nil, t)
	case tPunct:
		switch t.text {
		case "(":
			p.advance()
			x, err := p.parseExpr(0)
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return x, nil
		case "{":
			p.advance()
			if err := p.expect("}"); err != nil {
				return nil, err
			}
			return &litNode{}, nil
		}
	}
	return nil, p.errf(t.pos, "unexpected %s", t)
}

func (p *parser) function(src node, name token) (node, error) {
	spec, ok := functions[name.text]
	if !ok {
		if unsupportedFunctions[name.text] {
			return nil, p.errf(name.pos, "function %s() is not supported", name.text)
		}
		return nil, p.errf(name.pos, "unknown function %s()", name.text)
	}
	p.advance() // (
	var args []node
	var argToks []token
	if !p.isPunct(")") {
		for {
			argToks = append(argToks, p.peek())
			a, err := p.parseExpr(0)
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			if p.isPunct(",") {
				p.advance()
				continue
			}
			break
		}
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	if len(args) < spec.minArgs || len(args) > spec.maxArgs {
		want := fmt.Sprint(spec.minArgs)
		if spec.maxArgs != spec.minArgs {
			want = fmt.Sprintf("%d to %d", spec.minArgs, spec.maxArgs)
		}
		return nil, p.errf(name.pos, "%s() takes %s argument(s), got %d", name.text, want, len(args))
	}
	f := &fnNode{src: src, name: name.text, spec: spec, args: args}
	if m, ok := src.(*memberNode); ok && name.text == "extension" {
		m.primExt = true
	}
	if spec.typeArg && len(args) > 0 {
		typ, ok := typeName(args[0], spec.stringTypeArg)
		if !ok {
			return nil, p.errf(argToks[0].pos, "%s() needs a type name", name.text)
		}
		f.want = normalizeType(typ)
		f.args = nil
		if name.text == "ofType" {
			if m, ok := src.(*memberNode); ok && !isUpper(m.name[0]) {
				return newChoiceNode(m.src, m.name, f.want), nil
			}
		}
	}
	if name.text == "matches" || name.text == "replaceMatches" {
		if lit, ok := args[0].(*litNode); ok && len(lit.items) == 1 {
			if s, ok := lit.items[0].(string); ok {
				re, err := regexp.Compile("(?s)" + s)
				if err != nil {
					return nil, p.errf(argToks[0].pos, "bad regular expression: %v", err)
				}
				f.re = re
			}
		}
	}
	return f, nil
}

// typeName extracts a type specifier from an argument expression: an
// identifier, a qualified identifier (FHIR.Quantity) or, where allowed, a
// string literal ('Patient').
func typeName(n node, allowString bool) (string, bool) {
	switch x := n.(type) {
	case *memberNode:
		if x.src == nil {
			return x.name, true
		}
		if q, ok := x.src.(*memberNode); ok && q.src == nil {
			return q.name + "." + x.name, true
		}
	case *litNode:
		if allowString && len(x.items) == 1 {
			if s, ok := x.items[0].(string); ok && s != "" {
				return s, true
			}
		}
	}
	return "", false
}

func negateText(s string) string {
	if strings.HasPrefix(s, "-") {
		return s[1:]
	}
	return "-" + s
}
