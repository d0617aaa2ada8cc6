package synth

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkGenerate reports generation speed in patients per second and the
// output size per 1,000 patients, over a two-year window.
func BenchmarkGenerate(b *testing.B) {
	const n = 5_000
	dir := b.TempDir()
	var bytes int64
	for b.Loop() {
		if _, err := Generate(context.Background(), Options{
			Patients: n, Seed: 1, From: date("2024-01-01"), To: date("2025-12-31"), OutDir: dir,
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			bytes += info.Size()
		}
		return nil
	})
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "patients/s")
	b.ReportMetric(float64(bytes)/1e6/(n/1000), "MB/1k_patients")
}

// BenchmarkGenerateCanaries reports generation speed with Canaries and its
// ratio to a plain run of the same population in the same benchmark (the
// anchor).
func BenchmarkGenerateCanaries(b *testing.B) {
	const n = 5_000
	dir := b.TempDir()
	var plain, canaries time.Duration
	for b.Loop() {
		for _, c := range []bool{false, true} {
			start := time.Now()
			if _, err := Generate(context.Background(), Options{
				Patients: n, Seed: 1, From: date("2024-01-01"), To: date("2025-12-31"), OutDir: dir, Canaries: c,
			}); err != nil {
				b.Fatal(err)
			}
			if c {
				canaries += time.Since(start)
			} else {
				plain += time.Since(start)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/canaries.Seconds(), "patients/s")
	b.ReportMetric(canaries.Seconds()/plain.Seconds(), "x_plain")
}
