package etl

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/etl/fhir/bulk"
	"github.com/carelens/carelens/internal/store"
)

// BulkOptions configures a BulkJob.
type BulkOptions struct {
	// Name identifies the source in etl_runs ("bulk:<Name>"), so that each
	// server keeps its own incremental watermark.
	Name    string
	Client  *bulk.Client
	Request bulk.Request
	// StagingDir receives each export (a subfolder per run), removed after a
	// successful load and kept after a failed one for inspection.
	StagingDir string
	// Full ignores the watermark and asks for everything.
	Full    bool
	DB      *store.DB
	Vault   *deid.Vault
	Profile deid.Profile
	Logger  *slog.Logger
}

// BulkJob exports from a FHIR server's Bulk Data endpoint and loads the
// export with the files job. It is incremental: each run asks for what
// changed since the transactionTime of its last successful load (the run's
// data_as_of, committed with the data), and applies the export's deletions.
type BulkJob struct{ opt BulkOptions }

// NewBulkJob returns the job.
func NewBulkJob(opt BulkOptions) *BulkJob {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &BulkJob{opt: opt}
}

// Name implements Job.
func (j *BulkJob) Name() string { return "bulk:" + j.opt.Name }

// Watermark returns the transactionTime of the job's last successful load,
// or the zero time when there is none.
func (j *BulkJob) Watermark(ctx context.Context) (time.Time, error) {
	var t sql.NullTime
	err := j.opt.DB.QueryRowContext(ctx, `SELECT max(data_as_of) FROM etl_runs WHERE job = ? AND status = 'succeeded'`, j.Name()).Scan(&t)
	if err != nil {
		return time.Time{}, fmt.Errorf("read watermark: %w", err)
	}
	if !t.Valid {
		return time.Time{}, nil
	}
	return t.Time.UTC(), nil
}

// Run implements Job.
func (j *BulkJob) Run(ctx context.Context) (*Result, error) {
	o := j.opt
	log := o.Logger.With("job", j.Name())
	req := o.Request
	if !o.Full {
		since, err := j.Watermark(ctx)
		if err != nil {
			return nil, err
		}
		req.Since = since
	}
	dir := filepath.Join(o.StagingDir, time.Now().UTC().Format("20060102T150405.000000000Z"))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("staging folder: %w", err)
	}
	log.Info("bulk export started", "level", req.Level.String(), "types", len(req.Types), "incremental", !req.Since.IsZero())
	m, err := o.Client.Export(ctx, req, dir)
	if err != nil {
		res := &Result{RunID: newRunID(), Job: j.Name(), Profile: string(o.Profile), Started: time.Now().UTC(),
			Status: "failed", Error: "bulk export: " + err.Error()}
		if rerr := recordRun(context.WithoutCancel(ctx), o.DB, nil, res); rerr != nil {
			log.Error("record failed run", "error", rerr)
		}
		os.RemoveAll(dir)
		return res, fmt.Errorf("bulk export: %w", err)
	}
	log.Info("bulk export downloaded", "files", len(m.Output), "deleted_files", len(m.Deleted), "error_files", len(m.Error))
	files := NewFilesJob(FilesOptions{Dir: dir, DB: o.DB, Vault: o.Vault, Profile: o.Profile, Logger: o.Logger, JobName: j.Name()})
	res, err := files.Run(ctx)
	if err != nil {
		log.Warn("export kept for inspection", "dir", dir)
		return res, err
	}
	os.RemoveAll(dir)
	return res, nil
}
