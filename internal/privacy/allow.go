package privacy

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"strings"
)

// AllowRule lets a column hold a kind of finding that is legitimate there
// (code-system URLs in code_system columns, say). A finding it covers is
// reported as allowed, with the rule's reason, and does not fail the check.
type AllowRule struct {
	// Table and Column name the column; each may be a path.Match pattern
	// ("*", "*_code"). A table outside the main schema is "schema.table".
	Table, Column string
	// Type, when set, is a path.Match pattern the column's DuckDB type must
	// match ("BIGINT", "DECIMAL*").
	Type string
	// Kind is the kind allowed, or a path.Match pattern ("source_id:*").
	Kind Kind
	// Accept, when set, narrows the rule to the matches it accepts (the
	// matched text: a URL, an IP address, an id); it must not keep or log
	// them.
	Accept func(match string) bool
	// Reason says why the column may hold it; reports show it.
	Reason string
}

// covers reports whether r applies to the column (table, column, typ).
func (r *AllowRule) covers(table, column, typ string) bool {
	return globMatch(r.Table, table) && globMatch(r.Column, column) && (r.Type == "" || globMatch(r.Type, typ))
}

func (r *AllowRule) allows(k Kind, match []byte) bool {
	return globMatch(string(r.Kind), string(k)) && (r.Accept == nil || r.Accept(string(match)))
}

func globMatch(pattern, s string) bool {
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

func (r *AllowRule) validate() error {
	for _, p := range []string{r.Table, r.Column, r.Type, string(r.Kind)} {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("allow rule %s.%s %s: bad pattern %q", r.Table, r.Column, r.Kind, p)
		}
	}
	switch {
	case r.Table == "" || r.Column == "" || r.Kind == "":
		return fmt.Errorf("allow rule %q.%q %q: table, column and kind are required", r.Table, r.Column, r.Kind)
	case r.Reason == "":
		return fmt.Errorf("allow rule %s.%s %s: a reason is required", r.Table, r.Column, r.Kind)
	}
	return nil
}

// ParseAllowRule parses "table.column:kind=reason" (the reason optional:
// "configured"), the form a configuration file or flag gives; table, column
// and kind may be path.Match patterns.
func ParseAllowRule(s string) (AllowRule, error) {
	spec, reason, _ := strings.Cut(s, "=")
	col, kind, ok := strings.Cut(strings.TrimSpace(spec), ":")
	table, column, ok2 := strings.Cut(col, ".")
	if !ok || !ok2 {
		return AllowRule{}, fmt.Errorf("allow rule %q: want table.column:kind[=reason]", s)
	}
	r := AllowRule{Table: table, Column: column, Kind: Kind(kind), Reason: strings.TrimSpace(reason)}
	if r.Reason == "" {
		r.Reason = "configured"
	}
	return r, r.validate()
}

// codeSystemColumns hold code-system and value-set canonical URLs.
var codeSystemColumns = [][2]string{
	{"conditions", "code_system"},
	{"observations", "code_system"},
	{"procedures", "code_system"},
	{"care_plans", "category_system"},
	{"encounters", "type_system"},
	{"encounters", "discharge_system"},
	{"observations", "value_system"},
	{"device_requests", "code_system"},
	{"service_requests", "code_system"},
	{"value_sets", "url"},
	{"value_set_codes", "url"},
	{"value_set_codes", "system"},
}

// DefaultAllow returns the built-in rules Scan applies unless
// ScanOptions.NoDefaultAllow. serverHosts are the hosts (names or IP
// addresses, optionally with a port, or URLs) of the servers carelens is
// configured to talk to (the EHR's Bulk Data endpoint, the CRM's API, a
// terminology server).
//
//   - url in the code-system columns (conditions.code_system, …,
//     value_sets.url, value_set_codes.url and .system): canonical URLs of
//     terminologies and value sets (http://snomed.info/sct,
//     http://cts.nlm.nih.gov/fhir/ValueSet/…) name code systems, not people.
//   - url and ip in etl_runs.error and crm_sync.cursor, only for a
//     configured server: a failed run's error names the endpoint it could not
//     reach, and a REST pull's resume cursor may be the server's next-page
//     link. Any other URL or address there fails the check.
//   - url and ip in quarantine.file: a quarantined record's file is a path
//     or the URL of a Bulk Data output file (on the server or its storage).
//     Every other kind still fails: a file named after a patient is a leak.
//   - source_id:* in terminology code columns (*.code, *_code,
//     appointments.service_type), only when the matched id is all digits: a
//     numeric source id (an MRN) can coincide with a SNOMED, RxNorm or LOINC
//     code; a non-numeric id there still fails.
//   - source_id:* in numeric columns (integers, decimals, doubles), only when
//     the matched id is all digits: counts, durations, answers and lab values
//     coincide with numeric ids by chance.
func DefaultAllow(serverHosts ...string) []AllowRule {
	var rules []AllowRule
	for _, tc := range codeSystemColumns {
		rules = append(rules, AllowRule{Table: tc[0], Column: tc[1], Kind: KindURL,
			Reason: "canonical URL of a code system or value set, not of a person"})
	}
	hosts := hostSet(serverHosts)
	server := func(m string) bool { return hosts[matchHost(m)] }
	for _, tc := range [][2]string{{"etl_runs", "error"}, {"crm_sync", "cursor"}} {
		for _, k := range []Kind{KindURL, KindIP} {
			rules = append(rules, AllowRule{Table: tc[0], Column: tc[1], Kind: k, Accept: server,
				Reason: "address of a configured server"})
		}
	}
	for _, k := range []Kind{KindURL, KindIP} {
		rules = append(rules, AllowRule{Table: "quarantine", Column: "file", Kind: k,
			Reason: "location of a quarantined file (a path or a Bulk Data output URL)"})
	}
	for _, col := range []string{"code", "*_code", "service_type"} {
		rules = append(rules, AllowRule{Table: "*", Column: col, Kind: "source_id:*", Accept: allDigits,
			Reason: "terminology code; a numeric source id can coincide with one"})
	}
	for _, typ := range []string{"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
		"UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL*"} {
		rules = append(rules, AllowRule{Table: "*", Column: "*", Type: typ, Kind: "source_id:*", Accept: allDigits,
			Reason: "a number; a numeric source id can coincide with one"})
	}
	return rules
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// hostSet normalises configured hosts: "ehr.example.org", "10.0.0.5:443",
// "https://crm.example.org/api" all give their lower-case host name.
func hostSet(hosts []string) map[string]bool {
	set := map[string]bool{}
	for _, h := range hosts {
		if h = matchHost(strings.TrimSpace(h)); h != "" {
			set[h] = true
		}
	}
	return set
}

// matchHost returns the lower-case host of a URL, a host:port or a bare
// host or address.
func matchHost(s string) string {
	if strings.HasPrefix(strings.ToLower(s), "www.") {
		s = "http://" + s
	}
	if strings.Contains(s, "://") {
		if u, err := url.Parse(s); err == nil {
			return strings.ToLower(u.Hostname())
		}
		return ""
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		return strings.ToLower(h)
	}
	return strings.ToLower(strings.Trim(s, "[]"))
}
