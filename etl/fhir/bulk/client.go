package bulk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/carelens/carelens/internal/httpx"
)

// Defaults applied by New to zero Options fields.
const (
	DefaultPollMin     = time.Second
	DefaultPollMax     = time.Minute
	DefaultMaxRetries  = 5
	DefaultConcurrency = 2
)

// deleteTimeout bounds the best-effort DELETE of the status URL.
const deleteTimeout = 10 * time.Second

// Options configures a Client. Only BaseURL is required.
type Options struct {
	// BaseURL is the FHIR server base, e.g. https://ehr.example.org/fhir.
	// Its scheme, host and port are the only origin that receives the
	// bearer token.
	BaseURL string
	// HTTPClient sends every request; nil means a client without a timeout
	// (downloads can be long; Timeout bounds the export). Its CheckRedirect
	// is wrapped so that a redirect to another origin drops Authorization.
	HTTPClient *http.Client
	// Auth supplies the bearer token; nil sends none.
	Auth TokenSource
	// Logger receives ids, counts, durations and URLs without their query;
	// never resource contents or tokens. Nil discards.
	Logger *slog.Logger
	// PollMin and PollMax bound the exponential backoff (with jitter) used
	// between status polls and retries when the server sends no
	// Retry-After. Zero means DefaultPollMin and DefaultPollMax.
	PollMin, PollMax time.Duration
	// MaxRetries is how many times one request is retried after a transient
	// failure (429, 502–504, a 500 without a non-transient OperationOutcome,
	// a network error, an incomplete download). Zero means
	// DefaultMaxRetries; negative means never retry.
	MaxRetries int
	// Timeout bounds a whole Export (kick-off to manifest.json); zero means
	// only the caller's context does.
	Timeout time.Duration
	// Concurrency is how many files are downloaded at once; zero means
	// DefaultConcurrency.
	Concurrency int
	// Progress, if set, is called after each status poll and each finished
	// file, never concurrently, on the goroutine running Export or one of its
	// download workers. It must not block for long.
	Progress func(status Status)
}

// Client runs Bulk Data exports against one FHIR server. It is safe for
// concurrent use; each Export is independent.
type Client struct {
	base        *url.URL
	origin      string
	hc          *http.Client
	auth        TokenSource
	log         *slog.Logger
	pollMin     time.Duration
	pollMax     time.Duration
	maxRetries  int
	timeout     time.Duration
	concurrency int
	progress    func(Status)

	// sleep waits d or until ctx is done; tests replace it to record waits.
	sleep func(ctx context.Context, d time.Duration) error
	// now is the clock for Retry-After dates and elapsed times.
	now func() time.Time
}

// New checks opt and returns a Client. Errors wrap ErrInvalidOptions and name
// the field to fix.
func New(opt Options) (*Client, error) {
	if opt.BaseURL == "" {
		return nil, fmt.Errorf("%w: BaseURL is empty", ErrInvalidOptions)
	}
	base, err := url.Parse(opt.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("%w: BaseURL %q is not an absolute http(s) URL", ErrInvalidOptions, opt.BaseURL)
	}
	if base.User != nil || base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("%w: BaseURL must not carry credentials, a query or a fragment", ErrInvalidOptions)
	}
	c := &Client{
		base:        base,
		origin:      httpx.Origin(base),
		auth:        opt.Auth,
		log:         opt.Logger,
		pollMin:     opt.PollMin,
		pollMax:     opt.PollMax,
		maxRetries:  opt.MaxRetries,
		timeout:     opt.Timeout,
		concurrency: opt.Concurrency,
		progress:    opt.Progress,
		sleep:       httpx.Sleep,
		now:         time.Now,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.pollMin == 0 {
		c.pollMin = DefaultPollMin
	}
	if c.pollMax == 0 {
		c.pollMax = max(DefaultPollMax, c.pollMin)
	}
	switch {
	case c.pollMin < 0 || c.pollMax < 0:
		return nil, fmt.Errorf("%w: PollMin and PollMax must not be negative", ErrInvalidOptions)
	case c.pollMin > c.pollMax:
		return nil, fmt.Errorf("%w: PollMin %s is above PollMax %s", ErrInvalidOptions, c.pollMin, c.pollMax)
	case c.timeout < 0:
		return nil, fmt.Errorf("%w: Timeout must not be negative", ErrInvalidOptions)
	case c.concurrency < 0:
		return nil, fmt.Errorf("%w: Concurrency must not be negative", ErrInvalidOptions)
	}
	if c.maxRetries == 0 {
		c.maxRetries = DefaultMaxRetries
	} else if c.maxRetries < 0 {
		c.maxRetries = 0
	}
	if c.concurrency == 0 {
		c.concurrency = DefaultConcurrency
	}
	hc := opt.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	cp := *hc
	userCheck := hc.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if httpx.Origin(req.URL) != c.origin {
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
	c.hc = &cp
	return c, nil
}

// redact returns u without credentials, query or fragment, for logs and
// errors: pre-signed file URLs carry their secret in the query.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
}

// backoff is the wait before poll or retry n (0-based): exponential from
// PollMin, capped at PollMax, with full jitter above PollMin.
func (c *Client) backoff(n int) time.Duration {
	ceil := c.pollMin
	for i := 0; i < n && ceil < c.pollMax; i++ {
		ceil *= 2
	}
	ceil = min(ceil, c.pollMax)
	if ceil <= c.pollMin {
		return c.pollMin
	}
	return c.pollMin + rand.N(ceil-c.pollMin+1)
}
