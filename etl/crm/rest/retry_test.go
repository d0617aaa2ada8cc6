package rest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carelens/carelens/etl/crm/rest"
	"github.com/carelens/carelens/etl/crm/rest/resttest"
)

func TestRetryAfter(t *testing.T) {
	now := func() time.Time { return t0 }
	for _, tc := range []struct {
		name       string
		retryAfter string
		maxBackoff time.Duration
		want       time.Duration
	}{
		{"seconds", "1", 0, time.Second},
		{"HTTP-date", t0.Add(3 * time.Second).Format(http.TimeFormat), 0, 3 * time.Second},
		{"HTTP-date in the past", t0.Add(-time.Minute).Format(http.TimeFormat), 0, 0},
		{"capped seconds", "120", 10 * time.Second, 10 * time.Second},
		{"capped HTTP-date", t0.Add(time.Hour).Format(http.TimeFormat), 0, rest.DefaultMaxBackoff},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := resttest.NewServer(map[string][]map[string]any{"contacts": contacts(6)},
				resttest.Options{ThrottleEvery: 2, RetryAfter: tc.retryAfter, Now: now})
			defer srv.Close()
			h := newClient(t, srv.URL, func(c *rest.Config) {
				c.PageSize, c.MaxBackoff, c.Now = 2, tc.maxBackoff, now
			})
			checkFields(t, fields(t, h.pull(t, "contacts", time.Time{}, "")), 0, 6)
			// Requests 2 and 4 are throttled, each page after the first
			// waits once.
			if c := srv.Counts(); c.Requests != 5 || c.Throttled != 2 || c.Served != 3 {
				t.Fatalf("counts %+v", c)
			}
			if got := statuses(srv.Log()); !slices.Equal(got, []int{200, 429, 200, 429, 200}) {
				t.Errorf("statuses %v", got)
			}
			if w := h.sleeps.all(); !slices.Equal(w, []time.Duration{tc.want, tc.want}) {
				t.Errorf("waits %v, want [%v %v]", w, tc.want, tc.want)
			}
		})
	}
}

// checkBackoff checks that wait n (1-based, no Retry-After) lies in the
// upper half of min(500ms·2^(n-1), maxBackoff).
func checkBackoff(t *testing.T, waits []time.Duration, maxBackoff time.Duration) {
	t.Helper()
	for i, w := range waits {
		ceil := min(500*time.Millisecond<<i, maxBackoff)
		if w < ceil/2 || w > ceil {
			t.Errorf("wait %d = %v, want within [%v, %v]", i+1, w, ceil/2, ceil)
		}
	}
}

func TestBackoffOn5xx(t *testing.T) {
	srv := resttest.NewServer(map[string][]map[string]any{"survey_responses": contacts(8)}, resttest.Options{FailEvery: 2})
	defer srv.Close()
	h := newClient(t, srv.URL, func(c *rest.Config) { c.PageSize = 2 })
	checkFields(t, fields(t, h.pull(t, "survey_responses", time.Time{}, "")), 0, 8)
	if c := srv.Counts(); c.Requests != 7 || c.Failed != 3 || c.Served != 4 {
		t.Fatalf("counts %+v", c)
	}
	// 500, 502 and 503 (without Retry-After) are all retried after backoff.
	if got := statuses(srv.Log()); !slices.Equal(got, []int{200, 500, 200, 502, 200, 503, 200}) {
		t.Errorf("statuses %v", got)
	}
	w := h.sleeps.all()
	if len(w) != 3 {
		t.Fatalf("waits %v, want 3", w)
	}
	for _, d := range w {
		checkBackoff(t, []time.Duration{d}, rest.DefaultMaxBackoff) // each page's first retry
	}
}

func TestBackoffGrowsUpToMaxBackoff(t *testing.T) {
	srv := resttest.NewServer(map[string][]map[string]any{"contacts": contacts(3)}, resttest.Options{})
	defer srv.Close()
	srv.FailNext(5)
	h := newClient(t, srv.URL, func(c *rest.Config) { c.MaxBackoff = 3 * time.Second })
	checkFields(t, fields(t, h.pull(t, "contacts", time.Time{}, "")), 0, 3)
	if c := srv.Counts(); c.Requests != 6 || c.Failed != 5 {
		t.Fatalf("counts %+v", c)
	}
	w := h.sleeps.all()
	if len(w) != 5 {
		t.Fatalf("waits %v, want 5", w)
	}
	// Ceilings 0.5 s, 1 s, 2 s, then 3 s (the cap) twice.
	checkBackoff(t, w, 3*time.Second)
	if w[4] < 1500*time.Millisecond {
		t.Errorf("fifth wait %v: the cap must not reset the growth", w[4])
	}
}

func TestTruncatedBodyRetried(t *testing.T) {
	srv := resttest.NewServer(map[string][]map[string]any{"contacts": contacts(8)}, resttest.Options{TruncateEvery: 2})
	defer srv.Close()
	h := newClient(t, srv.URL, func(c *rest.Config) { c.PageSize = 2 })
	checkFields(t, fields(t, h.pull(t, "contacts", time.Time{}, "")), 0, 8)
	if c := srv.Counts(); c.Requests != 7 || c.Truncated != 3 || c.Served != 4 {
		t.Fatalf("counts %+v", c)
	}
	w := h.sleeps.all()
	if len(w) != 3 {
		t.Fatalf("waits %v, want 3", w)
	}
	for _, d := range w {
		checkBackoff(t, []time.Duration{d}, rest.DefaultMaxBackoff)
	}
	if n := strings.Count(h.logs.String(), "error=\"truncated JSON body\""); n != 3 {
		t.Errorf("%d retry logs name the truncated body, want 3:\n%s", n, h.logs)
	}
	checkNoSecrets(t, "log", h.logs.String())
}

func TestRetriesExhausted(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opt        resttest.Options
		failNext   int
		maxRetries int
		want       string
		wantWaits  int
	}{
		{"500", resttest.Options{}, 100, 3, "after 4 attempts (last: 500 Internal Server Error)", 3},
		{"429", resttest.Options{ThrottleEvery: 1}, 0, 2, "after 3 attempts (last: 429 Too Many Requests)", 2},
		{"503", resttest.Options{FailEvery: 1}, 0, 2, "after 3 attempts (last: 503 Service Unavailable)", 2},
		{"no retries", resttest.Options{}, 100, -1, "after 1 attempt (last: 500 Internal Server Error)", 0},
		{"default", resttest.Options{}, 100, 0, "after 7 attempts (last: 500 Internal Server Error)", 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := resttest.NewServer(map[string][]map[string]any{"contacts": contacts(2)}, tc.opt)
			defer srv.Close()
			srv.FailNext(tc.failNext)
			h := newClient(t, srv.URL, func(c *rest.Config) { c.MaxRetries = tc.maxRetries; c.MaxBackoff = time.Second })
			_, err := h.Page(context.Background(), "contacts", time.Time{}, "")
			if !errors.Is(err, rest.ErrRetriesExhausted) || err.Error() != "contacts page: retries exhausted "+tc.want {
				t.Fatalf("error %v, want contacts page: retries exhausted %s", err, tc.want)
			}
			if srv.Requests() != tc.wantWaits+1 || len(h.sleeps.all()) != tc.wantWaits {
				t.Fatalf("%d requests, waits %v; want %d requests", srv.Requests(), h.sleeps.all(), tc.wantWaits+1)
			}
			for _, w := range h.sleeps.all() {
				if w > time.Second {
					t.Errorf("wait %v above MaxBackoff", w)
				}
			}
		})
	}
}

func TestNetworkErrors(t *testing.T) {
	// The first two connections are dropped without an answer.
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		fmt.Fprint(w, `{"data": [{"contact_id": "C1"}]}`)
	}))
	defer srv.Close()
	h := newClient(t, srv.URL, nil)
	p, err := h.Page(context.Background(), "contacts", time.Time{}, "")
	if err != nil || len(p.Items) != 1 || p.Items[0].Fields.Get("contact_id") != "C1" {
		t.Fatalf("page %+v, error %v", p, err)
	}
	if n.Load() != 3 || len(h.sleeps.all()) != 2 {
		t.Fatalf("%d requests, waits %v; want 3 requests, 2 waits", n.Load(), h.sleeps.all())
	}
	checkBackoff(t, h.sleeps.all(), rest.DefaultMaxBackoff)

	// Nothing listening: retried, then reported with the cause.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	h = newClient(t, dead.URL, func(c *rest.Config) { c.MaxRetries = 2 })
	_, err = h.Page(context.Background(), "contacts", time.Time{}, "")
	if !errors.Is(err, rest.ErrRetriesExhausted) || !strings.Contains(err.Error(), "after 3 attempts (last: network error: ") ||
		strings.Contains(err.Error(), "limit=") {
		t.Fatalf("error %v", err)
	}
}

func TestPermanent4xx(t *testing.T) {
	srv := resttest.NewServer(map[string][]map[string]any{"contacts": contacts(3)}, resttest.Options{})
	defer srv.Close()
	h := newClient(t, srv.URL, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		entity, cursor string
		status         int
	}{
		{"campaigns", "", http.StatusNotFound}, // not served
		{"contacts", "not-a-cursor!", http.StatusBadRequest},
	} {
		before := srv.Requests()
		_, err := h.Page(ctx, tc.entity, time.Time{}, tc.cursor)
		var he *rest.HTTPError
		want := fmt.Sprintf("%s page: %d %s", tc.entity, tc.status, http.StatusText(tc.status))
		if !errors.Is(err, rest.ErrRejected) || !errors.As(err, &he) || he.StatusCode != tc.status || err.Error() != want {
			t.Errorf("error %v, want %s", err, want)
		}
		if srv.Requests()-before != 1 {
			t.Errorf("%s: %d requests, want 1", want, srv.Requests()-before)
		}
	}
	if len(h.sleeps.all()) != 0 {
		t.Errorf("waits %v: a 4xx must not be retried", h.sleeps.all())
	}
	fixed, n := fixedServer(t, http.StatusForbidden, `{"error": "Alice may not"}`)
	_, err := newClient(t, fixed.URL, nil).Page(ctx, "contacts", time.Time{}, "")
	if !errors.Is(err, rest.ErrRejected) || err.Error() != "contacts page: 403 Forbidden" || n.Load() != 1 {
		t.Errorf("403: error %v after %d requests", err, n.Load())
	}
}

func TestCancelStopsWaiting(t *testing.T) {
	srv := resttest.NewServer(map[string][]map[string]any{"contacts": contacts(1)},
		resttest.Options{ThrottleEvery: 1, RetryAfter: "30"})
	defer srv.Close()
	// The real Sleep: cancelling must cut the 30 s Retry-After short.
	c, err := rest.New(rest.Config{BaseURL: srv.URL, MaxBackoff: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err = c.Page(ctx, "contacts", time.Time{}, "")
	if el := time.Since(start); !errors.Is(err, context.Canceled) || el > 2*time.Second {
		t.Fatalf("error %v after %v, want context.Canceled within about 50 ms", err, el)
	}
	if srv.Requests() != 1 {
		t.Errorf("%d requests, want 1", srv.Requests())
	}

	// Already cancelled: no request at all.
	_, err = c.Page(ctx, "contacts", time.Time{}, "")
	if !errors.Is(err, context.Canceled) || srv.Requests() != 1 {
		t.Fatalf("cancelled context: error %v, %d requests", err, srv.Requests())
	}

	// Cancelled while the server is slow to answer.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer slow.Close()
	c, _ = rest.New(rest.Config{BaseURL: slow.URL})
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = c.Page(ctx, "contacts", time.Time{}, "")
	if el := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || el > 2*time.Second {
		t.Fatalf("slow server: error %v after %v", err, el)
	}
}

func TestResumeAfterFailure(t *testing.T) {
	// 30 contacts, 25 of them updated since t0+5h: five pages of five.
	srv := resttest.NewServer(map[string][]map[string]any{"contacts": contacts(30)}, resttest.Options{})
	defer srv.Close()
	h := newClient(t, srv.URL, func(c *rest.Config) { c.PageSize = 5; c.MaxRetries = 2 })
	since := t0.Add(5 * time.Hour)
	ctx := context.Background()

	// The job commits each page with its Next; page 3 fails.
	var got []*rest.Page
	committed := ""
	for i := 0; i < 3; i++ {
		if i == 2 {
			srv.FailNext(3) // one more than MaxRetries allows
		}
		p, err := h.Page(ctx, "contacts", since, committed)
		if i == 2 {
			if !errors.Is(err, rest.ErrRetriesExhausted) ||
				err.Error() != "contacts page: retries exhausted after 3 attempts (last: 500 Internal Server Error)" {
				t.Fatalf("page 3: error %v", err)
			}
			break
		}
		if err != nil {
			t.Fatalf("page %d: %v", i+1, err)
		}
		got = append(got, p)
		committed = p.Next
	}
	if c := srv.Counts(); c.Requests != 5 || c.Served != 2 || c.Failed != 3 {
		t.Fatalf("counts after the failed run %+v", c)
	}

	// The next run resumes from the committed cursor, with a new client as
	// a new process would.
	h2 := newClient(t, srv.URL, func(c *rest.Config) { c.PageSize = 5 })
	resumed := h2.pull(t, "contacts", since, committed)
	if len(resumed) != 3 {
		t.Fatalf("resumed run: %d pages, want 3", len(resumed))
	}
	checkFields(t, fields(t, append(got, resumed...)), 5, 25)
	if c := srv.Counts(); c.Requests != 8 || c.Served != 5 {
		t.Fatalf("counts after the resumed run %+v", c)
	}
}
