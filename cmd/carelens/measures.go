package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/carelens/carelens/internal/disclosure"
	"github.com/carelens/carelens/internal/server"
	"github.com/carelens/carelens/internal/store"
	"github.com/carelens/carelens/metrics"
	"github.com/carelens/carelens/metrics/fhirreport"
)

const measuresUsage = `Usage: carelens measures report NAME --period PERIOD [--type summary|subject-list] [--actor NAME] [--db FILE]
                                           print metric NAME as a FHIR R4 MeasureReport (JSON)

PERIOD is a year (2025), a month (2025-03), a day, or an interval of them
(2025-01-01/2025-12-31). A summary hides small counts (1 to suppress_below-1)
as the API does. A subject-list holds exact counts and the patients'
surrogate ids: it needs --actor and is recorded in the audit trail
(audit_log) before it is printed. See docs/measure-report.md.`

func runMeasures(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, measuresUsage)
		return errUsage
	}
	switch args[0] {
	case "report":
		return runMeasuresReport(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, measuresUsage)
		return nil
	}
	fmt.Fprintf(e.stderr, "carelens measures: unknown subcommand %q\n%s\n", args[0], measuresUsage)
	return errUsage
}

func runMeasuresReport(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "measures report", "measures report NAME --period PERIOD [--type summary|subject-list] [--actor NAME] [--db FILE]")
	period := fs.String("period", "", "measurement period: 2025, 2025-03, or 2025-01-01/2025-12-31 (required)")
	typ := fs.String("type", "summary", "report type: summary (small counts hidden) or subject-list (patients listed, audited)")
	actor := fs.String("actor", "", "who asks, recorded in the audit trail (required for subject-list)")
	fs.String("db", "", "analytics DuckDB file (default: config db)")
	// NAME may come before, between or after the flags.
	var names []string
	for {
		if err := parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		names = append(names, fs.Arg(0))
		args = fs.Args()[1:]
	}
	var problem string
	switch {
	case len(names) != 1:
		problem = "exactly one NAME is required"
	case *period == "":
		problem = "--period is required"
	}
	if problem != "" {
		fmt.Fprintf(e.stderr, "carelens measures report: %s\n", problem)
		fs.Usage()
		return errUsage
	}
	rt, err := fhirreport.ParseType(*typ)
	if err != nil {
		return fmt.Errorf("--type: %w", err)
	}
	if rt == fhirreport.SubjectList && *actor == "" {
		return errors.New("--actor is required for a subject list: patient-level exports are audited")
	}
	from, to, err := fhirreport.ParsePeriod(*period)
	if err != nil {
		return fmt.Errorf("--period: %w", err)
	}
	c, log, err := loadConfig(e, fs, *cfgPath, map[string]string{"db": "db"})
	if err != nil {
		return err
	}
	policy, err := disclosure.New(c.SuppressBelow)
	if err != nil {
		return err
	}
	db, err := store.OpenReadOnly(ctx, c.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	reg, errs := metrics.Load(ctx, metrics.Builtin, db)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	eng := metrics.NewEngine(db, reg, metrics.EngineOptions{MeasurementYearStart: time.Month(c.MeasurementYearStart)})
	rep, err := fhirreport.Generate(ctx, eng, fhirreport.Request{Measure: names[0], From: from, To: to, Type: rt, Policy: policy})
	if err != nil {
		return err
	}
	body, err := json.MarshalIndent(rep.Resource, "", "  ")
	if err != nil {
		return err
	}
	if rt == fhirreport.SubjectList {
		// As erase: the export is recorded before anything is printed, and
		// not printed when it cannot be recorded. No patient id goes in.
		details := map[string]any{
			"via":          "cli",
			"metric":       rep.Result.Metric,
			"version":      rep.Result.Version,
			"snapshot_id":  rep.Result.SnapshotID,
			"period_start": rep.Result.From.Format(time.DateOnly),
			"period_end":   rep.Result.To.Format(time.DateOnly),
			"report_id":    rep.Resource.ID,
			"subjects":     rep.Subjects,
		}
		if err := recordAudit(c, *actor, server.ActionSubjectListExported, details); err != nil {
			return fmt.Errorf("subject list not printed: the audit trail could not be written: %w", err)
		}
		log.Info("measure report subject list", "action", server.ActionSubjectListExported, "actor", *actor, "metric", rep.Result.Metric)
	}
	_, err = fmt.Fprintln(e.stdout, string(body))
	return err
}
