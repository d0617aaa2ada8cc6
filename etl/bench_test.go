package etl

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/etl/fhir"
	"github.com/carelens/carelens/etl/fhir/views"
	"github.com/carelens/carelens/etl/synth"
	"github.com/carelens/carelens/internal/store"
)

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
)

// benchData generates one population (5 000 patients, two years) for all
// benchmarks of the run.
func benchData(b *testing.B) string {
	benchOnce.Do(func() {
		if benchDir, benchErr = os.MkdirTemp("", "carelens-bench-"); benchErr != nil {
			return
		}
		_, benchErr = synth.Generate(context.Background(), synth.Options{
			Patients: 5000, Seed: 42, OutDir: benchDir,
			From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC),
		})
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDir
}

// ndjsonFiles returns the EHR files of types, or all of them, and their size.
func ndjsonFiles(b *testing.B, dir string, types ...string) ([]string, int64) {
	all, _ := filepath.Glob(filepath.Join(dir, "ehr", "*.ndjson"))
	var files []string
	var size int64
	for _, f := range all {
		typ, _, _ := strings.Cut(filepath.Base(f), ".")
		if len(types) > 0 && !contains(types, typ) {
			continue
		}
		fi, err := os.Stat(f)
		if err != nil {
			b.Fatal(err)
		}
		files, size = append(files, f), size+fi.Size()
	}
	return files, size
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// peakRSSMB is the test process's peak resident set size so far (Linux
// reports ru_maxrss in KiB).
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}

// freshWarehouse returns an empty warehouse and vault for one iteration.
func freshWarehouse(b *testing.B) (*store.DB, *deid.Vault) {
	dir := b.TempDir()
	db, err := store.OpenWith(context.Background(), filepath.Join(dir, "w.duckdb"), store.Options{MemoryLimit: "768MB"})
	if err != nil {
		b.Fatal(err)
	}
	v, err := deid.OpenEncrypted(filepath.Join(dir, "vault"), testVaultKey)
	if err != nil {
		b.Fatal(err)
	}
	return db, v
}

// loadFiles runs the files job on a folder holding just files under ehr/.
func loadFiles(b *testing.B, files []string) time.Duration {
	src := filepath.Join(b.TempDir(), "src")
	os.MkdirAll(filepath.Join(src, "ehr"), 0o700)
	for _, f := range files {
		if err := os.Symlink(f, filepath.Join(src, "ehr", filepath.Base(f))); err != nil {
			b.Fatal(err)
		}
	}
	db, v := freshWarehouse(b)
	defer db.Close()
	job := NewFilesJob(FilesOptions{Dir: src, DB: db, Vault: v, Profile: deid.ProfileLimited})
	start := time.Now()
	res, err := job.Run(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if res.Quarantined > 0 {
		b.Fatalf("%d records quarantined in generated data", res.Quarantined)
	}
	return time.Since(start)
}

// readJSONAuto is DuckDB parsing the same files itself into one table per
// file: the parse-only speed limit for the same input, no mapping, no
// de-identification.
func readJSONAuto(b *testing.B, files []string) time.Duration {
	db, _ := freshWarehouse(b)
	defer db.Close()
	start := time.Now()
	for i, f := range files {
		q := fmt.Sprintf(`CREATE TABLE raw_%d AS SELECT * FROM read_json_auto('%s', format = 'newline_delimited', maximum_object_size = 67108864)`, i, f)
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// rowInserts maps the files with the same views but inserts row by row
// through a prepared INSERT in one transaction: the naive loader.
func rowInserts(b *testing.B, files []string) time.Duration {
	db, v := freshWarehouse(b)
	defer db.Close()
	m := &fhir.Mapper{Vault: v, AsOf: time.Now()}
	ents, errs := fhir.LoadViews(views.FS, func(table string) ([]store.ColumnInfo, error) { return db.Describe(context.Background(), table) })
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	entityFor := func(typ string) *fhir.Entity {
		for _, e := range ents {
			if e.Type == typ {
				return e
			}
		}
		return nil
	}
	start := time.Now()
	tx, err := db.DB.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range files {
		typ, _, _ := strings.Cut(filepath.Base(f), ".")
		ent := entityFor(typ)
		if ent == nil {
			continue
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(ent.Table.Columns)), ", ")
		stmt, err := tx.Prepare(fmt.Sprintf("INSERT INTO %s VALUES (%s)", ent.Table.Name, marks))
		if err != nil {
			b.Fatal(err)
		}
		batch := store.NewBatch(ent.Table)
		args := make([]any, len(ent.Table.Columns))
		lr, err := fhir.OpenNDJSON(f)
		if err != nil {
			b.Fatal(err)
		}
		for seq := int64(1); ; seq++ {
			line, _, err := lr.Next()
			if err != nil {
				break
			}
			if ent.Map(m, line, batch, seq) != nil {
				continue
			}
			rec := batch.Flush()
			for r := 0; r < int(rec.NumRows()); r++ {
				for c := range args {
					args[c] = rec.Column(c).GetOneForMarshal(r)
				}
				if _, err := stmt.Exec(args...); err != nil {
					b.Fatal(err)
				}
			}
			rec.Release()
		}
		lr.Close()
		stmt.Close()
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkIngestEHR loads the whole EHR export (NDJSON parse, FHIR mapping,
// de-identification, Arrow, one DuckDB transaction) beside DuckDB's own
// read_json_auto on the same files, and reports both rates and their ratio
// (the goal of issue 02 is x_read_json_auto >= 0.5).
func BenchmarkIngestEHR(b *testing.B) {
	files, size := ndjsonFiles(b, benchData(b))
	var ours, anchor time.Duration
	for i := 0; i < b.N; i++ {
		ours += loadFiles(b, files)
		anchor += readJSONAuto(b, files)
	}
	mb := float64(size) * float64(b.N) / 1e6
	b.ReportMetric(mb/ours.Seconds(), "MB/s")
	b.ReportMetric(mb/anchor.Seconds(), "read_json_auto_MB/s")
	b.ReportMetric(anchor.Seconds()/ours.Seconds(), "x_read_json_auto")
	b.ReportMetric(peakRSSMB(), "peak_RSS_MB")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkIngestVsRowInserts loads the Appointment and Encounter files
// through the Arrow path and through a row-by-row INSERT loader with the same
// mapping (the goal of issue 02 is x_row_inserts >= 20).
func BenchmarkIngestVsRowInserts(b *testing.B) {
	files, size := ndjsonFiles(b, benchData(b), "Appointment", "Encounter")
	var ours, anchor time.Duration
	for i := 0; i < b.N; i++ {
		ours += loadFiles(b, files)
		anchor += rowInserts(b, files)
	}
	mb := float64(size) * float64(b.N) / 1e6
	b.ReportMetric(mb/ours.Seconds(), "MB/s")
	b.ReportMetric(mb/anchor.Seconds(), "row_inserts_MB/s")
	b.ReportMetric(anchor.Seconds()/ours.Seconds(), "x_row_inserts")
	b.ReportMetric(0, "ns/op")
}
