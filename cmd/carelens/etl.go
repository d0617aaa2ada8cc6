package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/carelens/carelens/etl"
	"github.com/carelens/carelens/internal/store"
)

func runETL(ctx context.Context, e *env, args []string) error {
	const usage = "Usage: carelens etl run [--dir DIR] [--json]        load a folder (ehr/ + crm/, or NDJSON) in one transaction\n" +
		"       carelens etl bulk [--url BASE] [--full]     export from a FHIR Bulk Data server (incremental) and load it\n" +
		"       carelens etl crm-rest [--url BASE] [--full] pull the CRM from its REST API (incremental, resumable)\n" +
		"       carelens etl crm-pg [--mapping F] [--full]  pull the CRM from its PostgreSQL tables (incremental)\n" +
		"       carelens etl valuesets PATH...             load FHIR ValueSet expansions (bundles, JSON, NDJSON, folders)\n" +
		"       carelens etl runs [--limit N]               list recent runs"
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "runs":
		return runETLRuns(ctx, e, args[1:])
	case "valuesets":
		return runETLValueSets(ctx, e, args[1:])
	case "bulk":
		return runETLBulk(ctx, e, args[1:])
	case "crm-rest":
		return runETLCRMREST(ctx, e, args[1:])
	case "crm-pg":
		return runETLCRMPG(ctx, e, args[1:])
	case "run":
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, usage)
		return nil
	default:
		fmt.Fprintf(e.stderr, "carelens etl: unknown subcommand %q\n%s\n", args[0], usage)
		return errUsage
	}
	fs, cfgPath := newFlags(e, "etl run", "etl run [--dir DIR] [--db FILE] [--vault FILE] [--json]")
	fs.String("dir", "", "source folder with ehr/ and crm/ (default: config source_dir)")
	fs.String("db", "", "analytics DuckDB file (default: config db)")
	fs.String("vault", "", "vault file (default: config vault)")
	asJSON := fs.Bool("json", false, "print the run result as JSON")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	c, log, err := loadConfig(e, fs, *cfgPath, map[string]string{"dir": "source_dir", "db": "db", "vault": "vault"})
	if err != nil {
		return err
	}
	wh, v, profile, err := openForLoad(ctx, c)
	if err != nil {
		return err
	}
	defer wh.Close()
	job := etl.NewFilesJob(etl.FilesOptions{Dir: c.SourceDir, DB: wh, Vault: v, Profile: profile, Logger: log})
	res, runErr := job.Run(ctx)
	reportRun(e, res, *asJSON)
	return runErr
}

// reportRun prints a run's result as JSON or as a table; nil prints nothing.
func reportRun(e *env, r *etl.Result, asJSON bool) {
	if r == nil {
		return
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(r)
		return
	}
	printRun(e, r)
}

func printRun(e *env, r *etl.Result) {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "source\tentity\tread\tloaded\tquarantined\tskipped\trows\t")
	for _, c := range r.Counts {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t\n", c.Source, c.Entity, c.Read, c.Loaded, c.Quarantined, c.Skipped, c.Rows)
	}
	fmt.Fprintf(tw, "total\t\t%d\t%d\t%d\t%d\t\t\n", r.Read, r.Loaded, r.Quarantined, r.Skipped)
	tw.Flush()
	fmt.Fprintf(e.stdout, "run %s %s", r.RunID, r.Status)
	if r.SnapshotID > 0 {
		fmt.Fprintf(e.stdout, ", snapshot %d", r.SnapshotID)
	}
	if r.Linked+r.Unlinked > 0 {
		fmt.Fprintf(e.stdout, ", %d CRM contacts linked to EHR patients, %d unlinked (match rate %.1f%%)",
			r.Linked, r.Unlinked, 100*float64(r.Linked)/float64(r.Linked+r.Unlinked))
	}
	fmt.Fprintf(e.stdout, ", %s\n", r.Duration.Round(1e6))
	if r.Quarantined > 0 {
		fmt.Fprintf(e.stdout, "quarantined records: SELECT * FROM quarantine WHERE run_id = '%s'\n", r.RunID)
	}
}

func runETLRuns(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "etl runs", "etl runs [--limit N] [--db FILE]")
	limit := fs.Int("limit", 10, "how many runs, newest first")
	fs.String("db", "", "analytics DuckDB file (default: config db)")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, _, err := loadConfig(e, fs, *cfgPath, map[string]string{"db": "db"})
	if err != nil {
		return err
	}
	wh, err := store.OpenReadOnly(ctx, c.DB)
	if err != nil {
		return err
	}
	defer wh.Close()
	rows, err := wh.QueryContext(ctx, `SELECT run_id, coalesce(snapshot_id::VARCHAR, '-'), status, started_at,
		duration_ms, rows_read, rows_loaded, rows_quarantined,
		CASE WHEN contacts_linked IS NULL THEN '-' ELSE printf('%d/%d (%.1f%%)', contacts_linked,
			contacts_linked + contacts_unlinked, 100.0 * contacts_linked / (contacts_linked + contacts_unlinked)) END,
		coalesce(error, '')
		FROM etl_runs ORDER BY started_at DESC LIMIT ?`, *limit)
	if err != nil {
		return err
	}
	defer rows.Close()
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSNAPSHOT\tSTATUS\tSTARTED\tMS\tREAD\tLOADED\tQUARANTINED\tCONTACTS LINKED\tERROR")
	for rows.Next() {
		var id, snap, status, linked, errMsg string
		var started any
		var ms, read, loaded, q int64
		if err := rows.Scan(&id, &snap, &status, &started, &ms, &read, &loaded, &q, &linked, &errMsg); err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%d\t%d\t%d\t%d\t%s\t%s\n", id, snap, status, started, ms, read, loaded, q, linked, errMsg)
	}
	tw.Flush()
	return rows.Err()
}

func runETLValueSets(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "etl valuesets", "etl valuesets [--db FILE] [--json] PATH...")
	fs.String("db", "", "analytics DuckDB file (default: config db)")
	asJSON := fs.Bool("json", false, "print the run result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(e.stderr, "carelens etl valuesets: give at least one file or folder")
		fs.Usage()
		return errUsage
	}
	c, log, err := loadConfig(e, fs, *cfgPath, map[string]string{"db": "db"})
	if err != nil {
		return err
	}
	wh, err := openWarehouse(ctx, c)
	if err != nil {
		return err
	}
	defer wh.Close()
	res, runErr := etl.NewValueSetJob(etl.ValueSetOptions{Paths: fs.Args(), DB: wh, Logger: log}).Run(ctx)
	reportRun(e, res, *asJSON)
	return runErr
}
