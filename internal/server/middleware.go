package server

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/carelens/carelens/internal/auth"
)

// logRequests logs one line per request after the response is written,
// errors included (it hands them to the central handler first so the
// status is final). It logs the path, never the query string: query values
// are filters on patient data; and the principal's name once authenticated.
func (s *server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		req, res := c.Request(), c.Response()
		level := slog.LevelInfo
		if res.Status >= 500 {
			level = slog.LevelWarn
		}
		attrs := []slog.Attr{
			slog.String("method", req.Method),
			slog.String("path", req.URL.Path),
			slog.String("route", c.Path()),
			slog.Int("status", res.Status),
			slog.Int64("bytes", res.Size),
			slog.Int64("duration_ms", time.Since(start).Milliseconds()),
		}
		if p, ok := principalOf(c); ok {
			attrs = append(attrs, slog.String("principal", p.Name))
		}
		s.log.LogAttrs(req.Context(), level, "request", attrs...)
		return nil
	}
}

// recoverPanics turns a handler panic into an error for the central handler.
func recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		return next(c)
	}
}

// principalKey is the echo.Context key of the request's auth.Principal.
const principalKey = "carelens.principal"

// authenticate sets the request's principal: the key holder of a valid
// "Authorization: Bearer <key>" when keys are configured (anything else is
// auth.ErrUnauthenticated, 401), auth.Anonymous in open mode. The principal
// is also put in the request's context (auth.FromContext) for what the
// handler calls.
func (s *server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := auth.Anonymous
		if s.keys != nil {
			var err error
			if p, err = s.keys.AuthenticateRequest(c.Request()); err != nil {
				return err
			}
		}
		c.Set(principalKey, p)
		c.SetRequest(c.Request().WithContext(auth.NewContext(c.Request().Context(), p)))
		return next(c)
	}
}

// require refuses (403) a principal whose role lacks perm. It runs after
// authenticate; a request without a principal is refused as unauthenticated.
func (s *server) require(perm auth.Permission) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, ok := principalOf(c)
			if !ok {
				return auth.ErrUnauthenticated
			}
			if !p.Can(perm) {
				return forbidden(fmt.Sprintf("forbidden: the role %s does not grant %s", p.Role, perm))
			}
			return next(c)
		}
	}
}

// principalOf returns the principal authenticate set.
func principalOf(c echo.Context) (auth.Principal, bool) {
	p, ok := c.Get(principalKey).(auth.Principal)
	return p, ok
}
