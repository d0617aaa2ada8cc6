package fhirpath

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"unicode/utf8"
)

// funcSpec describes a supported function.
type funcSpec struct {
	minArgs, maxArgs int
	// typeArg marks functions whose first argument is a type specifier;
	// stringTypeArg also accepts a string literal ('Patient').
	typeArg, stringTypeArg bool
	// result is the static result type: a FHIR type name, "=input" for the
	// input's type, "=want" for the type argument, or "".
	result string
	fn     func(env *Env, f *fnNode, in, this []any) ([]any, error)
}

// functions is the supported function set. It is filled in init to break the
// initialization cycle through fnNode.eval.
var functions map[string]*funcSpec

// unsupportedFunctions are FHIRPath functions that Parse rejects with a
// "not supported" message rather than "unknown".
var unsupportedFunctions = map[string]bool{
	"resolve": true, "memberOf": true, "conformsTo": true, "htmlChecks": true, "today": true,
	"now": true, "timeOfDay": true, "children": true, "descendants": true, "aggregate": true,
	"toQuantity": true, "convertsToQuantity": true, "encode": true, "decode": true,
	"escape": true, "unescape": true, "sort": true, "defineVariable": true, "precision": true,
	"comparable": true, "subsetOf": true, "supersetOf": true, "abs": true, "ceiling": true,
	"exp": true, "floor": true, "ln": true, "log": true, "power": true,
	"sqrt": true, "truncate": true, "toDate": true, "toDateTime": true, "toTime": true,
	"convertsToBoolean": true, "convertsToInteger": true, "convertsToDecimal": true,
	"convertsToString": true, "convertsToDate": true, "convertsToDateTime": true,
	"convertsToTime": true, "lastIndexOf": true, "matchesFull": true, "type": true,
	"elementDefinition": true, "slice": true, "checkModifiers": true, "getValue": true,
	"yearOf": true, "monthOf": true, "dayOf": true, "hourOf": true, "minuteOf": true,
	"secondOf": true, "millisecondOf": true, "timezoneOffsetOf": true, "dateOf": true,
	"timeOf": true, "duration": true, "difference": true,
}

func init() {
	functions = map[string]*funcSpec{
		"where":           {1, 1, false, false, "=input", fnWhere},
		"select":          {1, 1, false, false, "", fnSelect},
		"repeat":          {1, 1, false, false, "", fnRepeat},
		"exists":          {0, 1, false, false, "boolean", fnExists},
		"all":             {1, 1, false, false, "boolean", fnAll},
		"allTrue":         {0, 0, false, false, "boolean", fnBoolAgg},
		"anyTrue":         {0, 0, false, false, "boolean", fnBoolAgg},
		"allFalse":        {0, 0, false, false, "boolean", fnBoolAgg},
		"anyFalse":        {0, 0, false, false, "boolean", fnBoolAgg},
		"empty":           {0, 0, false, false, "boolean", fnEmpty},
		"count":           {0, 0, false, false, "integer", fnCount},
		"first":           {0, 0, false, false, "=input", fnFirst},
		"last":            {0, 0, false, false, "=input", fnLast},
		"tail":            {0, 0, false, false, "=input", fnTail},
		"skip":            {1, 1, false, false, "=input", fnSkipTake},
		"take":            {1, 1, false, false, "=input", fnSkipTake},
		"single":          {0, 0, false, false, "=input", fnSingle},
		"distinct":        {0, 0, false, false, "=input", fnDistinct},
		"isDistinct":      {0, 0, false, false, "boolean", fnIsDistinct},
		"not":             {0, 0, false, false, "boolean", fnNot},
		"ofType":          {1, 1, true, false, "=want", fnOfType},
		"is":              {1, 1, true, false, "boolean", fnIs},
		"as":              {1, 1, true, false, "=want", fnAs},
		"iif":             {2, 3, false, false, "", fnIif},
		"join":            {0, 1, false, false, "string", fnJoin},
		"toString":        {0, 0, false, false, "string", fnToString},
		"toInteger":       {0, 0, false, false, "integer", fnToInteger},
		"toDecimal":       {0, 0, false, false, "decimal", fnToDecimal},
		"round":           {0, 1, false, false, "decimal", fnRound},
		"toBoolean":       {0, 0, false, false, "boolean", fnToBoolean},
		"startsWith":      {1, 1, false, false, "boolean", fnStringTest},
		"endsWith":        {1, 1, false, false, "boolean", fnStringTest},
		"contains":        {1, 1, false, false, "boolean", fnStringTest},
		"indexOf":         {1, 1, false, false, "integer", fnIndexOf},
		"substring":       {1, 2, false, false, "string", fnSubstring},
		"length":          {0, 0, false, false, "integer", fnLength},
		"upper":           {0, 0, false, false, "string", fnCase},
		"lower":           {0, 0, false, false, "string", fnCase},
		"trim":            {0, 0, false, false, "string", fnCase},
		"replace":         {2, 2, false, false, "string", fnReplace},
		"matches":         {1, 1, false, false, "boolean", fnMatches},
		"replaceMatches":  {2, 2, false, false, "string", fnReplaceMatches},
		"split":           {1, 1, false, false, "string", fnSplit},
		"toChars":         {0, 0, false, false, "string", fnToChars},
		"union":           {1, 1, false, false, "", fnSetOp},
		"combine":         {1, 1, false, false, "", fnSetOp},
		"intersect":       {1, 1, false, false, "", fnSetOp},
		"exclude":         {1, 1, false, false, "", fnSetOp},
		"hasValue":        {0, 0, false, false, "boolean", fnHasValue},
		"trace":           {1, 2, false, false, "=input", fnTrace},
		"extension":       {1, 1, false, false, "Extension", fnExtension},
		"getResourceKey":  {0, 0, false, false, "string", fnGetResourceKey},
		"getReferenceKey": {0, 1, true, true, "string", fnGetReferenceKey},
		"lowBoundary":     {0, 1, false, false, "=input", fnBoundary},
		"highBoundary":    {0, 1, false, false, "=input", fnBoundary},
	}
}

type fnNode struct {
	src  node
	name string
	spec *funcSpec
	args []node
	want string         // type argument, normalized
	re   *regexp.Regexp // compiled literal pattern of matches/replaceMatches
}

func (f *fnNode) eval(env *Env, this []any) ([]any, error) {
	in, err := input(env, f.src, this)
	if err != nil {
		return nil, err
	}
	env.depth++
	defer func() { env.depth-- }()
	if env.depth > maxDepth {
		return nil, fmt.Errorf("evaluation nested too deeply")
	}
	if env.steps++; env.steps > maxSteps {
		return nil, fmt.Errorf("evaluation exceeds %d function calls", maxSteps)
	}
	r, err := f.spec.fn(env, f, in, this)
	if err != nil {
		return nil, fmt.Errorf("%s(): %w", f.name, err)
	}
	return r, nil
}

func (f *fnNode) typ() string {
	switch f.spec.result {
	case "=input":
		if f.src == nil {
			return ""
		}
		return f.src.typ()
	case "=want":
		return f.want
	}
	return f.spec.result
}

// arg evaluates non-lambda argument i against the term input this.
func (f *fnNode) arg(env *Env, i int, this []any) ([]any, error) {
	return f.args[i].eval(env, this)
}

// stringArg evaluates argument i as a single string; ok is false when it is
// empty.
func (f *fnNode) stringArg(env *Env, i int, this []any) (string, bool, error) {
	c, err := f.arg(env, i, this)
	if err != nil {
		return "", false, err
	}
	switch len(c) {
	case 0:
		return "", false, nil
	case 1:
		if s, ok := Plain(c[0]).(string); ok {
			return s, true, nil
		}
		return "", false, fmt.Errorf("argument %d must be a string, got %s", i+1, typeOf(c[0]))
	}
	return "", false, fmt.Errorf("argument %d must be a single string, got %d items", i+1, len(c))
}

func (f *fnNode) intArg(env *Env, i int, this []any) (int64, bool, error) {
	c, err := f.arg(env, i, this)
	if err != nil || len(c) == 0 {
		return 0, false, err
	}
	v, err := integerArg(c, fmt.Sprintf("argument %d", i+1))
	return v, err == nil, err
}

// lambda evaluates argument i for one item ($this = item, $index = i) and
// returns its result; the caller truncates the arena afterwards.
func (f *fnNode) lambda(env *Env, i int, item any, index int) ([]any, error) {
	env.index = index
	return f.args[i].eval(env, env.one(item))
}

// singleInput returns the only item of in; ok is false for an empty input.
func singleInput(in []any) (any, bool, error) {
	switch len(in) {
	case 0:
		return nil, false, nil
	case 1:
		return in[0], true, nil
	}
	return nil, false, fmt.Errorf("expects a single input item, got %d", len(in))
}

func singleString(in []any) (string, bool, error) {
	it, ok, err := singleInput(in)
	if !ok || err != nil {
		return "", false, err
	}
	s, isStr := Plain(it).(string)
	if !isStr {
		return "", false, fmt.Errorf("expects a string input, got %s", typeOf(it))
	}
	return s, true, nil
}

// --- filtering and projection ---

func fnWhere(env *Env, f *fnNode, in, _ []any) ([]any, error) {
	mark := len(env.buf)
	saved := env.index
	defer func() { env.index = saved }()
	for i, it := range in {
		sub := len(env.buf)
		r, err := f.lambda(env, 0, it, i)
		if err != nil {
			return nil, err
		}
		t, err := toTri(r, "where criteria")
		if err != nil {
			return nil, err
		}
		env.buf = env.buf[:sub]
		if t == isTrue {
			env.buf = append(env.buf, it)
		}
	}
	return env.result(mark), nil
}

func fnSelect(env *Env, f *fnNode, in, _ []any) ([]any, error) {
	mark := len(env.buf)
	saved := env.index
	defer func() { env.index = saved }()
	for i, it := range in {
		sub := len(env.buf)
		r, err := f.lambda(env, 0, it, i)
		if err != nil {
			return nil, err
		}
		env.buf = append(env.buf[:sub], r...)
		if len(env.buf)-mark > maxItems {
			return nil, errTooLarge
		}
	}
	return env.result(mark), nil
}

// maxRepeat bounds the number of items repeat() collects.
const maxRepeat = 10000

// maxItems bounds the size of the collections select(), repeat(), combine()
// and friends build, so that an expression such as
// name.select(%resource.name).select(%resource.name)… fails instead of
// exhausting memory.
const maxItems = 1 << 20

var errTooLarge = fmt.Errorf("collection larger than %d items", maxItems)

func fnRepeat(env *Env, f *fnNode, in, _ []any) ([]any, error) {
	saved := env.index
	defer func() { env.index = saved }()
	var out []any
	seen := map[string]bool{} // plain strings already in out
	work := append([]any(nil), in...)
	for len(work) > 0 {
		var next []any
		for i, it := range work {
			sub := len(env.buf)
			r, err := f.lambda(env, 0, it, i)
			if err != nil {
				return nil, err
			}
			for _, x := range r {
				if s, ok := x.(string); ok {
					if seen[s] {
						continue
					}
					seen[s] = true
				} else if containsItem(out, x) {
					continue
				}
				out = append(out, x)
				next = append(next, x)
			}
			env.buf = env.buf[:sub]
			if len(out) > maxRepeat {
				return nil, fmt.Errorf("more than %d items", maxRepeat)
			}
		}
		work = next
	}
	mark := len(env.buf)
	env.buf = append(env.buf, out...)
	return env.result(mark), nil
}

func fnExists(env *Env, f *fnNode, in, _ []any) ([]any, error) {
	mark := len(env.buf)
	if len(f.args) == 0 {
		return env.triResult(mark, triOf(len(in) > 0)), nil
	}
	hit, err := scanCriteria(env, f, in, "exists criteria", func(t tri) bool { return t == isTrue })
	if err != nil {
		return nil, err
	}
	return env.triResult(mark, triOf(hit)), nil
}

func fnAll(env *Env, f *fnNode, in, _ []any) ([]any, error) {
	mark := len(env.buf)
	miss, err := scanCriteria(env, f, in, "all criteria", func(t tri) bool { return t != isTrue })
	if err != nil {
		return nil, err
	}
	return env.triResult(mark, triOf(!miss)), nil
}

// scanCriteria evaluates f's criteria on each item in turn and reports
// whether one gave a result stop accepts, stopping there. It leaves env's
// buffer and index as it found them.
func scanCriteria(env *Env, f *fnNode, in []any, what string, stop func(tri) bool) (bool, error) {
	mark := len(env.buf)
	saved := env.index
	defer func() { env.index = saved }()
	for i, it := range in {
		r, err := f.lambda(env, 0, it, i)
		if err != nil {
			return false, err
		}
		t, err := toTri(r, what)
		if err != nil {
			return false, err
		}
		env.buf = env.buf[:mark]
		if stop(t) {
			return true, nil
		}
	}
	return false, nil
}

func fnBoolAgg(env *Env, f *fnNode, in, _ []any) ([]any, error) {
	mark := len(env.buf)
	all := f.name == "allTrue" || f.name == "allFalse"
	want := f.name == "allTrue" || f.name == "anyTrue"
	for _, it := range in {
		b, ok := Plain(it).(bool)
		if !ok {
			return nil, fmt.Errorf("expects booleans, got %s", typeOf(it))
		}
		if all && b != want {
			return env.triResult(mark, isFalse), nil
		}
		if !all && b == want {
			return env.triResult(mark, isTrue), nil
		}
	}
	return env.triResult(mark, triOf(all)), nil
}

func fnEmpty(env *Env, _ *fnNode, in, _ []any) ([]any, error) {
	return env.triResult(len(env.buf), triOf(len(in) == 0)), nil
}

func fnCount(env *Env, _ *fnNode, in, _ []any) ([]any, error) {
	return env.one(intItem(int64(len(in)))), nil
}

func fnFirst(_ *Env, _ *fnNode, in, _ []any) ([]any, error) {
	if len(in) == 0 {
		return nil, nil
	}
	return in[:1:1], nil
}

func fnLast(_ *Env, _ *fnNode, in, _ []any) ([]any, error) {
	if len(in) == 0 {
		return nil, nil
	}
	return in[len(in)-1:], nil
}

func fnTail(_ *Env, _ *fnNode, in, _ []any) ([]any, error) {
	if len(in) <= 1 {
		return nil, nil
	}
	return in[1:], nil
}

func fnSkipTake(env *Env, f *fnNode, in, this []any) ([]any, error) {
	n, ok, err := f.intArg(env, 0, this)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("argument must not be empty")
	}
	n = max(0, min(n, int64(len(in))))
	if f.name == "skip" {
		return in[n:], nil
	}
	return in[:n:n], nil
}

func fnSingle(_ *Env, _ *fnNode, in, _ []any) ([]any, error) {
	if len(in) > 1 {
		return nil, fmt.Errorf("expects at most one item, got %d", len(in))
	}
	return in, nil
}

func fnDistinct(env *Env, _ *fnNode, in, _ []any) ([]any, error) {
	mark := len(env.buf)
	for _, it := range in {
		if !containsItem(env.buf[mark:], it) {
			env.buf = append(env.buf, it)
		}
	}
	return env.result(mark), nil
}

func fnIsDistinct(env *Env, _ *fnNode, in, _ []any) ([]any, error) {
	for i := range in {
		if containsItem(in[:i], in[i]) {
			return env.triResult(len(env.buf), isFalse), nil
		}
	}
	return env.triResult(len(env.buf), isTrue), nil
}

func fnNot(env *Env, _ *fnNode, in, _ []any) ([]any, error) {
	t, err := toTri(in, "not()")
	if err != nil {
		return nil, err
	}
	return env.triResult(len(env.buf), not(t)), nil
}

func fnOfType(env *Env, f *fnNode, in, _ []any) ([]any, error) {
	mark := len(env.buf)
	for _, it := range in {
		if isType(it, f.want) {
			env.buf = append(env.buf, it)
		}
	}
	return env.result(mark), nil
}

func fnIs(env *Env, f *fnNode, in, _ []any) ([]any, error) {
	it, ok, err := singleInput(in)
	if !ok || err != nil {
		return nil, err
	}
	return env.triResult(len(env.buf), triOf(isType(it, f.want))), nil
}

func fnAs(_ *Env, f *fnNode, in, _ []any) ([]any, error) {
	it, ok, err := singleInput(in)
	if !ok || err != nil || !isType(it, f.want) {
		return nil, err
	}
	return in, nil
}

func fnIif(env *Env, f *fnNode, in, this []any) ([]any, error) {
	ctx := this
	if f.src != nil {
		ctx = in
	}
	mark := len(env.buf)
	c, err := f.args[0].eval(env, ctx)
	if err != nil {
		return nil, err
	}
	t, err := toTri(c, "iif criterion")
	if err != nil {
		return nil, err
	}
	env.buf = env.buf[:mark]
	if t == isTrue {
		return f.args[1].eval(env, ctx)
	}
	if len(f.args) == 3 {
		return f.args[2].eval(env, ctx)
	}
	return nil, nil
}

func fnTrace(_ *Env, _ *fnNode, in, _ []any) ([]any, error) { return in, nil }

// --- strings ---

// itemString converts a primitive item to its FHIRPath string form.
func itemString(it any) (string, bool) {
	switch x := Plain(it).(type) {
	case string:
		return x, true
	case json.Number:
		return string(x), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

func fnJoin(env *Env, f *fnNode, in, this []any) ([]any, error) {
	sep := ""
	if len(f.args) == 1 {
		s, ok, err := f.stringArg(env, 0, this)
		if err != nil {
			return nil, err
		}
		if ok {
			sep = s
		}
	}
	var b strings.Builder
	for i, it := range in {
		s, ok := itemString(it)
		if !ok {
			return nil, fmt.Errorf("expects strings, got %s", typeOf(it))
		}
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s)
	}
	return env.one(b.String()), nil
}

func fnToString(env *Env, _ *fnNode, in, _ []any) ([]any, error) {
	it, ok, err := singleInput(in)
	if !ok || err != nil {
		return nil, err
	}
	s, ok := itemString(it)
	if !ok {
		return nil, nil
	}
	if _, isStr := it.(string); isStr {
		return in, nil
	}
	return env.one(s), nil
}

func fnToInteger(env *Env, _ *fnNode, in, _ []any) ([]any, error) {
	it, ok, err := singleInput(in)
	if !ok || err != nil {
		return nil, err
	}
	switch x := Plain(it).(type) {
	case bool:
		if x {
			return env.one(intItem(1)), nil
		}
		return env.one(intItem(0)), nil
	case string:
		if isIntegerText(x) {
			return env.one(json.Number(strings.TrimPrefix(x, "+"))), nil
		}
		return nil, nil
	}
	if s, ok := numberText(it); ok && isIntegerItem(it, s) {
		return env.one(json.Number(s)), nil
	}
	return nil, nil
}

// fnRound rounds a number to precision decimal places (default 0), halves
// away from zero ("0.5 or higher will round to 1").
func fnRound(env *Env, f *fnNode, in, this []any) ([]any, error) {
	it, ok, err := singleInput(in)
	if !ok || err != nil {
		return nil, err
	}
	text, ok := numberText(it)
	if !ok {
		return nil, fmt.Errorf("input is not a number")
	}
	prec := int64(0)
	if len(f.args) > 0 {
		p, ok, err := f.intArg(env, 0, this)
		if err != nil {
			return nil, err
		}
		if ok {
			prec = p
		}
	}
	if prec < 0 || prec > 64 {
		return nil, fmt.Errorf("precision %d out of range 0-64", prec)
	}
	if p, ok := splitDecimal(text); !ok || p.exp > maxExponent || p.exp < -maxExponent {
		return nil, errNotNumber
	}
	var r big.Rat
	if _, ok := r.SetString(text); !ok {
		return nil, errNotNumber
	}
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(prec), nil)
	r.Mul(&r, new(big.Rat).SetInt(scale))
	// floor(|x| + 1/2) = (2|num| + den) div 2den
	num := new(big.Int).Abs(r.Num())
	num.Mul(num, big.NewInt(2)).Add(num, r.Denom())
	q := num.Quo(num, new(big.Int).Mul(r.Denom(), big.NewInt(2)))
	if r.Sign() < 0 {
		q.Neg(q)
	}
	out := new(big.Rat).SetFrac(q, scale).FloatString(int(prec))
	if out == "-0" || strings.HasPrefix(out, "-0.") && strings.Trim(out[3:], "0") == "" {
		out = out[1:]
	}
	return env.one(&Typed{Type: "decimal", Value: json.Number(out)}), nil
}

func fnToDecimal(env *Env, _ *fnNode, in, _ []any) ([]any, error) {
	it, ok, err := singleInput(in)
	if !ok || err != nil {
		return nil, err
	}
	switch x := Plain(it).(type) {
	case bool:
		if x {
			return env.one(json.Number("1.0")), nil
		}
		return env.one(json.Number("0.0")), nil
	case string:
		if _, ok := splitDecimal(x); ok && !strings.ContainsAny(x, "eE") {
			return env.one(&Typed{Type: "decimal", Value: json.Number(strings.TrimPrefix(x, "+"))}), nil
		}
		return nil, nil
	}
	if s, ok := numberText(it); ok {
		return env.one(&Typed{Type: "decimal", Value: json.Number(s)}), nil
	}
	return nil, nil
}

func fnToBoolean(env *Env, _ *fnNode, in, _ []any) ([]any, error) {
	it, ok, err := singleInput(in)
	if !ok || err != nil {
		return nil, err
	}
	mark := len(env.buf)
	switch x := Plain(it).(type) {
	case bool:
		return in, nil
	case string:
		switch strings.ToLower(x) {
		case "true", "t", "yes", "y", "1", "1.0":
			return env.triResult(mark, isTrue), nil
		case "false", "f", "no", "n", "0", "0.0":
			return env.triResult(mark, isFalse), nil
		}
		return nil, nil
	}
	if s, ok := numberText(it); ok {
		if c, ok := compareDecimal(s, "1"); ok && c == 0 {
			return env.triResult(mark, isTrue), nil
		}
		if c, ok := compareDecimal(s, "0"); ok && c == 0 {
			return env.triResult(mark, isFalse), nil
		}
	}
	return nil, nil
}

func fnStringTest(env *Env, f *fnNode, in, this []any) ([]any, error) {
	s, ok, err := singleString(in)
	if !ok || err != nil {
		return nil, err
	}
	sub, ok, err := f.stringArg(env, 0, this)
	if !ok || err != nil {
		return nil, err
	}
	var b bool
	switch f.name {
	case "startsWith":
		b = strings.HasPrefix(s, sub)
	case "endsWith":
		b = strings.HasSuffix(s, sub)
	default:
		b = strings.Contains(s, sub)
	}
	return env.triResult(len(env.buf), triOf(b)), nil
}

// runeIndex converts a byte offset in s to a character offset.
func runeIndex(s string, byteOff int) int { return utf8.RuneCountInString(s[:byteOff]) }

func fnIndexOf(env *Env, f *fnNode, in, this []any) ([]any, error) {
	s, ok, err := singleString(in)
	if !ok || err != nil {
		return nil, err
	}
	sub, ok, err := f.stringArg(env, 0, this)
	if !ok || err != nil {
		return nil, err
	}
	i := strings.Index(s, sub)
	if i >= 0 {
		i = runeIndex(s, i)
	}
	return env.one(intItem(int64(i))), nil
}

func fnSubstring(env *Env, f *fnNode, in, this []any) ([]any, error) {
	s, ok, err := singleString(in)
	if !ok || err != nil {
		return nil, err
	}
	start, ok, err := f.intArg(env, 0, this)
	if !ok || err != nil {
		return nil, err
	}
	r := []rune(s)
	if start < 0 || start >= int64(len(r)) {
		return nil, nil
	}
	end := int64(len(r))
	if len(f.args) == 2 {
		n, ok, err := f.intArg(env, 1, this)
		if err != nil {
			return nil, err
		}
		if ok {
			end = min(end, start+max(n, 0))
		}
	}
	return env.one(string(r[start:end])), nil
}

func fnLength(env *Env, _ *fnNode, in, _ []any) ([]any, error) {
	s, ok, err := singleString(in)
	if !ok || err != nil {
		return nil, err
	}
	return env.one(intItem(int64(utf8.RuneCountInString(s)))), nil
}

func fnCase(env *Env, f *fnNode, in, _ []any) ([]any, error) {
	s, ok, err := singleString(in)
	if !ok || err != nil {
		return nil, err
	}
	switch f.name {
	case "upper":
		s = strings.ToUpper(s)
	case "lower":
		s = strings.ToLower(s)
	default:
		s = strings.TrimSpace(s)
	}
	return env.one(s), nil
}

func fnReplace(env *Env, f *fnNode, in, this []any) ([]any, error) {
	s, ok, err := singleString(in)
	if !ok || err != nil {
		return nil, err
	}
	pat, ok, err := f.stringArg(env, 0, this)
	if !ok || err != nil {
		return nil, err
	}
	sub, ok, err := f.stringArg(env, 1, this)
	if !ok || err != nil {
		return nil, err
	}
	return env.one(strings.ReplaceAll(s, pat, sub)), nil
}

func (f *fnNode) regexp(env *Env, this []any) (*regexp.Regexp, bool, error) {
	if f.re != nil {
		return f.re, true, nil
	}
	pat, ok, err := f.stringArg(env, 0, this)
	if !ok || err != nil {
		return nil, false, err
	}
	re, err := regexp.Compile("(?s)" + pat)
	if err != nil {
		return nil, false, fmt.Errorf("bad regular expression: %w", err)
	}
	return re, true, nil
}

func fnMatches(env *Env, f *fnNode, in, this []any) ([]any, error) {
	s, ok, err := singleString(in)
	if !ok || err != nil {
		return nil, err
	}
	re, ok, err := f.regexp(env, this)
	if !ok || err != nil {
		return nil, err
	}
	return env.triResult(len(env.buf), triOf(re.MatchString(s))), nil
}

func fnReplaceMatches(env *Env, f *fnNode, in, this []any) ([]any, error) {
	s, ok, err := singleString(in)
	if !ok || err != nil {
		return nil, err
	}
	re, ok, err := f.regexp(env, this)
	if !ok || err != nil {
		return nil, err
	}
	sub, ok, err := f.stringArg(env, 1, this)
	if !ok || err != nil {
		return nil, err
	}
	return env.one(re.ReplaceAllString(s, sub)), nil
}

func fnSplit(env *Env, f *fnNode, in, this []any) ([]any, error) {
	s, ok, err := singleString(in)
	if !ok || err != nil {
		return nil, err
	}
	sep, ok, err := f.stringArg(env, 0, this)
	if !ok || err != nil {
		return nil, err
	}
	mark := len(env.buf)
	for _, part := range strings.Split(s, sep) {
		env.buf = append(env.buf, part)
	}
	return env.result(mark), nil
}

func fnToChars(env *Env, _ *fnNode, in, _ []any) ([]any, error) {
	s, ok, err := singleString(in)
	if !ok || err != nil {
		return nil, err
	}
	mark := len(env.buf)
	for _, r := range s {
		env.buf = append(env.buf, string(r))
	}
	return env.result(mark), nil
}

// --- collections ---

func fnSetOp(env *Env, f *fnNode, in, this []any) ([]any, error) {
	other, err := f.arg(env, 0, this)
	if err != nil {
		return nil, err
	}
	start := len(env.buf)
	switch f.name {
	case "combine":
		if len(in)+len(other) > maxItems {
			return nil, errTooLarge
		}
		env.buf = append(env.buf, in...)
		env.buf = append(env.buf, other...)
	case "union":
		for _, c := range [2][]any{in, other} {
			for _, it := range c {
				if !containsItem(env.buf[start:], it) {
					env.buf = append(env.buf, it)
				}
			}
		}
	case "intersect":
		for _, it := range in {
			if containsItem(other, it) && !containsItem(env.buf[start:], it) {
				env.buf = append(env.buf, it)
			}
		}
	case "exclude":
		for _, it := range in {
			if !containsItem(other, it) {
				env.buf = append(env.buf, it)
			}
		}
	}
	return env.result(start), nil
}

func fnHasValue(env *Env, _ *fnNode, in, _ []any) ([]any, error) {
	ok := false
	if len(in) == 1 {
		_, isMap := Plain(in[0]).(map[string]any)
		ok = !isMap
	}
	return env.triResult(len(env.buf), triOf(ok)), nil
}

// --- FHIR and SQL-on-FHIR functions ---

func fnExtension(env *Env, f *fnNode, in, this []any) ([]any, error) {
	url, ok, err := f.stringArg(env, 0, this)
	if !ok || err != nil {
		return nil, err
	}
	mark := len(env.buf)
	for _, it := range in {
		m := asMap(it)
		if t, ok := it.(*Typed); ok && t.Elem != nil {
			m = t.Elem
		}
		if m == nil {
			continue
		}
		exts, _ := m["extension"].([]any)
		for _, e := range exts {
			em, _ := e.(map[string]any)
			if u, _ := em["url"].(string); em != nil && u == url {
				env.buf = append(env.buf, e)
			}
		}
	}
	return env.result(mark), nil
}

func fnGetResourceKey(env *Env, _ *fnNode, in, _ []any) ([]any, error) {
	mark := len(env.buf)
	for _, it := range in {
		m := asMap(it)
		if m == nil {
			continue
		}
		if _, ok := m["resourceType"].(string); !ok {
			continue
		}
		if id, ok := m["id"].(string); ok && id != "" {
			env.buf = append(env.buf, m["id"])
		}
	}
	return env.result(mark), nil
}

func fnGetReferenceKey(env *Env, f *fnNode, in, _ []any) ([]any, error) {
	mark := len(env.buf)
	for _, it := range in {
		m := asMap(it)
		if m == nil {
			continue
		}
		ref, _ := m["reference"].(string)
		if id, ok := ReferenceKey(ref, f.want); ok {
			env.buf = append(env.buf, id)
		}
	}
	return env.result(mark), nil
}

// ReferenceKey returns the id part of a literal reference — relative
// ("Patient/123"), absolute ("http://host/fhir/Patient/123") and either with
// "/_history/n" — when its type is typ or typ is "". ok is false for other
// forms (contained "#x", "urn:uuid:…", logical references) and for a type
// mismatch.
func ReferenceKey(ref, typ string) (string, bool) {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	j := strings.LastIndexByte(ref, '/')
	if j <= 0 || j == len(ref)-1 {
		return "", false
	}
	id, rest := ref[j+1:], ref[:j]
	rtype := rest[strings.LastIndexByte(rest, '/')+1:]
	if !validResourceType(rtype) || !validID(id) {
		return "", false
	}
	if typ != "" && rtype != typ {
		return "", false
	}
	return id, true
}

func validResourceType(s string) bool {
	if s == "" || !isUpper(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !isDigit(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func fnBoundary(env *Env, f *fnNode, in, this []any) ([]any, error) {
	high := f.name == "highBoundary"
	precision := 0
	if len(f.args) == 1 {
		p, ok, err := f.intArg(env, 0, this)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, nil
		}
		if p < 0 || p > 31 {
			return nil, nil
		}
		precision = int(p)
	}
	it, ok, err := singleInput(in)
	if !ok || err != nil {
		return nil, err
	}
	v, ok, err := boundary(it, high, precision, len(f.args) == 1)
	if !ok || err != nil {
		return nil, err
	}
	return env.one(v), nil
}

func boundary(it any, high bool, precision int, explicit bool) (any, bool, error) {
	v, t := unwrap(it)
	switch x := v.(type) {
	case string:
		tv, ok := parseTemporal(x)
		if !ok {
			return nil, false, nil
		}
		if (t == "dateTime" || t == "instant") && tv.kind == kindDate {
			tv.kind = kindDateTime
		}
		s, ok := tv.boundary(high, precision)
		if !ok {
			return nil, false, nil
		}
		return &Typed{Type: tv.typeName(), Value: s}, true, nil
	case json.Number:
		if !explicit {
			precision = 8
		}
		s, ok, err := decimalBoundary(string(x), high, precision)
		if !ok || err != nil {
			return nil, false, err
		}
		return &Typed{Type: "decimal", Value: json.Number(s)}, true, nil
	case map[string]any:
		if num, ok := x["value"].(json.Number); ok && (t == "" || quantityTypes[t]) {
			b, ok, err := boundary(num, high, precision, explicit)
			if !ok || err != nil {
				return nil, false, err
			}
			q := make(map[string]any, len(x))
			for k, val := range x {
				q[k] = val
			}
			q["value"] = Plain(b)
			return q, true, nil
		}
		if _, isResource := x["resourceType"]; (t == "" && !isResource) || t == "Period" {
			key := "start"
			if high {
				key = "end"
			}
			s, ok := x[key].(string)
			if !ok {
				return nil, false, nil
			}
			return boundary(&Typed{Type: "dateTime", Value: s}, high, precision, explicit)
		}
	}
	return nil, false, nil
}

// decimalBoundary returns the least (or greatest) decimal that rounds to
// text at its written precision, at precision fraction digits: below the
// written precision the result is floored (low) or ceiled (high).
func decimalBoundary(text string, high bool, precision int) (string, bool, error) {
	d, err := parseBigDec(text)
	if err != nil {
		return "", false, err
	}
	// ±half a unit of the last written digit.
	u := new(big.Int).Mul(d.u, big.NewInt(10))
	if high {
		u.Add(u, big.NewInt(5))
	} else {
		u.Sub(u, big.NewInt(5))
	}
	b := bigDec{u, d.scale + 1}
	switch {
	case precision >= b.scale:
		return b.rescale(precision).String(), true, nil
	default:
		q, r := new(big.Int).QuoRem(b.u, pow10(b.scale-precision), new(big.Int))
		if r.Sign() != 0 {
			if high && r.Sign() > 0 {
				q.Add(q, big.NewInt(1))
			}
			if !high && r.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			}
		}
		return bigDec{q, precision}.String(), true, nil
	}
}
