package main

import (
	"context"
	"fmt"
	"time"

	"github.com/carelens/carelens/etl/synth"
)

func runGen(ctx context.Context, e *env, args []string) error {
	fs, _ := newFlags(e, "gen", "gen --out DIR [--patients N] [--seed S] [--from DATE] [--to DATE]")
	out := fs.String("out", "", "output folder (required); ehr/, crm/ and truth.json are written inside")
	patients := fs.Int("patients", 5000, "number of patients")
	seed := fs.Int64("seed", 1, "random seed: the same seed gives the same files")
	from := fs.String("from", "2024-01-01", "first day of the generated window (YYYY-MM-DD)")
	to := fs.String("to", "2025-12-31", "last day of the window, also the export date (YYYY-MM-DD)")
	canaries := fs.Bool("canaries", false, "give every patient and contact unique canary identifiers, listed in canaries.txt (for privacy tests)")
	corrupt := fs.Int("corrupt-every", 0, "replace every Nth line of some files with a malformed one (0 = none), to exercise quarantine")
	workers := fs.Int("workers", 0, "parallel workers (0 = all cores)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fmt.Fprintln(e.stderr, "carelens gen: --out is required")
		fs.Usage()
		return errUsage
	}
	f, err := time.Parse("2006-01-02", *from)
	if err != nil {
		return fmt.Errorf("--from: want YYYY-MM-DD")
	}
	t, err := time.Parse("2006-01-02", *to)
	if err != nil {
		return fmt.Errorf("--to: want YYYY-MM-DD")
	}
	if !t.After(f) {
		return fmt.Errorf("--to must be after --from")
	}
	if *patients < 1 {
		return fmt.Errorf("--patients must be at least 1")
	}
	start := time.Now()
	truth, err := synth.Generate(ctx, synth.Options{
		Patients: *patients, Seed: *seed, From: f, To: t, OutDir: *out,
		Workers: *workers, CorruptEvery: *corrupt, Canaries: *canaries,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "generated %d patients (seed %d, %s..%s) into %s in %s\n",
		truth.Patients, *seed, *from, *to, *out, time.Since(start).Round(time.Millisecond))
	return nil
}
