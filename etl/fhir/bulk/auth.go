package bulk

import "context"

// TokenSource supplies the bearer token sent to the FHIR server.
// Implementations must be safe for concurrent use: Export downloads files in
// parallel. Token blocks until a token is available or ctx is done.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// Invalidator is implemented by token sources that cache tokens.
// Invalidate reports that the server answered 401 to tok; the next Token
// call must not return tok again. A token source that is not an Invalidator
// gets no second chance: its 401 ends the request with ErrUnauthorized.
type Invalidator interface {
	Invalidate(tok string)
}

// StaticToken returns a TokenSource that always returns tok. It cannot be
// refreshed, so a 401 ends the export with ErrUnauthorized.
func StaticToken(tok string) TokenSource { return staticToken(tok) }

type staticToken string

func (s staticToken) Token(context.Context) (string, error) { return string(s), nil }
