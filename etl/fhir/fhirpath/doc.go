// Package fhirpath parses and evaluates FHIRPath expressions over FHIR R4
// resources decoded from JSON, for the subset SQL-on-FHIR v2 ViewDefinitions
// need.
//
// Input is what encoding/json produces with UseNumber: map[string]any for
// objects, []any for arrays, string, json.Number, bool and nil. Expressions
// are compiled once with Parse and evaluated many times with (*Expr).Eval or
// (*Expr).AppendEval; an Expr is immutable and safe for concurrent use, an Env
// is not (use one per goroutine).
//
// # Values
//
// A collection is a []any whose items are the JSON values themselves (never
// nil, never []any: arrays are flattened) or *Typed, which carries a FHIR type
// the JSON form does not (a choice element such as valueDateTime, a typed
// constant, a date literal, a boundary result). Plain unwraps an item.
// Numbers are always json.Number holding the exact decimal text, including
// numbers the evaluator computes (count(), arithmetic, %rowIndex); an
// integer is a number whose text has no '.' or exponent.
//
// # Model
//
// No FHIR StructureDefinitions are loaded. Choice elements are recognised by
// their JSON key (value → valueQuantity, valueString …) when the suffix is a
// FHIR R4 data type name, and X.ofType(T) reads key X+T directly. The type of
// a plain JSON value is only partly known: ofType/is on such a value accepts
// every FHIR type its JSON kind can encode (a string matches string, code,
// uri, id …; a number matches decimal and, if integral, integer; an object
// without resourceType matches any complex type). Strings compare as strings
// unless the other operand is a date/time literal, constant or choice value,
// in which case both are compared as dates per FHIRPath precision rules.
// Date/times without a timezone offset are taken to be UTC when compared with
// ones that have an offset.
//
// Functions outside the supported set, quantity literals and date/time
// arithmetic are rejected by Parse with a clear error rather than evaluated
// approximately.
package fhirpath
