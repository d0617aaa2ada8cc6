package metrics

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/carelens/carelens/etl"
	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/etl/synth"
	"github.com/carelens/carelens/internal/store"
)

// BenchmarkFullRefresh materialises every shipped metric on a generated
// population of 100 000 patients (CARELENS_BENCH_PATIENTS to change it)
// loaded by the real ETL into a DuckDB file with the serve default memory
// limit (768 MB), with the shipped value sets and, when ../shared is
// beside the checkout, the CMS165 and CMS122 ones. It reports:
//
//   - first-s: the first refresh of the new database, before any timings
//     of earlier refreshes exist to schedule by;
//
//   - full-s: a forced refresh of all metrics (what a new snapshot costs),
//     against the goal of 30 s on 2 cores;
//
//   - incremental-s: a refresh with the snapshot unchanged (every metric is
//     current and skipped);
//
//   - slowest-s and the metric names with their seconds in the log.
//
//     go test -tags duckdb_arrow -run '^$' -bench BenchmarkFullRefresh -benchtime 1x -timeout 60m ./metrics/
func BenchmarkFullRefresh(b *testing.B) {
	ctx := context.Background()
	patients := 100_000
	if v, err := strconv.Atoi(os.Getenv("CARELENS_BENCH_PATIENTS")); err == nil && v > 0 {
		patients = v
	}
	dir := b.TempDir()
	if _, err := synth.Generate(ctx, synth.Options{Patients: patients, Seed: 1, OutDir: dir,
		From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)}); err != nil {
		b.Fatal(err)
	}
	db, err := store.OpenWith(ctx, filepath.Join(b.TempDir(), "w.duckdb"), store.Options{MemoryLimit: "768MB"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	key, err := deid.NewKey()
	if err != nil {
		b.Fatal(err)
	}
	vault, err := deid.OpenEncrypted(filepath.Join(b.TempDir(), "vault"), key)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := etl.NewFilesJob(etl.FilesOptions{Dir: dir, DB: db, Vault: vault, Profile: deid.ProfileLimited}).Run(ctx); err != nil {
		b.Fatal(err)
	}
	paths := []string{"valuesets"}
	for _, glob := range []string{"../../shared/data/ecqm/CMS165/valuesets-*.json", "../../shared/data/ecqm/CMS122/valuesets-*.json"} {
		files, _ := filepath.Glob(glob)
		paths = append(paths, files...)
	}
	if _, err := etl.NewValueSetJob(etl.ValueSetOptions{Paths: paths, DB: db}).Run(ctx); err != nil {
		b.Fatal(err)
	}
	reg, errs := Load(ctx, Builtin, db)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	e := NewEngine(db, reg, EngineOptions{})
	// The first refresh of a new database has no earlier timings to
	// schedule by (the workers take the metrics in name order from both
	// ends); every later one has.
	start := time.Now()
	if rep, err := e.Refresh(ctx, true); err != nil || len(rep.Failed()) > 0 {
		b.Fatal(err, rep.Failed())
	}
	first := time.Since(start)
	var full, incr time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start = time.Now()
		rep, err := e.Refresh(ctx, true)
		if err != nil {
			b.Fatal(err)
		}
		full += time.Since(start)
		if f := rep.Failed(); len(f) > 0 {
			b.Fatalf("failed: %v", f[0].Err)
		}
		if i == 0 {
			var slowest time.Duration
			for _, m := range rep.Metrics {
				b.Logf("%-34s %8d members %6.2f s", m.Metric, m.MemberRows, m.Duration.Seconds())
				slowest = max(slowest, m.Duration)
			}
			b.ReportMetric(slowest.Seconds(), "slowest-s")
		}
		start = time.Now()
		rep, err = e.Refresh(ctx, false)
		if err != nil {
			b.Fatal(err)
		}
		incr += time.Since(start)
		for _, m := range rep.Metrics {
			if !m.Skipped {
				b.Fatalf("%s recomputed on an unchanged snapshot", m.Metric)
			}
		}
	}
	b.ReportMetric(first.Seconds(), "first-s")
	b.ReportMetric(full.Seconds()/float64(b.N), "full-s")
	b.ReportMetric(incr.Seconds()/float64(b.N), "incremental-s")
	b.ReportMetric(30, "goal-s")
}
