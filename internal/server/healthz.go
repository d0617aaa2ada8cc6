package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

type healthResponse struct {
	Status        string `json:"status"`
	SnapshotID    int64  `json:"snapshot_id,omitempty"`
	SchemaVersion int    `json:"schema_version,omitempty"`
	Version       string `json:"version,omitempty"`
	Reason        string `json:"reason,omitempty"`
}

// getHealthz answers 200 when the warehouse answers and holds a snapshot,
// 503 with the reason otherwise. It is not an error path: a 503 here is an
// expected state (before the first load), so it is not logged as a failure.
func (s *server) getHealthz(c echo.Context) error {
	ctx := c.Request().Context()
	r := healthResponse{Status: "ok", Version: s.version}
	v, err := s.health.SchemaVersion(ctx)
	if err == nil {
		r.SchemaVersion = v
		r.SnapshotID, err = s.health.Snapshot(ctx)
	}
	if err != nil {
		r.Status, r.Reason, r.SnapshotID = "unavailable", err.Error(), 0
		return c.JSON(http.StatusServiceUnavailable, r)
	}
	return c.JSON(http.StatusOK, r)
}
