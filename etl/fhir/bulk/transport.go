package bulk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/carelens/carelens/internal/httpx"
)

// call is one logical request; do retries it.
type call struct {
	op     string // "kick-off", "status", "download", "delete"
	method string
	url    string
	header http.Header
	// auth sends the bearer token, and only if url is on the server's origin.
	auth bool
	// fail classifies a permanent error answer (ErrExportFailed, ErrDownload).
	fail error
	// retries is the transient-failure budget; negative means c.maxRetries.
	retries int
}

// do sends cl until it gets an answer below 400, retrying transient failures
// with Retry-After or backoff, and a 401 once with a fresh token. Any other
// answer of 400 or more is returned as an *HTTPError. The caller closes the
// returned body.
func (c *Client) do(ctx context.Context, cl call) (*http.Response, error) {
	budget := cl.retries
	if budget < 0 {
		budget = c.maxRetries
	}
	log := c.log.With("op", cl.op, "url", redact(cl.url))
	refreshed := false
	for failures := 0; ; {
		req, err := http.NewRequestWithContext(ctx, cl.method, cl.url, nil)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", cl.op, redact(cl.url), err)
		}
		for k, v := range cl.header {
			req.Header[k] = v
		}
		tok := ""
		if cl.auth && c.auth != nil && httpx.Origin(req.URL) == c.origin {
			if tok, err = c.auth.Token(ctx); err != nil {
				return nil, fmt.Errorf("%s: %w", cl.op, err)
			}
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := c.hc.Do(req)
		var (
			lastErr error
			wait    time.Duration
			hasWait bool
		)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s: %w", cl.op, context.Cause(ctx))
			}
			// url.Error repeats the URL with its query: keep only the cause.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			lastErr = fmt.Errorf("%s %s: %w", cl.op, redact(cl.url), err)
		} else {
			he := &HTTPError{Op: cl.op, URL: redact(cl.url), StatusCode: resp.StatusCode, Err: cl.fail}
			switch code := resp.StatusCode; {
			case code < 400:
				return resp, nil
			case code == http.StatusUnauthorized:
				he.Err = ErrUnauthorized
				he.Outcome, _, _ = readOutcome(resp.Body)
				resp.Body.Close()
				if inv, ok := c.auth.(Invalidator); ok && tok != "" && !refreshed {
					inv.Invalidate(tok)
					refreshed = true
					log.Info("access token rejected; refreshing", "status", code)
					continue
				}
				return nil, he
			case code == http.StatusTooManyRequests, code == http.StatusBadGateway,
				code == http.StatusServiceUnavailable, code == http.StatusGatewayTimeout:
				he.Outcome, _, _ = readOutcome(resp.Body)
				resp.Body.Close()
				wait, hasWait = httpx.RetryAfter(resp.Header.Get("Retry-After"), c.now())
				lastErr = he
			case code == http.StatusInternalServerError:
				var transient, isOutcome bool
				he.Outcome, transient, isOutcome = readOutcome(resp.Body)
				resp.Body.Close()
				if isOutcome && !transient {
					return nil, he
				}
				wait, hasWait = httpx.RetryAfter(resp.Header.Get("Retry-After"), c.now())
				lastErr = he
			default:
				he.Outcome, _, _ = readOutcome(resp.Body)
				resp.Body.Close()
				return nil, he
			}
		}
		failures++
		if failures > budget {
			return nil, fmt.Errorf("%w after %d attempts: %w", ErrRetriesExhausted, failures, lastErr)
		}
		if !hasWait {
			wait = c.backoff(failures - 1)
		}
		log.Warn("transient failure; retrying", "attempt", failures, "wait_ms", wait.Milliseconds(), "error", lastErr.Error())
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%s: %w", cl.op, err)
		}
	}
}

// drain discards a little of what is left of a body so the connection can
// be reused, then closes it.
func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	body.Close()
}
