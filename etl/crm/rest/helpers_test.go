package rest_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carelens/carelens/etl/crm/contract"
	"github.com/carelens/carelens/etl/crm/rest"
	"github.com/carelens/carelens/etl/crm/rest/resttest"
)

// t0 is the base time of the test data: contact i was updated at t0 + i h.
var t0 = time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)

// secrets are record values that must never reach an error or a log line.
var secrets = []string{"Alice", "alice@example.org", "+1-555-0100", "1 Main St"}

// contacts returns n contact records as the fake API serves them.
func contacts(n int) []map[string]any {
	recs := make([]map[string]any, n)
	for i := range recs {
		recs[i] = map[string]any{
			"contact_id":  fmt.Sprintf("C%03d", i),
			"first_name":  "Alice",
			"email":       "alice@example.org",
			"phone":       "+1-555-0100",
			"sms_opt_out": i%2 == 0,
			"language":    nil,
			"updated_at":  t0.Add(time.Duration(i) * time.Hour).Format(time.RFC3339),
		}
	}
	return recs
}

// contactFields is what the client must make of contacts(n)[i].
func contactFields(i int) contract.Fields {
	return contract.Fields{
		"contact_id":  fmt.Sprintf("C%03d", i),
		"first_name":  "Alice",
		"email":       "alice@example.org",
		"phone":       "+1-555-0100",
		"sms_opt_out": fmt.Sprint(i%2 == 0),
		"language":    "",
		"updated_at":  t0.Add(time.Duration(i) * time.Hour).Format(time.RFC3339),
	}
}

// sleepRecorder is Config.Sleep: it records each wait and returns at once
// (or with ctx's error), so tests assert waits without waiting.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepRecorder) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waits)
}

// lockedBuffer collects log output from concurrent pulls.
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

// harness is a Client with recorded sleeps and debug logs.
type harness struct {
	*rest.Client
	sleeps *sleepRecorder
	logs   *lockedBuffer
}

// newClient returns a client on baseURL; mod adjusts the config.
func newClient(t *testing.T, baseURL string, mod func(*rest.Config)) *harness {
	t.Helper()
	h := &harness{sleeps: &sleepRecorder{}, logs: &lockedBuffer{}}
	cfg := rest.Config{
		BaseURL: baseURL,
		Sleep:   h.sleeps.sleep,
		Logger:  slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := rest.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.Client = c
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("client log:\n%s", h.logs.String())
		}
	})
	return h
}

// pull reads every page of entity and fails the test on an error.
func (h *harness) pull(t *testing.T, entity string, since time.Time, cursor string) []*rest.Page {
	t.Helper()
	var pages []*rest.Page
	for p, err := range h.Pages(context.Background(), entity, since, cursor) {
		if err != nil {
			t.Fatalf("pull %s after %d pages: %v", entity, len(pages), err)
		}
		pages = append(pages, p)
	}
	return pages
}

// fields flattens pages into their records' fields, failing on item errors.
func fields(t *testing.T, pages []*rest.Page) []contract.Fields {
	t.Helper()
	var out []contract.Fields
	for i, p := range pages {
		for j, it := range p.Items {
			if it.Err != "" {
				t.Fatalf("page %d item %d: %s", i, j, it.Err)
			}
			out = append(out, it.Fields)
		}
	}
	return out
}

// checkFields compares records with contactFields(first...).
func checkFields(t *testing.T, got []contract.Fields, first, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("got %d records, want %d", len(got), n)
	}
	for i, f := range got {
		if want := contactFields(first + i); !maps.Equal(f, want) {
			t.Fatalf("record %d:\n got  %v\n want %v", i, f, want)
		}
	}
}

// checkNoSecrets fails if any record value appears in s.
func checkNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, v := range secrets {
		if strings.Contains(s, v) {
			t.Errorf("%s contains the record value %q:\n%s", what, v, s)
		}
	}
}

// statuses lists the status of each logged API request.
func statuses(log []resttest.Request) []int {
	var out []int
	for _, r := range log {
		if r.Path != resttest.TokenPath {
			out = append(out, r.Status)
		}
	}
	return out
}
