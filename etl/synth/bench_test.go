package synth

import (
	"context"
	"os"
	"path/filepath"
	"testing"
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
