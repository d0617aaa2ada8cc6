package etl

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/internal/store"
)

// Job is one ETL job. Run loads its source once; it returns the run's result
// even when it fails, so the failure can be reported.
type Job interface {
	Name() string
	Run(ctx context.Context) (*Result, error)
}

// Count is the accounting of one entity of one source in a run:
// Read = Loaded + Quarantined. Loaded counts records accepted (a record may
// give zero rows, like a payer Organization, or several, like a blood-pressure
// panel); Rows counts warehouse rows written. Skipped counts the records of
// a resource type carelens does not load (Read, Loaded and Quarantined are 0).
type Count struct {
	Source      string `json:"source"`
	Entity      string `json:"entity"`
	Read        int64  `json:"read"`
	Loaded      int64  `json:"loaded"`
	Quarantined int64  `json:"quarantined"`
	Skipped     int64  `json:"skipped,omitempty"`
	Rows        int64  `json:"rows"`
}

// Result describes one run.
type Result struct {
	RunID      string    `json:"run_id"`
	Job        string    `json:"job"`
	Status     string    `json:"status"` // succeeded | failed
	SnapshotID int64     `json:"snapshot_id,omitempty"`
	Profile    string    `json:"deid_profile"`
	Started    time.Time `json:"started_at"`
	// AsOf is the data's own time: the EHR export's transactionTime, or the
	// run's start when the source has none. Events after it had not
	// happened when the data was taken (a booked appointment is not yet due).
	AsOf        time.Time     `json:"data_as_of"`
	Duration    time.Duration `json:"duration_ns"`
	Counts      []*Count      `json:"counts"`
	Read        int64         `json:"rows_read"`
	Loaded      int64         `json:"rows_loaded"`
	Quarantined int64         `json:"rows_quarantined"`
	Skipped     int64         `json:"rows_skipped"`
	// Linked and Unlinked count CRM contacts matched and not matched to an
	// EHR patient.
	Linked   int64  `json:"contacts_linked"`
	Unlinked int64  `json:"contacts_unlinked"`
	Error    string `json:"error,omitempty"`
}

func (r *Result) total() {
	r.Read, r.Loaded, r.Quarantined, r.Skipped = 0, 0, 0, 0
	for _, c := range r.Counts {
		r.Read += c.Read
		r.Loaded += c.Loaded
		r.Quarantined += c.Quarantined
		r.Skipped += c.Skipped
	}
}

// runJob runs load as one run of a job: it times it, totals its counts and,
// when load fails, records the failed run (no snapshot) and logs why. load
// commits the run itself when it succeeds (commitRun).
func runJob(ctx context.Context, db *store.DB, logger *slog.Logger, res *Result, now func() time.Time,
	load func(log *slog.Logger) error) (*Result, error) {
	log := logger.With("job", res.Job, "run_id", res.RunID)
	log.Info("run started")
	err := load(log)
	res.Duration = now().Sub(res.Started)
	res.total()
	if err != nil {
		res.Status, res.Error, res.SnapshotID = "failed", err.Error(), 0
		if rerr := recordRun(context.WithoutCancel(ctx), db, nil, res); rerr != nil {
			log.Error("record failed run", "error", rerr)
		}
		log.Error("run failed", "error", err, "duration_ms", res.Duration.Milliseconds())
		return res, err
	}
	log.Info("run succeeded", "snapshot_id", res.SnapshotID, "rows_read", res.Read, "rows_loaded", res.Loaded,
		"rows_quarantined", res.Quarantined, "contacts_linked", res.Linked, "duration_ms", res.Duration.Milliseconds())
	return res, nil
}

// ErrProfileChange is returned by a load under another de-identification
// profile than the warehouse's data.
var ErrProfileChange = errors.New("de-identification profile differs from the warehouse's")

// checkProfile refuses a load under profile p into a warehouse holding data
// loaded under another profile: rows de-identified two ways cannot be
// compared, and shifted or year-only dates cannot be undone.
func checkProfile(ctx context.Context, db *store.DB, p deid.Profile) error {
	var other sql.NullString
	err := db.QueryRowContext(ctx, `SELECT min(deid_profile) FROM etl_runs
		WHERE snapshot_id IS NOT NULL AND deid_profile NOT IN ('none', ?)`, string(p)).Scan(&other)
	if err != nil {
		return fmt.Errorf("check profile: %w", err)
	}
	if other.Valid {
		return fmt.Errorf("%w: the warehouse holds data loaded under the %s profile and this load is configured as %s; "+
			"a warehouse keeps one profile (rows de-identified two ways cannot be compared, and shifted or year-only dates cannot be undone). "+
			"Load into a new warehouse file (setting db) to change profile", ErrProfileChange, other.String, p)
	}
	return nil
}

// messagePatients returns the loaded messages' patients by message key, for
// events under the shifted profile.
func messagePatients(ctx context.Context, tx *store.Tx) (map[string]string, error) {
	rows, err := tx.Query(ctx, `SELECT message_key, patient_id FROM outreach_messages`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, p string
		if err := rows.Scan(&k, &p); err != nil {
			return nil, err
		}
		out[k] = p
	}
	return out, rows.Err()
}

// newResult starts the Result of a run of job.
func newResult(job string, profile deid.Profile, now func() time.Time) *Result {
	r := &Result{RunID: newRunID(), Job: job, Profile: string(profile), Started: now().UTC()}
	r.AsOf = r.Started
	return r
}

func newRunID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}
