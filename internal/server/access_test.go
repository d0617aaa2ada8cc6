package server

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/carelens/carelens/internal/auth"
)

// keys are the test keys: one per role, plus a second analyst.
type keys struct {
	ring                  *auth.Keyring
	ops, alice, bob, sync string
}

func newKeys(t *testing.T) keys {
	t.Helper()
	var f auth.KeyFile
	var k keys
	for _, x := range []struct {
		name string
		role auth.Role
		key  *string
	}{
		{"ops", auth.RoleAdmin, &k.ops}, {"alice", auth.RoleAnalyst, &k.alice},
		{"bob", auth.RoleAnalyst, &k.bob}, {"crm-sync", auth.RoleCRM, &k.sync},
	} {
		key, e, err := auth.NewKey(x.name, x.role)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Add(e); err != nil {
			t.Fatal(err)
		}
		*x.key = key
	}
	ring, err := auth.NewKeyring(f)
	if err != nil {
		t.Fatal(err)
	}
	k.ring = ring
	return k
}

func bearer(key string) []string { return []string{"Authorization", "Bearer " + key} }

// auditRecord is one call of fakeAuditor.Record.
type auditRecord struct {
	Actor, Action string
	Details       map[string]any
}

// fakeAuditor keeps what it is asked to record; fail makes Record fail.
type fakeAuditor struct {
	mu      sync.Mutex
	records []auditRecord
	fail    bool
}

func (f *fakeAuditor) Record(_ context.Context, actor, action string, details map[string]any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("audit log: disk full")
	}
	f.records = append(f.records, auditRecord{actor, action, details})
	return nil
}

func (f *fakeAuditor) take() []auditRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.records
	f.records = nil
	return r
}

const unauthorized = `{"error":"authentication required: send a valid API key as \"Authorization: Bearer KEY\""}`

func TestAuthentication(t *testing.T) {
	k := newKeys(t)
	e := newEnv(t, true, Options{Keys: k.ring, Dashboards: &fakeDashboards{}})
	if e.startup != "" {
		t.Errorf("New logged with keys configured: %s", e.startup)
	}
	metric := "/api/v1/metrics/no_show_rate?from=2025-01-01&to=2025-03-31&by="
	tests := []struct {
		name   string
		target string
		header []string
		status int
		body   string // exact JSON when set
	}{
		{"healthz is open", "/healthz", nil, 200, ""},
		{"static assets are open", "/static/js/echarts.min.js", nil, 200, ""},
		{"list without a key", "/api/v1/metrics", nil, 401, unauthorized},
		{"metric without a key", metric, nil, 401, unauthorized},
		{"unknown key", metric, bearer("x" + k.alice), 401, unauthorized},
		{"key with the Basic scheme", metric, []string{"Authorization", "Basic " + k.alice}, 401, unauthorized},
		{"stored hash instead of the key", metric, bearer(auth.HashKey(k.alice)), 401, unauthorized},
		{"unknown API path without a key hides the route table", "/api/v1/nothing", nil, 401, unauthorized},
		{"unknown API path with a key", "/api/v1/nothing", bearer(k.alice), 404, `{"error":"Not Found"}`},
		{"dashboard without a key", "/", nil, 401, unauthorized},
		{"named dashboard without a key", "/dashboards/appointments", nil, 401, unauthorized},
		{"dashboard with a key", "/", bearer(k.bob), 200, ""},
		{"analyst", metric, bearer(k.alice), 200, ""},
		{"admin", metric, bearer(k.ops), 200, ""},
		{"crm", metric, bearer(k.sync), 200, ""},
		{"list with a key", "/api/v1/metrics", bearer(k.sync), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, hdr, body := e.get(t, tt.target, tt.header...)
			if code != tt.status {
				t.Fatalf("= %d %s, want %d", code, body, tt.status)
			}
			if tt.body != "" && compact(t, body) != tt.body {
				t.Errorf("body %s, want %s", body, tt.body)
			}
			if code == 401 && hdr.Get("WWW-Authenticate") != `Bearer realm="carelens"` {
				t.Errorf("WWW-Authenticate = %q", hdr.Get("WWW-Authenticate"))
			}
		})
	}
	// A browser gets the 401 as a page.
	code, hdr, body := e.get(t, "/", "Accept", "text/html")
	if code != 401 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !strings.Contains(body, "authentication required") {
		t.Errorf("browser without a key = %d %s %s", code, hdr.Get("Content-Type"), body)
	}
	// Request logs name the principal, never a key; 401s are not failures.
	logs := e.logs.String()
	for _, key := range []string{k.ops, k.alice, k.bob, k.sync} {
		if strings.Contains(logs, key) {
			t.Fatal("a key reached the log")
		}
	}
	if !strings.Contains(logs, `"principal":"crm-sync"`) || strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("logs:\n%s", logs)
	}
}

func TestOpenMode(t *testing.T) {
	audit := &fakeAuditor{}
	e := newEnv(t, true, Options{Auditor: audit})
	if !strings.Contains(e.startup, `"level":"WARN"`) || !strings.Contains(e.startup, "open mode") {
		t.Errorf("open mode was not announced: %q", e.startup)
	}
	// Any Authorization header is ignored: everyone is the analyst
	// "anonymous", guarded like any analyst.
	for _, h := range [][]string{nil, bearer("whatever")} {
		if code, _, body := e.get(t, "/api/v1/metrics/no_show_rate?from=2025-03-01&to=2025-03-31&by=", h...); code != 200 {
			t.Fatalf("open mode = %d %s", code, body)
		}
	}
	code, _, _ := e.get(t, "/api/v1/metrics/no_show_rate?from=2025-03-04&to=2025-03-31&by=")
	recs := audit.take()
	if code != 403 || len(recs) != 1 || recs[0].Actor != "anonymous" || recs[0].Details["role"] != "analyst" {
		t.Errorf("anonymous differencing = %d, audit %+v", code, recs)
	}
	if !strings.Contains(e.logs.String(), `"principal":"anonymous"`) {
		t.Errorf("request log lacks the principal:\n%s", e.logs)
	}
}

// In the fixture, clinic-01's 2 March no-shows fall on 2025-03-03: the March
// total (27/81) minus the total from March 4 (25/79) is 2 and 2.
const (
	march        = "/api/v1/metrics/no_show_rate?from=2025-03-01&to=2025-03-31&by="
	fromMarch4   = "/api/v1/metrics/no_show_rate?from=2025-03-04&to=2025-03-31&by="
	guardRefusal = `{"error":"refused: together with a result of no_show_rate you received earlier (a period overlap), ` +
		`this one would reveal a count below 11 by subtraction; ask for periods and filters that do not contain one another, ` +
		`or ask an administrator"}`
)

func TestQueryGuard(t *testing.T) {
	k := newKeys(t)
	audit := &fakeAuditor{}
	e := newEnv(t, true, Options{Keys: k.ring, Auditor: audit})

	if code, _, body := e.get(t, march, bearer(k.alice)...); code != 200 {
		t.Fatalf("first query = %d %s", code, body)
	}
	code, _, body := e.get(t, fromMarch4, bearer(k.alice)...)
	if code != 403 || compact(t, body) != guardRefusal {
		t.Fatalf("differencing query = %d %s, want 403 %s", code, body, guardRefusal)
	}
	recs := audit.take()
	if len(recs) != 1 {
		t.Fatalf("audit records %+v, want 1", recs)
	}
	wantDetails := map[string]any{
		"role": "analyst", "metric": "no_show_rate", "overlap": "period", "measure": "denominator",
		"grain": "none", "earlier_grain": "none", "by": []string{}, "filters": []string{}, "earlier_filters": []string{},
	}
	got := recs[0]
	at, _ := got.Details["earlier_at"].(string)
	delete(got.Details, "earlier_at")
	if got.Actor != "alice" || got.Action != ActionGuardRefused || !reflect.DeepEqual(got.Details, wantDetails) || len(at) != len("2006-01-02T15:04:05Z") {
		t.Errorf("audit record %+v (earlier_at %q), want alice %s %v", got, at, ActionGuardRefused, wantDetails)
	}
	// The refusal holds no counts: 27/81 and 25/79 appear nowhere. Request
	// durations are left out of the search: a request can take 27 ms.
	logs := durationRE.ReplaceAllString(e.logs.String(), `"duration_ms":0`)
	for _, n := range []string{"27", "81", "25", "79"} {
		if strings.Contains(body, n) || strings.Contains(logs, ":"+n) {
			t.Errorf("%s leaked into the refusal or the logs", n)
		}
	}
	if !strings.Contains(e.logs.String(), `"msg":"query guard"`) || strings.Contains(e.logs.String(), `"level":"ERROR"`) {
		t.Errorf("logs:\n%s", e.logs)
	}
	// The CSV form is guarded the same way.
	if code, _, _ := e.get(t, fromMarch4, append(bearer(k.alice), "Accept", "text/csv")...); code != 403 {
		t.Errorf("CSV differencing query = %d, want 403", code)
	}
	audit.take()

	// Bob's history is his own.
	if code, _, _ := e.get(t, fromMarch4, bearer(k.bob)...); code != 200 {
		t.Errorf("bob refused because of alice: %d", code)
	}
	if code, _, _ := e.get(t, march, bearer(k.bob)...); code != 403 {
		t.Errorf("bob's own differencing = %d, want 403", code)
	}
	// The CRM role is guarded too.
	e.get(t, march, bearer(k.sync)...)
	if code, _, _ := e.get(t, fromMarch4, bearer(k.sync)...); code != 403 {
		t.Errorf("crm differencing = %d, want 403", code)
	}
	audit.take()

	// An admin gets the result, and the event is audited.
	e.get(t, march, bearer(k.ops)...)
	code, _, body = e.get(t, fromMarch4, bearer(k.ops)...)
	recs = audit.take()
	if code != 200 || !strings.Contains(body, `"numerator":25,"denominator":79`) {
		t.Errorf("admin = %d %s, want 200 with the result", code, body)
	}
	if len(recs) != 1 || recs[0].Actor != "ops" || recs[0].Action != ActionGuardExempted || recs[0].Details["role"] != "admin" {
		t.Errorf("admin audit %+v", recs)
	}
}

func TestQueryGuardAuditFailure(t *testing.T) {
	k := newKeys(t)
	audit := &fakeAuditor{fail: true}
	e := newEnv(t, true, Options{Keys: k.ring, Auditor: audit})
	// A refusal stands when the audit write fails; the failure is logged.
	e.get(t, march, bearer(k.alice)...)
	if code, _, body := e.get(t, fromMarch4, bearer(k.alice)...); code != 403 || compact(t, body) != guardRefusal {
		t.Errorf("refusal with a failing audit = %d %s", code, body)
	}
	if !strings.Contains(e.logs.String(), `"msg":"audit record failed"`) {
		t.Errorf("audit failure not logged:\n%s", e.logs)
	}
	// An admin override is not returned without its audit record.
	e.get(t, march, bearer(k.ops)...)
	if code, _, body := e.get(t, fromMarch4, bearer(k.ops)...); code != 500 || compact(t, body) != `{"error":"internal error"}` {
		t.Errorf("unaudited admin override = %d %s, want 500", code, body)
	}
}

func TestRequirePermission(t *testing.T) {
	s := &server{}
	ec := echo.New()
	for _, tt := range []struct {
		principal *auth.Principal
		want      error
	}{
		{&auth.Principal{Name: "x", Role: auth.RoleCRM}, nil},
		{&auth.Principal{Name: "x", Role: "auditor"}, errForbidden},
		{nil, auth.ErrUnauthenticated},
	} {
		c := ec.NewContext(httptest.NewRequest("GET", "/api/v1/metrics", nil), httptest.NewRecorder())
		if tt.principal != nil {
			c.Set(principalKey, *tt.principal)
		}
		err := s.require(auth.ReadAggregates)(func(echo.Context) error { return nil })(c)
		if (tt.want == nil && err != nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%v: require = %v, want %v", tt.principal, err, tt.want)
		}
		if status, _ := classify(err); err != nil && tt.want == errForbidden && status != 403 {
			t.Errorf("forbidden maps to %d", status)
		}
	}
}

func TestMetricCSV(t *testing.T) {
	e := newEnv(t, true, Options{})
	tests := []struct {
		name, target, want string
	}{
		{
			name:   "month x clinic with suppression",
			target: "/api/v1/metrics/no_show_rate?from=2025-01-01&to=2025-02-28&by=month,clinic",
			want: `period,clinic,numerator,denominator,value,suppressed
2025-01,clinic-01,,30,,true
2025-01,clinic-02,,30,,true
2025-01,clinic-03,15,40,0.375,false
2025-02,clinic-01,,25,,true
2025-02,clinic-02,,25,,true
2025-02,clinic-03,0,30,0,false
`,
		},
		{
			name:   "a small denominator hides the whole cell",
			target: "/api/v1/metrics/no_show_rate?from=2025-03-01&to=2025-03-31&by=clinic",
			want: `clinic,numerator,denominator,value,suppressed
clinic-01,,,,true
clinic-02,,,,true
clinic-03,12,48,0.25,false
`,
		},
		{
			name:   "filtered: suppressed rows are kept",
			target: "/api/v1/metrics/no_show_rate?from=2025-01-01&to=2025-02-28&clinic=clinic-02",
			want: `period,clinic,numerator,denominator,value,suppressed
2025-01,clinic-02,,30,,true
2025-02,clinic-02,,25,,true
`,
		},
		{
			name:   "no grouping",
			target: "/api/v1/metrics/no_show_rate?from=2025-01-01&to=2025-03-31&by=",
			want: `numerator,denominator,value,suppressed
72,261,0.27586206896551724,false
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, hdr, body := e.get(t, tt.target, "Accept", "text/csv")
			if code != 200 || body != tt.want {
				t.Fatalf("= %d\n%s\nwant\n%s", code, body, tt.want)
			}
			if ct := hdr.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if cd := hdr.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="no_show_rate_20`) {
				t.Errorf("Content-Disposition = %q", cd)
			}
			if hdr.Get("Vary") != "Accept" || hdr.Get("Carelens-Suppression-Threshold") != "11" || hdr.Get("Carelens-Snapshot-Id") != "1" {
				t.Errorf("headers %v", hdr)
			}
			// The JSON answer to the same request has the same cells, the
			// same suppressions, in the same order.
			code, _, js := e.get(t, tt.target)
			if code != 200 {
				t.Fatal(code, js)
			}
			var r struct {
				By   []string
				Rows []map[string]any
			}
			if err := json.Unmarshal([]byte(js), &r); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs)-1 != len(r.Rows) {
				t.Fatalf("%d CSV rows, %d JSON rows", len(recs)-1, len(r.Rows))
			}
			for i, row := range r.Rows {
				for j, col := range recs[0] {
					if col == "period" && !reflect.DeepEqual(r.By[0:1], []string{"month"}) {
						t.Fatalf("period column without a month grain: %v", r.By)
					}
					var want string
					switch v := row[col].(type) {
					case nil:
					case bool:
						want = map[bool]string{true: "true", false: "false"}[v]
					case float64:
						b, _ := json.Marshal(v)
						want = string(b)
					case string:
						want = v
					}
					if recs[i+1][j] != want {
						t.Errorf("row %d %s: CSV %q, JSON %v", i, col, recs[i+1][j], row[col])
					}
				}
			}
		})
	}
}

func TestWantsCSV(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                        false,
		"*/*":                     false,
		"application/json":        false,
		"text/csv":                true,
		"text/csv; charset=utf-8": true,
		"text/*":                  true,
		"text/html,application/xhtml+xml,*/*;q=0.8": false,
		"application/json, text/csv":                false,
		"application/json;q=0.5, text/csv":          true,
		"text/csv;q=0.5, application/json":          false,
		"text/csv;q=0, */*":                         false,
		"text/*;q=0.9, text/csv;q=0.1, */*;q=0.5":   false,
		"text/csv;q=bogus":                          false,
	} {
		if got := wantsCSV(accept); got != want {
			t.Errorf("wantsCSV(%q) = %v, want %v", accept, got, want)
		}
	}
}

func TestCSVFormulaCells(t *testing.T) {
	for in, want := range map[string]string{
		"clinic-01": "clinic-01", "=HYPERLINK(1)": "'=HYPERLINK(1)", "+1": "'+1", "-1": "'-1", "@x": "'@x", "": "",
	} {
		if got := cellText(in); got != want {
			t.Errorf("cellText(%q) = %q, want %q", in, got, want)
		}
	}
}

// durationRE matches a request log line's duration.
var durationRE = regexp.MustCompile(`"duration_ms":[0-9.]+`)
