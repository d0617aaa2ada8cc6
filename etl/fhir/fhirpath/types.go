package fhirpath

import (
	"encoding/json"
	"strings"
)

// Typed is a collection item whose FHIR type is known beyond what its JSON
// form says: a choice element read through its typed key (valueDateTime), a
// constant declared with a type, a date/time literal or a function result.
// Type is a FHIR type name ("dateTime", "Quantity", "integer" …) or "" when
// unknown; Value is the JSON value (string, json.Number, bool or
// map[string]any). Elem is the primitive's "_name" JSON element (id and
// extensions) when the item was navigated for extension(), else nil.
type Typed struct {
	Type  string
	Value any
	Elem  map[string]any
}

// Plain returns the JSON value of a collection item: the Value of a *Typed,
// or the item itself.
func Plain(item any) any {
	if t, ok := item.(*Typed); ok {
		return t.Value
	}
	return item
}

// unwrap returns the JSON value of an item and its FHIR type when known.
func unwrap(item any) (any, string) {
	if t, ok := item.(*Typed); ok {
		return t.Value, t.Type
	}
	return item, ""
}

// primitiveTypes are the FHIR R4 primitive type names (plus R5 integer64).
var primitiveTypes = map[string]bool{
	"base64Binary": true, "boolean": true, "canonical": true, "code": true, "date": true,
	"dateTime": true, "decimal": true, "id": true, "instant": true, "integer": true,
	"integer64": true, "markdown": true, "oid": true, "positiveInt": true, "string": true,
	"time": true, "unsignedInt": true, "uri": true, "url": true, "uuid": true, "xhtml": true,
}

// complexTypes are the FHIR R4 (and common R5) general-purpose data types that
// can appear as a choice-element suffix.
var complexTypes = map[string]bool{
	"Address": true, "Age": true, "Annotation": true, "Attachment": true, "Availability": true,
	"CodeableConcept": true, "CodeableReference": true, "Coding": true, "ContactDetail": true,
	"ContactPoint": true, "Contributor": true, "Count": true, "DataRequirement": true,
	"Distance": true, "Dosage": true, "Duration": true, "Expression": true,
	"ExtendedContactDetail": true, "Extension": true, "HumanName": true, "Identifier": true,
	"Meta": true, "MonetaryComponent": true, "Money": true, "ParameterDefinition": true,
	"Period": true, "Quantity": true, "Range": true, "Ratio": true, "RatioRange": true,
	"Reference": true, "RelatedArtifact": true, "SampledData": true, "Signature": true,
	"Timing": true, "TriggerDefinition": true, "UsageContext": true, "VirtualServiceDetail": true,
}

// choiceSuffix maps a choice-element key suffix ("DateTime", "Quantity") to
// the FHIR type name ("dateTime", "Quantity").
var choiceSuffix = func() map[string]string {
	m := make(map[string]string, len(primitiveTypes)+len(complexTypes))
	for t := range primitiveTypes {
		m[upperFirst(t)] = t
	}
	for t := range complexTypes {
		m[t] = t
	}
	return m
}()

// stringTypes are primitive types whose JSON form is a string and which are
// not dates or times.
var stringTypes = map[string]bool{
	"string": true, "code": true, "id": true, "markdown": true, "uri": true, "url": true,
	"canonical": true, "oid": true, "uuid": true, "base64Binary": true, "xhtml": true,
}

// integerTypes are the primitive types holding integers.
var integerTypes = map[string]bool{"integer": true, "positiveInt": true, "unsignedInt": true, "integer64": true}

// temporalTypes are the primitive types holding dates and times.
var temporalTypes = map[string]bool{"date": true, "dateTime": true, "instant": true, "time": true}

// quantityTypes are Quantity and its profiles.
var quantityTypes = map[string]bool{
	"Quantity": true, "Age": true, "Count": true, "Distance": true, "Duration": true,
	"SimpleQuantity": true, "MoneyQuantity": true,
}

// systemTypes maps FHIRPath System type names to the FHIR type used here.
var systemTypes = map[string]string{
	"String": "string", "Integer": "integer", "Decimal": "decimal", "Boolean": "boolean",
	"Date": "date", "DateTime": "dateTime", "Time": "time", "Quantity": "Quantity",
	"Integer64": "integer64", "Long": "integer64",
}

// normalizeType maps a type specifier (Quantity, FHIR.string, System.String,
// String) to the FHIR type name used for matching.
func normalizeType(name string) string {
	if rest, ok := strings.CutPrefix(name, "FHIR."); ok {
		return rest
	}
	if rest, ok := strings.CutPrefix(name, "System."); ok {
		if t, ok := systemTypes[rest]; ok {
			return t
		}
		return rest
	}
	if t, ok := systemTypes[name]; ok && name != "Quantity" {
		return t
	}
	return name
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// subtypeOf reports whether FHIR type t is want or derives from it.
func subtypeOf(t, want string) bool {
	if t == want {
		return true
	}
	switch want {
	case "string":
		return t == "code" || t == "id" || t == "markdown"
	case "uri":
		return t == "url" || t == "canonical" || t == "oid" || t == "uuid"
	case "integer":
		return t == "positiveInt" || t == "unsignedInt"
	case "dateTime":
		return false
	case "Quantity":
		return quantityTypes[t]
	case "Resource", "DomainResource":
		return isUpper(t[0]) && !complexTypes[t] && !primitiveTypes[t] && !quantityTypes[t]
	}
	return false
}

// isType reports whether item is of FHIR type want (already normalized) or
// a subtype. For plain JSON values, whose FHIR type is unknown, it accepts
// every type the JSON kind can encode (see the package documentation).
func isType(item any, want string) bool {
	v, t := unwrap(item)
	if t != "" {
		return subtypeOf(t, want)
	}
	switch x := v.(type) {
	case bool:
		return want == "boolean"
	case string:
		if stringTypes[want] {
			return true
		}
		if temporalTypes[want] {
			tv, ok := parseTemporal(x)
			if !ok {
				return false
			}
			switch want {
			case "date":
				return tv.kind == kindDate
			case "time":
				return tv.kind == kindTime
			case "instant":
				return tv.kind == kindDateTime && tv.prec >= precSecond && tv.hasTZ
			default:
				return tv.kind == kindDateTime || tv.kind == kindDate
			}
		}
		return false
	case json.Number:
		if want == "decimal" {
			return true
		}
		return integerTypes[want] && isIntegerText(string(x))
	case map[string]any:
		if rt, ok := x["resourceType"].(string); ok {
			return rt == want || ((want == "Resource" || want == "DomainResource") && rt != "")
		}
		return want != "" && isUpper(want[0]) && want != "Resource" && want != "DomainResource"
	}
	return false
}

// typeOf returns the FHIR type name of an item as far as it is known, for
// error messages and static decisions.
func typeOf(item any) string {
	v, t := unwrap(item)
	if t != "" {
		return t
	}
	switch x := v.(type) {
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if isIntegerText(string(x)) {
			return "integer"
		}
		return "decimal"
	case map[string]any:
		if rt, ok := x["resourceType"].(string); ok {
			return rt
		}
		return "object"
	}
	return "unknown"
}
