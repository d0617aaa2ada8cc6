package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/carelens/carelens/internal/httpx"
)

// baseBackoff is the backoff ceiling of the first retry; it doubles with
// each further retry up to MaxBackoff.
const baseBackoff = 500 * time.Millisecond

// fetch GETs target and decodes the answer, retrying transient failures:
// 429 and 503 after their Retry-After (else backoff), other 5xx, network
// errors, token endpoint outages and truncated or invalid JSON after backoff,
// a 401 once with a fresh OAuth token. It returns the page body and the
// response's Date header.
func (c *Client) fetch(ctx context.Context, e *entity, target string) (*body, string, error) {
	log := c.log.With("entity", e.name)
	refreshed := false
	failures := 0
	for attempt := 1; ; attempt++ {
		var (
			lastErr    error
			retryAfter string
		)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return nil, "", err
		}
		req.Header.Set("Accept", "application/json")
		tok, err := c.bearer(ctx)
		if err != nil {
			var te *tokenError
			if !errors.As(err, &te) || !te.transient {
				return nil, "", err
			}
			lastErr, retryAfter = te, te.retryAfter
		}
		if lastErr == nil {
			// pageURL only builds URLs on the API's origin; check again here
			// so that no later change can send the token elsewhere.
			if tok != "" && httpx.Origin(req.URL) == c.origin {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			resp, err := c.hc.Do(req)
			if err != nil {
				if ctx.Err() != nil {
					return nil, "", context.Cause(ctx)
				}
				lastErr = fmt.Errorf("network error: %w", netCause(err))
			} else {
				b, perm, transient := c.answer(resp)
				switch {
				case perm == nil && transient == nil:
					log.Debug("crm request done", "attempt", attempt, "status", resp.StatusCode)
					return b, resp.Header.Get("Date"), nil
				case errors.Is(perm, ErrUnauthorized) && c.oauth != nil && !refreshed:
					c.oauth.Invalidate(tok)
					refreshed = true
					log.Info("crm access token rejected; getting a new one", "status", resp.StatusCode)
					continue
				case perm != nil:
					return nil, "", perm
				}
				if ctx.Err() != nil {
					return nil, "", context.Cause(ctx)
				}
				lastErr = transient
				if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
					retryAfter = resp.Header.Get("Retry-After")
				}
			}
		}

		failures++
		if failures > c.s.maxRetries {
			attempts := fmt.Sprintf("%d attempts", attempt)
			if attempt == 1 {
				attempts = "1 attempt"
			}
			if te := (*tokenError)(nil); errors.As(lastErr, &te) {
				return nil, "", fmt.Errorf("%w after %s (last: %w)", ErrToken, attempts, te.err)
			}
			return nil, "", fmt.Errorf("%w after %s (last: %w)", ErrRetriesExhausted, attempts, lastErr)
		}
		wait, ok := httpx.RetryAfter(retryAfter, c.now())
		if ok {
			wait = min(wait, c.s.maxBackoff)
		} else {
			wait = c.backoff(failures)
		}
		log.Warn("crm request failed; retrying", "attempt", attempt, "wait_ms", wait.Milliseconds(), "error", lastErr.Error())
		if err := c.sleep(ctx, wait); err != nil {
			return nil, "", err
		}
	}
}

// bearer returns the token to send, "" for none.
func (c *Client) bearer(ctx context.Context) (string, error) {
	if c.oauth != nil {
		return c.oauth.Token(ctx)
	}
	return c.token, nil
}

// answer reads resp and closes its body. It returns the decoded page, or a
// permanent error (401, other 4xx, contract breach), or a transient one
// (429, 5xx, truncated or invalid JSON).
func (c *Client) answer(resp *http.Response) (b *body, perm, transient error) {
	defer resp.Body.Close()
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		b, err := decodeBody(resp.Body, c.s.dataField, c.s.nextField)
		var je *jsonError
		if errors.As(err, &je) {
			return nil, nil, err
		}
		return b, err, nil
	case code == http.StatusUnauthorized:
		drain(resp.Body)
		return nil, &HTTPError{StatusCode: code, Err: ErrUnauthorized}, nil
	case code == http.StatusTooManyRequests, code >= 500 && code < 600:
		drain(resp.Body)
		return nil, nil, &HTTPError{StatusCode: code}
	default:
		drain(resp.Body)
		return nil, &HTTPError{StatusCode: code, Err: ErrRejected}, nil
	}
}

// drain discards a little of a body so the connection can be reused.
func drain(r io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(r, 64<<10)) }

// backoff is the wait before retry n (1-based) without Retry-After: the
// ceiling doubles from baseBackoff up to MaxBackoff, and the wait is drawn
// from the upper half of it (so it never collapses to zero yet spreads
// clients apart).
func (c *Client) backoff(n int) time.Duration {
	ceil := baseBackoff
	for i := 1; i < n && ceil < c.s.maxBackoff; i++ {
		ceil *= 2
	}
	ceil = min(ceil, c.s.maxBackoff)
	half := ceil / 2
	return half + rand.N(ceil-half+1)
}
