package fhirpath

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

// fuzzSeeds are expressions from the conformance suite and the unit tests.
var fuzzSeeds = []string{
	"name.given", "name.family.first()", "name.where(use = %use).family", "name[1].family",
	"deceased.ofType(dateTime)", "value.ofType(Quantity).value < 1.2", "active.exists() and active = true",
	"getResourceKey() = link.other.getReferenceKey(Patient)", "name.given.join(', ')",
	"extension('http://example.org/race').extension('text').value.ofType(string)",
	"birthDate.lowBoundary()", "1.587.highBoundary(2)", "(1 | 2 | 2).count()", "%rowIndex + 1",
	"iif(active, 'a', 'b')", "name.repeat(period)", "@2020-01-02T10:00:00Z > @2020", "7 div 2 mod 3",
	"gender.replaceMatches('[aeiou]', '_')", "'a' & {} & 'b'", "-weight.value.first() / 0",
	"name.select($this.given.where($index > 0))", "x is System.String", "`div`.mod",
	"weight.value.all($this > 0) implies false xor true",
}

// FuzzParse checks that Parse never panics, reports offsets inside the
// expression, and that a parsed expression means the same in parentheses,
// with surrounding comments and whitespace.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	res := decode(f, patient)
	f.Fuzz(func(t *testing.T, expr string) {
		e, err := Parse(expr)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Pos < 0 || pe.Pos > len(expr) {
				t.Fatalf("offset %d outside %q", pe.Pos, expr)
			}
			return
		}
		if e.String() != expr {
			t.Fatalf("String() = %q, want %q", e.String(), expr)
		}
		for _, variant := range []string{"(" + expr + "\n)", "/* c */ " + expr + " // end"} {
			v, err := Parse(variant)
			if err != nil {
				t.Fatalf("%q parses but %q does not: %v", expr, variant, err)
			}
			env := &Env{Resource: res, Vars: fuzzVars}
			want, err1 := e.Eval(env, []any{res})
			got, err2 := v.Eval(env, []any{res})
			if (err1 == nil) != (err2 == nil) || (err1 == nil && !reflect.DeepEqual(normalize(want), normalize(got))) {
				t.Fatalf("%q = %s, %v but %q = %s, %v", expr, show(want), err1, variant, show(got), err2)
			}
		}
	})
}

var fuzzVars = map[string]any{
	"use": "official",
	"two": &Typed{Type: "integer", Value: json.Number("2")},
}

// normalize makes results comparable: *Typed pointers by value.
func normalize(c []any) []any {
	out := make([]any, len(c))
	for i, it := range c {
		if t, ok := it.(*Typed); ok {
			out[i] = *t
		} else {
			out[i] = it
		}
	}
	return out
}

// FuzzEval checks that evaluating any expression over a fixed resource never
// panics, returns only valid collection items and releases its scratch
// memory.
func FuzzEval(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	res := decode(f, patient)
	env := &Env{Resource: res, Vars: fuzzVars}
	f.Fuzz(func(t *testing.T, expr string) {
		e, err := Parse(expr)
		if err != nil {
			return
		}
		start := time.Now()
		got, err := e.Eval(env, []any{res})
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%q took %v", expr, d)
		}
		if len(env.buf) != 0 {
			t.Fatalf("arena holds %d items after %q", len(env.buf), expr)
		}
		if err != nil {
			return
		}
		for _, it := range got {
			switch x := it.(type) {
			case string, json.Number, bool, map[string]any:
			case *Typed:
				switch x.Value.(type) {
				case string, json.Number, bool, map[string]any:
				default:
					t.Fatalf("%q: typed item with value %T", expr, x.Value)
				}
			default:
				t.Fatalf("%q: item of type %T", expr, it)
			}
		}
	})
}
