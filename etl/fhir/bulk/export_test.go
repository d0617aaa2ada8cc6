package bulk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carelens/carelens/internal/httpx"
)

// sleepRecorder replaces Client.sleep: it records each wait the client
// chose and sleeps at most 2 ms of it, so Retry-After values of seconds can
// be asserted without slowing the tests.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return httpx.Sleep(ctx, min(d, 2*time.Millisecond))
}

func (s *sleepRecorder) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waits)
}

// lockedBuffer collects log output from concurrent download workers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const (
	testPollMin = time.Millisecond
	testPollMax = 4 * time.Millisecond
)

// testClient is a Client on fs with millisecond polling, 3 retries, a
// recorded sleep and captured logs; mod adjusts the options.
type testClient struct {
	*Client
	sleeps   *sleepRecorder
	logs     *lockedBuffer
	mu       sync.Mutex
	statuses []Status
}

func newTestClient(t *testing.T, fs *fakeServer, mod func(*Options)) *testClient {
	t.Helper()
	tc := &testClient{sleeps: &sleepRecorder{}, logs: &lockedBuffer{}}
	opt := Options{
		BaseURL:    fs.base(),
		Logger:     slog.New(slog.NewTextHandler(tc.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		PollMin:    testPollMin,
		PollMax:    testPollMax,
		MaxRetries: 3,
		Timeout:    15 * time.Second,
		Progress: func(s Status) {
			tc.mu.Lock()
			tc.statuses = append(tc.statuses, s)
			tc.mu.Unlock()
		},
	}
	if mod != nil {
		mod(&opt)
	}
	c, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = tc.sleeps.sleep
	tc.Client = c
	return tc
}

func (tc *testClient) progress() []Status {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return slices.Clone(tc.statuses)
}

// exportResult is what a case's check looks at.
type exportResult struct {
	tc   *testClient
	fs   *fakeServer
	seen seen
	m    *Manifest
	err  error
	dir  string
}

func (r exportResult) waits() []time.Duration { return r.tc.sleeps.all() }

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func defaultFiles() []fakeFile {
	return []fakeFile{
		{name: "p1.ndjson", typ: "Patient", lines: resources("Patient", 3), count: true},
		{name: "o1.ndjson", typ: "Observation", lines: resources("Observation", 2), count: true},
		{name: "o2.ndjson", typ: "Observation", lines: resources("Observation", 4)},
	}
}

func TestExport(t *testing.T) {
	t.Parallel()
	since := time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.FixedZone("", -5*3600))
	cases := []struct {
		name        string
		cfg         serverConfig
		opt         func(*Options)
		req         Request
		wantErr     []error
		wantDeletes int // DELETEs of the status URL the server must see
		check       func(t *testing.T, r exportResult)
	}{
		{
			name: "slow job reports X-Progress and honours Retry-After seconds and HTTP-date",
			cfg: serverConfig{
				polls: 4,
				progress: func(n int) string {
					return []string{"10%", "35.5 % complete", "3 of 4 types", ""}[n]
				},
				retryAfter: func(n int) string {
					switch n {
					case 0:
						return "0"
					case 1:
						return "1"
					case 2:
						return time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
					}
					return "" // backoff
				},
				files: defaultFiles(),
			},
			wantDeletes: 1,
			check: func(t *testing.T, r exportResult) {
				if r.seen.polls202 != 4 {
					t.Errorf("202 polls = %d, want 4", r.seen.polls202)
				}
				w := r.waits()
				if len(w) != 4 {
					t.Fatalf("waits = %v, want 4 poll waits", w)
				}
				if w[0] != 0 || w[1] != time.Second {
					t.Errorf("Retry-After 0 and 1 gave waits %v, %v", w[0], w[1])
				}
				if w[2] < 1500*time.Millisecond || w[2] > 3*time.Second {
					t.Errorf("Retry-After HTTP-date 3 s ahead gave wait %v", w[2])
				}
				if w[3] < testPollMin || w[3] > testPollMax {
					t.Errorf("backoff wait %v outside [PollMin, PollMax]", w[3])
				}
				var polling []Status
				var last Status
				for _, s := range r.tc.progress() {
					if s.Phase == PhasePolling {
						polling = append(polling, s)
					}
					if s.Elapsed < last.Elapsed {
						t.Errorf("Elapsed went back: %v after %v", s.Elapsed, last.Elapsed)
					}
					last = s
				}
				wantText := []string{"10%", "35.5 % complete", "3 of 4 types", ""}
				wantPct := []float64{10, 35.5, 75, -1}
				if len(polling) != 4 {
					t.Fatalf("polling statuses = %+v", polling)
				}
				for i, s := range polling {
					if s.Text != wantText[i] || s.Percent != wantPct[i] || s.Polls != i+1 {
						t.Errorf("status %d = %+v, want text %q percent %v polls %d", i, s, wantText[i], wantPct[i], i+1)
					}
				}
				if last.Phase != PhaseDownloading || last.FilesDone != 3 || last.Files != 3 || last.Percent != 100 {
					t.Errorf("last status = %+v, want 3 of 3 files downloaded", last)
				}
			},
		},
		{
			name: "429 with Retry-After on kick-off and on polling",
			cfg: serverConfig{
				polls:           1,
				kickoffFailures: []failure{{status: 429, retryAfter: "1", code: "throttled", text: "an export is already running"}},
				statusFailures:  map[int]failure{0: {status: 429, retryAfter: "2"}},
				files:           defaultFiles(),
			},
			wantDeletes: 1,
			check: func(t *testing.T, r exportResult) {
				if r.seen.kickoffAttempts != 2 {
					t.Errorf("kick-off attempts = %d, want 2", r.seen.kickoffAttempts)
				}
				w := r.waits()
				if len(w) < 2 || w[0] != time.Second || w[1] != 2*time.Second {
					t.Errorf("waits = %v, want 1s (kick-off 429) then 2s (status 429)", w)
				}
			},
		},
		{
			name: "transient 500 and 503 are retried on kick-off, status and download",
			cfg: serverConfig{
				polls: 1,
				kickoffFailures: []failure{
					{status: 503, retryAfter: "0"},
					{status: 500, code: "transient", text: "database restarting"},
				},
				statusFailures: map[int]failure{1: {status: 500}, 2: {status: 503, code: "transient", text: "busy"}},
				files: []fakeFile{
					{name: "p1.ndjson", typ: "Patient", lines: resources("Patient", 2), faults: []fault{fault503}},
				},
			},
			wantDeletes: 1,
			check: func(t *testing.T, r exportResult) {
				if r.seen.kickoffAttempts != 3 || r.seen.statusAttempts != 4 || r.seen.fileHits["p1.ndjson"] != 2 {
					t.Errorf("attempts: kick-off %d (want 3), status %d (want 4), file %d (want 2)",
						r.seen.kickoffAttempts, r.seen.statusAttempts, r.seen.fileHits["p1.ndjson"])
				}
			},
		},
		{
			name:    "permanent kick-off error surfaces the OperationOutcome",
			cfg:     serverConfig{files: defaultFiles()},
			req:     Request{Types: []string{"Patient", "Spaceship"}},
			wantErr: []error{ErrExportFailed},
			check: func(t *testing.T, r exportResult) {
				var he *HTTPError
				if !errors.As(r.err, &he) || he.StatusCode != 400 || he.Op != "kick-off" ||
					!strings.Contains(he.Outcome, "Unsupported resource type: Spaceship") {
					t.Errorf("error = %v, want a 400 kick-off HTTPError with the OperationOutcome text", r.err)
				}
				if !strings.Contains(r.err.Error(), "Unsupported resource type: Spaceship") {
					t.Errorf("error text %q lacks the outcome", r.err)
				}
				if r.seen.kickoffAttempts != 1 {
					t.Errorf("a 400 was retried: %d attempts", r.seen.kickoffAttempts)
				}
			},
		},
		{
			name:    "unknown Group is a permanent 404",
			cfg:     serverConfig{groups: []string{"g1"}, files: defaultFiles()},
			req:     Request{Level: Group, GroupID: "nope"},
			wantErr: []error{ErrExportFailed},
			check: func(t *testing.T, r exportResult) {
				var he *HTTPError
				if !errors.As(r.err, &he) || he.StatusCode != 404 || !strings.Contains(he.Outcome, "Group/nope not found") {
					t.Errorf("error = %v", r.err)
				}
			},
		},
		{
			name: "kick-off retries run out",
			cfg: serverConfig{kickoffFailures: []failure{
				{status: 503}, {status: 503}, {status: 503}, {status: 503, code: "transient", text: "maintenance"},
			}},
			wantErr: []error{ErrRetriesExhausted},
			check: func(t *testing.T, r exportResult) {
				var he *HTTPError
				if !errors.As(r.err, &he) || he.StatusCode != 503 || he.Outcome != "maintenance" {
					t.Errorf("error = %v, want the last 503 inside", r.err)
				}
				if r.seen.kickoffAttempts != 4 {
					t.Errorf("kick-off attempts = %d, want 1 + MaxRetries 3", r.seen.kickoffAttempts)
				}
				for _, w := range r.waits() {
					if w < testPollMin || w > testPollMax {
						t.Errorf("retry wait %v outside [PollMin, PollMax]", w)
					}
				}
			},
		},
		{
			name: "server reports the export failed",
			cfg: serverConfig{polls: 1, files: defaultFiles(),
				statusFailures: map[int]failure{1: {status: 500, code: "exception", text: "export worker crashed"}}},
			wantErr:     []error{ErrExportFailed},
			wantDeletes: 1,
			check: func(t *testing.T, r exportResult) {
				var he *HTTPError
				if !errors.As(r.err, &he) || he.Op != "status" || he.Outcome != "export worker crashed" {
					t.Errorf("error = %v", r.err)
				}
				if r.seen.statusAttempts != 2 {
					t.Errorf("status attempts = %d: a non-transient 500 was retried", r.seen.statusAttempts)
				}
			},
		},
		{
			name: "requiresAccessToken: token on same-origin files only, never on another origin or after a redirect to one",
			cfg: serverConfig{token: "tok-SECRET", requiresAccessToken: true, files: []fakeFile{
				{name: "p1.ndjson", typ: "Patient", lines: resources("Patient", 2), count: true},
				{name: "o1.ndjson", typ: "Observation", lines: resources("Observation", 2), where: "other"},
				{name: "c1.ndjson", typ: "Condition", lines: resources("Condition", 1), where: "redirect"},
			}},
			opt:         func(o *Options) { o.Auth = StaticToken("tok-SECRET") },
			wantDeletes: 1,
			check: func(t *testing.T, r exportResult) {
				if got := r.seen.fileAuth["p1.ndjson"]; !slices.Equal(got, []string{"Bearer tok-SECRET"}) {
					t.Errorf("same-origin file saw Authorization %q", got)
				}
				if got := r.seen.otherAuth["o1.ndjson"]; !slices.Equal(got, []string{""}) {
					t.Errorf("other-origin file saw Authorization %q", got)
				}
				if got := r.seen.fileAuth["c1.ndjson"]; !slices.Equal(got, []string{"Bearer tok-SECRET"}) {
					t.Errorf("redirecting same-origin URL saw Authorization %q", got)
				}
				if got := r.seen.otherAuth["c1.ndjson"]; !slices.Equal(got, []string{""}) {
					t.Errorf("redirect target on another origin saw Authorization %q", got)
				}
				if !r.m.RequiresAccessToken {
					t.Error("manifest lost requiresAccessToken")
				}
			},
		},
		{
			name:        "requiresAccessToken false: no token on file downloads",
			cfg:         serverConfig{token: "tok-SECRET", files: defaultFiles()},
			opt:         func(o *Options) { o.Auth = StaticToken("tok-SECRET") },
			wantDeletes: 1,
			check: func(t *testing.T, r exportResult) {
				for name, auth := range r.seen.fileAuth {
					if !slices.Equal(auth, []string{""}) {
						t.Errorf("%s saw Authorization %q", name, auth)
					}
				}
			},
		},
		{
			name:    "a static token the server rejects fails without a retry",
			cfg:     serverConfig{token: "right", files: defaultFiles()},
			opt:     func(o *Options) { o.Auth = StaticToken("wrong") },
			wantErr: []error{ErrUnauthorized},
			check: func(t *testing.T, r exportResult) {
				if r.seen.kickoffAttempts != 1 {
					t.Errorf("kick-off attempts = %d, want 1", r.seen.kickoffAttempts)
				}
			},
		},
		{
			name: "truncated downloads are retried until verified",
			cfg: serverConfig{files: []fakeFile{
				// Content-Length mismatch: the connection drops halfway.
				{name: "a.ndjson", typ: "Patient", lines: resources("Patient", 5), faults: []fault{faultCutShort}},
				// No Content-Length, no count: the last line is cut.
				{name: "b.ndjson", typ: "Observation", lines: resources("Observation", 5), faults: []fault{faultCutMidLine}},
				// Complete lines, one short of the manifest's count.
				{name: "c.ndjson", typ: "Condition", lines: resources("Condition", 5), count: true, faults: []fault{faultDropLine}},
				// Two bad attempts in a row.
				{name: "d.ndjson", typ: "Encounter", lines: resources("Encounter", 5), count: true, faults: []fault{faultCutShort, faultDropLine}},
			}},
			wantDeletes: 1,
			check: func(t *testing.T, r exportResult) {
				want := map[string]int{"a.ndjson": 2, "b.ndjson": 2, "c.ndjson": 2, "d.ndjson": 3}
				for name, n := range want {
					if r.seen.fileHits[name] != n {
						t.Errorf("%s fetched %d times, want %d", name, r.seen.fileHits[name], n)
					}
				}
			},
		},
		{
			name: "a download truncated on every attempt fails",
			cfg: serverConfig{files: []fakeFile{
				{name: "a.ndjson", typ: "Patient", lines: resources("Patient", 5),
					faults: []fault{faultCutShort, faultCutMidLine, faultCutShort, faultCutShort}},
			}},
			wantErr:     []error{ErrIncomplete, ErrRetriesExhausted},
			wantDeletes: 1,
			check: func(t *testing.T, r exportResult) {
				if r.seen.fileHits["a.ndjson"] != 4 {
					t.Errorf("fetched %d times, want 1 + MaxRetries 3", r.seen.fileHits["a.ndjson"])
				}
			},
		},
		{
			name: "gzip content-encoding is decoded and verified",
			cfg: serverConfig{files: []fakeFile{
				{name: "p1.ndjson", typ: "Patient", lines: resources("Patient", 50), count: true, gzip: true},
				{name: "o1.ndjson", typ: "Observation", lines: resources("Observation", 3), gzip: true, faults: []fault{faultCutShort}},
			}},
			wantDeletes: 1,
			check: func(t *testing.T, r exportResult) {
				if r.m.Output[0].Count != 50 {
					t.Errorf("count = %d, want the server's 50", r.m.Output[0].Count)
				}
			},
		},
		{
			name: "deleted and error outputs are written under deleted/ and error/",
			cfg: serverConfig{
				files: defaultFiles(),
				deleted: []fakeFile{
					{name: "del1.ndjson", typ: "Bundle", count: true, lines: []string{
						`{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"DELETE","url":"Patient/123"}}]}`}},
					{name: "del2.ndjson", lines: []string{
						`{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"DELETE","url":"Observation/9"}}]}`}},
				},
				errors: []fakeFile{
					{name: "err1.ndjson", typ: "OperationOutcome", lines: []string{
						`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing","details":{"text":"Observation/7 could not be exported"}}]}`}},
				},
			},
			req:         Request{Since: since},
			wantDeletes: 1,
			check: func(t *testing.T, r exportResult) {
				var got []string
				for _, f := range slices.Concat(r.m.Deleted, r.m.Error) {
					got = append(got, f.Type+" "+f.URL)
				}
				want := []string{"Bundle deleted/Bundle.000.ndjson", "Bundle deleted/Bundle.001.ndjson",
					"OperationOutcome error/OperationOutcome.000.ndjson"}
				if !slices.Equal(got, want) {
					t.Errorf("deleted+error = %q, want %q", got, want)
				}
			},
		},
		{
			name: "kick-off sends _type, _since, repeated _typeFilter and _outputFormat at Group level",
			cfg:  serverConfig{groups: []string{"g1"}, files: defaultFiles()},
			req: Request{Level: Group, GroupID: "g1", Types: []string{"Patient", "Observation"}, Since: since,
				TypeFilters: []string{
					"Observation?category=laboratory,vital-signs&date=gt2024-01-01",
					"MedicationRequest?status=active",
				},
				OutputFormat: "application/fhir+ndjson"},
			wantDeletes: 1,
			check: func(t *testing.T, r exportResult) {
				k := r.seen.kickoffs[0]
				if k.URL.Path != "/fhir/Group/g1/$export" || k.Method != http.MethodGet {
					t.Errorf("kick-off %s %s", k.Method, k.URL.Path)
				}
				if k.Header.Get("Accept") != "application/fhir+json" || k.Header.Get("Prefer") != "respond-async" {
					t.Errorf("kick-off headers %v", k.Header)
				}
				q := k.URL.Query()
				if !slices.Equal(q["_type"], []string{"Patient,Observation"}) {
					t.Errorf("_type = %q", q["_type"])
				}
				if !slices.Equal(q["_typeFilter"], r.fs.cfgTypeFilters()) {
					t.Errorf("_typeFilter = %q", q["_typeFilter"])
				}
				if got, err := time.Parse(time.RFC3339Nano, q.Get("_since")); err != nil || !got.Equal(since) || len(q["_since"]) != 1 {
					t.Errorf("_since = %q, want %v", q["_since"], since)
				}
				if !slices.Equal(q["_outputFormat"], []string{"application/fhir+ndjson"}) {
					t.Errorf("_outputFormat = %q", q["_outputFormat"])
				}
				if k.Header.Get("Authorization") != "" {
					t.Error("a token was sent without Auth")
				}
				if !strings.HasSuffix(r.m.Request, "/fhir/Group/g1/$export?"+k.URL.RawQuery) {
					t.Errorf("manifest request = %q", r.m.Request)
				}
			},
		},
		{
			name:        "Patient level kick-off path and no parameters",
			cfg:         serverConfig{files: defaultFiles()},
			req:         Request{Level: Patient},
			wantDeletes: 1,
			check: func(t *testing.T, r exportResult) {
				k := r.seen.kickoffs[0]
				if k.URL.Path != "/fhir/Patient/$export" || k.URL.RawQuery != "" {
					t.Errorf("kick-off %s?%s", k.URL.Path, k.URL.RawQuery)
				}
				if r.m.Deleted != nil {
					t.Errorf("deleted = %v without _since", r.m.Deleted)
				}
			},
		},
		{
			name: "an expired file (404) aborts the export and still deletes the job",
			cfg: serverConfig{files: []fakeFile{
				{name: "p1.ndjson", typ: "Patient", lines: resources("Patient", 2)},
				{name: "o1.ndjson", typ: "Observation", lines: resources("Observation", 2), faults: []fault{fault404}},
			}},
			wantErr:     []error{ErrDownload},
			wantDeletes: 1,
			check: func(t *testing.T, r exportResult) {
				var he *HTTPError
				if !errors.As(r.err, &he) || he.StatusCode != 404 || he.Op != "download" {
					t.Errorf("error = %v", r.err)
				}
			},
		},
		{
			name: "a manifest type that is not a resource type is refused",
			cfg: serverConfig{files: []fakeFile{
				{name: "p1.ndjson", typ: "../../escape", lines: resources("Patient", 1)},
			}},
			wantErr:     []error{ErrManifest},
			wantDeletes: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := newFakeServer(t, tc.cfg)
			c := newTestClient(t, fs, tc.opt)
			dir := filepath.Join(t.TempDir(), "ehr")
			m, err := c.Export(context.Background(), tc.req, dir)
			r := exportResult{tc: c, fs: fs, seen: fs.snapshot(), m: m, err: err, dir: dir}
			if tc.wantErr == nil && err != nil {
				t.Fatalf("Export: %v", err)
			}
			for _, want := range tc.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("error %v is not %v", err, want)
				}
			}
			if len(r.seen.deletes) != tc.wantDeletes {
				t.Errorf("DELETEs = %q, want %d", r.seen.deletes, tc.wantDeletes)
			}
			if err == nil {
				checkWritten(t, fs, m, dir)
			} else {
				if m != nil {
					t.Error("a failed Export returned a manifest")
				}
				if _, err := os.Stat(filepath.Join(dir, ManifestFile)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("a failed Export left %s (%v)", ManifestFile, err)
				}
			}
			checkNoLeftovers(t, dir)
			checkLogs(t, c.logs.String())
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func (fs *fakeServer) cfgTypeFilters() []string {
	return []string{"Observation?category=laboratory,vital-signs&date=gt2024-01-01", "MedicationRequest?status=active"}
}

// checkWritten verifies destDir against the server's files: every file
// complete under its local name, and manifest.json equal to the returned
// manifest and readable the way etl.FilesJob reads it.
func checkWritten(t *testing.T, fs *fakeServer, m *Manifest, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var onDisk Manifest
	if err := json.Unmarshal(b, &onDisk); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	a, _ := json.Marshal(onDisk)
	z, _ := json.Marshal(m)
	if !bytes.Equal(a, z) {
		t.Errorf("manifest.json differs from the returned manifest:\n%s\n%s", a, z)
	}
	want, _ := time.Parse(time.RFC3339Nano, fs.cfg.transactionTime)
	if !m.TransactionTime.Equal(want) {
		t.Errorf("transactionTime = %v, want %v", m.TransactionTime, want)
	}

	// The way etl.FilesJob reads the folder: path.Base(url) in dir.
	var lead struct {
		TransactionTime string `json:"transactionTime"`
		Output          []struct {
			Type string `json:"type"`
			URL  string `json:"url"`
		} `json:"output"`
	}
	if err := json.Unmarshal(b, &lead); err != nil {
		t.Fatal(err)
	}
	if lead.TransactionTime != fs.cfg.transactionTime {
		t.Errorf("manifest.json transactionTime %q, want the server's %q", lead.TransactionTime, fs.cfg.transactionTime)
	}
	if len(lead.Output) != len(fs.cfg.files) {
		t.Fatalf("manifest.json lists %d outputs, server %d", len(lead.Output), len(fs.cfg.files))
	}
	for i, o := range lead.Output {
		src := fs.cfg.files[i]
		name := path.Base(o.URL)
		if o.Type != src.typ || !strings.HasPrefix(name, src.typ+".") || !strings.HasSuffix(name, ".ndjson") {
			t.Errorf("output %d: type %q file %q", i, o.Type, name)
		}
		if got := readFile(t, filepath.Join(dir, name)); got != src.body() {
			t.Errorf("%s: content differs from the server's %s", name, src.name)
		}
	}
	for i, f := range m.Deleted {
		if got := readFile(t, filepath.Join(dir, filepath.FromSlash(f.URL))); got != fs.cfg.deleted[i].body() {
			t.Errorf("%s: content differs", f.URL)
		}
	}
	for i, f := range m.Error {
		if got := readFile(t, filepath.Join(dir, filepath.FromSlash(f.URL))); got != fs.cfg.errors[i].body() {
			t.Errorf("%s: content differs", f.URL)
		}
	}
}

// checkNoLeftovers fails if dir holds staging folders or .part files.
func checkNoLeftovers(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".bulk-") || strings.HasSuffix(d.Name(), ".part") || strings.HasPrefix(d.Name(), ".manifest-") {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}

// checkLogs fails if the logs hold resource contents, tokens or the query
// secret of a pre-signed URL.
func checkLogs(t *testing.T, logs string) {
	t.Helper()
	for _, secret := range []string{"SECRETNAME", "tok-SECRET", "s3cr3t", "Bearer"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
}

func TestExportCancelSendsDelete(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t, serverConfig{polls: 1000, files: defaultFiles()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newTestClient(t, fs, func(o *Options) {
		o.Progress = func(s Status) {
			if s.Polls == 2 {
				cancel()
			}
		}
	})
	dir := t.TempDir()
	_, err := c.Export(ctx, Request{}, dir)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	seen := fs.snapshot()
	if len(seen.deletes) != 1 || seen.deletes[0] != "job1" {
		t.Errorf("DELETEs after cancel = %q, want [job1]", seen.deletes)
	}
	if seen.polls202 != 2 {
		t.Errorf("polls = %d, want 2", seen.polls202)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("cancelled export left %d entries in destDir", len(entries))
	}
}

func TestExportTimeout(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t, serverConfig{polls: 1 << 30})
	c := newTestClient(t, fs, func(o *Options) { o.Timeout = 50 * time.Millisecond })
	_, err := c.Export(context.Background(), Request{}, t.TempDir())
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want ErrTimeout and context.DeadlineExceeded", err)
	}
	if seen := fs.snapshot(); len(seen.deletes) != 1 {
		t.Errorf("DELETEs after timeout = %q, want 1", seen.deletes)
	}
}

func TestExportReplacesEarlierExport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := newFakeServer(t, serverConfig{files: defaultFiles()})
	if _, err := newTestClient(t, big, nil).Export(context.Background(), Request{}, dir); err != nil {
		t.Fatal(err)
	}
	small := newFakeServer(t, serverConfig{transactionTime: "2025-07-01T00:00:00Z", files: []fakeFile{
		{name: "p.ndjson", typ: "Patient", lines: resources("Patient", 1)},
	}})
	m, err := newTestClient(t, small, nil).Export(context.Background(), Request{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	checkWritten(t, small, m, dir)
	if len(m.Output) != 1 || m.Output[0].URL != "Patient.000.ndjson" {
		t.Errorf("outputs = %+v", m.Output)
	}
}
