package fhirpath

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// patient is the fixed resource the evaluation tests run against.
const patient = `{
  "resourceType": "Patient",
  "id": "p1",
  "active": true,
  "gender": "female",
  "_gender": {"extension": [{"url": "http://example.org/gx", "valueString": "ext"}]},
  "birthDate": "1974-12",
  "deceasedDateTime": "2020-03-04",
  "multipleBirthInteger": 2,
  "name": [
    {"use": "official", "family": "Chalmers", "given": ["Peter", "James"],
     "_given": [null, {"extension": [{"url": "http://example.org/nick", "valueString": "Jim"}]}]},
    {"use": "usual", "given": ["Jim"]},
    {"use": "maiden", "family": "Windsor", "given": ["Peter", "James"], "period": {"start": "1974-12-25", "end": "2002"}}
  ],
  "telecom": [{"system": "phone", "value": "555-1"}, {"system": "email", "value": "p@x.org"}],
  "managingOrganization": {"reference": "Organization/o1"},
  "generalPractitioner": [
    {"reference": "http://example.org/fhir/Practitioner/pr1/_history/3"},
    {"reference": "#contained"},
    {"reference": "urn:uuid:9b1b0a9e-0000-0000-0000-000000000000"}
  ],
  "extension": [
    {"url": "http://example.org/race", "extension": [{"url": "text", "valueString": "Mixed"}]},
    {"url": "http://example.org/birthsex", "valueCode": "F"}
  ],
  "contact": [{"name": {"family": "Du Marché"}}],
  "weight": [{"value": 2.50}, {"value": 10}, {"value": -1.5e1}]
}`

func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// show renders a collection compactly: strings quoted, typed items as
// type(value).
func show(c []any) string {
	parts := make([]string, len(c))
	for i, it := range c {
		switch x := it.(type) {
		case *Typed:
			parts[i] = fmt.Sprintf("%s(%v)", x.Type, x.Value)
		case string:
			parts[i] = fmt.Sprintf("%q", x)
		case map[string]any:
			b, _ := json.Marshal(x)
			parts[i] = string(b)
		default:
			parts[i] = fmt.Sprint(x)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func TestEval(t *testing.T) {
	res := decode(t, patient)
	env := &Env{Resource: res, Vars: map[string]any{
		"use":   "official",
		"two":   &Typed{Type: "integer", Value: json.Number("2")},
		"bday":  &Typed{Type: "date", Value: "1974-12"},
		"when":  &Typed{Type: "dateTime", Value: "2020-03-04T10:00:00Z"},
		"empty": nil,
		"list":  []any{"a", "b"},
	}}
	tests := []struct {
		expr, want string
	}{
		// navigation and flattening
		{"id", `["p1"]`},
		{"name.given", `["Peter" "James" "Jim" "Peter" "James"]`},
		{"Patient.name.family", `["Chalmers" "Windsor"]`},
		{"name.family.first()", `["Chalmers"]`},
		{"name[1].given", `["Jim"]`},
		{"name[5].given", `[]`},
		{"name[%two].family", `["Windsor"]`},
		{"nothing.here", `[]`},
		{"$this.id", `["p1"]`},
		{"`gender`", `["female"]`},
		{"contact.name.family", `["Du Marché"]`},
		// choice elements
		{"deceased", `[dateTime(2020-03-04)]`},
		{"deceased.ofType(dateTime)", `[dateTime(2020-03-04)]`},
		{"deceased.ofType(boolean)", `[]`},
		{"multipleBirth.ofType(integer)", `[2]`},
		{"multipleBirth.ofType(Integer)", `[2]`},
		{"multipleBirth.ofType(System.Integer)", `[2]`},
		{"multipleBirth", `[integer(2)]`},
		{"extension('http://example.org/birthsex').value.ofType(code)", `["F"]`},
		{"extension('http://example.org/race').extension('text').value.ofType(string)", `["Mixed"]`},
		{"extension('http://example.org/none')", `[]`},
		{"gender.extension('http://example.org/gx').value.ofType(string)", `["ext"]`},
		{"name.given.extension('http://example.org/nick').value", `[string(Jim)]`},
		{"name.given.extension('http://example.org/nick').count()", `[1]`},
		{"birthDate.extension('http://example.org/gx')", `[]`},
		{"name.ofType(HumanName).count()", `[3]`},
		{"gender.ofType(string)", `["female"]`},
		{"gender.ofType(integer)", `[]`},
		{"id is string", `[true]`},
		{"active is boolean", `[true]`},
		{"active.is(string)", `[false]`},
		{"(active as boolean)", `[true]`},
		// literals
		{"'a\\'b'", `["a'b"]`},
		{"1.50", `[1.50]`},
		{"-2", `[-2]`},
		{"@2020-01", `[date(2020-01)]`},
		{"@2020-01-02T10:00", `[dateTime(2020-01-02T10:00)]`},
		{"@T10:30", `[time(10:30)]`},
		{"{}", `[]`},
		{"%ucum", `["http://unitsofmeasure.org"]`},
		{"%use", `["official"]`},
		{"%empty", `[]`},
		{"%list", `["a" "b"]`},
		{"%resource.id", `["p1"]`},
		{"%rowIndex", `[0]`},
		// where, select, exists
		{"name.where(use = %use).family", `["Chalmers"]`},
		{"name.where(use = 'usual' or use = 'maiden').given", `["Jim" "Peter" "James"]`},
		{"name.where(family.exists()).count()", `[2]`},
		{"name.where($index = 1).given", `["Jim"]`},
		{"name.select(given.first())", `["Peter" "Jim" "Peter"]`},
		{"name.exists(use = 'usual')", `[true]`},
		{"name.exists(use = 'old')", `[false]`},
		{"telecom.exists()", `[true]`},
		{"address.exists()", `[false]`},
		{"address.empty()", `[true]`},
		{"name.all(given.exists())", `[true]`},
		{"name.all(family.exists())", `[false]`},
		{"name.given.distinct()", `["Peter" "James" "Jim"]`},
		{"name.given.isDistinct()", `[false]`},
		{"name.given.count()", `[5]`},
		{"name.given.last()", `["James"]`},
		{"name.given.tail().first()", `["James"]`},
		{"name.given.skip(3)", `["Peter" "James"]`},
		{"name.given.take(1)", `["Peter"]`},
		{"name.first().single().use", `["official"]`},
		{"iif(active, 'yes', 'no')", `["yes"]`},
		{"iif(address.exists(), 'yes')", `[]`},
		{"(1 | 2 | 2 | 3).count()", `[3]`},
		{"name.given.union(name.family).count()", `[5]`},
		{"name.given.combine(name.family).count()", `[7]`},
		{"name.given.intersect('Jim' | 'Bob')", `["Jim"]`},
		{"name.given.exclude('Peter')", `["James" "Jim" "James"]`},
		{"'Jim' in name.given", `[true]`},
		{"name.given contains 'Bob'", `[false]`},
		{"{} in name.given", `[]`},
		{"telecom.value.hasValue()", `[false]`},
		{"id.hasValue()", `[true]`},
		{"name.repeat(period).start", `["1974-12-25"]`},
		// three-valued logic
		{"true and {}", `[]`},
		{"false and {}", `[false]`},
		{"{} and false", `[false]`},
		{"true or {}", `[true]`},
		{"{} or false", `[]`},
		{"{} or true", `[true]`},
		{"true xor false", `[true]`},
		{"true xor {}", `[]`},
		{"false implies {}", `[true]`},
		{"true implies {}", `[]`},
		{"{} implies true", `[true]`},
		{"{} implies false", `[]`},
		{"(1 = 1).not()", `[false]`},
		{"{}.not()", `[]`},
		{"id and true", `[true]`}, // a single non-boolean item is true
		// equality and comparison
		{"gender = 'female'", `[true]`},
		{"gender != 'female'", `[false]`},
		{"gender = {}", `[]`},
		{"name.given = 'Peter'", `[false]`},
		{"name.first().given = ('Peter' | 'James')", `[true]`},
		{"gender ~ 'FEMALE'", `[true]`},
		{"gender !~ 'FEMALE'", `[false]`},
		{"1 = 1.0", `[true]`},
		{"1.10 = 1.1", `[true]`},
		{"0.1 + 0.2 = 0.3", `[true]`},
		{"weight.value.first() = 2.5", `[true]`},
		{"weight.value.last() = -15", `[true]`},
		{"weight.value[1] > 9.99999999999999999999", `[true]`},
		{"weight.value[1] < 10.000000000000000001", `[true]`},
		{"10 > 9", `[true]`},
		{"-1.5 < -1.25", `[true]`},
		{"'abc' < 'abd'", `[true]`},
		{"birthDate = %bday", `[true]`},
		{"birthDate = @1974-12", `[true]`},
		{"birthDate > @1974-11-30", `[true]`}, // decided at month precision
		{"birthDate > @1974-12-15", `[]`},     // month vs day precision: unknown
		{"birthDate > @1974-11", `[true]`},
		{"birthDate < @1975", `[true]`},
		{"birthDate = @1974-12-01", `[]`},
		{"@2020-03-04T12:00:00+02:00 = @2020-03-04T10:00:00Z", `[true]`},
		{"@2020-03-04T10:00:00.000Z = @2020-03-04T10:00:00Z", `[true]`},
		{"deceased.ofType(dateTime) < %when", `[]`},
		{"@2020-03-05 > %when", `[true]`},
		{"@T10:00 < @T10:00:01", `[]`},
		{"@T10:00:00 < @T10:00:01", `[true]`},
		{"name.where(period.start > @1974-12-24).exists()", `[true]`},
		// arithmetic and strings
		{"1 + 2 * 3", `[7]`},
		{"(1 + 2) * 3", `[9]`},
		{"7 / 2", `[3.5]`},
		{"6 / 2", `[decimal(3)]`},
		{"1 / 3", `[0.33333333]`},
		{"1 / 0", `[]`},
		{"7 div 2", `[3]`},
		{"7 mod 2", `[1]`},
		{"-7 div 2", `[-3]`},
		{"5.5 mod 2", `[1.5]`},
		{"1.2 * 3", `[3.6]`},
		{"2.5 - 0.5", `[2.0]`},
		{"9223372036854775807 + 1", `[9223372036854775808]`},
		{"- weight.value.first()", `[-2.50]`},
		{"{} + 1", `[]`},
		{"'a' + 'b'", `["ab"]`},
		{"'a' & {} & 'b'", `["ab"]`},
		{"name.given.join(', ')", `["Peter, James, Jim, Peter, James"]`},
		{"name.given.join()", `["PeterJamesJimPeterJames"]`},
		{"address.line.join('-')", `[""]`},
		{"id.startsWith('p')", `[true]`},
		{"id.endsWith('x')", `[false]`},
		{"gender.contains('ema')", `[true]`},
		{"gender.substring(1, 3)", `["ema"]`},
		{"gender.substring(4)", `["le"]`},
		{"gender.substring(9)", `[]`},
		{"gender.length()", `[6]`},
		{"gender.upper()", `["FEMALE"]`},
		{"' x '.trim()", `["x"]`},
		{"gender.indexOf('m')", `[2]`},
		{"gender.replace('fe', '')", `["male"]`},
		{"gender.matches('^fem')", `[true]`},
		{"gender.replaceMatches('[aeiou]', '_')", `["f_m_l_"]`},
		{"'a,b'.split(',')", `["a" "b"]`},
		{"multipleBirth.ofType(integer).toString()", `["2"]`},
		{"'42'.toInteger() + 1", `[43]`},
		{"'4.5'.toDecimal()", `[decimal(4.5)]`},
		{"2.5.round()", `[decimal(3)]`},
		{"2.49.round()", `[decimal(2)]`},
		{"(-2.5).round()", `[decimal(-3)]`},
		{"(-0.4).round()", `[decimal(0)]`},
		{"3.14159.round(3)", `[decimal(3.142)]`},
		{"(30 * 1.0).round()", `[decimal(30)]`},
		{"7.round()", `[decimal(7)]`},
		{"{}.round()", `[]`},
		{"'yes'.toBoolean()", `[true]`},
		{"active.toString()", `["true"]`},
		// SQL-on-FHIR functions
		{"getResourceKey()", `["p1"]`},
		{"managingOrganization.getReferenceKey()", `["o1"]`},
		{"managingOrganization.getReferenceKey(Organization)", `["o1"]`},
		{"managingOrganization.getReferenceKey('Organization')", `["o1"]`},
		{"managingOrganization.getReferenceKey(Patient)", `[]`},
		{"generalPractitioner.getReferenceKey()", `["pr1"]`},
		{"name.getResourceKey()", `[]`},
		// boundaries
		{"birthDate.lowBoundary()", `[date(1974-12-01)]`},
		{"birthDate.highBoundary()", `[date(1974-12-31)]`},
		{"@2024-02.highBoundary()", `[date(2024-02-29)]`},
		{"@2023-02.highBoundary()", `[date(2023-02-28)]`},
		{"birthDate.lowBoundary(6)", `[date(1974-12)]`},
		{"deceased.lowBoundary()", `[dateTime(2020-03-04T00:00:00.000+14:00)]`},
		{"deceased.highBoundary()", `[dateTime(2020-03-04T23:59:59.999-12:00)]`},
		{"@2020-03-04T10:00Z.highBoundary()", `[dateTime(2020-03-04T10:00:59.999Z)]`},
		{"@T10:30.lowBoundary()", `[time(10:30:00.000)]`},
		{"@T10:30:05.5.highBoundary()", `[time(10:30:05.599)]`},
		{"1.587.lowBoundary()", `[decimal(1.58650000)]`},
		{"1.587.highBoundary()", `[decimal(1.58750000)]`},
		{"1.587.lowBoundary(2)", `[decimal(1.58)]`},
		{"1.587.highBoundary(2)", `[decimal(1.59)]`},
		{"(-1.587).lowBoundary()", `[decimal(-1.58750000)]`},
		{"1.0.lowBoundary()", `[decimal(0.95000000)]`},
		{"weight.first().lowBoundary().value", `[2.49500000]`},
		{"name.last().period.lowBoundary()", `[dateTime(1974-12-25T00:00:00.000+14:00)]`},
		{"name.last().period.highBoundary()", `[dateTime(2002-12-31T23:59:59.999-12:00)]`},
		{"gender.lowBoundary()", `[]`},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			e, err := Parse(tc.expr)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := e.Eval(env, []any{res})
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if s := show(got); s != tc.want {
				t.Errorf("got %s, want %s", s, tc.want)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	res := decode(t, patient)
	env := &Env{Resource: res}
	tests := []struct {
		expr, want string
	}{
		{"%missing", "undefined variable %missing"},
		{"name.given < 'x'", "needs single operands"},
		{"gender < 1", "cannot compare string with integer"},
		{"name.given and true", "expects a single boolean"},
		{"name.single()", "expects at most one item"},
		{"name.given.substring(1)", "expects a single input item"},
		{"id + 1", "needs numbers"},
		{"@2020 + 1", "date/time arithmetic is not supported"},
		{"name[name]", "index must be a single integer"},
		{"name.where(given)", "expects a single boolean"},
		{"telecom.join(',')", "expects strings"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			e, err := Parse(tc.expr)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := e.Eval(env, []any{res})
			if err == nil {
				t.Fatalf("got %s, want error containing %q", show(got), tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
	_, err := MustParse("%nope").Eval(env, nil)
	if !errors.Is(err, ErrUndefinedVar) {
		t.Errorf("error %v is not ErrUndefinedVar", err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		expr string
		pos  int
		msg  string
	}{
		{"", 0, "unexpected end of expression"},
		{"@@", 0, "expected a date or time after @"},
		{"name.", 5, "expected a name after '.'"},
		{"name.where(", 11, "unexpected end of expression"},
		{"name.foo()", 5, "unknown function foo()"},
		{"today()", 0, "function today() is not supported"},
		{"first(1)", 0, "first() takes 0 argument(s), got 1"},
		{"substring()", 0, "substring() takes 1 to 2 argument(s), got 0"},
		{"ofType('x' + 1)", 7, "ofType() needs a type name"},
		{"5 'mg'", 2, "quantity literals are not supported"},
		{"4 days", 2, "quantity literals are not supported"},
		{"'abc", 0, "unterminated '"},
		{"'a\\q'", 2, "unknown escape"},
		{"a ! b", 2, "unexpected character '!'"},
		{"$foo", 0, "unknown special variable $foo"},
		{"$total", 0, "$total is not supported"},
		{"(1 + 2", 6, "expected ')'"},
		{"1 2", 2, "unexpected '2'"},
		{"'it''s'", 4, "quantity literals are not supported"},
		{"@2020-13", 0, "invalid date/time literal"},
		{"x is", 4, "expected a type name"},
		{"/* open", 0, "unterminated comment"},
		{"matches('[')", 8, "bad regular expression"},
		{"10L", 0, "long integer literals are not supported"},
		{strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300), 200, "nested too deeply"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := Parse(tc.expr)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Pos != tc.pos || !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("got offset %d %q, want offset %d %q", pe.Pos, pe.Msg, tc.pos, tc.msg)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	for _, expr := range []string{
		"name.given // comment",
		"/* c */ name.given",
		"Patient.name.where(use = 'official' and family.exists()).given.first()",
		"%`weird name` = %'other'",
		"value.ofType(FHIR.Quantity).value",
		"a implies b or c xor d and e in f contains g",
		"a is System.String",
		"-(1) + +2",
		"@2015-02-04T14:34:28.123-05:00",
		"@2015-02-04T",
		"x.`div`.mod",
	} {
		if _, err := Parse(expr); err != nil {
			t.Errorf("Parse(%q): %v", expr, err)
		}
	}
}

func TestVarsAndType(t *testing.T) {
	e := MustParse("name.where(use = %a and %resource.id = %b and %a = %rowIndex).family.exists()")
	if got := fmt.Sprint(e.Vars()); got != "[a b]" {
		t.Errorf("Vars() = %s, want [a b]", got)
	}
	types := map[string]string{
		"name.family":                  "",
		"name.family.first()":          "",
		"value.ofType(Quantity)":       "Quantity",
		"value.ofType(string).first()": "string",
		"name.exists()":                "boolean",
		"a = b":                        "boolean",
		"name.given.join(',')":         "string",
		"count()":                      "integer",
		"1 + 2":                        "integer",
		"1 + 2.5":                      "decimal",
		"%rowIndex":                    "integer",
		"getReferenceKey(Patient)":     "string",
		"@2020":                        "date",
		"'a' | 'b'":                    "string",
	}
	for expr, want := range types {
		if got := MustParse(expr).Type(); got != want {
			t.Errorf("Type(%q) = %q, want %q", expr, got, want)
		}
	}
}

func TestReferenceKey(t *testing.T) {
	tests := []struct {
		ref, typ, want string
		ok             bool
	}{
		{"Patient/123", "", "123", true},
		{"Patient/123", "Patient", "123", true},
		{"Patient/123", "Observation", "", false},
		{"Patient/123/_history/4", "Patient", "123", true},
		{"https://fhir.example.org/r4/Patient/a.b-c", "Patient", "a.b-c", true},
		{"#contained", "", "", false},
		{"urn:uuid:3f9c0e8e-0000-0000-0000-000000000000", "", "", false},
		{"Patient/", "", "", false},
		{"patient/123", "", "", false},
		{"Patient/12 3", "", "", false},
		{"", "", "", false},
	}
	for _, tc := range tests {
		got, ok := ReferenceKey(tc.ref, tc.typ)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ReferenceKey(%q, %q) = %q, %v; want %q, %v", tc.ref, tc.typ, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCompareDecimal(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1", "1.0", 0},
		{"0.1", "0.10000", 0},
		{"-0", "0.000", 0},
		{"10", "9.999", 1},
		{"-10", "-9.999", -1},
		{"0.001", "0.01", -1},
		{"1e3", "1000", 0},
		{"1.5E-3", "0.0015", 0},
		{"123456789012345678901234567890", "123456789012345678901234567891", -1},
		{"-0.5", "0", -1},
		{"0", "-0.5", 1},
		{"007", "7", 0},
	}
	for _, tc := range tests {
		got, ok := compareDecimal(tc.a, tc.b)
		if !ok || got != tc.want {
			t.Errorf("compareDecimal(%s, %s) = %d, %v; want %d", tc.a, tc.b, got, ok, tc.want)
		}
		back, _ := compareDecimal(tc.b, tc.a)
		if back != -tc.want {
			t.Errorf("compareDecimal(%s, %s) = %d, want %d", tc.b, tc.a, back, -tc.want)
		}
	}
	for _, bad := range []string{"", "-", ".", "1.2.3", "abc", "1e", "--1"} {
		if _, ok := compareDecimal(bad, "1"); ok {
			t.Errorf("compareDecimal(%q) accepted", bad)
		}
	}
}

func TestTemporal(t *testing.T) {
	tests := []struct {
		a, b  string
		cmp   int
		known bool
	}{
		{"2020", "2020", 0, true},
		{"2020", "2021-01", -1, true},
		{"2020", "2020-01", 0, false},
		{"2020-01-01T10:00:00+01:00", "2020-01-01T09:00:00Z", 0, true},
		{"2020-01-01T00:30:00+01:00", "2019-12-31T23:30:00Z", 0, true},
		{"2020-01-01T10:00:00.5Z", "2020-01-01T10:00:00.50Z", 0, true},
		{"2020-01-01T10:00:00.5Z", "2020-01-01T10:00:00Z", 1, true},
		{"2020-01-01T10:00", "2020-01-01T10:00:00", 0, false},
		{"10:00", "11:00", -1, true},
	}
	for _, tc := range tests {
		a, ok1 := parseTemporal(tc.a)
		b, ok2 := parseTemporal(tc.b)
		if !ok1 || !ok2 {
			t.Fatalf("parse %s / %s failed", tc.a, tc.b)
		}
		c, known, ok := compareTemporal(a, b)
		if !ok || c != tc.cmp || known != tc.known {
			t.Errorf("compare(%s, %s) = %d, %v, %v; want %d, %v", tc.a, tc.b, c, known, ok, tc.cmp, tc.known)
		}
	}
	for _, bad := range []string{"20", "2020-00", "2020-02-30", "2020-01-01T25:00", "2020-01-01T10:00+15:00", "2020-01T10:00", "10:60", "2020-01-01X"} {
		if _, ok := parseTemporal(bad); ok {
			t.Errorf("parseTemporal(%q) accepted", bad)
		}
	}
}

// TestAppendEvalReuse checks that the scratch arena does not leak results
// between evaluations and that dst is appended to.
func TestAppendEvalReuse(t *testing.T) {
	res := decode(t, patient)
	env := &Env{Resource: res}
	in := []any{res}
	a := MustParse("name.where(use = 'official').given")
	b := MustParse("telecom.value")
	dst := []any{"x"}
	for i := 0; i < 3; i++ {
		var err error
		dst, err = a.AppendEval(dst[:1], env, in)
		if err != nil {
			t.Fatal(err)
		}
		if s := show(dst); s != `["x" "Peter" "James"]` {
			t.Fatalf("round %d: %s", i, s)
		}
		got, err := b.Eval(env, in)
		if err != nil {
			t.Fatal(err)
		}
		if s := show(got); s != `["555-1" "p@x.org"]` {
			t.Fatalf("round %d: %s", i, s)
		}
		if s := show(dst); s != `["x" "Peter" "James"]` {
			t.Fatalf("round %d: dst changed to %s", i, s)
		}
	}
	if len(env.buf) != 0 {
		t.Errorf("arena not released: %d items", len(env.buf))
	}
}
