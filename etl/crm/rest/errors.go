package rest

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors. Test with errors.Is; when the API or the token endpoint
// answered, the chain also holds an *HTTPError with the status.
var (
	// ErrInvalidConfig reports a Config that New cannot use. New returns it
	// inside a *ConfigError listing every problem.
	ErrInvalidConfig = errors.New("invalid CRM REST config")
	// ErrUnknownEntity reports an entity that is not in the CRM export
	// contract (see Entities).
	ErrUnknownEntity = errors.New("unknown CRM entity")
	// ErrUnauthorized reports a 401 from the API that a fresh OAuth token did
	// not cure, or any 401 when the token cannot be refreshed (static token
	// or none).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrRejected reports an answer that retrying cannot fix: a 4xx other
	// than 401 and 429, or a status outside 2xx–5xx.
	ErrRejected = errors.New("request rejected")
	// ErrRetriesExhausted reports a request that failed transiently (429,
	// 5xx, network error, truncated or invalid JSON) on every one of its
	// 1+MaxRetries attempts. The message gives the number of attempts and
	// the last failure.
	ErrRetriesExhausted = errors.New("retries exhausted")
	// ErrContract reports a well-formed answer that breaks the API shape
	// described in the package documentation: not a JSON object, no data
	// array, a next cursor that is not a string or that repeats the current
	// one, a next link on another origin, a page too large to read.
	ErrContract = errors.New("CRM API answer breaks the expected shape")
	// ErrToken reports a failure to get an OAuth access token: refused
	// (4xx), a malformed token response, or transient failures (5xx,
	// network) past MaxRetries.
	ErrToken = errors.New("OAuth token request failed")
)

// ConfigError lists every problem New found in a Config; each names the
// setting to fix. It unwraps to ErrInvalidConfig.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	return ErrInvalidConfig.Error() + ": " + strings.Join(e.Problems, "; ")
}

func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// HTTPError is an unsuccessful answer from the CRM API or its token endpoint.
// Unwrap returns the sentinel that classifies it (ErrRejected,
// ErrUnauthorized, ErrToken) or nil for a transient status that was retried.
// It never carries the response body, which may echo record values.
type HTTPError struct {
	// Token is true for an answer of the OAuth token endpoint.
	Token      bool
	StatusCode int
	// Code is the OAuth error code (RFC 6749 §5.2, e.g. "invalid_client")
	// of a token endpoint answer, when it sent one.
	Code string
	Err  error
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Token {
		s = "token endpoint answered " + s
	}
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	return s
}

func (e *HTTPError) Unwrap() error { return e.Err }
