package fhir

import (
	"errors"
	"time"
)

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
