package deid

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestShiftDays(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vault")
	k := newKeyT(t)
	v := openT(t, path, k)
	const n = 2000
	got := map[string]int{}
	distinct := map[int]bool{}
	neg, sumAbs := 0, 0
	for i := 0; i < n; i++ {
		s, err := v.Surrogate(NSPatient, fmt.Sprintf("p%d", i))
		if err != nil {
			t.Fatal(err)
		}
		d, err := v.ShiftDays(s)
		if err != nil {
			t.Fatal(err)
		}
		if d == 0 || d < -365 || d > 365 {
			t.Fatalf("shift %d outside [-365,-1] ∪ [1,365]", d)
		}
		if again, _ := v.ShiftDays(s); again != d {
			t.Fatalf("shift not stable: %d then %d", d, again)
		}
		got[s] = d
		distinct[d] = true
		if d < 0 {
			neg++
		}
		sumAbs += max(d, -d)
	}
	// 2000 uniform draws from 730 values: about 683 distinct ones, half of
	// them negative, mean |d| 183 (sd of the mean 2.4). Bounds are > 5 sd
	// away, so the test fails for a biased draw, not by chance.
	if len(distinct) < 630 {
		t.Errorf("%d distinct shifts in %d draws; want about 683", len(distinct), n)
	}
	if neg < 850 || neg > 1150 {
		t.Errorf("%d negative shifts of %d; want about half", neg, n)
	}
	if m := float64(sumAbs) / n; m < 170 || m > 196 {
		t.Errorf("mean |shift| %.1f; want about 183", m)
	}
	if !distinct[-365] && !distinct[365] && !distinct[-1] && !distinct[1] {
		t.Log("no draw at the edges (possible, unlikely)")
	}

	saveT(t, v)
	w := openT(t, path, k)
	for s, d := range got {
		if again, err := w.ShiftDays(s); err != nil || again != d {
			t.Fatalf("after reload shift %d, %v; want %d", again, err, d)
		}
	}
	if i := w.Info(); i.Shifts != n || i.Unsaved {
		t.Fatalf("Info = %+v", i)
	}

	if _, err := w.ShiftDays("0123456789abcdef"); !errors.Is(err, ErrUnknownSurrogate) {
		t.Errorf("unknown surrogate: %v", err)
	}
	for _, s := range []string{"", ambiguous} {
		if _, err := w.ShiftDays(s); !errors.Is(err, ErrUnknownSurrogate) {
			t.Errorf("ShiftDays(%q): %v", s, err)
		}
	}
	pv, _ := openPlain(filepath.Join(t.TempDir(), "plain"))
	ps, _ := pv.Surrogate(NSPatient, "p")
	if _, err := pv.ShiftDate(ps, time.Now()); !errors.Is(err, ErrNotEncrypted) {
		t.Errorf("plaintext vault: %v", err)
	}
}

// drawShift covers all 730 values and only them.
func TestDrawShiftCoversRange(t *testing.T) {
	seen := map[int]int{}
	for i := 0; i < 20000; i++ {
		d, err := drawShift()
		if err != nil {
			t.Fatal(err)
		}
		seen[d]++
	}
	for d := -MaxShiftDays; d <= MaxShiftDays; d++ {
		if c := seen[d]; d == 0 && c != 0 {
			t.Fatalf("0 drawn %d times", c)
		} else if d != 0 && c == 0 {
			// 20000 draws over 730 values: P(some value missed) < 730·e^-27.
			t.Fatalf("%d never drawn", d)
		}
	}
	if len(seen) != 2*MaxShiftDays {
		t.Fatalf("%d values drawn, want %d", len(seen), 2*MaxShiftDays)
	}
}

func TestShiftDate(t *testing.T) {
	v := openT(t, filepath.Join(t.TempDir(), "vault"), newKeyT(t))
	s, _ := v.Surrogate(NSPatient, "p")
	d, _ := v.ShiftDays(s)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*3600)
	}
	for _, in := range []time.Time{
		time.Date(2025, 3, 4, 9, 15, 30, 123, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC),
		time.Date(2025, 3, 9, 2, 30, 0, 0, ny), // near a DST change
		time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		out, err := v.ShiftDate(s, in)
		if err != nil {
			t.Fatal(err)
		}
		days := int(civil(out).Sub(civil(in)).Hours() / 24)
		if days != d {
			t.Errorf("%v -> %v: moved %d days, want %d", in, out, days, d)
		}
		if out.Location() != in.Location() || out.Minute() != in.Minute() || out.Second() != in.Second() || out.Nanosecond() != in.Nanosecond() {
			t.Errorf("%v -> %v: time of day or location changed", in, out)
		}
		if in.Location() == time.UTC && out.Hour() != in.Hour() {
			t.Errorf("%v -> %v: hour changed", in, out)
		}
	}
	if _, err := v.ShiftDate("ffffffffffffffff", time.Now()); !errors.Is(err, ErrUnknownSurrogate) {
		t.Errorf("unknown surrogate: %v", err)
	}
}

// civil is t's calendar day at midnight UTC.
func civil(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Concurrent first calls for one patient agree on one offset; new
// surrogates, shifts, lookups, enumeration and saves run together (-race).
func TestVaultConcurrentUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vault")
	k := newKeyT(t)
	v := openT(t, path, k)
	var shared []string
	for i := 0; i < 50; i++ {
		s, _ := v.Surrogate(NSPatient, fmt.Sprintf("shared-%d", i))
		shared = append(shared, s)
	}
	const workers = 16
	results := make([][]int, workers)
	var wg sync.WaitGroup
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, s := range shared {
				d, err := v.ShiftDays(s)
				if err != nil {
					t.Error(err)
					return
				}
				results[g] = append(results[g], d)
			}
			for i := 0; i < 100; i++ {
				s, err := v.Surrogate(NSContact, fmt.Sprintf("c-%d-%d", g, i))
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := v.ShiftDate(s, time.Now()); err != nil {
					t.Error(err)
					return
				}
				v.Lookup(NSPatient, "shared-1")
				v.IsErased(NSPatient, "shared-2")
			}
			if g%4 == 0 {
				if err := v.Save(); err != nil {
					t.Error(err)
				}
				v.EachSourceID(func(ns, id string) bool { return true })
				v.Info()
			}
		}()
	}
	wg.Wait()
	for g := 1; g < workers; g++ {
		for i := range shared {
			if results[g][i] != results[0][i] {
				t.Fatalf("worker %d got shift %d for patient %d, worker 0 got %d", g, results[g][i], i, results[0][i])
			}
		}
	}
	saveT(t, v)
	w := openT(t, path, k)
	if w.Len() != 50+workers*100 || w.Info().Shifts != 50+workers*100 {
		t.Fatalf("after concurrent use: %+v", w.Info())
	}
	for i, s := range shared {
		if d, _ := w.ShiftDays(s); d != results[0][i] {
			t.Fatalf("patient %d: shift %d after reload, want %d", i, d, results[0][i])
		}
	}
}
