package fhir

import (
	"errors"
	"strings"
	"time"
)

// The FHIR R4 datatypes the mappers read; fields not listed are ignored.

// Coding is a FHIR Coding.
type Coding struct {
	System string `json:"system"`
	Code   string `json:"code"`
}

// CodeableConcept is a FHIR CodeableConcept.
type CodeableConcept struct {
	Coding []Coding `json:"coding"`
}

// Code returns the first code from system ("" = any system).
func (c *CodeableConcept) Code(system string) string {
	if c == nil {
		return ""
	}
	for _, cd := range c.Coding {
		if system == "" || cd.System == system {
			return cd.Code
		}
	}
	return ""
}

// first returns the system and code of the first coding that has a code.
func (c *CodeableConcept) first() (system, code string) {
	if c == nil {
		return "", ""
	}
	for _, cd := range c.Coding {
		if cd.Code != "" {
			return cd.System, cd.Code
		}
	}
	return "", ""
}

// Reference is a FHIR Reference.
type Reference struct {
	Reference string `json:"reference"`
	Display   string `json:"display"`
}

// ID returns the logical id a reference points at when it is of type typ:
// "Patient/123", "https://ehr/fhir/Patient/123" and "Patient/123/_history/2"
// all give "123". Other references (wrong type, urn:uuid, contained) give "".
func (r *Reference) ID(typ string) string {
	if r == nil || r.Reference == "" {
		return ""
	}
	s := r.Reference
	if i := strings.Index(s, "/_history/"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, "/")
	if len(parts) < 2 || parts[len(parts)-2] != typ {
		return ""
	}
	return parts[len(parts)-1]
}

// Quantity is a FHIR Quantity.
type Quantity struct {
	Value  *float64 `json:"value"`
	Unit   string   `json:"unit"`
	System string   `json:"system"`
	Code   string   `json:"code"`
}

// Days returns a duration quantity in days (UCUM d, wk, mo; or unit "day(s)").
func (q *Quantity) Days() (int32, bool) {
	if q == nil || q.Value == nil {
		return 0, false
	}
	v := *q.Value
	unit := q.Code
	if unit == "" {
		unit = strings.ToLower(strings.TrimSpace(q.Unit))
	}
	switch unit {
	case "d", "day", "days":
	case "wk", "week", "weeks":
		v *= 7
	case "mo", "month", "months":
		v *= 30
	default:
		return 0, false
	}
	if v < 0 || v > 3650 {
		return 0, false
	}
	return int32(v + 0.5), true
}

// Period is a FHIR Period.
type Period struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Extension is a FHIR Extension (the value types carelens reads).
type Extension struct {
	URL           string `json:"url"`
	ValueDateTime string `json:"valueDateTime"`
}

var errBadDate = errors.New("invalid date")

// ParseDateTime parses a FHIR date or dateTime ("2025", "2025-03",
// "2025-03-04", "2025-03-04T09:15:00Z", with offset or fraction) to UTC. A
// partial date gives its first instant. "" gives the zero time and no error.
func ParseDateTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	var layouts []string
	switch {
	case len(s) == 4:
		layouts = []string{"2006"}
	case len(s) == 7:
		layouts = []string{"2006-01"}
	case len(s) == 10:
		layouts = []string{"2006-01-02"}
	default:
		layouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05"}
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errBadDate
}
