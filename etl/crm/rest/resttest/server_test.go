package resttest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)

func records(n int) []map[string]any {
	recs := make([]map[string]any, n)
	for i := range recs {
		recs[i] = map[string]any{"id": fmt.Sprint(i), "updated_at": t0.Add(time.Duration(i) * time.Hour).Format(time.RFC3339)}
	}
	return recs
}

// get sends a GET and returns the status and the decoded JSON body (nil
// when it does not decode).
func get(t *testing.T, rawURL string, header http.Header) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &body)
	return resp.StatusCode, body
}

// ids returns the id of each record of a page body.
func ids(body map[string]any, field string) []string {
	var out []string
	for _, r := range body[field].([]any) {
		out = append(out, r.(map[string]any)["id"].(string))
	}
	return out
}

func TestServeSinceAndCursor(t *testing.T) {
	recs := records(10)
	recs = append(recs, map[string]any{"id": "no-date"}, map[string]any{"id": "bad-date", "updated_at": "yesterday"})
	s := NewServer(map[string][]map[string]any{"contacts": recs}, Options{})
	defer s.Close()
	since := url.QueryEscape(t0.Add(7 * time.Hour).Format(time.RFC3339))

	status, body := get(t, s.URL+"/contacts?limit=3&updated_since="+since, nil)
	if status != 200 || strings.Join(ids(body, "data"), ",") != "7,8,9" || body["next_cursor"] == nil {
		t.Fatalf("first page: %d %v", status, body)
	}
	next := url.QueryEscape(body["next_cursor"].(string))
	status, body = get(t, s.URL+"/contacts?limit=3&updated_since="+since+"&cursor="+next, nil)
	if status != 200 || strings.Join(ids(body, "data"), ",") != "no-date,bad-date" {
		t.Fatalf("second page: %d %v", status, body)
	}
	if _, ok := body["next_cursor"]; ok {
		t.Fatalf("last page has next_cursor: %v", body)
	}
	// The cursor carries its since: another since is refused.
	if status, _ := get(t, s.URL+"/contacts?limit=3&cursor="+next, nil); status != 400 {
		t.Fatalf("cursor without its since: %d", status)
	}
	// Records changed between runs: the same cursor sees the new data.
	s.Set("contacts", records(20))
	_, body = get(t, s.URL+"/contacts?limit=3&updated_since="+since+"&cursor="+next, nil)
	if got := strings.Join(ids(body, "data"), ","); got != "10,11,12" {
		t.Fatalf("after Set: %s", got)
	}
	s.Set("contacts", nil)
	if status, _ := get(t, s.URL+"/contacts", nil); status != 404 {
		t.Fatalf("after Set(nil): %d", status)
	}
}

func TestServeParameters(t *testing.T) {
	s := NewServer(map[string][]map[string]any{"a/b": records(1500)},
		Options{Pagination: "page_token", LastPage: "null", Now: func() time.Time { return t0 }})
	defer s.Close()
	for _, tc := range []struct {
		query  string
		status int
		n      int
	}{
		{"", 200, DefaultLimit},
		{"limit=2000", 200, MaxLimit},
		{"limit=0", 400, 0},
		{"limit=x", 400, 0},
		{"updated_since=2025-03-04", 400, 0},
		{"page_token=!!", 400, 0},
		{"page_token=bm9wZQ", 400, 0},
	} {
		status, body := get(t, s.URL+"/a/b?"+tc.query, nil)
		if status != tc.status || (status == 200 && len(body["data"].([]any)) != tc.n) {
			t.Errorf("?%s: %d %v", tc.query, status, len(body))
		}
		if status == 200 && body["next_page_token"] == nil {
			t.Errorf("?%s: no next_page_token", tc.query)
		}
	}
	_, body := get(t, s.URL+"/a/b?limit=1000&page_token="+encodeCursor(cursor{offset: 1000}), nil)
	if v, ok := body["next_page_token"]; !ok || v != nil || len(body["data"].([]any)) != 500 {
		t.Errorf("last page: next_page_token %v (present %v)", v, ok)
	}
	resp, err := http.Post(s.URL+"/a/b", "text/plain", nil)
	if err != nil || resp.StatusCode != 405 {
		t.Errorf("POST: %v %v", resp.StatusCode, err)
	}
	resp, _ = http.Get(s.URL + "/a/b?limit=1")
	if d := resp.Header.Get("Date"); d != t0.Format(http.TimeFormat) {
		t.Errorf("Date %q", d)
	}
	resp.Body.Close()
}

func TestServeRaw(t *testing.T) {
	s := NewServer(map[string][]map[string]any{"x": {Raw(`"str"`), Raw(`{"n": 1.50}`), {"n": json.Number("1.50")}}}, Options{})
	defer s.Close()
	resp, err := http.Get(s.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `{"data":["str",{"n":1.50},{"n":1.50}]}`; string(b) != want {
		t.Fatalf("body %s, want %s", b, want)
	}
}

func TestServeFaults(t *testing.T) {
	s := NewServer(map[string][]map[string]any{"x": records(1)},
		Options{ThrottleEvery: 3, FailEvery: 2, TruncateEvery: 5, RetryAfter: "7"})
	defer s.Close()
	var statuses []int
	for range 10 {
		resp, err := http.Get(s.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") != "7" {
			t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
		}
		resp.Body.Close()
	}
	// 1 ok, 2 fail, 3 throttle, 4 fail, 5 truncated, 6 throttle, 7 ok,
	// 8 fail, 9 throttle, 10 fail.
	want := "[200 500 429 502 200 429 200 503 429 500]"
	if got := fmt.Sprint(statuses); got != want {
		t.Fatalf("statuses %s, want %s", got, want)
	}
	if c := s.Counts(); c != (Counts{Requests: 10, Served: 2, Throttled: 3, Failed: 4, Truncated: 1}) {
		t.Fatalf("counts %+v", c)
	}
}

func TestTokenEndpoint(t *testing.T) {
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := NewServer(map[string][]map[string]any{"x": records(1)},
		Options{ClientID: "id", ClientSecret: "s:ecret", TokenTTL: 90 * time.Second, Now: clock})
	defer s.Close()
	post := func(form url.Values, id, secret string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, s.TokenURL(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if id != "" {
			req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}
	if st, b := post(url.Values{"grant_type": {"password"}}, "id", "s:ecret"); st != 400 || b["error"] != "unsupported_grant_type" {
		t.Errorf("password grant: %d %v", st, b)
	}
	if st, b := post(cc, "id", "wrong"); st != 401 || b["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %v", st, b)
	}
	if st, b := post(cc, "", ""); st != 401 || b["error"] != "invalid_client" {
		t.Errorf("no client auth: %d %v", st, b)
	}
	st, b := post(cc, "id", "s:ecret")
	if st != 200 || b["access_token"] != "tok-1" || b["token_type"] != "Bearer" || b["expires_in"] != 90.0 || b["scope"] != "read" {
		t.Fatalf("token: %d %v", st, b)
	}
	auth := http.Header{"Authorization": {"Bearer tok-1"}}
	if st, _ := get(t, s.URL+"/x", auth); st != 200 {
		t.Fatalf("with the token: %d", st)
	}
	if st, _ := get(t, s.URL+"/x", http.Header{"Authorization": {"Bearer tok-2"}}); st != 401 {
		t.Fatalf("with an unknown token: %d", st)
	}
	mu.Lock()
	now = now.Add(90 * time.Second)
	mu.Unlock()
	if st, _ := get(t, s.URL+"/x", auth); st != 401 {
		t.Fatalf("with an expired token: %d", st)
	}
	if c := s.Counts(); c != (Counts{Requests: 3, Served: 1, Unauthorized: 2, TokenRequests: 4, TokensIssued: 1}) {
		t.Fatalf("counts %+v", c)
	}
}

func TestNewServerPanicsOnBadOptions(t *testing.T) {
	for _, opt := range []Options{{Pagination: "offset"}, {LastPage: "missing"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewServer(%+v) did not panic", opt)
				}
			}()
			NewServer(nil, opt).Close()
		}()
	}
}
