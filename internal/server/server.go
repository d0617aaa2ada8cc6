package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/carelens/carelens/internal/disclosure"
	"github.com/carelens/carelens/metrics"
)

// MetricReader lists metric definitions and computes exact results;
// *metrics.Engine implements it. The server publishes results only through
// metrics.Disclose.
type MetricReader interface {
	List() []*metrics.Definition
	Compute(ctx context.Context, name string, q metrics.Query) (*metrics.Result, error)
}

// Health reports the warehouse state; *store.DB implements it. Snapshot
// fails (store.ErrNoSnapshot) until the first ETL run commits.
type Health interface {
	Snapshot(ctx context.Context) (int64, error)
	SchemaVersion(ctx context.Context) (int, error)
}

// Dashboards renders HTML dashboard pages and serves their static assets;
// *dashboards.Set implements it.
type Dashboards interface {
	// Render writes the named page (the empty name is the home page). Errors
	// carry the metrics error kinds; nothing is written on error.
	Render(ctx context.Context, page string, w io.Writer) error
	// Static serves requests for /static/… .
	Static() http.Handler
}

// Options configure New. Metrics and Health are required.
type Options struct {
	Metrics MetricReader
	Health  Health
	// Logger receives request and error logs (default slog.Default()).
	Logger *slog.Logger
	// Dashboards, when set, serves / , /dashboards/:page and /static/*.
	Dashboards Dashboards
	// SuppressionThreshold hides counts 1..threshold-1 in every response
	// (0 means disclosure.DefaultThreshold, 11).
	SuppressionThreshold int
	// Version is reported by /healthz.
	Version string
}

type server struct {
	metrics    MetricReader
	health     Health
	dashboards Dashboards
	log        *slog.Logger
	policy     disclosure.Policy
	version    string
}

// New returns the HTTP handler serving:
//
//	GET /healthz                  warehouse status (503 before the first load)
//	GET /api/v1/metrics           metric definitions
//	GET /api/v1/metrics/:name     a metric (?from=&to=&by=month,clinic&<dimension>=<value>)
//	GET /                         the default dashboard (with Dashboards)
//	GET /dashboards/:page         a dashboard page
//	GET /static/*                 dashboard assets
func New(opts Options) (*echo.Echo, error) {
	if opts.Metrics == nil || opts.Health == nil {
		return nil, errors.New("server: Options.Metrics and Options.Health are required")
	}
	s := &server{metrics: opts.Metrics, health: opts.Health, dashboards: opts.Dashboards,
		log: opts.Logger, version: opts.Version}
	if s.log == nil {
		s.log = slog.Default()
	}
	if opts.SuppressionThreshold != 0 {
		p, err := disclosure.New(opts.SuppressionThreshold)
		if err != nil {
			return nil, err
		}
		s.policy = p
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.logRequests, recoverPanics)

	e.GET("/healthz", s.getHealthz)
	e.GET("/api/v1/metrics", s.listMetrics)
	e.GET("/api/v1/metrics/:name", s.getMetric)
	if s.dashboards != nil {
		e.GET("/", s.getDashboard)
		e.GET("/dashboards/:page", s.getDashboard)
		e.GET("/static/*", echo.WrapHandler(s.dashboards.Static()))
	}
	return e, nil
}
