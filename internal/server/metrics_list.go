package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

type definitionJSON struct {
	Name        string   `json:"name"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Unit        string   `json:"unit"`
	Kind        string   `json:"kind"`
	Direction   string   `json:"direction"`
	Target      *float64 `json:"target"`
	Grain       string   `json:"grain"`
	Dimensions  []string `json:"dimensions"`
	Spec        string   `json:"spec,omitempty"`
	Version     int      `json:"version"`
}

// listMetrics answers the registered metric definitions, sorted by name.
func (s *server) listMetrics(c echo.Context) error {
	defs := s.metrics.List()
	out := struct {
		Metrics []definitionJSON `json:"metrics"`
	}{Metrics: make([]definitionJSON, 0, len(defs))}
	for _, d := range defs {
		dims := d.Dimensions
		if dims == nil {
			dims = []string{}
		}
		out.Metrics = append(out.Metrics, definitionJSON{
			Name: d.Name, Title: d.Title, Description: d.Description, Unit: d.Unit,
			Kind: string(d.Kind), Direction: string(d.Direction), Target: d.Target,
			Grain: string(d.Grain), Dimensions: dims, Spec: d.Spec, Version: d.Version,
		})
	}
	return c.JSON(http.StatusOK, out)
}
