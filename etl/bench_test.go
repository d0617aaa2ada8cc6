package etl

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/etl/fhir"
	"github.com/carelens/carelens/etl/synth"
	"github.com/carelens/carelens/internal/store"
)

var (
	benchOnce sync.Once
	benchDir  string
	benchSize int64
	benchErr  error
)

// benchData generates one population for all benchmarks of the run.
func benchData(b *testing.B) (string, int64) {
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "carelens-bench-")
		if benchErr != nil {
			return
		}
		_, benchErr = synth.Generate(context.Background(), synth.Options{
			Patients: 5000, Seed: 42, OutDir: benchDir,
			From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC),
		})
		filepath.Walk(filepath.Join(benchDir, "ehr"), func(p string, fi os.FileInfo, err error) error {
			if err == nil && strings.HasSuffix(p, ".ndjson") {
				benchSize += fi.Size()
			}
			return nil
		})
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDir, benchSize
}

func ehrOnly(b *testing.B, dir string) string {
	// The EHR folder alone, so every loader reads the same NDJSON bytes.
	only := filepath.Join(b.TempDir(), "src")
	os.MkdirAll(only, 0o700)
	if err := os.Symlink(filepath.Join(dir, "ehr"), filepath.Join(only, "ehr")); err != nil {
		b.Fatal(err)
	}
	return only
}

// BenchmarkLoadEHR measures the files job on the EHR export: NDJSON parse,
// FHIR mapping, de-identification, Arrow batches and the DuckDB transaction.
// Its anchors in the same run are BenchmarkAnchorReadJSONAuto (DuckDB parsing
// the same files itself, no mapping) and BenchmarkAnchorRowInserts.
func BenchmarkLoadEHR(b *testing.B) {
	dir, size := benchData(b)
	src := ehrOnly(b, dir)
	b.SetBytes(size)
	var rows int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "w.duckdb"))
		if err != nil {
			b.Fatal(err)
		}
		v, _ := deid.OpenVault(filepath.Join(b.TempDir(), "vault"))
		job := NewFilesJob(FilesOptions{Dir: src, DB: db, Vault: v, Profile: deid.ProfileLimited})
		b.StartTimer()
		res, err := job.Run(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		rows = res.Loaded
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkAnchorReadJSONAuto is DuckDB's read_json_auto creating one table
// per NDJSON file: the parse-only speed limit for the same input.
func BenchmarkAnchorReadJSONAuto(b *testing.B) {
	dir, size := benchData(b)
	files, _ := filepath.Glob(filepath.Join(dir, "ehr", "*.ndjson"))
	b.SetBytes(size)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "w.duckdb"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for j, f := range files {
			if _, err := db.Exec(`CREATE TABLE raw_` + string(rune('a'+j)) + ` AS SELECT * FROM read_json_auto('` + f + `', format = 'newline_delimited', maximum_object_size = 67108864)`); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
}

// BenchmarkAnchorRowInserts maps the Appointment file with the same mapper but
// inserts row by row with a prepared INSERT in one transaction: the naive
// loader the Arrow path is measured against (bytes are the Appointment file's).
func BenchmarkAnchorRowInserts(b *testing.B) {
	dir, _ := benchData(b)
	path := filepath.Join(dir, "ehr", "Appointment.000.ndjson")
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "w.duckdb"))
		if err != nil {
			b.Fatal(err)
		}
		v, _ := deid.OpenVault(filepath.Join(b.TempDir(), "vault"))
		m := &fhir.Mapper{Vault: v, AsOf: time.Now()}
		b.StartTimer()
		tx, _ := db.DB.Begin()
		stmt, err := tx.Prepare(`INSERT INTO appointments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			b.Fatal(err)
		}
		lr, _ := fhir.OpenNDJSON(path)
		ent := fhir.EntityFor("Appointment")
		batch := store.NewBatch(ent.Table)
		args := make([]any, len(ent.Table.Columns))
		for seq := int64(1); ; seq++ {
			line, _, err := lr.Next()
			if err != nil {
				break
			}
			if ent.Map(m, line, batch, seq) != nil {
				continue
			}
			rec := batch.Flush()
			for c := range args {
				args[c] = rec.Column(c).GetOneForMarshal(0)
			}
			rec.Release()
			if _, err := stmt.Exec(args...); err != nil {
				b.Fatal(err)
			}
		}
		lr.Close()
		stmt.Close()
		tx.Commit()
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
}

// BenchmarkLoadAppointments is the Arrow path on the Appointment file alone,
// the like-for-like counterpart of BenchmarkAnchorRowInserts.
func BenchmarkLoadAppointments(b *testing.B) {
	dir, _ := benchData(b)
	src := filepath.Join(b.TempDir(), "src", "ehr")
	os.MkdirAll(src, 0o700)
	path := filepath.Join(dir, "ehr", "Appointment.000.ndjson")
	os.Symlink(path, filepath.Join(src, "Appointment.000.ndjson"))
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "w.duckdb"))
		if err != nil {
			b.Fatal(err)
		}
		v, _ := deid.OpenVault(filepath.Join(b.TempDir(), "vault"))
		job := NewFilesJob(FilesOptions{Dir: filepath.Dir(src), DB: db, Vault: v, Profile: deid.ProfileLimited})
		b.StartTimer()
		if _, err := job.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
}
