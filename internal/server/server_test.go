package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/carelens/carelens/dashboards"
	"github.com/carelens/carelens/internal/store"
	"github.com/carelens/carelens/metrics"
)

// env is a server over a real in-memory warehouse.
type env struct {
	db      *store.DB
	handler http.Handler
	// startup holds what New logged; logs what was logged since.
	startup string
	logs    *bytes.Buffer
}

// newEnv opens a warehouse, applies the fixture when withData, commits
// snapshot 1 when withData, loads the shipped metrics and builds the server.
func newEnv(t *testing.T, withData bool, opts Options, configure ...func(*Options)) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if withData {
		b, err := os.ReadFile("testdata/fixture.sql")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, string(b)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO etl_runs VALUES
			('run-1', 1, 'files', 'succeeded', 'limited', now(), now(), 0, 0, 0, 0, NULL, TIMESTAMP '2025-03-31 23:59:59', NULL, NULL);
			INSERT INTO etl_run_counts VALUES ('run-1', 'ehr', 'Appointment', 0, 0, 0, 0)`); err != nil {
			t.Fatal(err)
		}
	}
	reg, errs := metrics.Load(ctx, metrics.Builtin, db)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	logs := &bytes.Buffer{}
	if opts.Metrics == nil {
		opts.Metrics = metrics.NewEngine(db, reg, metrics.EngineOptions{})
	}
	opts.Health = db
	// No times: the tests look for leaked numbers in the logs.
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	if opts.Version == "" {
		opts.Version = "test"
	}
	for _, c := range configure {
		c(&opts)
	}
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	startup := logs.String()
	logs.Reset()
	return &env{db: db, handler: h, startup: startup, logs: logs}
}

func (e *env) get(t *testing.T, target string, header ...string) (int, http.Header, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec.Code, rec.Header(), rec.Body.String()
}

// compact re-encodes JSON without white space so literals in tests can be
// written readably.
func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("invalid JSON %q: %v", s, err)
	}
	return b.String()
}

func TestMetricGet(t *testing.T) {
	e := newEnv(t, true, Options{})
	tests := []struct {
		name   string
		target string
		want   string
	}{
		{
			// Hand-computed from testdata/fixture.sql: only clinic-03's
			// cells are whole; clinic-01's small numerators and their
			// complements at clinic-02 are null with their denominators.
			name:   "month x clinic with suppression",
			target: "/api/v1/metrics/no_show_rate?from=2025-01-01&to=2025-02-28&by=month,clinic",
			want: `{"metric":"no_show_rate","title":"Appointment no-show rate","unit":"ratio","kind":"ratio",
				"direction":"lower_is_better","target":0.1,"version":1,"snapshot_id":1,
				"from":"2025-01-01","to":"2025-02-28","by":["month","clinic"],"suppression":{"threshold":11},
				"rows":[
				{"period":"2025-01","clinic":"clinic-01","numerator":null,"denominator":30,"value":null,"suppressed":true},
				{"period":"2025-01","clinic":"clinic-02","numerator":null,"denominator":30,"value":null,"suppressed":true},
				{"period":"2025-01","clinic":"clinic-03","numerator":15,"denominator":40,"value":0.375,"suppressed":false},
				{"period":"2025-02","clinic":"clinic-01","numerator":null,"denominator":25,"value":null,"suppressed":true},
				{"period":"2025-02","clinic":"clinic-02","numerator":null,"denominator":25,"value":null,"suppressed":true},
				{"period":"2025-02","clinic":"clinic-03","numerator":0,"denominator":30,"value":0,"suppressed":false}]}`,
		},
		{
			// March is the last full month of data: the range is
			// 2024-04-01..2025-03-31, grouped by the metric's grain.
			name:   "defaults: last 12 full months by month",
			target: "/api/v1/metrics/no_show_rate",
			want: `{"metric":"no_show_rate","title":"Appointment no-show rate","unit":"ratio","kind":"ratio",
				"direction":"lower_is_better","target":0.1,"version":1,"snapshot_id":1,
				"from":"2024-04-01","to":"2025-03-31","by":["month"],"suppression":{"threshold":11},
				"rows":[
				{"period":"2025-01","numerator":30,"denominator":100,"value":0.3,"suppressed":false},
				{"period":"2025-02","numerator":15,"denominator":80,"value":0.1875,"suppressed":false},
				{"period":"2025-03","numerator":27,"denominator":81,"value":0.3333333333333333,"suppressed":false}]}`,
		},
		{
			// clinic-01's 7 March appointments hide the whole cell;
			// clinic-02 is hidden with it so the March total (27/81) does
			// not give it away.
			name:   "a small denominator hides the whole cell",
			target: "/api/v1/metrics/no_show_rate?from=2025-03-01&to=2025-03-31&by=month,clinic",
			want: `{"metric":"no_show_rate","title":"Appointment no-show rate","unit":"ratio","kind":"ratio",
				"direction":"lower_is_better","target":0.1,"version":1,"snapshot_id":1,
				"from":"2025-03-01","to":"2025-03-31","by":["month","clinic"],"suppression":{"threshold":11},
				"rows":[
				{"period":"2025-03","clinic":"clinic-01","numerator":null,"denominator":null,"value":null,"suppressed":true},
				{"period":"2025-03","clinic":"clinic-02","numerator":null,"denominator":null,"value":null,"suppressed":true},
				{"period":"2025-03","clinic":"clinic-03","numerator":12,"denominator":48,"value":0.25,"suppressed":false}]}`,
		},
		{
			// A filter returns the filtered rows of the protected
			// month x clinic table.
			name:   "filter by clinic",
			target: "/api/v1/metrics/no_show_rate?from=2025-01-01&to=2025-02-28&clinic=clinic-02",
			want: `{"metric":"no_show_rate","title":"Appointment no-show rate","unit":"ratio","kind":"ratio",
				"direction":"lower_is_better","target":0.1,"version":1,"snapshot_id":1,
				"from":"2025-01-01","to":"2025-02-28","by":["month","clinic"],"filters":{"clinic":"clinic-02"},
				"suppression":{"threshold":11},
				"rows":[
				{"period":"2025-01","clinic":"clinic-02","numerator":null,"denominator":30,"value":null,"suppressed":true},
				{"period":"2025-02","clinic":"clinic-02","numerator":null,"denominator":25,"value":null,"suppressed":true}]}`,
		},
		{
			name:   "empty by: one overall row",
			target: "/api/v1/metrics/no_show_rate?from=2025-01-01&to=2025-03-31&by=",
			want: `{"metric":"no_show_rate","title":"Appointment no-show rate","unit":"ratio","kind":"ratio",
				"direction":"lower_is_better","target":0.1,"version":1,"snapshot_id":1,
				"from":"2025-01-01","to":"2025-03-31","by":[],"suppression":{"threshold":11},
				"rows":[{"numerator":72,"denominator":261,"value":0.27586206896551724,"suppressed":false}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, hdr, body := e.get(t, tt.target)
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
			if got, want := compact(t, body), compact(t, tt.want); got != want {
				t.Errorf("body:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestSuppressionThresholdOption(t *testing.T) {
	// With threshold 5, March's 2 no-shows out of 7 are still hidden, but
	// the 7 appointments may show.
	e := newEnv(t, true, Options{SuppressionThreshold: 5})
	code, _, body := e.get(t, "/api/v1/metrics/no_show_rate?from=2025-03-01&to=2025-03-31&by=clinic")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var r struct {
		Suppression struct{ Threshold int }
		Rows        []map[string]any
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	if r.Suppression.Threshold != 5 || r.Rows[0]["denominator"] != 7.0 || r.Rows[0]["numerator"] != nil {
		t.Errorf("threshold %d, first row %v", r.Suppression.Threshold, r.Rows[0])
	}
	if _, err := New(Options{Metrics: failing{}, Health: e.db, SuppressionThreshold: -1}); err == nil {
		t.Error("New accepted a negative threshold")
	}
}

func TestErrors(t *testing.T) {
	e := newEnv(t, true, Options{})
	tests := []struct {
		target string
		status int
		want   string
	}{
		{"/api/v1/metrics/no_show_rate?from=2025-13-01", 400, `{"error":"from \"2025-13-01\": want a date as YYYY-MM-DD"}`},
		{"/api/v1/metrics/no_show_rate?from=2025-03-01&to=2025-02-01", 400, `{"error":"from 2025-03-01 is after to 2025-02-01"}`},
		{"/api/v1/metrics/no_show_rate?by=month,region", 400,
			`{"error":"no_show_rate has no dimension \"region\"; its dimensions are: clinic, age_band, sex, payer"}`},
		{"/api/v1/metrics/no_show_rate?by=month,year", 400, `{"error":"by \"month,year\" names more than one period grain"}`},
		{"/api/v1/metrics/no_show_rate?form=2025-01-01", 400,
			`{"error":"no_show_rate has no dimension \"form\"; its dimensions are: clinic, age_band, sex, payer"}`},
		{"/api/v1/metrics/no_show_rate?clinic=a&clinic=b", 400, `{"error":"parameter clinic is given 2 times"}`},
		{"/api/v1/metrics/no_show_rate?clinic=", 400, `{"error":"filter clinic has an empty value"}`},
		{"/api/v1/metrics/nope", 404, `{"error":"no metric named \"nope\""}`},
		{"/api/v1/nothing", 404, `{"error":"Not Found"}`},
	}
	for _, tt := range tests {
		code, _, body := e.get(t, tt.target)
		if code != tt.status || compact(t, body) != tt.want {
			t.Errorf("GET %s = %d %s, want %d %s", tt.target, code, strings.TrimSpace(body), tt.status, tt.want)
		}
	}
	if strings.Contains(e.logs.String(), `"level":"ERROR"`) {
		t.Errorf("client errors were logged as failures:\n%s", e.logs)
	}
}

func TestUnavailableBeforeFirstLoad(t *testing.T) {
	e := newEnv(t, false, Options{})
	code, _, body := e.get(t, "/api/v1/metrics/no_show_rate")
	if want := `{"error":"no data loaded yet: run 'carelens etl run'"}`; code != 503 || compact(t, body) != want {
		t.Errorf("metric before any load = %d %s, want 503 %s", code, body, want)
	}
	schema, err := e.db.SchemaVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	code, _, body = e.get(t, "/healthz")
	want := fmt.Sprintf(`{"status":"unavailable","schema_version":%d,"version":"test","reason":"no data loaded yet: run 'carelens etl run'"}`, schema)
	if code != 503 || compact(t, body) != want {
		t.Errorf("healthz before any load = %d %s, want 503 %s", code, body, want)
	}
}

func TestHealthz(t *testing.T) {
	e := newEnv(t, true, Options{})
	schema, err := e.db.SchemaVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	code, _, body := e.get(t, "/healthz")
	want := fmt.Sprintf(`{"status":"ok","snapshot_id":1,"schema_version":%d,"version":"test"}`, schema)
	if code != 200 || compact(t, body) != want {
		t.Errorf("healthz = %d %s, want 200 %s", code, body, want)
	}
	e.db.Close()
	code, _, body = e.get(t, "/healthz")
	if code != 503 || !strings.Contains(body, `"status":"unavailable"`) || !strings.Contains(body, `"reason":`) {
		t.Errorf("healthz on a closed database = %d %s, want 503 with a reason", code, body)
	}
}

func TestMetricsList(t *testing.T) {
	e := newEnv(t, true, Options{})
	code, _, body := e.get(t, "/api/v1/metrics")
	// One entry per shipped metric, by name; no_show_rate's in full.
	want := `{"name":"no_show_rate","title":"Appointment no-show rate",
		"description":"Share of appointments due to happen in the period (booked, arrived, checked-in, fulfilled or noshow) that ended as a no-show.",
		"unit":"ratio","kind":"ratio","direction":"lower_is_better","target":0.1,"grain":"month",
		"dimensions":["clinic","age_band","sex","payer"],
		"spec":"MEASURES.md \"Appointments\"; FHIR R4 AppointmentStatus","version":1}`
	var list struct {
		Metrics []json.RawMessage `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil {
		t.Fatalf("list = %d %v\n%s", code, err, body)
	}
	var names []string
	for _, m := range list.Metrics {
		var d struct{ Name string }
		json.Unmarshal(m, &d)
		names = append(names, d.Name)
		if d.Name == "no_show_rate" && compact(t, string(m)) != compact(t, want) {
			t.Errorf("no_show_rate =\n%s\nwant\n%s", compact(t, string(m)), compact(t, want))
		}
	}
	files, err := fs.Glob(metrics.Builtin, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var wantNames []string
	for _, f := range files {
		wantNames = append(wantNames, strings.TrimSuffix(f, ".sql"))
	}
	if fmt.Sprint(names) != fmt.Sprint(wantNames) {
		t.Errorf("metrics listed %v, want %v", names, wantNames)
	}
}

// failing is a MetricReader whose computations fail with an internal error
// that must not reach the client.
type failing struct{}

func (failing) List() []*metrics.Definition { return nil }
func (failing) Compute(context.Context, string, metrics.Query) (*metrics.Result, error) {
	return nil, errors.New("IO Error: could not read block 42 of /secret/path.duckdb")
}

func TestInternalErrorLoggedOnce(t *testing.T) {
	e := newEnv(t, true, Options{Metrics: failing{}})
	code, _, body := e.get(t, "/api/v1/metrics/no_show_rate?clinic=clinic-01")
	if code != 500 || compact(t, body) != `{"error":"internal error"}` {
		t.Errorf("= %d %s, want 500 internal error", code, body)
	}
	var errorLines, requestLines int
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		switch rec["msg"] {
		case "request failed":
			errorLines++
			if rec["level"] != "ERROR" || rec["status"] != 500.0 || !strings.Contains(rec["error"].(string), "block 42") ||
				rec["route"] != "/api/v1/metrics/:name" {
				t.Errorf("error log = %v", rec)
			}
		case "request":
			requestLines++
			if rec["status"] != 500.0 || rec["path"] != "/api/v1/metrics/no_show_rate" {
				t.Errorf("request log = %v", rec)
			}
		}
	}
	if errorLines != 1 || requestLines != 1 {
		t.Errorf("%d error and %d request log lines, want 1 and 1:\n%s", errorLines, requestLines, e.logs)
	}
	if strings.Contains(e.logs.String(), "clinic-01") {
		t.Error("a query value reached the log")
	}
}

func TestRequestLog(t *testing.T) {
	e := newEnv(t, true, Options{})
	e.get(t, "/api/v1/metrics/no_show_rate?from=2025-01-01&to=2025-02-28&clinic=clinic-03")
	var rec map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(e.logs.Bytes()), &rec); err != nil {
		t.Fatalf("want exactly one JSON log line, got %q: %v", e.logs, err)
	}
	for k, want := range map[string]any{"level": "INFO", "msg": "request", "method": "GET",
		"path": "/api/v1/metrics/no_show_rate", "route": "/api/v1/metrics/:name", "status": 200.0} {
		if rec[k] != want {
			t.Errorf("log %s = %v, want %v", k, rec[k], want)
		}
	}
	if _, ok := rec["duration_ms"]; !ok {
		t.Error("log has no duration_ms")
	}
	if strings.Contains(e.logs.String(), "clinic-03") || strings.Contains(e.logs.String(), "numerator") {
		t.Errorf("log holds query values or response contents: %s", e.logs)
	}
}

// fakeDashboards records what the server asks of the dashboards.
type fakeDashboards struct{ static []string }

func (f *fakeDashboards) Render(_ context.Context, page string, w io.Writer) error {
	switch page {
	case "", "appointments":
		_, err := fmt.Fprintf(w, "<p>page=%s</p>", page)
		return err
	case "broken":
		return errors.New("template exploded")
	}
	return fmt.Errorf("dashboard %q: %w", page, metrics.ErrNotFound)
}

func (f *fakeDashboards) Static() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.static = append(f.static, r.URL.Path)
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		io.WriteString(w, "js")
	})
}

func TestDashboardRoutes(t *testing.T) {
	d := &fakeDashboards{}
	e := newEnv(t, true, Options{Dashboards: d})
	tests := []struct {
		target string
		status int
		body   string
	}{
		{"/", 200, "<p>page=</p>"},
		{"/dashboards/appointments", 200, "<p>page=appointments</p>"},
		{"/static/js/echarts.min.js", 200, "js"},
	}
	for _, tt := range tests {
		code, hdr, body := e.get(t, tt.target)
		if code != tt.status || body != tt.body {
			t.Errorf("GET %s = %d %q, want %d %q", tt.target, code, body, tt.status, tt.body)
		}
		if tt.target == "/" && !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
			t.Errorf("GET / Content-Type = %q", hdr.Get("Content-Type"))
		}
	}
	if len(d.static) != 1 || d.static[0] != "/static/js/echarts.min.js" {
		t.Errorf("static handler saw %v", d.static)
	}
	// A browser gets an HTML error page, an API client JSON.
	code, hdr, body := e.get(t, "/dashboards/nope", "Accept", "text/html,application/xhtml+xml")
	if code != 404 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "dashboard &#34;nope&#34;: not found") {
		t.Errorf("unknown dashboard (browser) = %d %q %s", code, hdr.Get("Content-Type"), body)
	}
	code, _, body = e.get(t, "/dashboards/nope")
	if code != 404 || compact(t, body) != `{"error":"dashboard \"nope\": not found"}` {
		t.Errorf("unknown dashboard (API client) = %d %s", code, body)
	}
	code, _, body = e.get(t, "/dashboards/broken", "Accept", "text/html")
	if code != 500 || strings.Contains(body, "exploded") {
		t.Errorf("broken dashboard = %d %s, want 500 without details", code, body)
	}
}

// TestWithDashboards wires the real dashboards over the real engine: the page
// renders from the fixture and the self-hosted chart library is served with
// long cache headers.
func TestWithDashboards(t *testing.T) {
	e := newEnv(t, true, Options{}, func(o *Options) {
		d, err := dashboards.New(dashboards.Options{Metrics: o.Metrics})
		if err != nil {
			t.Fatal(err)
		}
		o.Dashboards = d
	})
	code, hdr, page := e.get(t, "/")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", code, hdr.Get("Content-Type"))
	}
	// The fixture's last full month is March 2025: 27/81 all clinics.
	for _, want := range []string{"Appointment no-show rate, March 2025 (all clinics)", "33.3 %", "Data snapshot 1, 2024-04-01 to 2025-03-31"} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	m := regexp.MustCompile(`<script src="(/static/js/echarts\.min\.js\?v=[0-9a-f]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("dashboard does not load the self-hosted echarts")
	}
	code, hdr, js := e.get(t, m[1])
	if code != 200 || hdr.Get("Cache-Control") != "public, max-age=31536000, immutable" || len(js) < 1_000_000 {
		t.Errorf("GET %s = %d %q, %d bytes", m[1], code, hdr.Get("Cache-Control"), len(js))
	}
	if code, _, _ := e.get(t, "/dashboards/appointments"); code != 200 {
		t.Errorf("GET /dashboards/appointments = %d", code)
	}
}

func TestNewRequiresDependencies(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New without Metrics and Health succeeded")
	}
}
