package etl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/carelens/carelens/etl/fhir"
	"github.com/carelens/carelens/etl/fhir/views"
	"github.com/carelens/carelens/internal/store"
)

// ValueSetOptions configures a ValueSetJob.
type ValueSetOptions struct {
	// Paths are JSON files (a Bundle of ValueSets or one ValueSet), NDJSON
	// files of ValueSets (.ndjson, .ndjson.gz), or folders holding them.
	Paths  []string
	DB     *store.DB
	Logger *slog.Logger
	Now    func() time.Time
}

// ValueSetJob loads FHIR ValueSet expansions into value_sets and
// value_set_codes, replacing each value set (by URL) it loads.
type ValueSetJob struct{ opt ValueSetOptions }

// NewValueSetJob returns a job loading opt.Paths.
func NewValueSetJob(opt ValueSetOptions) *ValueSetJob {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &ValueSetJob{opt: opt}
}

// Name implements Job.
func (j *ValueSetJob) Name() string { return "valuesets" }

// Run implements Job.
func (j *ValueSetJob) Run(ctx context.Context) (*Result, error) {
	o := j.opt
	res := newResult(j.Name(), "none", o.Now)
	return runJob(ctx, o.DB, o.Logger, res, o.Now, func(log *slog.Logger) error { return j.load(ctx, res) })
}

// valueSetFiles expands folders into the JSON and NDJSON files they hold.
func valueSetFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		for _, pat := range []string{"*.json", "*.ndjson", "*.ndjson.gz"} {
			m, _ := filepath.Glob(filepath.Join(p, pat))
			out = append(out, m...)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no .json or .ndjson files in %s", ErrNoInput, strings.Join(paths, ", "))
	}
	return out, nil
}

func (j *ValueSetJob) load(ctx context.Context, res *Result) error {
	o := j.opt
	files, err := valueSetFiles(o.Paths)
	if err != nil {
		return err
	}
	views, err := valueSetViews(ctx, o.DB)
	if err != nil {
		return err
	}
	cnt := &Count{Source: "terminology", Entity: "ValueSet"}
	res.Counts = append(res.Counts, cnt)
	q := &quarantineLog{}
	// Value sets are small (thousands of codes): each view's rows are built
	// in memory, then upserted by URL.
	batches := make([]*store.Batch, len(views))
	for i, v := range views {
		batches[i] = store.NewBatch(v.Table)
	}
	m := &fhir.Mapper{AsOf: res.Started}
	var seq int64
	take := func(file string, line int64, raw []byte) error {
		if fhir.ResourceType(raw) != "ValueSet" {
			return nil // other resources in a bundle are not value sets
		}
		cnt.Read++
		seq++
		for i, v := range views {
			if err := v.Map(m, raw, batches[i], seq); err != nil {
				var re *fhir.RecordError
				if !errors.As(err, &re) {
					return err
				}
				// The first view refused the record, so no view has rows
				// of it: each checks the same requirements.
				cnt.Quarantined++
				q.add(quarantined{source: "terminology", file: file, line: line, entity: "ValueSet", reason: re.Reason})
				return nil
			}
		}
		cnt.Loaded++
		return nil
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".ndjson") || strings.HasSuffix(f, ".ndjson.gz") {
			if err := eachLine(f, "terminology", "ValueSet", q, func(p string) string { return p }, func(line []byte, n int64) error {
				return take(f, n, line)
			}); err != nil {
				return err
			}
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			q.add(quarantined{source: "terminology", file: f, entity: "ValueSet", reason: fileReason(err)})
			continue
		}
		resources, err := fhir.Resources(b)
		if err != nil {
			q.add(quarantined{source: "terminology", file: f, entity: "ValueSet", reason: "file unreadable: malformed JSON"})
			continue
		}
		for _, r := range resources {
			if err := take(f, 0, r); err != nil {
				return err
			}
		}
	}

	tx, err := o.DB.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for i, v := range views {
		rec := batches[i].Flush()
		done := false
		n, err := tx.Upsert(ctx, v.Table, store.NewRecordStream(ctx, v.Table, func(context.Context) (arrow.Record, error) {
			if done {
				return nil, nil
			}
			done = true
			return rec, nil
		}))
		if err != nil {
			return fmt.Errorf("%s: %w", v.Table.Name, err)
		}
		if v.Table.Name == "value_set_codes" {
			cnt.Rows = n
		}
	}
	return commitRun(ctx, tx, res, q, o.Now, nil)
}

// valueSetViews returns the ViewDefinitions on ValueSet, codes first: a
// record one of them refuses is refused by the first.
func valueSetViews(ctx context.Context, db *store.DB) ([]*fhir.Entity, error) {
	ents, errs := fhir.LoadViews(views.FS, func(table string) ([]store.ColumnInfo, error) { return db.Describe(ctx, table) })
	if len(errs) > 0 {
		return nil, fmt.Errorf("view definitions:\n%w", errors.Join(errs...))
	}
	var out []*fhir.Entity
	for _, e := range ents {
		if e.Type == "ValueSet" {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no ViewDefinition on ValueSet")
	}
	return out, nil
}
