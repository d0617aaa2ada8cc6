// Package httpx holds the HTTP client plumbing carelens' pull clients share
// (the FHIR Bulk Data client and the CRM REST client): origins for keeping
// credentials on their server, Retry-After, and context-aware waiting.
package httpx

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Origin is scheme://host:port with the default port made explicit, so that
// http://h and http://h:80 compare equal.
func Origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// RetryAfter parses a Retry-After header value, delta-seconds or an
// HTTP-date (relative to now), to a wait of at most a day; ok is false when
// there is no usable value.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// Sleep waits d or until ctx is done, whichever is first, and returns the
// context's cause in the latter case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return context.Cause(ctx)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
