package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// defaultTokenLifetime is assumed when a token response has no expires_in; a
// shorter real lifetime is caught by the 401 refresh.
const defaultTokenLifetime = 5 * time.Minute

// maxTokenBody bounds how much of a token endpoint answer is read.
const maxTokenBody = 1 << 20

// oauthSource gets and caches access tokens with the client credentials
// grant. It is safe for concurrent use; concurrent callers share one token
// request.
type oauthSource struct {
	cfg      OAuth
	tokenURL string
	hc       *http.Client
	now      func() time.Time

	mu     sync.Mutex
	token  string
	expiry time.Time
}

// tokenError is a failed token request; transient says whether retrying may
// help (network error, 429, 5xx, a cut-off answer), retryAfter is the
// server's Retry-After. It unwraps to err and to ErrToken.
type tokenError struct {
	err        error
	transient  bool
	retryAfter string
}

func (e *tokenError) Error() string   { return e.err.Error() }
func (e *tokenError) Unwrap() []error { return []error{e.err, ErrToken} }

// Token returns the cached access token, or requests a new one when there is
// none or it expires within the refresh margin (a tenth of its lifetime, at
// most 30 s). Errors are *tokenError wrapping ErrToken.
func (o *oauthSource) Token(ctx context.Context) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	if o.token != "" && now.Before(o.expiry) {
		return o.token, nil
	}
	tok, lifetime, err := o.fetch(ctx)
	if err != nil {
		return "", err
	}
	margin := min(lifetime/10, 30*time.Second)
	o.token, o.expiry = tok, now.Add(lifetime-margin)
	return tok, nil
}

// Invalidate drops tok from the cache if it is the cached token, so the next
// Token call requests a new one.
func (o *oauthSource) Invalidate(tok string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.token == tok {
		o.token, o.expiry = "", time.Time{}
	}
}

type tokenResponse struct {
	AccessToken string      `json:"access_token"`
	TokenType   string      `json:"token_type"`
	ExpiresIn   json.Number `json:"expires_in"`
	Error       string      `json:"error"`
}

func (o *oauthSource) fetch(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if o.cfg.Scope != "" {
		form.Set("scope", o.cfg.Scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, &tokenError{err: fmt.Errorf("%w: %w", ErrToken, err)}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 §2.3.1: the client id and secret are form-encoded before
	// they go into the Basic credentials.
	req.SetBasicAuth(url.QueryEscape(o.cfg.ClientID), url.QueryEscape(o.cfg.ClientSecret))
	resp, err := o.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", 0, context.Cause(ctx)
		}
		return "", 0, &tokenError{err: fmt.Errorf("token endpoint unreachable: %w", netCause(err)), transient: true}
	}
	defer resp.Body.Close()
	var tr tokenResponse
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxTokenBody))
	dec.UseNumber()
	decErr := dec.Decode(&tr)
	if resp.StatusCode != http.StatusOK {
		he := &HTTPError{Token: true, StatusCode: resp.StatusCode, Err: ErrToken}
		if decErr == nil && oauthErrorCode(tr.Error) {
			he.Code = tr.Error
		}
		transient := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		return "", 0, &tokenError{err: he, transient: transient, retryAfter: resp.Header.Get("Retry-After")}
	}
	var ute *json.UnmarshalTypeError
	switch {
	case errors.As(decErr, &ute):
		return "", 0, &tokenError{err: fmt.Errorf("%w: token response field %s is a JSON %s", ErrToken, ute.Field, ute.Value)}
	case decErr != nil:
		// A cut-off answer may come whole next time.
		return "", 0, &tokenError{err: fmt.Errorf("token endpoint answer: %s", jsonProblem(decErr)), transient: true}
	}
	if tr.AccessToken == "" {
		return "", 0, &tokenError{err: fmt.Errorf("%w: token response has no access_token", ErrToken)}
	}
	if !validToken(tr.AccessToken) {
		return "", 0, &tokenError{err: fmt.Errorf("%w: access_token contains spaces or control characters", ErrToken)}
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return "", 0, &tokenError{err: fmt.Errorf("%w: token_type is not bearer", ErrToken)}
	}
	lifetime := defaultTokenLifetime
	if tr.ExpiresIn != "" {
		secs, err := tr.ExpiresIn.Float64()
		if err != nil || secs <= 0 {
			return "", 0, &tokenError{err: fmt.Errorf("%w: expires_in is not a positive number", ErrToken)}
		}
		lifetime = time.Duration(min(secs, 1e6) * float64(time.Second))
	}
	return tr.AccessToken, lifetime, nil
}

// oauthErrorCode reports whether s looks like an RFC 6749 §5.2 error code,
// which is safe to put in an error message.
func oauthErrorCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && r != '_' && r != '-' && r != '.' {
			return false
		}
	}
	return true
}

// netCause strips the *url.Error wrapper, which repeats the request URL with
// its query.
func netCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
