package dashboards

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carelens/carelens/metrics"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// fixedResult is the exact no-show result the page is built from:
//
//	         clinic-01  clinic-02  clinic-03 | all clinics
//	2025-01     3/30      12/30      15/40   |  30/100
//	2025-02     4/25      11/25       0/30   |  15/80
//	2025-03    20/100     13/26      12/48   |  45/174 (25.9 %)
//	2025-04    (no appointments)
//
// Disclosure hides clinic-01's 3 and 4 and, as complements, clinic-02's 12
// and 11. clinic-01's total over the months (27) less its March (20) would
// still give 3 + 4 = 7, so clinic-01's March goes too, and clinic-02's March
// (13) as its complement in March: those points must be gaps. March is the
// latest month with data: 25.9 % against a 10 % target.
func fixedResult() *metrics.Result {
	target := 0.10
	r := &metrics.Result{Meta: metrics.Meta{
		Metric: "no_show_rate", Title: "Appointment no-show rate", Unit: "ratio", Kind: metrics.KindRatio,
		Direction: metrics.LowerIsBetter, Target: &target, Version: 1, SnapshotID: 42,
		From: date("2025-01-01"), To: date("2025-04-30"), Grain: metrics.GrainMonth, Dims: []string{"clinic"},
	}}
	for _, x := range []struct {
		period, clinic string
		num, den       float64
	}{
		{"2025-01", "clinic-01", 3, 30}, {"2025-01", "clinic-02", 12, 30}, {"2025-01", "clinic-03", 15, 40},
		{"2025-02", "clinic-01", 4, 25}, {"2025-02", "clinic-02", 11, 25}, {"2025-02", "clinic-03", 0, 30},
		{"2025-03", "clinic-01", 20, 100}, {"2025-03", "clinic-02", 13, 26}, {"2025-03", "clinic-03", 12, 48},
	} {
		r.Rows = append(r.Rows, metrics.Row{Period: x.period, PeriodStart: date(x.period + "-01"),
			Dims: []string{x.clinic}, Numerator: x.num, Denominator: x.den})
	}
	return r
}

// fakeMetrics answers the appointments page's query with fixedResult.
type fakeMetrics struct {
	err     error
	queries []metrics.Query
}

func (f *fakeMetrics) Compute(_ context.Context, name string, q metrics.Query) (*metrics.Result, error) {
	f.queries = append(f.queries, q)
	if f.err != nil {
		return nil, f.err
	}
	if name != "no_show_rate" || q.Grain != metrics.GrainMonth || !reflect.DeepEqual(q.By, []string{"clinic"}) ||
		!q.From.IsZero() || !q.To.IsZero() || q.Filters != nil {
		return nil, fmt.Errorf("unexpected query %s %+v", name, q)
	}
	return fixedResult(), nil
}

func newSet(t *testing.T, m metrics.Computer) *Set {
	t.Helper()
	s, err := New(Options{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func render(t *testing.T, s *Set, page string) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.Render(context.Background(), page, &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestAppointmentsGolden(t *testing.T) {
	got := render(t, newSet(t, &fakeMetrics{}), "")
	golden := filepath.Join("testdata", "appointments.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./dashboards -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("page differs from %s (rerun with -update after checking the change):\n%s", golden, got)
	}
}

func TestAppointmentsContent(t *testing.T) {
	page := render(t, newSet(t, &fakeMetrics{}), "appointments")
	// Nothing is fetched from elsewhere: no absolute URL at all.
	for _, bad := range []string{"http://", "https://", "//cdn", "go-echarts-assets"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	src := regexp.MustCompile(`<script src="([^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(src) != 1 || !regexp.MustCompile(`^/static/js/echarts\.min\.js\?v=[0-9a-f]{12}$`).MatchString(src[0][1]) {
		t.Errorf("script sources = %v, want only the self-hosted, versioned echarts", src)
	}
	// Suppressed points are nulls, never zeros; clinic-03's real 0 % in
	// February stays a 0; April has no data anywhere.
	series := map[string]string{
		"All clinics": `[{"value":30},{"value":18.8},{"value":25.9},{"value":null}]`,
		"clinic-01":   `[{"value":null},{"value":null},{"value":null},{"value":null}]`,
		"clinic-02":   `[{"value":null},{"value":null},{"value":null},{"value":null}]`,
		"clinic-03":   `[{"value":37.5},{"value":0},{"value":25},{"value":null}]`,
	}
	for name, data := range series {
		re := regexp.MustCompile(`"name":"` + regexp.QuoteMeta(name) + `"[^{}\[]*"data":(\[[^\]]*\])`)
		m := re.FindStringSubmatch(page)
		if m == nil {
			t.Errorf("series %q not found in the chart option", name)
			continue
		}
		if m[1] != data {
			t.Errorf("series %q data = %s, want %s", name, m[1], data)
		}
	}
	for _, want := range []string{
		`<h2>Appointment no-show rate, March 2025 (all clinics)</h2>`,
		`<div class="value bad">25.9 %</div>`,
		`Target 10.0 % (lower is better): above target.`,
		`<tr><td>2025-01</td><td>30.0 %<small>30 of 100</small></td><td class="suppressed">suppressed<small>of 30</small></td><td class="suppressed">suppressed<small>of 30</small></td><td>37.5 %<small>15 of 40</small></td></tr>`,
		`<tr><td>2025-04</td><td class="empty">no data</td><td class="empty">no data</td><td class="empty">no data</td><td class="empty">no data</td></tr>`,
		`Data snapshot 42, 2025-01-01 to 2025-04-30`,
		`counts from 1 to 10 are never shown (threshold 11`,
		`<a href="/dashboards/appointments" aria-current="page">Appointments</a>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	s := newSet(t, &fakeMetrics{})
	var b bytes.Buffer
	if err := s.Render(context.Background(), "nope", &b); !errors.Is(err, metrics.ErrNotFound) || b.Len() > 0 {
		t.Errorf("unknown page: %v (%d bytes written), want ErrNotFound and nothing written", err, b.Len())
	}
	noData := fmt.Errorf("no data yet: %w", metrics.ErrUnavailable)
	s = newSet(t, &fakeMetrics{err: noData})
	if err := s.Render(context.Background(), "", &b); !errors.Is(err, metrics.ErrUnavailable) || b.Len() > 0 {
		t.Errorf("no data: %v (%d bytes written), want ErrUnavailable and nothing written", err, b.Len())
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New without Metrics succeeded")
	}
	if _, err := New(Options{Metrics: &fakeMetrics{}, SuppressionThreshold: -2}); err == nil {
		t.Error("New with a negative threshold succeeded")
	}
}

// TestEchartsPinned checks that the embedded file is the one ECHARTS.md and
// update-echarts.sh pin.
func TestEchartsPinned(t *testing.T) {
	b, err := os.ReadFile("static/js/echarts.min.js")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	got := hex.EncodeToString(sum[:])
	for _, f := range []string{"static/js/ECHARTS.md", "update-echarts.sh"} {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(doc), got) {
			t.Errorf("%s does not record sha256 %s of echarts.min.js", f, got)
		}
		if !strings.Contains(string(doc), "5.4.3") {
			t.Errorf("%s does not name version 5.4.3", f)
		}
	}
}

func TestStatic(t *testing.T) {
	s := newSet(t, &fakeMetrics{})
	h := s.Static()
	b, _ := os.ReadFile("static/js/echarts.min.js")
	hash := s.assets["/static/js/echarts.min.js"].hash
	tests := []struct {
		method, target, inm string
		status              int
		cache               string
	}{
		{"GET", "/static/js/echarts.min.js?v=" + hash, "", 200, "public, max-age=31536000, immutable"},
		{"GET", "/static/js/echarts.min.js", "", 200, "public, max-age=3600"},
		{"GET", "/static/js/echarts.min.js?v=stale", "", 200, "public, max-age=3600"},
		{"GET", "/static/js/echarts.min.js", `"` + hash + `"`, 304, "public, max-age=3600"},
		{"HEAD", "/static/js/echarts.min.js", "", 200, "public, max-age=3600"},
		{"GET", "/static/js/ECHARTS.md", "", 404, ""},
		{"GET", "/static/js/../../dashboards.go", "", 404, ""},
		{"POST", "/static/js/echarts.min.js", "", 405, ""},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, tt.target, nil)
		if tt.inm != "" {
			req.Header.Set("If-None-Match", tt.inm)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.status || rec.Header().Get("Cache-Control") != tt.cache {
			t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.target, rec.Code, rec.Header().Get("Cache-Control"), tt.status, tt.cache)
		}
		if tt.status == 200 && tt.method == "GET" {
			if !bytes.Equal(rec.Body.Bytes(), b) || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript") {
				t.Errorf("%s: %d bytes of %s", tt.target, rec.Body.Len(), rec.Header().Get("Content-Type"))
			}
		}
	}
}

// TestChromium loads the page in a real headless Chromium with every host
// but 127.0.0.1 unresolvable: the <canvas> ECharts draws appears only if the
// self-hosted library loaded and ran.
func TestChromium(t *testing.T) {
	bin := "/usr/bin/chromium"
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no %s: skipping the browser test (install the chromium package to run it)", bin)
	}
	s := newSet(t, &fakeMetrics{})
	mux := http.NewServeMux()
	mux.Handle(StaticPrefix, s.Static())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		if err := s.Render(r.Context(), "", &b); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		b.WriteTo(w)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	dir := t.TempDir()
	shot := filepath.Join(dir, "page.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
		"--user-data-dir=" + filepath.Join(dir, "profile"),
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		"--virtual-time-budget=10000",
	}
	out, err := exec.CommandContext(ctx, bin, append(args, "--dump-dom", srv.URL+"/")...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	dom := string(out)
	if !strings.Contains(dom, "<canvas") {
		t.Fatalf("no <canvas> in the rendered DOM: the self-hosted ECharts did not load or run; DOM:\n%.2000s", dom)
	}
	if !strings.Contains(dom, `id="`+chartID+`"`) || !strings.Contains(dom, "Appointment no-show rate") {
		t.Errorf("rendered DOM lacks the chart container or title")
	}
	if err := exec.CommandContext(ctx, bin, append(args, "--window-size=1200,1400", "--screenshot="+shot, srv.URL+"/")...).Run(); err != nil {
		t.Fatalf("chromium --screenshot: %v", err)
	}
	png, err := os.ReadFile(shot)
	if err != nil || len(png) < 10_000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("screenshot: %d bytes, %v", len(png), err)
	}
}
