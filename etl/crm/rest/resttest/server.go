package resttest

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TokenPath is the path of the OAuth token endpoint, served when
// Options.ClientID is set.
const TokenPath = "/oauth/token"

// Page size limits of the fake API.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Options configures a Server. The zero value serves cursor pagination
// without authentication and without faults.
type Options struct {
	// Pagination is "cursor" (the default: parameter "cursor", response
	// field "next_cursor") or "page_token" ("page_token",
	// "next_page_token").
	Pagination string
	// CursorParam, NextField, DataField, SinceParam and PageSizeParam
	// override the names set by Pagination and the defaults "data",
	// "updated_since" and "limit".
	CursorParam, NextField, DataField, SinceParam, PageSizeParam string
	// LastPage is how the last page says it is the last: "absent" (the
	// default; no next field), "null" or "empty" (an empty string).
	LastPage string
	// NextLinks makes next cursors absolute URLs of the next page on this
	// server instead of bare tokens.
	NextLinks bool

	// Token is the bearer token every API request must carry; "" with no
	// ClientID means no authentication.
	Token string
	// ClientID and ClientSecret enable the OAuth client credentials token
	// endpoint at TokenPath (HTTP Basic client authentication only); API
	// requests must then carry a token it issued that has neither expired
	// nor been invalidated.
	ClientID, ClientSecret string
	// TokenTTL is the lifetime of issued tokens, sent as expires_in (whole
	// seconds, at least 1); zero means 5 minutes.
	TokenTTL time.Duration

	// UpdatedField is the record field the since filter compares (RFC 3339);
	// default "updated_at". Records without it, or with a value that is not
	// an RFC 3339 string, always match.
	UpdatedField string
	// Now is the clock for the Date header and token expiry; nil means
	// time.Now.
	Now func() time.Time

	// ThrottleEvery makes every Nth API request answer 429 with
	// Retry-After: RetryAfter.
	ThrottleEvery int
	// RetryAfter is the Retry-After value of throttled answers; default "1".
	RetryAfter string
	// FailEvery makes every Nth API request answer 500, 502 or 503 in turn
	// (without Retry-After).
	FailEvery int
	// TruncateEvery makes every Nth API request send the first half of its
	// JSON body only.
	TruncateEvery int
	// ExpireTokenAfter invalidates an OAuth token once it has authorized N
	// API requests; the next request with it gets 401.
	ExpireTokenAfter int
}

// Counts are a Server's counters.
type Counts struct {
	Requests      int // API requests (every answer, faults included)
	Served        int // complete pages sent (200 answers not truncated)
	Throttled     int // 429 answers from ThrottleEvery
	Failed        int // 5xx answers from FailEvery and FailNext
	Truncated     int // truncated bodies from TruncateEvery
	Unauthorized  int // 401 answers to API requests
	TokenRequests int // requests to the token endpoint
	TokensIssued  int // tokens the token endpoint issued
	TokensExpired int // tokens invalidated by ExpireTokenAfter
}

// Request is one request as the Server saw it.
type Request struct {
	Method, Path string
	// Query is the URL query of an API request, or the posted form of a
	// token request.
	Query url.Values
	// Authorization is the Authorization header as received.
	Authorization string
	// Status is the status code answered.
	Status int
}

// Server is a fake CRM REST API on a local httptest.Server. Entity e is
// served at "/" + e (e may contain slashes). It is safe for concurrent use.
// Close it when done.
type Server struct {
	*httptest.Server

	opt                                                 Options
	cursorParam, nextField, dataField, since, sizeParam string

	mu       sync.Mutex
	data     map[string][]map[string]any
	counts   Counts
	failNext int
	tokens   map[string]*token
	log      []Request
}

type token struct {
	expiry time.Time
	uses   int
	dead   bool
}

// rawKey marks a record built by Raw.
const rawKey = "\x00resttest.raw"

// Raw returns a record that the Server sends as the JSON value js (which
// must be valid JSON; it is sent compacted, numbers as written), to put
// malformed records in the data: Raw(`"a string"`), Raw(`[1, 2]`),
// Raw(`{"n": 1.50}`). A raw record always passes the since filter.
func Raw(js string) map[string]any { return map[string]any{rawKey: json.RawMessage(js)} }

// NewServer starts a Server serving data (entity name → records, in the
// order served). Records are sent with encoding/json; use json.Number for
// numbers whose exact text matters and Raw for anything else. NewServer
// panics on an unknown Options.Pagination or LastPage, as it is a test
// helper.
func NewServer(data map[string][]map[string]any, opt Options) *Server {
	s := &Server{opt: opt, data: map[string][]map[string]any{}, tokens: map[string]*token{}}
	switch opt.Pagination {
	case "", "cursor":
		s.cursorParam, s.nextField = "cursor", "next_cursor"
	case "page_token":
		s.cursorParam, s.nextField = "page_token", "next_page_token"
	default:
		panic("resttest: unknown Pagination " + strconv.Quote(opt.Pagination))
	}
	switch opt.LastPage {
	case "", "absent", "null", "empty":
	default:
		panic("resttest: unknown LastPage " + strconv.Quote(opt.LastPage))
	}
	s.dataField, s.since, s.sizeParam = "data", "updated_since", "limit"
	for dst, v := range map[*string]string{
		&s.cursorParam: opt.CursorParam, &s.nextField: opt.NextField, &s.dataField: opt.DataField,
		&s.since: opt.SinceParam, &s.sizeParam: opt.PageSizeParam,
	} {
		if v != "" {
			*dst = v
		}
	}
	if s.opt.UpdatedField == "" {
		s.opt.UpdatedField = "updated_at"
	}
	if s.opt.TokenTTL <= 0 {
		s.opt.TokenTTL = 5 * time.Minute
	}
	if s.opt.RetryAfter == "" {
		s.opt.RetryAfter = "1"
	}
	if s.opt.Now == nil {
		s.opt.Now = time.Now
	}
	for e, recs := range data {
		s.data[e] = slices.Clone(recs)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// TokenURL is the URL of the OAuth token endpoint.
func (s *Server) TokenURL() string { return s.URL + TokenPath }

// Set replaces the records of entity, e.g. to simulate updates between two
// runs. A nil slice removes the entity (its path then answers 404).
func (s *Server) Set(entity string, records []map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if records == nil {
		delete(s.data, entity)
		return
	}
	s.data[entity] = slices.Clone(records)
}

// FailNext makes the next n API requests answer 500, whatever else the
// options say (authentication is still checked first).
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// Requests returns the number of API requests received (token requests
// excluded).
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts.Requests
}

// Counts returns a snapshot of all counters.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// Log returns every request received so far, token requests included, in
// arrival order.
func (s *Server) Log() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// answer is a response decided under the lock and written after it.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	var a answer
	if r.URL.Path == TokenPath && s.opt.ClientID != "" {
		a = s.tokenAnswer(r)
	} else {
		a = s.apiAnswer(r)
	}
	for k, v := range a.header {
		w.Header()[k] = v
	}
	if len(a.body) > 0 && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// record appends r to the log; the caller holds the lock.
func (s *Server) record(r *http.Request, query url.Values, status int) {
	s.log = append(s.log, Request{
		Method: r.Method, Path: r.URL.Path, Query: query,
		Authorization: r.Header.Get("Authorization"), Status: status,
	})
}

func jsonAnswer(status int, v any, header http.Header) answer {
	b, err := json.Marshal(v)
	if err != nil {
		panic("resttest: " + err.Error())
	}
	if header == nil {
		header = http.Header{}
	}
	return answer{status: status, header: header, body: b}
}

func errorAnswer(status int, msg string) answer {
	return jsonAnswer(status, map[string]string{"error": msg}, nil)
}

func (s *Server) tokenAnswer(r *http.Request) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.TokenRequests++
	if r.Method != http.MethodPost {
		s.record(r, nil, http.StatusMethodNotAllowed)
		return errorAnswer(http.StatusMethodNotAllowed, "invalid_request")
	}
	_ = r.ParseForm()
	form := r.PostForm
	a := func() answer {
		if form.Get("grant_type") != "client_credentials" {
			return errorAnswer(http.StatusBadRequest, "unsupported_grant_type")
		}
		id, secret, ok := r.BasicAuth()
		if ok {
			id, _ = url.QueryUnescape(id)
			secret, _ = url.QueryUnescape(secret)
		}
		if !ok || subtle.ConstantTimeCompare([]byte(id), []byte(s.opt.ClientID)) != 1 ||
			subtle.ConstantTimeCompare([]byte(secret), []byte(s.opt.ClientSecret)) != 1 {
			return jsonAnswer(http.StatusUnauthorized, map[string]string{"error": "invalid_client"},
				http.Header{"Www-Authenticate": {`Basic realm="resttest"`}})
		}
		s.counts.TokensIssued++
		tok := fmt.Sprintf("tok-%d", s.counts.TokensIssued)
		s.tokens[tok] = &token{expiry: s.opt.Now().Add(s.opt.TokenTTL)}
		resp := map[string]any{
			"access_token": tok,
			"token_type":   "Bearer",
			"expires_in":   max(int64(1), int64((s.opt.TokenTTL+time.Second-1)/time.Second)),
		}
		if sc := form.Get("scope"); sc != "" {
			resp["scope"] = sc
		}
		return jsonAnswer(http.StatusOK, resp, http.Header{"Cache-Control": {"no-store"}})
	}()
	s.record(r, form, a.status)
	return a
}

// authorize checks the request's bearer token; the caller holds the lock.
func (s *Server) authorize(r *http.Request) bool {
	if s.opt.Token == "" && s.opt.ClientID == "" {
		return true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return false
	}
	if s.opt.ClientID == "" {
		return subtle.ConstantTimeCompare([]byte(tok), []byte(s.opt.Token)) == 1
	}
	t := s.tokens[tok]
	if t == nil || t.dead || !s.opt.Now().Before(t.expiry) {
		return false
	}
	t.uses++
	if s.opt.ExpireTokenAfter > 0 && t.uses >= s.opt.ExpireTokenAfter {
		t.dead = true
		s.counts.TokensExpired++
	}
	return true
}

var failStatuses = [...]int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}

func (s *Server) apiAnswer(r *http.Request) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.Requests++
	n := s.counts.Requests
	q := r.URL.Query()
	a := s.apiDecide(r, q, n)
	s.record(r, q, a.status)
	return a
}

// apiDecide answers API request number n; the caller holds the lock. Faults
// are checked in this order: authentication, FailNext, ThrottleEvery,
// FailEvery, then the request itself, then TruncateEvery.
func (s *Server) apiDecide(r *http.Request, q url.Values, n int) answer {
	every := func(k int) bool { return k > 0 && n%k == 0 }
	switch {
	case !s.authorize(r):
		s.counts.Unauthorized++
		return jsonAnswer(http.StatusUnauthorized, map[string]string{"error": "invalid_token"},
			http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}})
	case s.failNext > 0:
		s.failNext--
		s.counts.Failed++
		return errorAnswer(http.StatusInternalServerError, "server_error")
	case every(s.opt.ThrottleEvery):
		s.counts.Throttled++
		a := errorAnswer(http.StatusTooManyRequests, "rate_limited")
		a.header.Set("Retry-After", s.opt.RetryAfter)
		return a
	case every(s.opt.FailEvery):
		status := failStatuses[s.counts.Failed%len(failStatuses)]
		s.counts.Failed++
		return errorAnswer(status, "server_error")
	case r.Method != http.MethodGet:
		return errorAnswer(http.StatusMethodNotAllowed, "method_not_allowed")
	}
	records, ok := s.data[strings.TrimPrefix(r.URL.Path, "/")]
	if !ok {
		return errorAnswer(http.StatusNotFound, "not_found")
	}

	limit := DefaultLimit
	if v := q.Get(s.sizeParam); v != "" {
		l, err := strconv.Atoi(v)
		if err != nil || l <= 0 {
			return errorAnswer(http.StatusBadRequest, "invalid "+s.sizeParam)
		}
		limit = min(l, MaxLimit)
	}
	var since time.Time
	if v := q.Get(s.since); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return errorAnswer(http.StatusBadRequest, "invalid "+s.since)
		}
		since = t
	}
	offset := 0
	if v := q.Get(s.cursorParam); v != "" {
		c, err := decodeCursor(v)
		if err != nil {
			return errorAnswer(http.StatusBadRequest, "invalid "+s.cursorParam)
		}
		if !c.since.Equal(since) {
			return errorAnswer(http.StatusBadRequest, s.since+" does not match the "+s.cursorParam)
		}
		offset = c.offset
	}

	var match []any
	for _, rec := range records {
		if s.matches(rec, since) {
			match = append(match, encodable(rec))
		}
	}
	page := []any{}
	if offset < len(match) {
		page = match[offset:min(offset+limit, len(match))]
	}
	resp := map[string]any{s.dataField: page}
	if end := offset + limit; end < len(match) {
		next := encodeCursor(cursor{offset: end, since: since})
		if s.opt.NextLinks {
			nq := url.Values{}
			for k, v := range q {
				nq[k] = v
			}
			nq.Set(s.cursorParam, next)
			next = s.URL + r.URL.Path + "?" + nq.Encode()
		}
		resp[s.nextField] = next
	} else {
		switch s.opt.LastPage {
		case "null":
			resp[s.nextField] = nil
		case "empty":
			resp[s.nextField] = ""
		}
	}
	a := jsonAnswer(http.StatusOK, resp, http.Header{"Date": {s.opt.Now().UTC().Format(http.TimeFormat)}})
	if every(s.opt.TruncateEvery) {
		s.counts.Truncated++
		a.body = a.body[:len(a.body)/2]
	} else {
		s.counts.Served++
	}
	return a
}

// matches applies the since filter to rec.
func (s *Server) matches(rec map[string]any, since time.Time) bool {
	if since.IsZero() {
		return true
	}
	var t time.Time
	switch v := rec[s.opt.UpdatedField].(type) {
	case time.Time:
		t = v
	case string:
		var err error
		if t, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return true
		}
	default:
		return true
	}
	return !t.Before(since)
}

// encodable returns rec as it is marshalled: a Raw record as its JSON text.
func encodable(rec map[string]any) any {
	if raw, ok := rec[rawKey]; ok && len(rec) == 1 {
		return raw
	}
	return rec
}

// cursor is the position a next cursor designates: the offset in the
// filtered records and the since filter it applies to, so that a cursor
// stays valid across requests and runs.
type cursor struct {
	offset int
	since  time.Time
}

func encodeCursor(c cursor) string {
	s := strconv.Itoa(c.offset) + "|"
	if !c.since.IsZero() {
		s += c.since.UTC().Format(time.RFC3339Nano)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeCursor(v string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return cursor{}, err
	}
	off, since, ok := strings.Cut(string(b), "|")
	if !ok {
		return cursor{}, fmt.Errorf("no separator")
	}
	var c cursor
	if c.offset, err = strconv.Atoi(off); err != nil || c.offset < 0 {
		return cursor{}, fmt.Errorf("bad offset")
	}
	if since != "" {
		if c.since, err = time.Parse(time.RFC3339Nano, since); err != nil {
			return cursor{}, err
		}
	}
	return c, nil
}
