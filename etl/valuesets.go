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

	"github.com/carelens/carelens/etl/fhir"
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

type loadedValueSet struct {
	vs    *fhir.ValueSet
	codes []fhir.Code
}

// Run implements Job.
func (j *ValueSetJob) Run(ctx context.Context) (*Result, error) {
	o := j.opt
	res := &Result{RunID: newRunID(), Job: j.Name(), Profile: "none", Started: o.Now().UTC()}
	res.AsOf = res.Started
	log := o.Logger.With("job", j.Name(), "run_id", res.RunID)
	err := j.load(ctx, res)
	res.Duration = o.Now().Sub(res.Started)
	res.total()
	if err != nil {
		res.Status, res.Error, res.SnapshotID = "failed", err.Error(), 0
		if rerr := recordRun(context.WithoutCancel(ctx), o.DB, nil, res); rerr != nil {
			log.Error("record failed run", "error", rerr)
		}
		log.Error("value set load failed", "error", err)
		return res, err
	}
	log.Info("value sets loaded", "snapshot_id", res.SnapshotID, "read", res.Read, "loaded", res.Loaded, "quarantined", res.Quarantined)
	return res, nil
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
	cnt := &Count{Source: "terminology", Entity: "ValueSet"}
	res.Counts = append(res.Counts, cnt)
	q := &quarantineLog{}
	var sets []loadedValueSet
	take := func(file string, line int64, raw []byte) {
		if fhir.ResourceType(raw) != "ValueSet" {
			return // other resources in a bundle are not value sets
		}
		cnt.Read++
		vs, err := fhir.ParseValueSet(raw)
		var codes []fhir.Code
		if err == nil {
			codes, err = vs.Codes()
		}
		if err != nil {
			cnt.Quarantined++
			reason := "malformed ValueSet"
			var re *fhir.RecordError
			if errors.As(err, &re) {
				reason = re.Reason
			}
			q.add(quarantined{source: "terminology", file: file, line: line, entity: "ValueSet", reason: reason})
			return
		}
		cnt.Loaded++
		sets = append(sets, loadedValueSet{vs, codes})
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".ndjson") || strings.HasSuffix(f, ".ndjson.gz") {
			eachLine(f, "terminology", "ValueSet", q, func(p string) string { return p }, func(line []byte, n int64) error {
				take(f, n, line)
				return nil
			})
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
			take(f, 0, r)
		}
	}

	tx, err := o.DB.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	i := 0
	fillSets := func(ctx context.Context, b *store.Batch, max int) (bool, error) {
		for ; i < len(sets) && b.Len() < max; i++ {
			vs := sets[i].vs
			b.Row().Str(vs.URL).Str(vs.OID()).Str(vs.Version).Str(vs.Name).Str(vs.Title).Str(vs.Status).
				Int32(int32(len(sets[i].codes)), true).End(int64(i))
		}
		return i < len(sets), nil
	}
	if _, err := tx.Upsert(ctx, store.ValueSets, store.NewStream(ctx, store.ValueSets, 4096, fillSets)); err != nil {
		return err
	}
	si, ci := 0, 0
	fillCodes := func(ctx context.Context, b *store.Batch, max int) (bool, error) {
		for si < len(sets) && b.Len() < max {
			s := sets[si]
			if ci == len(s.codes) {
				si, ci = si+1, 0
				continue
			}
			c := s.codes[ci]
			b.Row().Str(s.vs.URL).Str(s.vs.OID()).Str(c.System).Str(c.Code).Str(c.Display).Str(c.Version).End(int64(si))
			ci++
		}
		return si < len(sets), nil
	}
	n, err := tx.Upsert(ctx, store.ValueSetCodes, store.NewStream(ctx, store.ValueSetCodes, 16384, fillCodes))
	if err != nil {
		return err
	}
	cnt.Rows = n
	return commitRun(ctx, tx, res, q, o.Now, nil)
}
