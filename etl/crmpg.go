package etl

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/carelens/carelens/etl/crm"
	"github.com/carelens/carelens/etl/crm/pgsrc"
	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/internal/store"
)

// PGOptions configures a PGJob.
type PGOptions struct {
	// Source names the CRM (its watermarks are kept under this name).
	Source string
	// DSN and Mapping say where the CRM database is and how its tables map
	// to the contract (etl/crm/pgsrc).
	DSN     string
	Mapping []byte
	// PageSize is the keyset page size (default 10 000).
	PageSize int
	// BatchSize is the Arrow batch size (default 16 384).
	BatchSize int
	DB        *store.DB
	Vault     *deid.Vault
	Profile   deid.Profile
	Logger    *slog.Logger
	Now       func() time.Time
}

// PGJob pulls the CRM entities from the CRM's own PostgreSQL tables: one
// read-only REPEATABLE READ transaction there, one transaction here, rows
// streamed page by page into Arrow batches, incrementally by the updated_at
// watermark kept per source and entity.
type PGJob struct{ opt PGOptions }

// NewPGJob returns a job pulling from opt.DSN.
func NewPGJob(opt PGOptions) *PGJob {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Source == "" {
		opt.Source = "crm-pg"
	}
	if opt.PageSize <= 0 {
		opt.PageSize = 10000
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 16384
	}
	return &PGJob{opt: opt}
}

// Name implements Job.
func (j *PGJob) Name() string { return j.opt.Source }

// Run implements Job.
func (j *PGJob) Run(ctx context.Context) (*Result, error) {
	o := j.opt
	res := newResult(j.Name(), o.Profile, o.Now)
	return runJob(ctx, o.DB, o.Logger, res, o.Now, func(log *slog.Logger) error { return j.load(ctx, res, log) })
}

type pgPage struct {
	entity string
	rows   []pgsrc.Row
}

func (j *PGJob) load(ctx context.Context, res *Result, log *slog.Logger) error {
	o := j.opt
	if err := checkProfile(ctx, o.DB, o.Profile); err != nil {
		return err
	}
	since := map[string]time.Time{}
	for _, ent := range crm.Entities {
		st, err := loadSync(ctx, o.DB, o.Source, ent.Name)
		if err != nil {
			return err
		}
		if !st.watermark.IsZero() {
			since[ent.Name] = st.watermark
		}
	}
	src, err := pgsrc.Open(ctx, o.DSN, o.Mapping)
	if err != nil {
		return err
	}
	defer src.Close()

	tx, err := o.DB.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	// The pull runs in its own goroutine and hands pages over; each entity's
	// pages stream into one upsert.
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan pgPage, 2)
	type outcome struct {
		wm  map[string]time.Time
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		wm, err := src.Pull(pctx, since, o.PageSize, func(entity string, page []pgsrc.Row) error {
			select {
			case pages <- pgPage{entity, append([]pgsrc.Row(nil), page...)}:
				return nil
			case <-pctx.Done():
				return pctx.Err()
			}
		})
		close(pages)
		done <- outcome{wm, err}
	}()
	fail := func(err error) error {
		cancel()
		for range pages {
		}
		<-done
		return err
	}

	var pending *pgPage
	nextPage := func() (*pgPage, bool) {
		if p := pending; p != nil {
			pending = nil
			return p, true
		}
		p, ok := <-pages
		return &p, ok
	}
	m := &crm.Mapper{Vault: o.Vault, Dates: datePolicyFor(o.Profile, o.Vault)}
	q := &quarantineLog{}
	for _, ent := range crm.Entities {
		p, ok := nextPage()
		if !ok {
			break
		}
		pending = p
		if p.entity != ent.Name {
			continue // no rows of ent
		}
		cnt := &Count{Source: "crm", Entity: ent.Name}
		res.Counts = append(res.Counts, cnt)
		if ent.Name == "message_events" && m.NeedsMessagePatients() {
			if m.MessagePatients, err = messagePatients(ctx, tx); err != nil {
				return fail(err)
			}
		}
		var rows []pgsrc.Row
		i := 0
		next := func() (crm.Record, int64, error) {
			for i == len(rows) {
				p, ok := nextPage()
				if !ok {
					return nil, 0, io.EOF
				}
				if p.entity != ent.Name {
					pending = p
					return nil, 0, io.EOF
				}
				rows, i = p.rows, 0
			}
			r := rows[i]
			i++
			if r.Err != "" {
				return nil, r.N, &crm.SourceError{Reason: r.Err}
			}
			return r.Fields, r.N, nil
		}
		where := "pg:" + ent.Name
		n, err := tx.Upsert(ctx, ent.Table, store.NewStream(ctx, ent.Table, o.BatchSize, recordFill(next, ent, m, q, cnt, where)))
		if err != nil {
			return fail(fmt.Errorf("%s: %w", ent.Name, err))
		}
		cnt.Rows = n
		log.Info("pulled", "entity", ent.Name, "read", cnt.Read, "loaded", cnt.Loaded, "quarantined", cnt.Quarantined, "rows", n)
	}
	if pending == nil {
		if p, ok := <-pages; ok {
			pending = &p
		}
	}
	if pending != nil {
		return fail(fmt.Errorf("pull returned %s rows out of the contract's entity order", pending.entity))
	}
	out := <-done
	if out.err != nil {
		return out.err
	}
	now := o.Now().UTC()
	for entity, wm := range out.wm {
		if err := saveSync(ctx, tx, o.Source, entity, syncState{started: wm}, true, now); err != nil {
			return fmt.Errorf("save watermark: %w", err)
		}
	}
	res.Linked, res.Unlinked = m.Linked, m.Unlinked
	if err := crm.Derive(ctx, tx); err != nil {
		return err
	}
	return commitRun(ctx, tx, res, q, o.Now, o.Vault.Save)
}
