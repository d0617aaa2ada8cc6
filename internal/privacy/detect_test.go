package privacy

import (
	"slices"
	"strings"
	"testing"
)

// detect runs every pattern detector on v (as a text column of the given
// name would) and returns the matches per kind.
func detect(v, columnName string) map[Kind][]string {
	out := map[Kind][]string{}
	b := []byte(v)
	if ssnColumnRe.MatchString(columnName) && bareSSN(b) {
		out[KindSSN] = append(out[KindSSN], v)
	}
	p := profileOf(b)
	for _, d := range patternDetectors {
		if d.want(&p) {
			d.find(b, func(m []byte) { out[d.kind] = append(out[d.kind], string(m)) })
		}
	}
	return out
}

// TestPatternsFound: each planted identifier is found as its kind, and the
// match is the identifier itself (not more, not less).
func TestPatternsFound(t *testing.T) {
	cases := []struct {
		value string
		kind  Kind
		match string
	}{
		{"123-45-6789", KindSSN, "123-45-6789"},
		{"SSN: 901-23-4567.", KindSSN, "901-23-4567"},
		{"ssn 123 45 6789", KindSSN, "123 45 6789"},
		{"(617) 555-0123", KindPhone, "(617) 555-0123"},
		{"(617)555-0123", KindPhone, "(617)555-0123"},
		{"617-555-0123", KindPhone, "617-555-0123"},
		{"617.555.0123", KindPhone, "617.555.0123"},
		{"call 617 555 0123 today", KindPhone, "617 555 0123"},
		{"+1 617 555 0123", KindPhone, "+1 617 555 0123"},
		{"+16175550123", KindPhone, "+16175550123"},
		{"+1-617-555-0123", KindPhone, "+1-617-555-0123"},
		{"1-800-555-0199", KindPhone, "1-800-555-0199"},
		{"jane.doe@example.com", KindEmail, "jane.doe@example.com"},
		{"write to canary.0000a@canary.invalid, thanks", KindEmail, "canary.0000a@canary.invalid"},
		{"MRN12345678", KindMRN, "MRN12345678"},
		{"mrn: 1234567", KindMRN, "mrn: 1234567"},
		{"MRN#00012345", KindMRN, "MRN#00012345"},
		{"patient_MRN 123456 seen", KindMRN, "MRN 123456"},
		{"http://example.org", KindURL, "http://example.org"},
		{"Tell us: https://survey.example.org/s/1001.", KindURL, "https://survey.example.org/s/1001"},
		{"www.example.com/path?q=1", KindURL, "www.example.com/path?q=1"},
		{"see HTTPS://EXAMPLE.ORG/x", KindURL, "HTTPS://EXAMPLE.ORG/x"},
		{"10.0.0.5", KindIP, "10.0.0.5"},
		{"dial tcp 192.168.1.20:443: refused", KindIP, "192.168.1.20"},
		{"2001:db8::8a2e:370:7334", KindIP, "2001:db8::8a2e:370:7334"},
		{"from [fe80::1ff:fe23:4567:890a]:80", KindIP, "fe80::1ff:fe23:4567:890a"},
		{"::ffff:10.1.2.3", KindIP, "::ffff:10.1.2.3"},
		{"12 Main St", KindStreet, "12 Main St"},
		{"4001 Harbor Street, Boston", KindStreet, "4001 Harbor Street"},
		{"77B Beacon Ave.", KindStreet, "77B Beacon Ave."},
		{"1 N Washington Blvd", KindStreet, "1 N Washington Blvd"},
		{"350 FIFTH AVENUE", KindStreet, "350 FIFTH AVENUE"},
		{"lives at 221 Baker Street Apt 4", KindStreet, "221 Baker Street"},
		{"9 ZcanaryS0000a St", KindStreet, "9 ZcanaryS0000a St"},
		{"10 Old Mill Pond Rd", KindStreet, "10 Old Mill Pond Rd"},
	}
	for _, c := range cases {
		got := detect(c.value, "note")
		if !slices.Contains(got[c.kind], c.match) {
			t.Errorf("%q: %s matches %q, want %q", c.value, c.kind, got[c.kind], c.match)
		}
	}
}

// TestBareSSNOnlyInSSNColumns: nine bare digits are an SSN only in a column
// named for one; elsewhere they are codes (SNOMED 195967001).
func TestBareSSNOnlyInSSNColumns(t *testing.T) {
	for _, col := range []string{"ssn", "patient_ssn", "social_security_number", "tax_id", "tin"} {
		if got := detect("123456789", col); len(got[KindSSN]) != 1 {
			t.Errorf("column %s: bare SSN not found (%v)", col, got)
		}
	}
	for _, col := range []string{"code", "type_code", "session", "tint", "lssn_x"} {
		if got := detect("123456789", col); len(got[KindSSN]) != 0 {
			t.Errorf("column %s: bare digits taken for an SSN", col)
		}
	}
	for _, v := range []string{"000123456", "666123456", "123006789", "123450000", "12345678", "1234567890"} {
		if got := detect(v, "ssn"); len(got[KindSSN]) != 0 {
			t.Errorf("%s taken for a valid SSN", v)
		}
	}
}

// safeValues are what the warehouse legitimately holds (look at a generated
// warehouse): none may match any pattern.
var safeValues = []string{
	// dates, times, numbers
	"2024-01-01", "2025-12-31", "2024-03-09 15:25:33", "2026-11-24 19:51:49.20779", "2024-03-09T15:25:33Z",
	"13:45:00", "72.0", "180.0", "-12.5", "1e+06", "14773", "0", "1999", "6175550123", "16175550123",
	// keys and ids
	"008df1bbd943ca337c7f789ebbb84436", "3a551f0ce99707fc", "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
	"20261124T195120Z-7c6dbc6264099906", "clinic-01", "payer-medicare", "CMP-FLU-2024", "CMP-APPT-SMS",
	"S-VISIT-1", "M12-3", "E1-22", "R104-1",
	// codes
	"4548-4", "85354-9", "8480-6", "44054006", "195967001", "433144002", "314076", "860975", "021", "000",
	"E11.9", "J45.909", "N18.30", "O36.90X0", "I10", "124", "mm[Hg]", "%", "185349003",
	// OIDs, URNs, versions
	"2.16.840.1.113883.3.464.1003.103.12.1001", "2.16.840.1.113883.3.526.3.1240", "urn:oid:2.16.840.1.113883.6.238",
	"1.3.6.1.4.1.19376.1.2", "1.617.555.0123.4", "3.0.0", "2.76", "2024-01", "20210218", "v1.2.3.4",
	// enums and names
	"appointment_reminder", "in-progress", "entered-in-error", "vital-signs", "opt_out",
	"Harbor Street Family Medicine", "North End Community Health Center", "Flu season 2024: get your flu shot",
	"Cancer screening outreach, ages 50-75", "Heart health: blood pressure, cholesterol, lifestyle",
	"24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet", "Hemoglobin A1c/Hemoglobin.total in Blood",
	"Take 2 pills each way", "Maternal care for fetal problem, unspecified, unspecified trimester",
	"malformed JSON", "wrong number of fields", "ehr/Observation.000.ndjson", "crm/messages.csv",
	// near misses
	"000-12-3456", "123-00-4567", "666-12-3456", "123-45-0000", "123-45 6789", "123-45-67890", "1123-45-6789",
	"123-456-7890", "617-155-0123", "617-555-01234", "617-5550123", "2024-555-0123",
	"user@localhost", "@home", "MRN", "MRN12", "XMRN12345", "httpclient", "wwwroot",
	"127.0.0.1", "::1", "::", "0.0.0.0", "1.2.3.4.5", "256.1.1.1", "01.02.03.04", "00:1a:2b:3c:4d:5e",
	"Type::Name", "std::vector", "12:30:45.123", "a::b",
}

func TestSafeValuesMatchNothing(t *testing.T) {
	for _, v := range safeValues {
		if got := detect(v, "value"); len(got) > 0 {
			t.Errorf("%q matches %v", v, got)
		}
	}
}

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"901-23-4567":              "9**-**-***7",
		"jane.doe@example.com":     "j***.***@*******.**m",
		"MRN":                      "***",
		"ab12":                     "****",
		"(617) 555-0123":           "(6**) ***-***3",
		"line\nbreak":              "l*** ****k",
		"José Müller":              "J*** *****r",
		strings.Repeat("a", 100):   "a" + strings.Repeat("*", 22) + "…" + strings.Repeat("*", 23) + "a",
		"https://e.org/" + "x/y/z": "h****://*.***/*/*/z",
	}
	for in, want := range cases {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRedactNeverRevealsValue: whatever the value, the example keeps at
// most two of its letters and digits, and never two adjacent ones.
func TestRedactNeverRevealsValue(t *testing.T) {
	values := append(slices.Clone(safeValues), "901-23-4567", "canary.00001@canary.invalid", "ZcanaryG00001",
		"MRN12345678", "192.168.1.20", "12 Main St", "x", "xy", "Ω≈ç√∫", "1234567890123456789012345678901234567890123456789012345678901234567890")
	for _, v := range values {
		r := redact(v)
		kept := 0
		prev := false
		for _, c := range r {
			isKept := c != '*' && (c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')
			if isKept {
				kept++
				if prev {
					t.Errorf("redact(%q) = %q keeps adjacent characters", v, r)
				}
			}
			prev = isKept
		}
		if kept > 2 {
			t.Errorf("redact(%q) = %q keeps %d characters", v, r, kept)
		}
		if len(v) > 4 && strings.Contains(r, v) {
			t.Errorf("redact(%q) = %q holds the value", v, r)
		}
	}
}
