package rest_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carelens/carelens/etl/crm/rest"
	"github.com/carelens/carelens/etl/crm/rest/resttest"
)

func TestStaticToken(t *testing.T) {
	srv := resttest.NewServer(map[string][]map[string]any{"contacts": contacts(5)}, resttest.Options{Token: "s3cret-token"})
	defer srv.Close()
	h := newClient(t, srv.URL, func(c *rest.Config) { c.Token = "s3cret-token"; c.PageSize = 2 })
	checkFields(t, fields(t, h.pull(t, "contacts", time.Time{}, "")), 0, 5)
	for i, r := range srv.Log() {
		if r.Authorization != "Bearer s3cret-token" {
			t.Errorf("request %d: Authorization %q", i, r.Authorization)
		}
	}
	if strings.Contains(h.logs.String(), "s3cret-token") {
		t.Errorf("the token is logged:\n%s", h.logs)
	}

	// A wrong or missing token fails at once: a static token cannot be
	// refreshed.
	for _, tok := range []string{"wrong-token", ""} {
		before := srv.Requests()
		h := newClient(t, srv.URL, func(c *rest.Config) { c.Token = tok })
		_, err := h.Page(context.Background(), "contacts", time.Time{}, "")
		var he *rest.HTTPError
		if !errors.Is(err, rest.ErrUnauthorized) || !errors.As(err, &he) || he.StatusCode != http.StatusUnauthorized ||
			err.Error() != "contacts page: 401 Unauthorized" {
			t.Errorf("token %q: error %v, want contacts page: 401 Unauthorized", tok, err)
		}
		if n := srv.Requests() - before; n != 1 || len(h.sleeps.all()) != 0 {
			t.Errorf("token %q: %d requests, waits %v; want one request, no wait", tok, n, h.sleeps.all())
		}
	}
}

func TestOAuthClientCredentials(t *testing.T) {
	const id, secret = "carelens app", "p@ss:w/rd"
	srv := resttest.NewServer(map[string][]map[string]any{
		"contacts":  contacts(7),
		"campaigns": {{"campaign_id": "K1", "name": "Flu shots", "purpose": "preventive_care"}},
	}, resttest.Options{ClientID: id, ClientSecret: secret, TokenTTL: time.Hour})
	defer srv.Close()
	h := newClient(t, srv.URL, func(c *rest.Config) {
		c.PageSize = 3
		c.OAuth = &rest.OAuth{TokenURL: srv.TokenURL(), ClientID: id, ClientSecret: secret, Scope: "crm.read crm.consents"}
	})
	checkFields(t, fields(t, h.pull(t, "contacts", time.Time{}, "")), 0, 7)
	if got := fields(t, h.pull(t, "campaigns", time.Time{}, "")); len(got) != 1 || got[0].Get("name") != "Flu shots" {
		t.Fatalf("campaigns %v", got)
	}
	if c := srv.Counts(); c != (resttest.Counts{Requests: 4, Served: 4, TokenRequests: 1, TokensIssued: 1}) {
		t.Fatalf("counts %+v", c)
	}
	log := srv.Log()
	tr := log[0]
	// RFC 6749 §2.3.1: id and secret form-encoded, then HTTP Basic.
	wantBasic := "Basic " + base64.StdEncoding.EncodeToString([]byte("carelens+app:p%40ss%3Aw%2Frd"))
	if tr.Method != http.MethodPost || tr.Path != resttest.TokenPath || tr.Status != http.StatusOK ||
		tr.Authorization != wantBasic || tr.Query.Get("grant_type") != "client_credentials" ||
		tr.Query.Get("scope") != "crm.read crm.consents" || len(tr.Query) != 2 {
		t.Fatalf("token request %+v", tr)
	}
	for i, r := range log[1:] {
		if r.Authorization != "Bearer tok-1" || r.Status != http.StatusOK {
			t.Errorf("API request %d: Authorization %q, status %d", i, r.Authorization, r.Status)
		}
	}
	for _, s := range []string{"tok-1", secret} {
		if strings.Contains(h.logs.String(), s) {
			t.Errorf("log contains %q:\n%s", s, h.logs)
		}
	}
}

// clock is a settable clock shared by a client and a server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestOAuthTokenCachedUntilExpiry(t *testing.T) {
	clk := &clock{t: t0}
	srv := resttest.NewServer(map[string][]map[string]any{"contacts": contacts(1)},
		resttest.Options{ClientID: "id", ClientSecret: "secret", TokenTTL: time.Hour, Now: clk.now})
	defer srv.Close()
	h := newClient(t, srv.URL, func(c *rest.Config) {
		c.OAuth = &rest.OAuth{TokenURL: srv.TokenURL(), ClientID: "id", ClientSecret: "secret"}
		c.Now = clk.now
	})
	// expires_in 3600: the token is used until 30 s before it expires.
	for _, step := range []struct {
		advance   time.Duration
		wantToken string
		wantReqs  int
	}{
		{0, "tok-1", 1},
		{3569 * time.Second, "tok-1", 1},
		{2 * time.Second, "tok-2", 2}, // 3571 s: within the margin
		{time.Minute, "tok-2", 2},
	} {
		clk.advance(step.advance)
		if _, err := h.Page(context.Background(), "contacts", time.Time{}, ""); err != nil {
			t.Fatal(err)
		}
		log := srv.Log()
		if last := log[len(log)-1]; last.Authorization != "Bearer "+step.wantToken {
			t.Errorf("after %v: Authorization %q, want %s", step.advance, last.Authorization, step.wantToken)
		}
		if got := srv.Counts().TokenRequests; got != step.wantReqs {
			t.Errorf("after %v: %d token requests, want %d", step.advance, got, step.wantReqs)
		}
	}
	if srv.Counts().Unauthorized != 0 {
		t.Errorf("%d 401s: the client should refresh before the server refuses", srv.Counts().Unauthorized)
	}
}

func TestOAuthRefreshOn401(t *testing.T) {
	srv := resttest.NewServer(map[string][]map[string]any{"messages": contacts(10)},
		resttest.Options{ClientID: "id", ClientSecret: "secret", TokenTTL: time.Hour, ExpireTokenAfter: 2})
	defer srv.Close()
	h := newClient(t, srv.URL, func(c *rest.Config) {
		c.PageSize = 2
		c.OAuth = &rest.OAuth{TokenURL: srv.TokenURL(), ClientID: "id", ClientSecret: "secret"}
	})
	pages := h.pull(t, "messages", time.Time{}, "")
	if len(pages) != 5 {
		t.Fatalf("%d pages, want 5", len(pages))
	}
	checkFields(t, fields(t, pages), 0, 10)
	// Each token serves two requests; the third gets 401, a new token and a
	// retry: pages 1-2 with tok-1, 3-4 with tok-2, 5 with tok-3.
	want := resttest.Counts{Requests: 7, Served: 5, Unauthorized: 2, TokenRequests: 3, TokensIssued: 3, TokensExpired: 2}
	if c := srv.Counts(); c != want {
		t.Fatalf("counts %+v, want %+v", c, want)
	}
	if got := statuses(srv.Log()); !slices.Equal(got, []int{200, 200, 401, 200, 200, 401, 200}) {
		t.Errorf("statuses %v", got)
	}
	if w := h.sleeps.all(); len(w) != 0 {
		t.Errorf("waits %v: a token refresh needs no wait", w)
	}
}

// authServer is a CRM whose token endpoint answers tokenFails 503s
// (Retry-After: 2) before issuing tokens, and whose API answers 401 to
// every request when reject is set, else an empty page.
type authServer struct {
	*httptest.Server
	tokenFails       int
	reject           bool
	tokenReqs, calls atomic.Int32
}

func newAuthServer(t *testing.T, tokenFails int, reject bool) *authServer {
	s := &authServer{tokenFails: tokenFails, reject: reject}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			n := s.tokenReqs.Add(1)
			if int(n) <= s.tokenFails {
				w.Header().Set("Retry-After", "2")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			fmt.Fprintf(w, `{"access_token": "t%d", "token_type": "bearer", "expires_in": 3600}`, n)
			return
		}
		s.calls.Add(1)
		if s.reject {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"data": []}`)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestOAuthSecond401IsAnError(t *testing.T) {
	srv := newAuthServer(t, 0, true)
	h := newClient(t, srv.URL, func(c *rest.Config) {
		c.OAuth = &rest.OAuth{TokenURL: srv.URL + "/token", ClientID: "id", ClientSecret: "secret"}
	})
	_, err := h.Page(context.Background(), "contacts", time.Time{}, "")
	if !errors.Is(err, rest.ErrUnauthorized) || err.Error() != "contacts page: 401 Unauthorized" {
		t.Fatalf("error %v, want contacts page: 401 Unauthorized", err)
	}
	if srv.tokenReqs.Load() != 2 || srv.calls.Load() != 2 {
		t.Fatalf("%d token requests, %d API requests; want 2 and 2", srv.tokenReqs.Load(), srv.calls.Load())
	}
}

func TestOAuthTokenEndpointOutageIsRetried(t *testing.T) {
	srv := newAuthServer(t, 2, false)
	h := newClient(t, srv.URL, func(c *rest.Config) {
		c.OAuth = &rest.OAuth{TokenURL: srv.URL + "/token", ClientID: "id", ClientSecret: "secret"}
	})
	if _, err := h.Page(context.Background(), "contacts", time.Time{}, ""); err != nil {
		t.Fatal(err)
	}
	if w := h.sleeps.all(); !slices.Equal(w, []time.Duration{2 * time.Second, 2 * time.Second}) {
		t.Errorf("waits %v, want the token endpoint's Retry-After twice", w)
	}
	if srv.tokenReqs.Load() != 3 || srv.calls.Load() != 1 {
		t.Errorf("%d token requests, %d API requests; want 3 and 1", srv.tokenReqs.Load(), srv.calls.Load())
	}

	// Past MaxRetries the token failure is reported as such.
	srv = newAuthServer(t, 100, false)
	h = newClient(t, srv.URL, func(c *rest.Config) {
		c.MaxRetries = 1
		c.OAuth = &rest.OAuth{TokenURL: srv.URL + "/token", ClientID: "id", ClientSecret: "secret"}
	})
	_, err := h.Page(context.Background(), "contacts", time.Time{}, "")
	if !errors.Is(err, rest.ErrToken) ||
		err.Error() != "contacts page: OAuth token request failed after 2 attempts (last: token endpoint answered 503 Service Unavailable)" {
		t.Fatalf("error %v", err)
	}
	if srv.tokenReqs.Load() != 2 || srv.calls.Load() != 0 {
		t.Errorf("%d token requests, %d API requests; want 2 and 0", srv.tokenReqs.Load(), srv.calls.Load())
	}
}

func TestOAuthBadCredentials(t *testing.T) {
	srv := resttest.NewServer(map[string][]map[string]any{"contacts": contacts(1)},
		resttest.Options{ClientID: "id", ClientSecret: "secret"})
	defer srv.Close()
	h := newClient(t, srv.URL, func(c *rest.Config) {
		c.OAuth = &rest.OAuth{TokenURL: srv.TokenURL(), ClientID: "id", ClientSecret: "wrong"}
	})
	_, err := h.Page(context.Background(), "contacts", time.Time{}, "")
	var he *rest.HTTPError
	if !errors.Is(err, rest.ErrToken) || !errors.As(err, &he) || !he.Token || he.StatusCode != 401 || he.Code != "invalid_client" ||
		err.Error() != "contacts page: token endpoint answered 401 Unauthorized (invalid_client)" {
		t.Fatalf("error %v", err)
	}
	if c := srv.Counts(); c != (resttest.Counts{TokenRequests: 1}) || len(h.sleeps.all()) != 0 {
		t.Fatalf("counts %+v, waits %v: a refused client must not be retried", c, h.sleeps.all())
	}
}

func TestTokenStaysOnOrigin(t *testing.T) {
	// other is another origin (same host, another port): it must never see
	// the token.
	other := resttest.NewServer(map[string][]map[string]any{"contacts": contacts(2)}, resttest.Options{})
	defer other.Close()
	var sawToken atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		sawToken.Add(1)
		switch r.URL.Path {
		case "/contacts": // a next link to the other origin
			fmt.Fprintf(w, `{"data": [{"contact_id": "C1"}], "next_cursor": %q}`, other.URL+"/contacts?cursor=x")
		case "/messages": // a redirect to the other origin
			http.Redirect(w, r, other.URL+"/contacts?limit=500", http.StatusTemporaryRedirect)
		case "/campaigns": // a redirect on the same origin keeps the token
			http.Redirect(w, r, "/moved/campaigns", http.StatusTemporaryRedirect)
		case "/moved/campaigns":
			fmt.Fprint(w, `{"data": [{"campaign_id": "K1"}]}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer api.Close()
	h := newClient(t, api.URL, func(c *rest.Config) { c.Token = "tok" })
	ctx := context.Background()

	p, err := h.Page(ctx, "contacts", time.Time{}, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.Page(ctx, "contacts", time.Time{}, p.Next)
	if !errors.Is(err, rest.ErrContract) || !strings.Contains(err.Error(), "next link is on another origin") {
		t.Fatalf("foreign next link: %v", err)
	}
	if other.Requests() != 0 {
		t.Fatalf("the foreign next link was followed")
	}

	p, err = h.Page(ctx, "messages", time.Time{}, "")
	if err != nil || len(p.Items) != 2 {
		t.Fatalf("redirected page: %v", err)
	}
	if log := other.Log(); len(log) != 1 || log[0].Authorization != "" {
		t.Fatalf("the other origin got Authorization %q", log[0].Authorization)
	}

	p, err = h.Page(ctx, "campaigns", time.Time{}, "")
	if err != nil || len(p.Items) != 1 || p.Items[0].Fields.Get("campaign_id") != "K1" {
		t.Fatalf("same-origin redirect: %v", err)
	}
	if sawToken.Load() != 4 {
		t.Errorf("the API saw the token %d times, want 4", sawToken.Load())
	}
}

func TestOAuthTokenResponses(t *testing.T) {
	for _, tc := range []struct {
		body      string
		want      string // "" = success
		tokenReqs int32
	}{
		{`{"access_token": "a", "token_type": "Bearer", "expires_in": "3600"}`, "", 1},
		{`{"access_token": "a"}`, "", 1},
		{`{"token_type": "bearer"}`, "OAuth token request failed: token response has no access_token", 1},
		{`{"access_token": "a", "token_type": "mac"}`, "OAuth token request failed: token_type is not bearer", 1},
		{`{"access_token": "a b"}`, "OAuth token request failed: access_token contains spaces or control characters", 1},
		{`{"access_token": "a", "expires_in": -5}`, "OAuth token request failed: expires_in is not a positive number", 1},
		{`{"access_token": "a", "expires_in": {}}`, "OAuth token request failed: token response field expires_in is a JSON object", 1},
		{`{"access_token": "a", "expi`, "OAuth token request failed after 2 attempts (last: token endpoint answer: truncated JSON body)", 2},
	} {
		t.Run(tc.body, func(t *testing.T) {
			var tokenReqs atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/token" {
					tokenReqs.Add(1)
					fmt.Fprint(w, tc.body)
					return
				}
				if r.Header.Get("Authorization") != "Bearer a" {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				fmt.Fprint(w, `{"data": []}`)
			}))
			defer srv.Close()
			h := newClient(t, srv.URL, func(c *rest.Config) {
				c.MaxRetries = 1
				c.OAuth = &rest.OAuth{TokenURL: srv.URL + "/token", ClientID: "id", ClientSecret: "secret"}
			})
			_, err := h.Page(context.Background(), "contacts", time.Time{}, "")
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.want != "" && (!errors.Is(err, rest.ErrToken) || err.Error() != "contacts page: "+tc.want):
				t.Fatalf("error %v, want contacts page: %s", err, tc.want)
			}
			if tokenReqs.Load() != tc.tokenReqs {
				t.Errorf("%d token requests, want %d", tokenReqs.Load(), tc.tokenReqs)
			}
		})
	}
}
