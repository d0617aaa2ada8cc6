package synth

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"
)

// peakHeap generates n patients and returns the highest live-heap reading
// sampled while it ran.
func peakHeap(t *testing.T, n int) uint64 {
	t.Helper()
	runtime.GC()
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	_, err := Generate(context.Background(), Options{
		Patients: n, Seed: 5, From: date("2025-07-01"), To: date("2025-12-31"), OutDir: t.TempDir(), Workers: 2,
	})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return peak
}

func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 22,000 patients")
	}
	small := peakHeap(t, 2_000)
	large := peakHeap(t, 20_000)
	t.Logf("peak heap: %.1f MB for 2,000 patients, %.1f MB for 20,000", float64(small)/1e6, float64(large)/1e6)
	if large > 2*small+8<<20 {
		t.Errorf("peak heap grows with the population: %d bytes for 2,000 patients, %d for 20,000", small, large)
	}
}
