package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/carelens/carelens/internal/auth"
	"github.com/carelens/carelens/internal/disclosure"
	"github.com/carelens/carelens/internal/guard"
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

// Auditor writes security events to the audit trail (internal/audit, through
// an adapter). Record returns once the event is stored; details hold names,
// kinds and dates, never patient data, and no count except the size of a
// patient-level export (PRIVACY.md).
type Auditor interface {
	Record(ctx context.Context, actor, action string, details map[string]any) error
}

// Audit actions the server records.
const (
	// ActionGuardRefused: a result was refused by the repeated-query guard.
	ActionGuardRefused = "query_guard.refused"
	// ActionGuardExempted: a result the guard would have refused was
	// returned to a principal exempt from it (an admin).
	ActionGuardExempted = "query_guard.exempted"
)

// Options configure New. Metrics and Health are required.
type Options struct {
	Metrics MetricReader
	Health  Health
	// Logger receives request and error logs (default slog.Default()).
	Logger *slog.Logger
	// Dashboards, when set, serves / , /dashboards/:page and /static/*.
	Dashboards Dashboards
	// SuppressionThreshold hides counts 1..threshold-1 in every response
	// (0 means disclosure.DefaultThreshold, 11). The repeated-query guard
	// uses the same threshold.
	SuppressionThreshold int
	// Version is reported by /healthz.
	Version string
	// Keys authenticates API keys (setting api_keys_file). Nil is open
	// mode: every request is auth.Anonymous, an analyst; New logs a
	// warning saying so.
	Keys *auth.Keyring
	// Auditor receives the repeated-query guard's events; nil records
	// none (they are still logged).
	Auditor Auditor
	// QueryGuardWindow is how long each principal's results are
	// remembered by the repeated-query guard (0 means guard.DefaultWindow,
	// 24 h; setting query_guard_window).
	QueryGuardWindow time.Duration
	// QueryGuardMaxQueries caps the results remembered per principal
	// (0 means guard.DefaultMaxQueries, 200).
	QueryGuardMaxQueries int
}

type server struct {
	metrics    MetricReader
	health     Health
	dashboards Dashboards
	log        *slog.Logger
	policy     disclosure.Policy
	version    string
	keys       *auth.Keyring
	auditor    Auditor
	guard      *guard.Guard
}

// New returns the HTTP handler serving:
//
//	GET /healthz                  warehouse status (503 before the first load)
//	GET /api/v1/metrics           metric definitions
//	GET /api/v1/metrics/:name     a metric (?from=&to=&by=month,clinic&<dimension>=<value>);
//	                              CSV with "Accept: text/csv"
//	GET /api/v1/measures/:id/report  a FHIR MeasureReport (?period=2025&reportType=summary|subject-list)
//	GET /                         the default dashboard (with Dashboards)
//	GET /dashboards/:page         a dashboard page
//	GET /static/*                 dashboard assets
//
// /healthz and /static/ are open. Everything under /api/ and the dashboard
// pages need a principal: a valid "Authorization: Bearer <key>" when Keys is
// set (401 otherwise), auth.Anonymous in open mode. Metric results pass the
// repeated-query guard before they are rendered (403 when it refuses).
func New(opts Options) (*echo.Echo, error) {
	if opts.Metrics == nil || opts.Health == nil {
		return nil, errors.New("server: Options.Metrics and Options.Health are required")
	}
	s := &server{metrics: opts.Metrics, health: opts.Health, dashboards: opts.Dashboards,
		log: opts.Logger, version: opts.Version, keys: opts.Keys, auditor: opts.Auditor}
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
	g, err := guard.New(guard.Options{Window: opts.QueryGuardWindow, MaxQueries: opts.QueryGuardMaxQueries,
		Threshold: s.policy.Threshold()})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.guard = g
	if s.keys == nil {
		s.log.Warn("open mode: no api_keys_file, every request acts as the analyst \"anonymous\" (see docs/access.md)")
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.logRequests, recoverPanics)

	read := s.require(auth.ReadAggregates)
	e.GET("/healthz", s.getHealthz)
	api := e.Group("/api", s.authenticate)
	api.GET("/v1/metrics", s.listMetrics, read)
	api.GET("/v1/metrics/:name", s.getMetric, read)
	api.GET("/v1/measures/:id/report", s.getMeasureReport, read)
	if s.dashboards != nil {
		e.GET("/", s.getDashboard, s.authenticate, read)
		e.GET("/dashboards/:page", s.getDashboard, s.authenticate, read)
		e.GET("/static/*", echo.WrapHandler(s.dashboards.Static()))
	}
	return e, nil
}
