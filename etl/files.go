package etl

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"encoding/json"

	"github.com/carelens/carelens/etl/crm"
	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/etl/fhir"
	"github.com/carelens/carelens/etl/fhir/views"
	"github.com/carelens/carelens/internal/store"
)

// FilesOptions configures a FilesJob.
type FilesOptions struct {
	// Dir holds ehr/ (FHIR NDJSON, optionally with a Bulk Data manifest.json,
	// or FHIR Bundle *.json files: etl/bundles.go) and/or crm/ (the CRM
	// export contract); a folder that itself holds NDJSON files, a
	// manifest.json or *.json Bundles is read as the EHR export.
	Dir       string
	DB        *store.DB
	Vault     *deid.Vault
	Profile   deid.Profile
	Logger    *slog.Logger
	BatchSize int // records per Arrow batch; 0 = 8192
	Workers   int // goroutines mapping NDJSON; 0 = GOMAXPROCS
	// JobName is recorded in etl_runs ("files" when empty).
	JobName string
	// Views are the ViewDefinitions that fill view tables (nil = the
	// built-in etl/fhir/views).
	Views fs.FS
	// Now returns the current time; nil = time.Now. AsOf for the 90+ rule is
	// the manifest's transactionTime when there is one, else Now.
	Now func() time.Time
}

// FilesJob loads an EHR export and a CRM export from a folder.
type FilesJob struct{ opt FilesOptions }

// NewFilesJob returns a job loading opt.Dir.
func NewFilesJob(opt FilesOptions) *FilesJob {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 8192
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &FilesJob{opt: opt}
}

// Name implements Job.
func (j *FilesJob) Name() string {
	if j.opt.JobName != "" {
		return j.opt.JobName
	}
	return "files"
}

// ErrNoInput reports a source folder with nothing to load.
var ErrNoInput = errors.New("no input files")

// Manifest is the part of a Bulk Data $export completion manifest carelens reads.
type Manifest struct {
	TransactionTime string         `json:"transactionTime"`
	Output          []ManifestFile `json:"output"`
	// Deleted files hold transaction Bundles whose DELETE entries name
	// resources deleted since the request's _since.
	Deleted []ManifestFile `json:"deleted"`
	// Error files hold OperationOutcomes about what the server could not export.
	Error []ManifestFile `json:"error"`
}

// ManifestFile is one file of a manifest.
type ManifestFile struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// localPath resolves a manifest URL to a file in dir: an absolute URL by its
// last path segment, a relative one as a path below dir (never above it).
func localPath(dir, u string) (string, error) {
	if strings.Contains(u, "://") {
		return filepath.Join(dir, path.Base(u)), nil
	}
	clean := path.Clean("/" + u)
	if clean == "/" {
		return "", fmt.Errorf("manifest url %q names no file", u)
	}
	return filepath.Join(dir, filepath.FromSlash(clean[1:])), nil
}

type quarantined struct {
	source, file, entity, reason string
	line                         int64
}

type quarantineLog struct {
	mu   sync.Mutex
	rows []quarantined
}

func (q *quarantineLog) add(r quarantined) {
	q.mu.Lock()
	q.rows = append(q.rows, r)
	q.mu.Unlock()
}

// ehrFiles lists the NDJSON files per resource type, from the manifest when
// present (it decides which files are read), else by file name Type[.NNN].ndjson[.gz].
func ehrFiles(dir string) (files map[string][]string, m *Manifest, err error) {
	files = map[string][]string{}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	switch {
	case err == nil:
		m = &Manifest{}
		if err := json.Unmarshal(b, m); err != nil {
			return nil, nil, fmt.Errorf("%s: not a Bulk Data manifest", filepath.Join(dir, "manifest.json"))
		}
		for _, o := range m.Output {
			p, err := localPath(dir, o.URL)
			if err != nil {
				return nil, nil, err
			}
			files[o.Type] = append(files[o.Type], p)
		}
		return files, m, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, nil, err
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return files, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !(strings.HasSuffix(n, ".ndjson") || strings.HasSuffix(n, ".ndjson.gz")) {
			continue
		}
		typ, _, _ := strings.Cut(n, ".")
		if typ == "" || typ[0] < 'A' || typ[0] > 'Z' {
			continue // not Type.ndjson: a FHIR resource type starts upper-case (Synthea's log.ndjson, say)
		}
		files[typ] = append(files[typ], filepath.Join(dir, n))
	}
	for _, fs := range files {
		sort.Strings(fs)
	}
	return files, nil, nil
}

// sourceDirs returns the EHR and CRM folders of dir: dir/ehr and dir/crm,
// or dir itself as the EHR folder when it holds NDJSON, a manifest or JSON
// Bundles.
func sourceDirs(dir string) (ehr, crm string) {
	ehr, crm = filepath.Join(dir, "ehr"), filepath.Join(dir, "crm")
	if fi, err := os.Stat(ehr); err == nil && fi.IsDir() {
		return ehr, crm
	}
	for _, pat := range []string{"manifest.json", "*.ndjson", "*.ndjson.gz", "*.json"} {
		if m, _ := filepath.Glob(filepath.Join(dir, pat)); len(m) > 0 {
			return dir, crm
		}
	}
	return ehr, crm
}

// crmFile finds name.csv or name.csv.gz in dir.
func crmFile(dir, name string) string {
	for _, n := range crm.FileNames(name) {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Run loads the folder in one transaction. On any failure other than bad
// records the transaction is rolled back, the previous snapshot stays, and a
// failed run is recorded.
func (j *FilesJob) Run(ctx context.Context) (*Result, error) {
	o := j.opt
	res := newResult(j.Name(), o.Profile, o.Now)
	return runJob(ctx, o.DB, o.Logger, res, o.Now, func(log *slog.Logger) error { return j.load(ctx, res, log) })
}

func (j *FilesJob) load(ctx context.Context, res *Result, log *slog.Logger) error {
	o := j.opt
	if err := checkProfile(ctx, o.DB, o.Profile); err != nil {
		return err
	}
	dates := datePolicyFor(o.Profile, o.Vault)
	ehrDir, crmDir := sourceDirs(o.Dir)
	files, manifest, err := ehrFiles(ehrDir)
	if err != nil {
		return err
	}
	// Without NDJSON or a manifest, the folder's *.json files are read as
	// FHIR Bundles.
	var jsonFiles []string
	if len(files) == 0 && manifest == nil {
		if jsonFiles, err = bundleFiles(ehrDir); err != nil {
			return err
		}
	}
	var crmFiles []string
	for _, e := range crm.Entities {
		if p := crmFile(crmDir, e.Name); p != "" {
			crmFiles = append(crmFiles, p)
		}
	}
	// A manifest is input even when it lists no files: an incremental export
	// in which nothing changed, or only deletions.
	if len(files) == 0 && len(jsonFiles) == 0 && len(crmFiles) == 0 && manifest == nil {
		return fmt.Errorf("%w in %s (expected ehr/*.ndjson, ehr/*.json Bundles and/or crm/*.csv)", ErrNoInput, o.Dir)
	}
	asOf := res.Started
	if manifest != nil && manifest.TransactionTime != "" {
		if t, err := fhir.ParseDateTime(manifest.TransactionTime); err == nil {
			asOf = t
		}
	}
	res.AsOf = asOf
	viewFS := o.Views
	if viewFS == nil {
		viewFS = views.FS
	}
	viewEnts, errs := fhir.LoadViews(viewFS, func(table string) ([]store.ColumnInfo, error) { return o.DB.Describe(ctx, table) })
	if len(errs) > 0 {
		return fmt.Errorf("view definitions:\n%w", errors.Join(errs...))
	}
	// Value sets load through their own job (carelens etl valuesets).
	var entities []*fhir.Entity
	for _, e := range viewEnts {
		if e.Type != "ValueSet" {
			entities = append(entities, e)
		}
	}
	loadable := map[string]bool{}
	for _, e := range entities {
		loadable[e.Type] = true
	}
	q := &quarantineLog{}
	rel := func(p string) string {
		if r, err := filepath.Rel(o.Dir, p); err == nil {
			return r
		}
		return p
	}
	var skipped []*Count
	var bundles *bundleInput
	if len(jsonFiles) > 0 {
		bundles = readBundles(jsonFiles, loadable, q, rel)
		for typ, n := range bundles.skipped {
			skipped = append(skipped, &Count{Source: "ehr", Entity: typ, Skipped: n})
			log.Info("resource type not loaded", "type", typ, "files", len(jsonFiles), "records", n)
		}
	}
	for typ, fs := range files {
		if loadable[typ] {
			continue
		}
		// A type carelens does not map: count its records, load nothing.
		cnt := &Count{Source: "ehr", Entity: typ}
		for _, f := range fs {
			n, err := countRecords(f)
			if err != nil {
				q.add(quarantined{source: "ehr", file: rel(f), entity: typ, reason: fileReason(err)})
			}
			cnt.Skipped += n
		}
		skipped = append(skipped, cnt)
		log.Info("resource type not loaded", "type", typ, "files", len(fs), "records", cnt.Skipped)
	}
	sort.Slice(skipped, func(i, j int) bool { return skipped[i].Entity < skipped[j].Entity })

	tx, err := o.DB.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	fm := &fhir.Mapper{Vault: o.Vault, AsOf: asOf, Dates: dates}
	if manifest != nil {
		// Deletions first: a resource deleted and created again since _since
		// is in the output too, and its current version must stay.
		if err := applyDeleted(ctx, tx, ehrDir, manifest.Deleted, entities, o.Vault, q, res, rel); err != nil {
			return err
		}
		if err := recordServerErrors(ehrDir, manifest.Error, q, res, rel); err != nil {
			return err
		}
	}
	for _, ent := range entities {
		fs := files[ent.Type]
		var recs []bundleRecord
		if bundles != nil {
			recs = bundles.byType[ent.Type]
		}
		if len(fs) == 0 && len(recs) == 0 {
			continue
		}
		cnt := &Count{Source: "ehr", Entity: ent.Type}
		res.Counts = append(res.Counts, cnt)
		var next store.Produce
		if bundles != nil {
			next = bundleRecords(recs, ent, fm, q, cnt, o.BatchSize)
		} else {
			next = ndjsonRecords(fs, ent, fm, q, cnt, rel, o.BatchSize, o.Workers)
		}
		n, err := tx.Upsert(ctx, ent.Table, store.NewRecordStream(ctx, ent.Table, next))
		if err != nil {
			return fmt.Errorf("%s: %w", ent.Type, err)
		}
		cnt.Rows = n
		log.Info("loaded", "source", "ehr", "entity", ent.Type, "read", cnt.Read, "loaded", cnt.Loaded, "quarantined", cnt.Quarantined, "rows", n)
	}

	cm := &crm.Mapper{Vault: o.Vault, Dates: dates}
	for _, ent := range crm.Entities {
		p := crmFile(crmDir, ent.Name)
		if p == "" {
			continue
		}
		cnt := &Count{Source: "crm", Entity: ent.Name}
		res.Counts = append(res.Counts, cnt)
		if ent.Name == "message_events" && cm.NeedsMessagePatients() {
			if cm.MessagePatients, err = messagePatients(ctx, tx); err != nil {
				return err
			}
		}
		rd, err := crm.OpenFile(p, ent)
		if err != nil {
			// A bad file never aborts the others: it is quarantined whole.
			q.add(quarantined{source: "crm", file: rel(p), entity: ent.Name, reason: fileReason(err)})
			log.Warn("file quarantined", "source", "crm", "entity", ent.Name, "file", rel(p))
			continue
		}
		fill := recordFill(rd.Next, ent, cm, q, cnt, rel(p))
		n, err := tx.Upsert(ctx, ent.Table, store.NewStream(ctx, ent.Table, o.BatchSize, fill))
		rd.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", ent.Name, err)
		}
		cnt.Rows = n
		log.Info("loaded", "source", "crm", "entity", ent.Name, "read", cnt.Read, "loaded", cnt.Loaded, "quarantined", cnt.Quarantined, "rows", n)
	}
	res.Linked, res.Unlinked = cm.Linked, cm.Unlinked
	res.Counts = append(res.Counts, skipped...)
	if len(crmFiles) > 0 {
		if err := crm.Derive(ctx, tx); err != nil {
			return err
		}
	}

	// The vault is saved before the warehouse commits: a warehouse never
	// holds a surrogate the vault could lose.
	return commitRun(ctx, tx, res, q, o.Now, o.Vault.Save)
}

// commitRun ends a successful load: it takes the next snapshot id, writes
// the quarantine and the run's record, runs beforeCommit (if any) and
// commits, all in tx.
func commitRun(ctx context.Context, tx *store.Tx, res *Result, q *quarantineLog, now func() time.Time, beforeCommit func() error) error {
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(snapshot_id), 0) + 1 FROM etl_runs`).Scan(&res.SnapshotID); err != nil {
		return fmt.Errorf("next snapshot: %w", err)
	}
	res.Status = "succeeded"
	res.total()
	if err := writeQuarantine(ctx, tx, res.RunID, q.rows); err != nil {
		return err
	}
	res.Duration = now().Sub(res.Started)
	if err := recordRun(ctx, nil, tx, res); err != nil {
		return err
	}
	if beforeCommit != nil {
		if err := beforeCommit(); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// countRecords counts the non-blank lines of an NDJSON file.
func countRecords(path string) (int64, error) {
	lr, err := fhir.OpenNDJSON(path)
	if err != nil {
		return 0, err
	}
	defer lr.Close()
	var n int64
	for {
		_, _, err := lr.Next()
		switch {
		case err == io.EOF:
			return n, nil
		case errors.Is(err, fhir.ErrLineTooLong):
			n++
		case err != nil:
			return n, err
		default:
			n++
		}
	}
}

// fileReason describes a file-level failure without echoing file contents.
func fileReason(err error) string {
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe):
		return "file unreadable: broken CSV header"
	case errors.Is(err, os.ErrNotExist):
		return "file listed but missing"
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return "file unreadable: " + msg
}

// recordFill maps the records next yields (a file's, a page's) into
// batches, quarantining bad ones at their position.
func recordFill(next func() (crm.Record, int64, error), ent *crm.Entity, m *crm.Mapper, q *quarantineLog, cnt *Count, file string) store.Fill {
	var seq int64
	return func(ctx context.Context, b *store.Batch, max int) (bool, error) {
		for b.Len() < max {
			rec, line, err := next()
			if err == io.EOF {
				return false, nil
			}
			if err != nil {
				reason, ok := crm.RecordReason(err)
				if !ok {
					return false, fmt.Errorf("%s: %w", file, err)
				}
				cnt.Read++
				cnt.Quarantined++
				q.add(quarantined{source: "crm", file: file, line: line, entity: ent.Name, reason: reason})
				continue
			}
			cnt.Read++
			seq++
			if err := ent.Map(m, rec, b, seq); err != nil {
				var re *crm.RecordError
				if !errors.As(err, &re) {
					return false, err
				}
				cnt.Quarantined++
				q.add(quarantined{source: "crm", file: file, line: line, entity: ent.Name, reason: re.Reason})
				continue
			}
			cnt.Loaded++
		}
		return true, nil
	}
}

func writeQuarantine(ctx context.Context, tx *store.Tx, runID string, rows []quarantined) error {
	if len(rows) == 0 {
		return nil
	}
	i := 0
	fill := func(ctx context.Context, b *store.Batch, max int) (bool, error) {
		for ; i < len(rows) && b.Len() < max; i++ {
			r := rows[i]
			b.Row().Str(runID).Str(r.source).Str(r.file).Int64(r.line, true).Str(r.entity).Str(r.reason).End(int64(i))
		}
		return i < len(rows), nil
	}
	if _, err := tx.Append(ctx, store.Quarantine, store.NewStream(ctx, store.Quarantine, 16384, fill)); err != nil {
		return fmt.Errorf("write quarantine: %w", err)
	}
	return nil
}

// recordRun writes the run and its counts, inside tx when given, else in a
// transaction of its own on db.
func recordRun(ctx context.Context, db *store.DB, tx *store.Tx, r *Result) error {
	if tx == nil {
		var err error
		if tx, err = db.Begin(ctx); err != nil {
			return err
		}
		defer tx.Rollback()
		if err := recordRun(ctx, nil, tx, r); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}
	var snap any
	if r.SnapshotID > 0 {
		snap = r.SnapshotID
	}
	var errMsg any
	if r.Error != "" {
		errMsg = r.Error
	}
	finished := r.Started.Add(r.Duration)
	var asOf any
	if !r.AsOf.IsZero() {
		asOf = r.AsOf
	}
	var linked, unlinked any
	if r.Linked+r.Unlinked > 0 {
		linked, unlinked = r.Linked, r.Unlinked
	}
	if _, err := tx.Exec(ctx, `INSERT INTO etl_runs (run_id, snapshot_id, job, status, deid_profile, started_at,
		finished_at, duration_ms, rows_read, rows_loaded, rows_quarantined, error, data_as_of, contacts_linked,
		contacts_unlinked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.RunID, snap, r.Job, r.Status, r.Profile, r.Started, finished, r.Duration.Milliseconds(),
		r.Read, r.Loaded, r.Quarantined, errMsg, asOf, linked, unlinked); err != nil {
		return fmt.Errorf("record run: %w", err)
	}
	for _, c := range r.Counts {
		if _, err := tx.Exec(ctx, `INSERT INTO etl_run_counts VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.RunID, c.Source, c.Entity, c.Read, c.Loaded, c.Quarantined, c.Skipped); err != nil {
			return fmt.Errorf("record run counts: %w", err)
		}
	}
	return nil
}
