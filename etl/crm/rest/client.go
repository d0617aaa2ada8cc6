package rest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/carelens/carelens/etl/crm/contract"
	"github.com/carelens/carelens/internal/httpx"
)

// Client pulls CRM records from one REST API. It is safe for concurrent use:
// several entities can be pulled at once, sharing one OAuth token.
type Client struct {
	s      *settings
	origin string
	hc     *http.Client
	token  string       // static bearer token, or
	oauth  *oauthSource // OAuth token source, or neither
	sleep  func(ctx context.Context, d time.Duration) error
	now    func() time.Time
	log    *slog.Logger
}

// Page is one page of an entity's records.
type Page struct {
	// Items are the page's records in API order, one per element of the
	// data array, usable or not.
	Items []Item
	// Next is the cursor of the next page, "" on the last page. Passing it
	// to Page with the same entity and since continues the pull, also in a
	// later process: a job commits it with the page's rows to resume after a
	// failure.
	Next string
	// ServerTime is the time of the response's Date header (whole seconds,
	// UTC), zero if absent or malformed. A job can take the next run's since
	// from the ServerTime of its first page, less a safety margin, so that
	// clock skew between carelens and the CRM loses no update.
	ServerTime time.Time
}

// Item is one record of a Page.
type Item struct {
	// Fields are the record's values keyed by contract field name: strings
	// as they are, numbers as their JSON text, booleans as "true"/"false",
	// null as "". Nil when Err is set.
	Fields contract.Fields
	// Err says why the record is unusable ("record is not a JSON object",
	// "field x: not a scalar value"); "" for a usable record. It names
	// fields, never values.
	Err string
}

// New checks cfg, applies its defaults and returns a Client. A bad Config
// gives a *ConfigError (wrapping ErrInvalidConfig) listing every problem.
func New(cfg Config) (*Client, error) {
	s, problems := check(cfg)
	if len(problems) > 0 {
		return nil, &ConfigError{Problems: problems}
	}
	c := &Client{
		s:      s,
		origin: httpx.Origin(s.base),
		token:  cfg.Token,
		sleep:  cfg.Sleep,
		now:    cfg.Now,
		log:    cfg.Logger,
	}
	if c.sleep == nil {
		c.sleep = httpx.Sleep
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	c.hc = guardRedirects(hc, c.origin)
	if cfg.OAuth != nil {
		c.oauth = &oauthSource{
			cfg:      *cfg.OAuth,
			tokenURL: s.tokenURL.String(),
			hc:       guardRedirects(hc, httpx.Origin(s.tokenURL)),
			now:      c.now,
		}
	}
	return c, nil
}

// guardRedirects returns a copy of hc whose redirect policy drops the
// Authorization header when a redirect leaves origin (Go's own policy keeps
// it for subdomains and for another port or scheme on the same host).
func guardRedirects(hc *http.Client, orig string) *http.Client {
	cp := *hc
	userCheck := hc.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if httpx.Origin(req.URL) != orig {
			req.Header.Del("Authorization")
		}
		if userCheck != nil {
			return userCheck(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &cp
}

// Page fetches one page of entity: the first when cursor is "", else the
// page cursor designates (a Page.Next of an earlier call with the same
// entity and since). A zero since asks for all records, else for those
// updated at or after since. Transient failures are retried as the package
// documentation describes; Page blocks until it has the page, gives up, or
// ctx is done.
//
// Errors wrap ErrUnknownEntity, ErrUnauthorized, ErrRejected,
// ErrRetriesExhausted, ErrContract or ErrToken, or ctx's error, and start
// with the entity name. A record that cannot be used does not fail the page:
// it is an Item with Err set.
func (c *Client) Page(ctx context.Context, entity string, since time.Time, cursor string) (*Page, error) {
	e, ok := c.s.entities[entity]
	if !ok {
		return nil, fmt.Errorf("%s page: %w (known: %s)", entity, ErrUnknownEntity, strings.Join(entities, ", "))
	}
	start := time.Now()
	target, err := c.pageURL(e, since, cursor)
	if err != nil {
		return nil, fmt.Errorf("%s page: %w", entity, err)
	}
	b, date, err := c.fetch(ctx, e, target)
	if err != nil {
		return nil, fmt.Errorf("%s page: %w", entity, err)
	}
	if b.next != "" && b.next == cursor {
		return nil, fmt.Errorf("%s page: %w: next cursor repeats the current one", entity, ErrContract)
	}
	p := &Page{Items: make([]Item, len(b.data)), Next: b.next}
	if t, err := http.ParseTime(date); err == nil {
		p.ServerTime = t.UTC()
	}
	invalid := 0
	for i, raw := range b.data {
		p.Items[i] = e.item(raw)
		if p.Items[i].Err != "" {
			invalid++
		}
	}
	c.log.Debug("crm page fetched", "entity", entity, "items", len(p.Items), "invalid", invalid,
		"last_page", p.Next == "", "duration_ms", time.Since(start).Milliseconds())
	return p, nil
}

// Pages iterates over the pages of entity from cursor on ("" = from the
// first page) until the last page or the first error, which it yields with a
// nil page and then stops. Stopping the loop early is fine: each page's Next
// resumes the pull later.
func (c *Client) Pages(ctx context.Context, entity string, since time.Time, cursor string) iter.Seq2[*Page, error] {
	return func(yield func(*Page, error) bool) {
		for {
			p, err := c.Page(ctx, entity, since, cursor)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(p, nil) || p.Next == "" {
				return
			}
			cursor = p.Next
		}
	}
}

// pageURL is the URL of the page cursor designates. A cursor that is an
// absolute http(s) URL is a next link: used as is, and only on the API's
// origin.
func (c *Client) pageURL(e *entity, since time.Time, cursor string) (string, error) {
	if isLink(cursor) {
		u, err := url.Parse(cursor)
		if err != nil || u.Host == "" || u.User != nil {
			return "", fmt.Errorf("%w: next link is not a usable URL", ErrContract)
		}
		if httpx.Origin(u) != c.origin {
			return "", fmt.Errorf("%w: next link is on another origin than BaseURL; not followed", ErrContract)
		}
		return u.String(), nil
	}
	u := *c.s.base
	u.Path += e.path
	q := url.Values{}
	if !since.IsZero() {
		q.Set(c.s.sinceParam, since.UTC().Truncate(time.Second).Format(time.RFC3339))
	}
	q.Set(c.s.sizeParam, strconv.Itoa(c.s.pageSize))
	if cursor != "" {
		q.Set(c.s.cursorParam, cursor)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// isLink reports whether a cursor is an absolute http(s) URL.
func isLink(cursor string) bool {
	l := strings.ToLower(cursor)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}
