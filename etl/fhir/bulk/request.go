package bulk

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Level is the scope of an export: which $export endpoint is kicked off.
type Level int

const (
	// System exports everything the client may see: [base]/$export.
	System Level = iota
	// Patient exports all patients' compartments: [base]/Patient/$export.
	Patient
	// Group exports one Group's members: [base]/Group/{GroupID}/$export.
	Group
)

func (l Level) String() string {
	switch l {
	case System:
		return "system"
	case Patient:
		return "patient"
	case Group:
		return "group"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// DefaultOutputFormat is the NDJSON format every Bulk Data server supports.
const DefaultOutputFormat = "application/fhir+ndjson"

// Request describes one export.
type Request struct {
	Level   Level
	GroupID string // required for Group, must be empty otherwise
	// Types become _type (comma-separated): only these resource types.
	// Empty means every type the server exports at this level.
	Types []string
	// Since becomes _since: only resources changed after it. For an
	// incremental export pass the previous manifest's TransactionTime.
	// Zero means a full export.
	Since time.Time
	// TypeFilters become one _typeFilter parameter each, as FHIR search
	// queries like "MedicationRequest?status=active" (a query may itself
	// contain commas, so they are repeated rather than joined).
	TypeFilters []string
	// OutputFormat becomes _outputFormat; empty leaves the server's default,
	// application/fhir+ndjson. Only NDJSON outputs get line and count checks.
	OutputFormat string
}

var (
	resourceType = regexp.MustCompile(`^[A-Z][A-Za-z]{0,63}$`)
	groupID      = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`) // FHIR id
)

// kickoffURL validates r and returns the $export URL with its parameters.
func (r Request) kickoffURL(base *url.URL) (string, error) {
	var p string
	switch r.Level {
	case System:
		p = "$export"
	case Patient:
		p = "Patient/$export"
	case Group:
		if !groupID.MatchString(r.GroupID) {
			return "", fmt.Errorf("%w: Group export needs a GroupID that is a FHIR id, got %q", ErrInvalidRequest, r.GroupID)
		}
		p = "Group/" + r.GroupID + "/$export"
	default:
		return "", fmt.Errorf("%w: unknown Level %d", ErrInvalidRequest, int(r.Level))
	}
	if r.Level != Group && r.GroupID != "" {
		return "", fmt.Errorf("%w: GroupID %q given for a %s export", ErrInvalidRequest, r.GroupID, r.Level)
	}
	q := url.Values{}
	for _, t := range r.Types {
		if !resourceType.MatchString(t) {
			return "", fmt.Errorf("%w: _type %q is not a resource type", ErrInvalidRequest, t)
		}
	}
	if len(r.Types) > 0 {
		q.Set("_type", strings.Join(r.Types, ","))
	}
	if !r.Since.IsZero() {
		q.Set("_since", r.Since.Format(time.RFC3339Nano))
	}
	for _, f := range r.TypeFilters {
		typ, query, ok := strings.Cut(f, "?")
		if !ok || !resourceType.MatchString(typ) || query == "" {
			return "", fmt.Errorf("%w: _typeFilter %q is not Type?query", ErrInvalidRequest, f)
		}
		q.Add("_typeFilter", f)
	}
	if r.OutputFormat != "" {
		q.Set("_outputFormat", r.OutputFormat)
	}
	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + p
	u.RawPath = ""
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// isNDJSON reports whether an output format names NDJSON.
func isNDJSON(format string) bool {
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "", "application/fhir+ndjson", "application/ndjson", "ndjson":
		return true
	}
	return false
}
