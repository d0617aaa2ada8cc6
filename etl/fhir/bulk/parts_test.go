package bulk

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carelens/carelens/internal/httpx"
)

func TestParsePercent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want float64
	}{
		{"50%", 50},
		{"23.0% complete", 23},
		{"Processing: 7.5 %", 7.5},
		{"3 of 12 resource types", 25},
		{"batch 2/8", 25},
		{"120%", 100},
		{"in progress", -1},
		{"", -1},
		{"0 of 0", -1},
	}
	for _, tc := range cases {
		if got := parsePercent(tc.in); got != tc.want {
			t.Errorf("parsePercent(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	c := &Client{pollMin: 10 * time.Millisecond, pollMax: 200 * time.Millisecond}
	for n := range 12 {
		ceil := min(c.pollMin<<n, c.pollMax)
		for range 50 {
			d := c.backoff(n)
			if d < c.pollMin || d > ceil {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, c.pollMin, ceil)
			}
		}
	}
	// Late waits are spread over most of the range (jitter), not pinned.
	lo, hi := c.pollMax, time.Duration(0)
	for range 200 {
		d := c.backoff(10)
		lo, hi = min(lo, d), max(hi, d)
	}
	if hi-lo < c.pollMax/2 {
		t.Errorf("backoff(10) spread [%v, %v]: no jitter", lo, hi)
	}
	fixed := &Client{pollMin: time.Second, pollMax: time.Second}
	if d := fixed.backoff(5); d != time.Second {
		t.Errorf("PollMin = PollMax: backoff %v", d)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		opt     Options
		wantErr string // "" means valid
	}{
		{"minimal", Options{BaseURL: "https://ehr.example.org/fhir"}, ""},
		{"no base", Options{}, "BaseURL is empty"},
		{"relative base", Options{BaseURL: "/fhir"}, "not an absolute http(s) URL"},
		{"ftp base", Options{BaseURL: "ftp://x/fhir"}, "not an absolute http(s) URL"},
		{"credentials in base", Options{BaseURL: "https://u:p@x/fhir"}, "credentials"},
		{"PollMin above PollMax", Options{BaseURL: "https://x", PollMin: time.Minute, PollMax: time.Second}, "PollMin"},
		{"negative Timeout", Options{BaseURL: "https://x", Timeout: -1}, "Timeout"},
		{"negative Concurrency", Options{BaseURL: "https://x", Concurrency: -1}, "Concurrency"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.opt)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.pollMin != DefaultPollMin || c.pollMax != DefaultPollMax || c.maxRetries != DefaultMaxRetries || c.concurrency != DefaultConcurrency {
					t.Errorf("defaults not applied: %+v", c)
				}
				return
			}
			if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want ErrInvalidOptions naming %q", err, tc.wantErr)
			}
		})
	}
	c, _ := New(Options{BaseURL: "https://x", MaxRetries: -1})
	if c.maxRetries != 0 {
		t.Errorf("MaxRetries -1 gave %d retries", c.maxRetries)
	}
}

func TestKickoffURL(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("https://ehr.example.org/fhir/")
	since := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name    string
		req     Request
		want    string
		wantErr bool
	}{
		{"system", Request{}, "https://ehr.example.org/fhir/$export", false},
		{"patient", Request{Level: Patient, Types: []string{"Patient"}}, "https://ehr.example.org/fhir/Patient/$export?_type=Patient", false},
		{"group with since", Request{Level: Group, GroupID: "diabetes-2025", Since: since},
			"https://ehr.example.org/fhir/Group/diabetes-2025/$export?_since=2025-01-02T03%3A04%3A05Z", false},
		{"type filters repeat", Request{TypeFilters: []string{"Condition?clinical-status=active", "Observation?code=a,b"}},
			"https://ehr.example.org/fhir/$export?_typeFilter=Condition%3Fclinical-status%3Dactive&_typeFilter=Observation%3Fcode%3Da%2Cb", false},
		{"group without id", Request{Level: Group}, "", true},
		{"group id with a slash", Request{Level: Group, GroupID: "a/b"}, "", true},
		{"group id on system level", Request{GroupID: "g"}, "", true},
		{"bad type", Request{Types: []string{"patient"}}, "", true},
		{"type filter without query", Request{TypeFilters: []string{"Observation"}}, "", true},
		{"unknown level", Request{Level: 7}, "", true},
	}
	for _, tc := range cases {
		got, err := tc.req.kickoffURL(base)
		if tc.wantErr {
			if !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("%s: error %v, want ErrInvalidRequest", tc.name, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

func TestLineCounter(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		writes    []string
		lines     int64
		lineStart int64
		endsNL    bool
	}{
		{"empty", nil, 0, 0, false},
		{"two lines", []string{"{}\n{}\n"}, 2, 6, true},
		{"unterminated last line", []string{"{}\n{\"a\":"}, 2, 3, false},
		{"blank lines skipped", []string{"{}\n\n  \r\n{}\r\n"}, 2, 12, true},
		{"split across writes", []string{"{\"a\"", ":1}\n{", "}"}, 2, 8, false},
		{"trailing blank", []string{"{}\n   "}, 1, 3, false},
	}
	for _, tc := range cases {
		var sb strings.Builder
		lc := &lineCounter{w: &sb}
		for _, w := range tc.writes {
			lc.Write([]byte(w))
		}
		if lc.finalLines() != tc.lines || lc.lineStart != tc.lineStart || lc.endsNewline() != tc.endsNL {
			t.Errorf("%s: lines %d start %d endsNL %v; want %d %d %v", tc.name,
				lc.finalLines(), lc.lineStart, lc.endsNewline(), tc.lines, tc.lineStart, tc.endsNL)
		}
		if sb.String() != strings.Join(tc.writes, "") {
			t.Errorf("%s: passed through %q", tc.name, sb.String())
		}
	}
}

func TestOriginAndRedact(t *testing.T) {
	t.Parallel()
	same := [][2]string{
		{"http://h/fhir", "http://h:80/files/x"},
		{"https://h/fhir", "https://h:443/x?sig=1"},
	}
	differ := [][2]string{
		{"https://h/fhir", "http://h/fhir"},
		{"https://h/fhir", "https://h:8443/fhir"},
		{"https://h/fhir", "https://files.h/fhir"},
	}
	for _, p := range same {
		a, _ := url.Parse(p[0])
		b, _ := url.Parse(p[1])
		if httpx.Origin(a) != httpx.Origin(b) {
			t.Errorf("%s and %s should be one origin", p[0], p[1])
		}
	}
	for _, p := range differ {
		a, _ := url.Parse(p[0])
		b, _ := url.Parse(p[1])
		if httpx.Origin(a) == httpx.Origin(b) {
			t.Errorf("%s and %s should be different origins", p[0], p[1])
		}
	}
	if got := redact("https://user:pw@bucket.example/out/p.ndjson?X-Amz-Signature=abc#f"); got != "https://bucket.example/out/p.ndjson" {
		t.Errorf("redact = %q", got)
	}
}

func TestReadOutcome(t *testing.T) {
	t.Parallel()
	cases := []struct {
		body      string
		text      string
		transient bool
		isOO      bool
	}{
		{`{"resourceType":"OperationOutcome","issue":[{"code":"transient","diagnostics":"retry later"}]}`, "retry later", true, true},
		{`{"resourceType":"OperationOutcome","issue":[{"code":"transient"},{"code":"exception","details":{"text":"boom"},"diagnostics":"stack"}]}`, "transient; boom (stack)", false, true},
		{`{"resourceType":"Patient"}`, "", false, false},
		{`<html>oops</html>`, "", false, false},
	}
	for _, tc := range cases {
		text, transient, isOO := readOutcome(strings.NewReader(tc.body))
		if text != tc.text || transient != tc.transient || isOO != tc.isOO {
			t.Errorf("readOutcome(%s) = %q %v %v", tc.body, text, transient, isOO)
		}
	}
}
