package metrics

import (
	"errors"
	"fmt"
)

// Error kinds returned by the engine; test them with errors.Is. The HTTP
// server maps them to status codes (400, 404, 503).
var (
	// ErrNotFound: no metric of that name is registered.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the query is malformed (unknown dimension or grain, a
	// date range that ends before it starts, …).
	ErrInvalid = errors.New("invalid")
	// ErrUnavailable: the warehouse holds no committed snapshot yet. Errors
	// of this kind also match store.ErrNoSnapshot.
	ErrUnavailable = errors.New("unavailable")
	// ErrRefused: the metric cannot be computed on this warehouse's data
	// (a metric needing dates of service under the safe_harbor profile).
	ErrRefused = errors.New("refused")
)

// Error is one problem in a definition file, located by file and line.
type Error struct {
	File string
	Line int
	Msg  string
}

// Error formats the problem as "file:line: what".
func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// kindError is an error of one of the kinds above whose message does not
// repeat the kind.
type kindError struct {
	kind error
	msg  string
	err  error // optional cause
}

func (e *kindError) Error() string { return e.msg }

func (e *kindError) Unwrap() []error {
	if e.err != nil {
		return []error{e.kind, e.err}
	}
	return []error{e.kind}
}

func invalidf(format string, args ...any) error {
	return &kindError{kind: ErrInvalid, msg: fmt.Sprintf(format, args...)}
}

func notFoundf(format string, args ...any) error {
	return &kindError{kind: ErrNotFound, msg: fmt.Sprintf(format, args...)}
}
