package etl

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/carelens/carelens/etl/crm"
	"github.com/carelens/carelens/etl/crm/rest"
	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/internal/store"
)

// RESTOptions configures a RESTJob.
type RESTOptions struct {
	// Source names the CRM (its watermarks are kept under this name).
	Source  string
	Client  *rest.Client
	DB      *store.DB
	Vault   *deid.Vault
	Profile deid.Profile
	Logger  *slog.Logger
	Now     func() time.Time
}

// RESTJob pulls the CRM entities from a CRM's REST API, incrementally by the
// watermark kept per source and entity. Each page commits with its rows and
// the cursor of the next, so a run that fails mid-way keeps what it
// committed and the next run resumes from there.
type RESTJob struct{ opt RESTOptions }

// NewRESTJob returns a job pulling from opt.Client.
func NewRESTJob(opt RESTOptions) *RESTJob {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Source == "" {
		opt.Source = "crm-rest"
	}
	return &RESTJob{opt: opt}
}

// Name implements Job.
func (j *RESTJob) Name() string { return j.opt.Source }

// syncOverlap is how far before a pull's start the next pull begins.
const syncOverlap = 5 * time.Minute

// syncState is a crm_sync row.
type syncState struct {
	watermark, since, started time.Time
	cursor                    string
	resuming                  bool
}

func loadSync(ctx context.Context, db *store.DB, source, entity string) (syncState, error) {
	var s syncState
	var wm, since, started sql.NullTime
	var cursor sql.NullString
	err := db.QueryRowContext(ctx, `SELECT watermark, cursor, pull_since, pull_started FROM crm_sync
		WHERE source = ? AND entity = ?`, source, entity).Scan(&wm, &cursor, &since, &started)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("crm_sync: %w", err)
	}
	s.watermark, s.since, s.started = wm.Time, since.Time, started.Time
	s.cursor, s.resuming = cursor.String, cursor.Valid
	return s, nil
}

// saveSync records, in tx, where a pull stands: under way at cursor, or
// complete (cursor "" and done) with started as the next watermark.
func saveSync(ctx context.Context, tx *store.Tx, source, entity string, s syncState, done bool, now time.Time) error {
	if _, err := tx.Exec(ctx, `DELETE FROM crm_sync WHERE source = ? AND entity = ?`, source, entity); err != nil {
		return err
	}
	var wm, cursor, since, started any
	if !s.watermark.IsZero() {
		wm = s.watermark
	}
	if done {
		wm = s.started
	} else {
		cursor, since, started = s.cursor, nullTime(s.since), s.started
	}
	_, err := tx.Exec(ctx, `INSERT INTO crm_sync VALUES (?, ?, ?, ?, ?, ?, ?)`, source, entity, wm, cursor, since, started, now)
	return err
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// Run implements Job.
func (j *RESTJob) Run(ctx context.Context) (*Result, error) {
	o := j.opt
	res := &Result{RunID: newRunID(), Job: j.Name(), Profile: string(o.Profile), Started: o.Now().UTC()}
	res.AsOf = res.Started
	log := o.Logger.With("job", j.Name(), "run_id", res.RunID)
	log.Info("crm pull started")
	// Quarantine rows commit with their pages; q stays empty.
	q := &quarantineLog{}
	m := &crm.Mapper{Vault: o.Vault, Dates: datePolicyFor(o.Profile, o.Vault)}
	committed, err := false, checkProfile(ctx, o.DB, o.Profile)
	if err == nil {
		committed, err = j.pull(ctx, res, m, log)
	}
	res.Linked, res.Unlinked = m.Linked, m.Unlinked
	res.Duration = o.Now().Sub(res.Started)
	res.total()
	if err == nil || committed {
		// Pages committed: derive the CRM state and record the run with a
		// snapshot of its own, failed or not.
		ferr := j.finish(context.WithoutCancel(ctx), res, q, err)
		if err == nil {
			err = ferr
		}
	}
	if err != nil {
		if !committed {
			res.Status, res.Error, res.SnapshotID = "failed", err.Error(), 0
			if rerr := recordRun(context.WithoutCancel(ctx), o.DB, nil, res); rerr != nil {
				log.Error("record failed run", "error", rerr)
			}
		}
		log.Error("crm pull failed", "error", err, "committed_pages", committed)
		return res, err
	}
	log.Info("crm pull succeeded", "snapshot_id", res.SnapshotID, "rows_read", res.Read,
		"rows_loaded", res.Loaded, "rows_quarantined", res.Quarantined, "contacts_linked", res.Linked)
	return res, nil
}

// finish derives the CRM state and records the run; a pull that failed after
// committing pages is recorded as failed with the snapshot its pages made.
func (j *RESTJob) finish(ctx context.Context, res *Result, q *quarantineLog, pullErr error) error {
	tx, err := j.opt.DB.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := crm.Derive(ctx, tx); err != nil {
		return err
	}
	if pullErr != nil {
		res.Error = pullErr.Error()
	}
	if err := commitRun(ctx, tx, res, q, j.opt.Now, nil); err != nil {
		return err
	}
	if pullErr != nil {
		res.Status = "failed"
		_, err := j.opt.DB.ExecContext(ctx, `UPDATE etl_runs SET status = 'failed' WHERE run_id = ?`, res.RunID)
		return err
	}
	return nil
}

// pull pulls every entity, committing page by page. committed reports
// whether any page was committed.
func (j *RESTJob) pull(ctx context.Context, res *Result, m *crm.Mapper, log *slog.Logger) (committed bool, err error) {
	o := j.opt
	for _, ent := range crm.Entities {
		st, err := loadSync(ctx, o.DB, o.Source, ent.Name)
		if err != nil {
			return committed, err
		}
		if !st.resuming {
			st.since, st.cursor, st.started = st.watermark, "", time.Time{}
		}
		cnt := &Count{Source: "crm", Entity: ent.Name}
		res.Counts = append(res.Counts, cnt)
		if ent.Name == "message_events" && m.NeedsMessagePatients() {
			if m.MessagePatients, err = committedMessagePatients(ctx, o.DB); err != nil {
				return committed, err
			}
		}
		where := "rest:" + ent.Name
		var pos int64
		for {
			page, err := o.Client.Page(ctx, ent.Name, st.since, st.cursor)
			if err != nil {
				return committed, fmt.Errorf("%s: %w", ent.Name, err)
			}
			if st.started.IsZero() {
				// The next pull starts from when this one did, by the CRM's
				// clock if it says, else by ours, less a margin for records
				// the CRM committed while answering (the since filter is
				// inclusive and a record read twice changes nothing).
				st.started = page.ServerTime
				if st.started.IsZero() {
					st.started = o.Now().UTC()
				}
				st.started = st.started.Add(-syncOverlap)
			}
			st.cursor = page.Next
			done := page.Next == ""
			if err := j.commitPage(ctx, ent, page, st, done, m, cnt, where, &pos, res.RunID); err != nil {
				return committed, fmt.Errorf("%s: %w", ent.Name, err)
			}
			committed = true
			if done {
				break
			}
		}
		log.Info("pulled", "entity", ent.Name, "read", cnt.Read, "loaded", cnt.Loaded, "quarantined", cnt.Quarantined)
	}
	return committed, nil
}

// committedMessagePatients reads the committed messages' patients (pages
// commit as they come, so every message of this run is there).
func committedMessagePatients(ctx context.Context, db *store.DB) (map[string]string, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return messagePatients(ctx, tx)
}

// commitPage loads one page's records and the pull's new position in one
// transaction; the vault is saved first, so no committed row holds a
// surrogate the vault could lose.
func (j *RESTJob) commitPage(ctx context.Context, ent *crm.Entity, page *rest.Page, st syncState, done bool,
	m *crm.Mapper, cnt *Count, where string, pos *int64, runID string) error {
	o := j.opt
	tx, err := o.DB.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	pageQ := &quarantineLog{}
	var pageCnt Count
	i := 0
	next := func() (crm.Record, int64, error) {
		if i == len(page.Items) {
			return nil, 0, io.EOF
		}
		it := page.Items[i]
		i++
		*pos++
		if it.Err != "" {
			return nil, *pos, &crm.SourceError{Reason: it.Err}
		}
		return it.Fields, *pos, nil
	}
	n, err := tx.Upsert(ctx, ent.Table, store.NewStream(ctx, ent.Table, 4096, recordFill(next, ent, m, pageQ, &pageCnt, where)))
	if err != nil {
		return err
	}
	if err := writeQuarantine(ctx, tx, runID, pageQ.rows); err != nil {
		return err
	}
	if err := saveSync(ctx, tx, o.Source, ent.Name, st, done, o.Now().UTC()); err != nil {
		return fmt.Errorf("save position: %w", err)
	}
	if err := o.Vault.Save(); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	cnt.Read += pageCnt.Read
	cnt.Loaded += pageCnt.Loaded
	cnt.Quarantined += pageCnt.Quarantined
	cnt.Rows += n
	return nil
}
