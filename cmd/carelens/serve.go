package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/carelens/carelens/dashboards"
	"github.com/carelens/carelens/etl"
	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/internal/auth"
	"github.com/carelens/carelens/internal/config"
	"github.com/carelens/carelens/internal/server"
	"github.com/carelens/carelens/internal/store"
	"github.com/carelens/carelens/metrics"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "serve", "serve [--addr HOST:PORT] [--db FILE] [--schedule CRON]")
	fs.String("addr", "", "listen address (default: config addr, localhost:8080)")
	fs.String("db", "", "analytics DuckDB file (default: config db)")
	fs.String("schedule", "", "cron expression for loading source_dir while serving (default: config etl_schedule)")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, log, err := loadConfig(e, fs, *cfgPath, map[string]string{"addr": "addr", "db": "db", "schedule": "etl_schedule"})
	if err != nil {
		return err
	}
	// The vault key is required to serve, loads or not: carelens never runs
	// with a vault it cannot keep sealed.
	if _, err := openVault(c); err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	wh, err := openWarehouse(ctx, c)
	if err != nil {
		return err
	}
	defer wh.Close()
	handler, eng, err := newHandler(ctx, c, wh, log)
	if err != nil {
		return err
	}
	go refreshMetrics(ctx, eng, log, 30*time.Second)
	if c.Schedule != "" {
		sched, err := newScheduler(c, wh, log)
		if err != nil {
			return err
		}
		sched.Start()
		defer sched.Stop()
		log.Info("etl scheduled", "schedule", c.Schedule)
	}
	if _, err := wh.Snapshot(ctx); errors.Is(err, store.ErrNoSnapshot) {
		log.Warn("the warehouse is empty: metrics answer 503 until 'carelens etl run' loads data")
	}

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("addr (CARELENS_ADDR): %w", err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serving", "url", "http://"+ln.Addr().String()+"/", "db", c.DB, "version", version)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutCtx)
}

// openWarehouse opens (creating its folder and the file if need be) the
// configured DuckDB file read-write, explaining the one-writer rule when
// another process holds it.
func openWarehouse(ctx context.Context, c config.Config) (*store.DB, error) {
	if err := ensureDir(c.DB); err != nil {
		return nil, err
	}
	wh, err := store.OpenWith(ctx, c.DB, store.Options{MemoryLimit: c.MemoryLimit})
	if err != nil && strings.Contains(err.Error(), "lock") {
		return nil, fmt.Errorf("%w\n(another carelens process has %s open; DuckDB allows one writer: stop it, or load data through serve's etl_schedule)", err, c.DB)
	}
	return wh, err
}

// openForLoad opens what a load needs: the warehouse, the vault and the
// de-identification profile. The caller closes the warehouse.
func openForLoad(ctx context.Context, c config.Config) (*store.DB, *deid.Vault, deid.Profile, error) {
	profile, err := deid.ParseProfile(c.Profile)
	if err != nil {
		return nil, nil, "", fmt.Errorf("deid_profile (CARELENS_DEID_PROFILE): %w", err)
	}
	v, err := openVault(c)
	if err != nil {
		return nil, nil, "", err
	}
	wh, err := openWarehouse(ctx, c)
	if err != nil {
		return nil, nil, "", err
	}
	return wh, v, profile, nil
}

// newHandler builds the HTTP handler on an open warehouse: the metric
// registry (validated against the schema), the engine, dashboards and API.
func newHandler(ctx context.Context, c config.Config, wh *store.DB, log *slog.Logger) (http.Handler, *metrics.Engine, error) {
	reg, errs := metrics.Load(ctx, metrics.Builtin, wh)
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("metric definitions:\n%w", errors.Join(errs...))
	}
	eng := metrics.NewEngine(wh, reg, metrics.EngineOptions{MeasurementYearStart: time.Month(c.MeasurementYearStart)})
	dash, err := dashboards.New(dashboards.Options{Metrics: eng, SuppressionThreshold: c.SuppressBelow})
	if err != nil {
		return nil, nil, err
	}
	opt := server.Options{
		Metrics: eng, Health: wh, Logger: log, Dashboards: dash,
		SuppressionThreshold: c.SuppressBelow, Version: version,
		QueryGuardWindow: time.Duration(c.QueryGuardWindow),
	}
	if c.APIKeysFile != "" {
		keys, err := auth.LoadKeyring(c.APIKeysFile)
		if err != nil {
			return nil, nil, fmt.Errorf("api_keys_file (CARELENS_API_KEYS_FILE): %w", err)
		}
		opt.Keys = keys
	}
	a, err := openAuditor(c)
	if err != nil {
		return nil, nil, fmt.Errorf("audit_log (CARELENS_AUDIT_LOG): %w", err)
	}
	opt.Auditor = a
	h, err := server.New(opt)
	return h, eng, err
}

// refreshMetrics materialises the metrics whenever the warehouse has a
// snapshot they were not computed on (a scheduled load, an erasure, another
// process's load), checking every interval until ctx ends. Until a metric
// is refreshed, queries compute it from the tables.
func refreshMetrics(ctx context.Context, eng *metrics.Engine, log *slog.Logger, every time.Duration) {
	var done int64 = -1
	for {
		if snap, err := eng.Snapshot(ctx); err == nil && snap != done {
			rep, err := eng.Refresh(ctx, false)
			switch {
			case err != nil && ctx.Err() != nil:
				return
			case err != nil:
				log.Warn("metrics refresh failed", "err", err)
			default:
				computed := 0
				var took time.Duration
				for _, m := range rep.Metrics {
					if m.Err != nil {
						log.Warn("metric refresh failed; its previous results stay", "metric", m.Metric, "err", m.Err)
					} else if !m.Skipped {
						computed++
					}
					took += m.Duration
				}
				log.Info("metrics refreshed", "snapshot", rep.Snapshot, "computed", computed, "failed", len(rep.Failed()), "seconds", took.Seconds())
				if len(rep.Failed()) == 0 {
					done = rep.Snapshot
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// newScheduler schedules, on c.Schedule, the EHR load (the Bulk Data job
// when ehr_bulk_url is set, else the files job on source_dir) and then the
// CRM pulls that are configured, sharing one vault.
func newScheduler(c config.Config, wh *store.DB, log *slog.Logger) (*etl.Scheduler, error) {
	profile, err := deid.ParseProfile(c.Profile)
	if err != nil {
		return nil, fmt.Errorf("deid_profile (CARELENS_DEID_PROFILE): %w", err)
	}
	v, err := openVault(c)
	if err != nil {
		return nil, err
	}
	var jobs []etl.Job
	if c.BulkURL != "" {
		bj, err := newBulkJob(c, wh, v, profile, log, false)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, bj)
	} else {
		jobs = append(jobs, etl.NewFilesJob(etl.FilesOptions{Dir: c.SourceDir, DB: wh, Vault: v, Profile: profile, Logger: log}))
	}
	if c.CRMRESTURL != "" {
		j, _, err := newCRMRESTJob(c, wh, v, profile, log)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	if c.CRMPGDSN != "" {
		j, _, err := newCRMPGJob(c, wh, v, profile, log)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	sched := etl.NewScheduler(log, time.Hour)
	if err := sched.Add(c.Schedule, jobs...); err != nil {
		return nil, fmt.Errorf("etl_schedule (CARELENS_ETL_SCHEDULE): %w", err)
	}
	return sched, nil
}
