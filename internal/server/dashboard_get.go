package server

import (
	"bytes"
	"net/http"

	"github.com/labstack/echo/v4"
)

// getDashboard renders a dashboard page: / is the default page,
// /dashboards/:page a named one. The page is rendered in full before
// anything is sent, so a failure still gets a proper error status.
func (s *server) getDashboard(c echo.Context) error {
	var buf bytes.Buffer
	if err := s.dashboards.Render(c.Request().Context(), c.Param("page"), &buf); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}
