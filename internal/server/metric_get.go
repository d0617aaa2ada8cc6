package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/carelens/carelens/metrics"
)

// getMetric answers one metric: GET /api/v1/metrics/:name with optional
// from and to (YYYY-MM-DD, inclusive; default: the last 12 full months of
// data), by (grain and dimensions, default the metric's grain; empty for one
// overall row) and <dimension>=<value> filters. Every row has been through
// disclosure control, then through the repeated-query guard for the
// request's principal. A filtered dimension is grouped by as well (so the
// rows are cut from the same protected table as the unfiltered request) and
// appears in "by" and in each row. "Accept: text/csv" gets the same rows as
// CSV (renderMetricCSV); anything else JSON.
func (s *server) getMetric(c echo.Context) error {
	q, err := parseMetricQuery(c.QueryParams())
	if err != nil {
		return err
	}
	pub, err := metrics.Disclose(c.Request().Context(), s.metrics, c.Param("name"), q, s.policy)
	if err != nil {
		return err
	}
	if err := s.admit(c, pub); err != nil {
		return err
	}
	c.Response().Header().Add(echo.HeaderVary, echo.HeaderAccept)
	if wantsCSV(c.Request().Header.Get(echo.HeaderAccept)) {
		return renderMetricCSV(c, pub)
	}
	return c.JSON(http.StatusOK, newMetricResponse(pub))
}

// parseMetricQuery reads from, to and by; every other parameter is a
// dimension filter, checked against the metric's allow-list by the engine.
func parseMetricQuery(v url.Values) (metrics.Query, error) {
	var q metrics.Query
	for key, vals := range v {
		if len(vals) != 1 {
			return q, badRequest(fmt.Sprintf("parameter %s is given %d times", key, len(vals)))
		}
		val := vals[0]
		switch key {
		case "from", "to":
			d, err := time.Parse(time.DateOnly, val)
			if err != nil {
				return q, badRequest(fmt.Sprintf("%s %q: want a date as YYYY-MM-DD", key, val))
			}
			if key == "from" {
				q.From = d
			} else {
				q.To = d
			}
		case "by":
			g, dims, err := metrics.ParseBy(val)
			if err != nil {
				return q, err
			}
			q.Grain, q.By = g, dims
		default:
			if q.Filters == nil {
				q.Filters = map[string]string{}
			}
			q.Filters[key] = val
		}
	}
	return q, nil
}

type metricResponse struct {
	Metric      string            `json:"metric"`
	Title       string            `json:"title"`
	Unit        string            `json:"unit"`
	Kind        string            `json:"kind"`
	Direction   string            `json:"direction"`
	Target      *float64          `json:"target"`
	Version     int               `json:"version"`
	SnapshotID  int64             `json:"snapshot_id"`
	From        string            `json:"from"`
	To          string            `json:"to"`
	By          []string          `json:"by"`
	Filters     map[string]string `json:"filters,omitempty"`
	Suppression suppressionJSON   `json:"suppression"`
	Rows        []rowJSON         `json:"rows"`
}

type suppressionJSON struct {
	Threshold int `json:"threshold"`
}

// rowJSON renders a published cell with its dimensions as keys, in order:
// period (when grouped by period), each dimension, numerator, denominator,
// value, suppressed. Withheld values are null.
type rowJSON struct {
	dims []string
	cell metrics.Cell
}

func (r rowJSON) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	field := func(key string, v any) error {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(key)
		b.Write(k)
		b.WriteByte(':')
		val, err := json.Marshal(v)
		b.Write(val)
		return err
	}
	if r.cell.Period != "" {
		if err := field("period", r.cell.Period); err != nil {
			return nil, err
		}
	}
	for i, d := range r.dims {
		if err := field(d, r.cell.Dims[i]); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		key string
		v   any
	}{
		{"numerator", r.cell.Numerator},
		{"denominator", r.cell.Denominator},
		{"value", r.cell.Value},
		{"suppressed", r.cell.Suppressed},
	} {
		if err := field(f.key, f.v); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func newMetricResponse(p *metrics.Published) metricResponse {
	by := []string{}
	if p.Grain != metrics.GrainNone {
		by = append(by, string(p.Grain))
	}
	by = append(by, p.Dims...)
	r := metricResponse{
		Metric: p.Metric, Title: p.Title, Unit: p.Unit, Kind: string(p.Kind), Direction: string(p.Direction),
		Target: p.Target, Version: p.Version, SnapshotID: p.SnapshotID,
		From: p.From.Format(time.DateOnly), To: p.To.Format(time.DateOnly), By: by, Filters: p.Filters,
		Suppression: suppressionJSON{Threshold: p.Threshold},
		Rows:        make([]rowJSON, len(p.Rows)),
	}
	for i, c := range p.Rows {
		r.Rows[i] = rowJSON{dims: p.Dims, cell: c}
	}
	return r
}
