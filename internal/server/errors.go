package server

import (
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/carelens/carelens/internal/auth"
	"github.com/carelens/carelens/internal/guard"
	"github.com/carelens/carelens/metrics"
)

// errBadRequest marks request parameters the server itself rejects.
var errBadRequest = errors.New("bad request")

// badRequest is an error of kind errBadRequest with a plain message.
type badRequest string

func (b badRequest) Error() string { return string(b) }
func (b badRequest) Unwrap() error { return errBadRequest }

// errForbidden marks a request its principal may not make.
var errForbidden = errors.New("forbidden")

// forbidden is an error of kind errForbidden with a plain message.
type forbidden string

func (f forbidden) Error() string { return string(f) }
func (f forbidden) Unwrap() error { return errForbidden }

// kinds maps error kinds to statuses, first match wins.
var kinds = []struct {
	err    error
	status int
}{
	{auth.ErrUnauthenticated, http.StatusUnauthorized},
	{errForbidden, http.StatusForbidden},
	{guard.ErrRefused, http.StatusForbidden},
	{errBadRequest, http.StatusBadRequest},
	{metrics.ErrInvalid, http.StatusBadRequest},
	{metrics.ErrNotFound, http.StatusNotFound},
	{metrics.ErrUnavailable, http.StatusServiceUnavailable},
	{metrics.ErrRefused, http.StatusConflict},
}

// classify returns the status for err and the message safe to show: the
// error's own text for client errors and unavailability, a generic one for
// internal errors (whose text may hold SQL or paths).
func classify(err error) (int, string) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && m != "" {
			msg = m
		}
		return he.Code, msg
	}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.status, err.Error()
		}
	}
	return http.StatusInternalServerError, "internal error"
}

// handleError is the central error handler: it answers with the mapped
// status and logs server-side failures (5xx) once, with the route pattern
// rather than the URL.
func (s *server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := classify(err)
	if status >= 500 {
		s.log.Error("request failed", "method", c.Request().Method, "route", c.Path(), "status", status, "error", err)
	}
	if status == http.StatusUnauthorized {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="carelens"`)
	}
	var werr error
	switch {
	case c.Request().Method == http.MethodHead:
		werr = c.NoContent(status)
	case wantsHTML(c.Request()):
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
		c.Response().WriteHeader(status)
		werr = errorPage.Execute(c.Response(), struct {
			Status  int
			Text    string
			Message string
		}{status, http.StatusText(status), msg})
	default:
		werr = c.JSON(status, map[string]string{"error": msg})
	}
	if werr != nil {
		s.log.Warn("write error response", "route", c.Path(), "error", werr)
	}
}

// wantsHTML reports whether the request is a browser's page request outside
// the JSON API.
func wantsHTML(r *http.Request) bool {
	return !strings.HasPrefix(r.URL.Path, "/api/") && r.URL.Path != "/healthz" &&
		strings.Contains(r.Header.Get(echo.HeaderAccept), "text/html")
}

var errorPage = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Status}} {{.Text}} · carelens</title></head>
<body><h1>{{.Text}}</h1><p>{{.Message}}</p><p><a href="/">carelens</a></p></body></html>
`))
