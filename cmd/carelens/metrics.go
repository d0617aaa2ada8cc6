package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/carelens/carelens/etl"
	"github.com/carelens/carelens/internal/disclosure"
	"github.com/carelens/carelens/internal/store"
	"github.com/carelens/carelens/metrics"
)

const metricsUsage = `Usage: carelens metrics list [--defs DIR]   list the metric definitions
       carelens metrics check [--db FILE] [--defs DIR]
                                           validate every definition against the warehouse schema
       carelens metrics run NAME [--from DATE] [--to DATE] [--by month,clinic] [--json]
                                           compute a metric (small counts suppressed, as in the API)
       carelens metrics test [--defs DIR] [--testdata DIR] [NAME...]
                                           run the metrics' hand-worked fixtures (metrics/testdata)
       carelens metrics refresh [--force]  materialise every metric's membership and results
                                           on the newest snapshot (serve does it after each load)

--defs DIR reads definitions (*.sql, macros/*.sql) from a folder instead of
the ones built in: write a metric, check and test it, then rebuild.`

func runMetrics(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, metricsUsage)
		return errUsage
	}
	switch args[0] {
	case "list":
		return runMetricsList(ctx, e, args[1:])
	case "check":
		return runMetricsCheck(ctx, e, args[1:])
	case "run":
		return runMetricsRun(ctx, e, args[1:])
	case "test":
		return runMetricsTest(ctx, e, args[1:])
	case "refresh":
		return runMetricsRefresh(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, metricsUsage)
		return nil
	}
	fmt.Fprintf(e.stderr, "carelens metrics: unknown subcommand %q\n%s\n", args[0], metricsUsage)
	return errUsage
}

// schemaDB opens a fresh in-memory warehouse: the schema, no data.
func schemaDB(ctx context.Context) (*store.DB, error) { return store.Open(ctx, ":memory:") }

func runMetricsList(ctx context.Context, e *env, args []string) error {
	fs, _ := newFlags(e, "metrics list", "metrics list [--defs DIR]")
	defs := fs.String("defs", "", "read definitions from this folder (default: the built-in ones)")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, err := schemaDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	reg, errs := metrics.Load(ctx, defsFS(*defs), db)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tKIND\tUNIT\tDIRECTION\tTARGET\tGRAIN\tDIMENSIONS\tTITLE")
	for _, d := range reg.List() {
		target := "-"
		if d.Target != nil {
			target = strconv.FormatFloat(*d.Target, 'g', -1, 64)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, d.Version, d.Kind, d.Unit, d.Direction,
			target, d.Grain, strings.Join(d.Dimensions, ","), d.Title)
	}
	return tw.Flush()
}

func runMetricsCheck(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "metrics check", "metrics check [--db FILE] [--defs DIR]")
	dbPath := fs.String("db", "", "check against this warehouse file (default: the current schema, in memory)")
	defs := fs.String("defs", "", "read definitions from this folder (default: the built-in ones)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if _, _, err := loadConfig(e, fs, *cfgPath, nil); err != nil {
		return err
	}
	var db *store.DB
	var err error
	if *dbPath != "" {
		db, err = store.OpenReadOnly(ctx, *dbPath)
	} else {
		db, err = schemaDB(ctx)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	reg, errs := metrics.Load(ctx, defsFS(*defs), db)
	for _, err := range errs {
		fmt.Fprintln(e.stderr, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d problem(s) in metric definitions", len(errs))
	}
	fmt.Fprintf(e.stdout, "%d metric definition(s) OK\n", len(reg.List()))
	return nil
}

func runMetricsRun(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "metrics run", "metrics run NAME [--from DATE] [--to DATE] [--by LIST] [--json] [--db FILE]")
	from := fs.String("from", "", "first day, YYYY-MM-DD (default: 12 months before --to)")
	to := fs.String("to", "", "last day, YYYY-MM-DD (default: end of the last full month of data)")
	by := fs.String("by", "", "period grain and dimensions, e.g. month,clinic (default: the metric's grain)")
	asJSON := fs.Bool("json", false, "print JSON")
	fs.String("db", "", "analytics DuckDB file (default: config db)")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if err := parse(fs, args); err != nil {
			return err
		}
		fmt.Fprintln(e.stderr, "carelens metrics run: NAME is required")
		fs.Usage()
		return errUsage
	}
	name := args[0]
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	c, _, err := loadConfig(e, fs, *cfgPath, map[string]string{"db": "db"})
	if err != nil {
		return err
	}
	var q metrics.Query
	for _, d := range []struct {
		s    string
		t    *time.Time
		flag string
	}{{*from, &q.From, "--from"}, {*to, &q.To, "--to"}} {
		if d.s == "" {
			continue
		}
		if *d.t, err = time.Parse("2006-01-02", d.s); err != nil {
			return fmt.Errorf("%s: want YYYY-MM-DD", d.flag)
		}
	}
	if *by != "" {
		if q.Grain, q.By, err = metrics.ParseBy(*by); err != nil {
			return err
		}
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
	policy, err := disclosure.New(c.SuppressBelow)
	if err != nil {
		return err
	}
	pub, err := metrics.Disclose(ctx, metrics.NewEngine(db, reg, metrics.EngineOptions{}), name, q, policy)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(pub)
	}
	fmt.Fprintf(e.stdout, "%s (v%d), snapshot %d, %s..%s; counts 1-%d suppressed\n", pub.Metric, pub.Version,
		pub.SnapshotID, pub.From.Format("2006-01-02"), pub.To.Format("2006-01-02"), pub.Threshold-1)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "PERIOD\t%s\tNUMERATOR\tDENOMINATOR\tVALUE\n", strings.ToUpper(strings.Join(append(pub.Dims, ""), "\t")))
	num := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	for _, r := range pub.Rows {
		val := "suppressed"
		if r.Value != nil {
			val = strconv.FormatFloat(*r.Value, 'f', 4, 64)
		} else if !r.Suppressed {
			val = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Period, strings.Join(append(r.Dims, ""), "\t"), num(r.Numerator), num(r.Denominator), val)
	}
	return tw.Flush()
}

// defsFS returns the definitions to load: the folder dir, or the built-in
// ones when dir is "".
func defsFS(dir string) iofs.FS {
	if dir == "" {
		return metrics.Builtin
	}
	return os.DirFS(dir)
}

func runMetricsTest(ctx context.Context, e *env, args []string) error {
	fs, _ := newFlags(e, "metrics test", "metrics test [--defs DIR] [--testdata DIR] [--valuesets DIR] [NAME...]")
	defs := fs.String("defs", "", "read definitions from this folder (default: the built-in ones)")
	testdata := fs.String("testdata", "metrics/testdata", "folder of fixtures, one folder per metric")
	valuesets := fs.String("valuesets", "metrics/valuesets", "FHIR ValueSets every fixture loads (\"\" for none)")
	if err := parse(fs, args); err != nil {
		return err
	}
	names := fs.Args()
	if len(names) == 0 {
		var err error
		if names, err = metrics.FixtureNames(*testdata); err != nil {
			return fmt.Errorf("--testdata: %w", err)
		}
	}
	opt := metrics.FixtureOptions{Defs: defsFS(*defs), Dir: *testdata, LoadValueSets: loadValueSets}
	if *valuesets != "" {
		opt.ValueSetDirs = []string{*valuesets}
	}
	failed := 0
	for _, n := range names {
		res, err := metrics.RunFixture(ctx, opt, n)
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(e.stdout, "FAIL %s: %v\n", n, err)
		case !res.OK():
			failed++
			fmt.Fprintf(e.stdout, "FAIL %s: %d of %d checks\n", n, len(res.Failures), res.Checks)
			for _, f := range res.Failures {
				fmt.Fprintf(e.stdout, "    %s\n", f)
			}
		default:
			fmt.Fprintf(e.stdout, "ok   %s: %d checks\n", n, res.Checks)
		}
	}
	fmt.Fprintf(e.stdout, "%d passed, %d failed\n", len(names)-failed, failed)
	if failed > 0 {
		return fmt.Errorf("%d metric fixture(s) failed", failed)
	}
	return nil
}

// loadValueSets loads FHIR ValueSets through the ETL's job, as `carelens
// etl valuesets` does.
func loadValueSets(ctx context.Context, db *store.DB, dirs []string) error {
	_, err := etl.NewValueSetJob(etl.ValueSetOptions{Paths: dirs, DB: db}).Run(ctx)
	return err
}

func runMetricsRefresh(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "metrics refresh", "metrics refresh [--force] [--db FILE]")
	force := fs.Bool("force", false, "recompute metrics already current for the snapshot")
	fs.String("db", "", "analytics DuckDB file (default: config db)")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, _, err := loadConfig(e, fs, *cfgPath, map[string]string{"db": "db"})
	if err != nil {
		return err
	}
	wh, err := openWarehouse(ctx, c)
	if err != nil {
		return err
	}
	defer wh.Close()
	reg, errs := metrics.Load(ctx, metrics.Builtin, wh)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	eng := metrics.NewEngine(wh, reg, metrics.EngineOptions{MeasurementYearStart: time.Month(c.MeasurementYearStart)})
	start := time.Now()
	rep, err := eng.Refresh(ctx, *force)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "METRIC\tSTATE\tMEMBERS\tRESULTS\tSECONDS\n")
	for _, m := range rep.Metrics {
		state := "computed"
		switch {
		case m.Err != nil:
			state = "FAILED: " + m.Err.Error()
		case m.Skipped:
			state = "current"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.2f\n", m.Metric, state, m.MemberRows, m.ResultRows, m.Duration.Seconds())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "snapshot %d: %d metric(s) in %.1f s\n", rep.Snapshot, len(rep.Metrics), time.Since(start).Seconds())
	if f := rep.Failed(); len(f) > 0 {
		return fmt.Errorf("%d metric(s) failed to refresh; their previous results stay", len(f))
	}
	return nil
}
