package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/carelens/carelens/internal/disclosure"
	"github.com/carelens/carelens/internal/store"
	"github.com/carelens/carelens/metrics"
)

const metricsUsage = `Usage: carelens metrics list              list the metric definitions
       carelens metrics check [--db FILE] validate every definition against the warehouse schema
       carelens metrics run NAME [--from DATE] [--to DATE] [--by month,clinic] [--json]
                                           compute a metric (small counts suppressed, as in the API)`

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
	fs, _ := newFlags(e, "metrics list", "metrics list")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, err := schemaDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	reg, errs := metrics.Load(ctx, metrics.Builtin, db)
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
	fs, cfgPath := newFlags(e, "metrics check", "metrics check [--db FILE]")
	dbPath := fs.String("db", "", "check against this warehouse file (default: the current schema, in memory)")
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
	reg, errs := metrics.Load(ctx, metrics.Builtin, db)
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
