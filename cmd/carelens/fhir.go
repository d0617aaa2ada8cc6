package main

import (
	"context"
	"fmt"
	"os"

	"github.com/carelens/carelens/etl/fhir/view"
)

const fhirUsage = `Usage: carelens fhir test-views DIR [--report FILE] [--min FRACTION]
       run the SQL-on-FHIR v2 conformance suite in DIR with carelens' ViewDefinition runner`

func runFHIR(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, fhirUsage)
		return errUsage
	}
	switch args[0] {
	case "test-views":
		return runTestViews(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, fhirUsage)
		return nil
	}
	fmt.Fprintf(e.stderr, "carelens fhir: unknown subcommand %q\n%s\n", args[0], fhirUsage)
	return errUsage
}

func runTestViews(ctx context.Context, e *env, args []string) error {
	fs, _ := newFlags(e, "fhir test-views", "fhir test-views [--report FILE] [--min FRACTION] DIR")
	report := fs.String("report", "test_report.json", "where to write the report in the suite's test_report.json format")
	min := fs.Float64("min", 0.95, "fail when fewer than this fraction of the non-experimental tests pass")
	verbose := fs.Bool("v", false, "list every failing test with its reason")
	// Accept DIR before or after the flags.
	var dir string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		dir, args = args[0], args[1:]
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if dir == "" && fs.NArg() > 0 {
		dir = fs.Arg(0)
	}
	if dir == "" {
		fmt.Fprintln(e.stderr, "carelens fhir test-views: DIR is required (the suite's tests/ folder)")
		fs.Usage()
		return errUsage
	}
	rep, err := view.RunSuite(dir, nil)
	if err != nil {
		return err
	}
	f, err := os.Create(*report)
	if err != nil {
		return err
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	s := rep.Summary()
	for _, r := range rep.Failures() {
		if *verbose || !r.Experimental {
			fmt.Fprintf(e.stdout, "FAIL %s: %s: %s\n", r.File, r.Title, r.Reason)
		}
	}
	fmt.Fprintf(e.stdout, "SQL-on-FHIR v2 conformance: %s; report written to %s\n", s, *report)
	fmt.Fprintf(e.stdout, "conformance: %d passed, %d failed\n", s.Passed, s.Failed)
	if s.Total == 0 {
		return fmt.Errorf("no tests found in %s", dir)
	}
	if rate := float64(s.Passed) / float64(s.Total); rate < *min {
		return fmt.Errorf("%.1f %% of the non-experimental tests pass, below the required %.1f %%", 100*rate, 100**min)
	}
	return nil
}
