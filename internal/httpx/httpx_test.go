package httpx

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"1", time.Second, true},
		{"120", 2 * time.Minute, true},
		{"999999999999", 24 * time.Hour, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{now.Add(5 * time.Second).Format(time.RFC850), 5 * time.Second, true},
	} {
		got, ok := RetryAfter(tc.v, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}

func TestOrigin(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"http://crm.example.org/api", "http://crm.example.org:80/x?y", true},
		{"https://CRM.example.org", "https://crm.example.org:443", true},
		{"https://crm.example.org", "http://crm.example.org", false},
		{"https://crm.example.org", "https://crm.example.org:8443", false},
		{"https://crm.example.org", "https://evil.crm.example.org", false},
		{"http://127.0.0.1:1234", "http://127.0.0.1:1235", false},
	} {
		ua, _ := url.Parse(tc.a)
		ub, _ := url.Parse(tc.b)
		if got := Origin(ua) == Origin(ub); got != tc.same {
			t.Errorf("same origin %s, %s = %v", tc.a, tc.b, got)
		}
	}
}

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	why := errors.New("shutting down")
	cancel(why)
	start := time.Now()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, why) || time.Since(start) > time.Second {
		t.Fatalf("Sleep on a cancelled context: %v after %v", err, time.Since(start))
	}
}
