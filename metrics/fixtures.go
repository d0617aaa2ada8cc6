package metrics

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/carelens/carelens/internal/store"
)

// Fixtures. Every metric <name> has a folder <testdata>/<name>/ holding a
// small population whose expected results were worked out by hand:
//
//   - fixture.sql: SQL run on an empty, migrated warehouse (INSERTs), with
//     comments deriving the expected numbers. A line "-- include: PATH"
//     stands for the file at PATH (relative to the folder, e.g.
//     ../follow_up_7d/fixture.sql): metrics that read one scenario share it. When it commits no ETL run,
//     the runner adds one: snapshot 1, an EHR load with data as of
//     2025-12-31 23:59:59.
//   - valuesets/ (optional): FHIR ValueSets loaded, through the ETL's own
//     job, after the shipped ones.
//   - expect.csv: one or more blocks, each a line
//     "# query: from=2025-01-01 to=2025-12-31 by=month,clinic filter.sex=female"
//     then a CSV header "period,<by dimensions>,numerator,denominator" and
//     the expected rows in result order. Numbers must match to 1e-9.
//   - members.csv (optional): every row of the metric's query, as
//     period_date,patient_id,numerator,denominator (and value when the
//     query returns one), sorted. Under "membership: numerator", rows
//     counting patients without naming them are summed into one row per
//     period with an empty patient_id.
//
// RunFixture checks one metric; `carelens metrics test` and the package's
// tests run them all.

// FixtureOptions says where fixtures and definitions are.
type FixtureOptions struct {
	// Defs holds the metric definitions and macros (Builtin, or a folder).
	Defs fs.FS
	// Dir is the testdata folder holding one folder per metric.
	Dir string
	// ValueSetDirs are folders of FHIR ValueSets every fixture loads (the
	// shipped metrics/valuesets).
	ValueSetDirs []string
	// LoadValueSets loads FHIR ValueSets from folders into db; it is the
	// ETL's job (etl.NewValueSetJob), passed in because the ETL depends on
	// this package's callers, not the other way round. Required when a
	// fixture needs value sets.
	LoadValueSets func(ctx context.Context, db *store.DB, dirs []string) error
}

// FixtureResult is one metric's fixture outcome.
type FixtureResult struct {
	Metric string
	// Checks counts the expected rows and members compared.
	Checks   int
	Failures []string
}

// OK reports whether every check passed.
func (r *FixtureResult) OK() bool { return len(r.Failures) == 0 }

// FixtureNames lists the metrics with a fixture folder (holding expect.csv)
// under dir.
func FixtureNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "expect.csv")); e.IsDir() && err == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// includeRE is a fixture line that stands for another fixture file.
var includeRE = regexp.MustCompile(`(?m)^-- include: (\S+)$`)

// readFixture reads a fixture.sql, replacing each "-- include: PATH" line
// (PATH relative to the file's folder, inside root) by that file's text, so
// metrics that read one scenario with different windows share one file.
func readFixture(root, path string) ([]byte, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ferr error
	out := includeRE.ReplaceAllFunc(text, func(line []byte) []byte {
		rel := string(includeRE.FindSubmatch(line)[1])
		target := filepath.Join(filepath.Dir(path), filepath.FromSlash(rel))
		if r, err := filepath.Rel(root, target); err != nil || strings.HasPrefix(r, "..") {
			ferr = fmt.Errorf("%s: include %s is outside %s", path, rel, root)
			return line
		}
		if target == path {
			ferr = fmt.Errorf("%s: includes itself", path)
			return line
		}
		b, err := readFixture(root, target)
		if err != nil && ferr == nil {
			ferr = fmt.Errorf("%s: include %s: %w", path, rel, err)
		}
		return b
	})
	return out, ferr
}

// RunFixture loads metric name's fixture into a fresh in-memory warehouse,
// computes the metric and compares it with expect.csv and members.csv. The
// error is for a fixture that cannot run at all; mismatches are Failures.
func RunFixture(ctx context.Context, opt FixtureOptions, name string) (*FixtureResult, error) {
	res := &FixtureResult{Metric: name}
	dir := filepath.Join(opt.Dir, name)
	fixture, err := readFixture(opt.Dir, filepath.Join(dir, "fixture.sql"))
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, ":memory:")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, string(fixture)); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "fixture.sql"), err)
	}
	if _, err := db.Snapshot(ctx); errors.Is(err, store.ErrNoSnapshot) {
		if _, err := db.ExecContext(ctx, `
			INSERT INTO etl_runs (run_id, snapshot_id, job, status, deid_profile, started_at, finished_at,
				duration_ms, rows_read, rows_loaded, rows_quarantined, data_as_of)
			VALUES ('fixture', 1, 'files', 'succeeded', 'limited', TIMESTAMP '2025-12-31 23:59:59',
				TIMESTAMP '2025-12-31 23:59:59', 0, 0, 0, 0, TIMESTAMP '2025-12-31 23:59:59');
			INSERT INTO etl_run_counts VALUES ('fixture', 'ehr', 'fixture', 0, 0, 0, 0)`); err != nil {
			return nil, fmt.Errorf("add the fixture's run: %w", err)
		}
	} else if err != nil {
		return nil, err
	}
	vsDirs := append([]string(nil), opt.ValueSetDirs...)
	if st, err := os.Stat(filepath.Join(dir, "valuesets")); err == nil && st.IsDir() {
		vsDirs = append(vsDirs, filepath.Join(dir, "valuesets"))
	}
	if len(vsDirs) > 0 {
		if opt.LoadValueSets == nil {
			return nil, fmt.Errorf("fixture %s needs value sets and no loader was given", name)
		}
		if err := opt.LoadValueSets(ctx, db, vsDirs); err != nil {
			return nil, fmt.Errorf("load value sets: %w", err)
		}
	}
	reg, errs := Load(ctx, opt.Defs, db)
	if len(errs) > 0 {
		return nil, fmt.Errorf("load metrics: %w", errors.Join(errs...))
	}
	d, ok := reg.Get(name)
	if !ok {
		return nil, fmt.Errorf("no metric named %q for fixture %s", name, dir)
	}
	e := NewEngine(db, reg, EngineOptions{Now: func() time.Time { return time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC) }})

	blocks, err := readExpect(filepath.Join(dir, "expect.csv"))
	if err != nil {
		return nil, err
	}
	for _, b := range blocks {
		got, err := e.Compute(ctx, name, b.query)
		if err != nil {
			res.Failures = append(res.Failures, fmt.Sprintf("expect.csv:%d: %v", b.line, err))
			continue
		}
		res.Checks += len(b.rows)
		res.Failures = append(res.Failures, compareRows(b, got)...)
	}

	if _, err := os.Stat(filepath.Join(dir, "members.csv")); err == nil {
		n, fails, err := compareMembers(ctx, db, reg, d, filepath.Join(dir, "members.csv"))
		if err != nil {
			return nil, err
		}
		res.Checks += n
		res.Failures = append(res.Failures, fails...)
	}
	// The materialised path must agree with the live one.
	if rep, err := e.RefreshOnly(ctx, false, name); err != nil {
		return nil, fmt.Errorf("refresh: %w", err)
	} else if f := rep.Failed(); len(f) > 0 {
		for _, m := range f {
			if m.Metric == name {
				res.Failures = append(res.Failures, fmt.Sprintf("refresh: %v", m.Err))
			}
		}
	}
	for _, b := range blocks {
		got, err := e.Compute(ctx, name, b.query)
		if err != nil {
			res.Failures = append(res.Failures, fmt.Sprintf("expect.csv:%d (materialised): %v", b.line, err))
			continue
		}
		for _, f := range compareRows(b, got) {
			res.Failures = append(res.Failures, "materialised: "+f)
		}
	}
	return res, nil
}

type expectBlock struct {
	line   int
	query  Query
	header []string
	rows   [][]string
	lines  []int
}

// readExpect parses an expect.csv file.
func readExpect(path string) ([]expectBlock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var blocks []expectBlock
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "# query:"):
			q, err := parseFixtureQuery(strings.TrimPrefix(line, "# query:"))
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, n, err)
			}
			blocks = append(blocks, expectBlock{line: n, query: q})
		case strings.HasPrefix(line, "#"):
			continue
		case len(blocks) == 0:
			return nil, fmt.Errorf("%s:%d: rows before the first \"# query:\" line", path, n)
		default:
			rec, err := csv.NewReader(strings.NewReader(line)).Read()
			if err != nil && err != io.EOF {
				return nil, fmt.Errorf("%s:%d: %w", path, n, err)
			}
			b := &blocks[len(blocks)-1]
			if b.header == nil {
				b.header = rec
				want := append(append([]string{"period"}, b.query.By...), "numerator", "denominator")
				if strings.Join(rec, ",") != strings.Join(want, ",") {
					return nil, fmt.Errorf("%s:%d: header %q, want %q", path, n, strings.Join(rec, ","), strings.Join(want, ","))
				}
				continue
			}
			if len(rec) != len(b.header) {
				return nil, fmt.Errorf("%s:%d: %d fields, want %d", path, n, len(rec), len(b.header))
			}
			b.rows = append(b.rows, rec)
			b.lines = append(b.lines, n)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(blocks) == 0 {
		return nil, fmt.Errorf("%s: no \"# query:\" block", path)
	}
	for _, b := range blocks {
		if b.header == nil {
			return nil, fmt.Errorf("%s:%d: the block has no header", path, b.line)
		}
	}
	return blocks, nil
}

// parseFixtureQuery parses "from=… to=… by=… filter.<dim>=…".
func parseFixtureQuery(s string) (Query, error) {
	var q Query
	byGiven := false
	for _, item := range strings.Fields(s) {
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			return q, fmt.Errorf("query item %q is not key=value", item)
		}
		switch {
		case k == "from" || k == "to":
			t, err := time.Parse("2006-01-02", v)
			if err != nil {
				return q, fmt.Errorf("%s: %w", k, err)
			}
			if k == "from" {
				q.From = t
			} else {
				q.To = t
			}
		case k == "by":
			g, dims, err := ParseBy(v)
			if err != nil {
				return q, err
			}
			q.Grain, q.By, byGiven = g, dims, true
		case strings.HasPrefix(k, "filter."):
			if q.Filters == nil {
				q.Filters = map[string]string{}
			}
			q.Filters[strings.TrimPrefix(k, "filter.")] = v
		default:
			return q, fmt.Errorf("unknown query key %q", k)
		}
	}
	if q.From.IsZero() || q.To.IsZero() || !byGiven {
		return q, fmt.Errorf("a fixture query needs from, to and by")
	}
	return q, nil
}

// compareRows compares a result with an expected block.
func compareRows(b expectBlock, got *Result) []string {
	var fails []string
	format := func(period string, dims []string, num, den float64) string {
		return strings.Join(append(append([]string{period}, dims...), fnum(num), fnum(den)), ",")
	}
	var gotLines []string
	for _, r := range got.Rows {
		gotLines = append(gotLines, format(r.Period, r.Dims, r.Numerator, r.Denominator))
	}
	for i, want := range b.rows {
		if i >= len(got.Rows) {
			fails = append(fails, fmt.Sprintf("expect.csv:%d: want %s, the result has only %d rows", b.lines[i], strings.Join(want, ","), len(got.Rows)))
			continue
		}
		r := got.Rows[i]
		k := len(want)
		num, err1 := strconv.ParseFloat(want[k-2], 64)
		den, err2 := strconv.ParseFloat(want[k-1], 64)
		same := err1 == nil && err2 == nil && want[0] == r.Period &&
			strings.Join(want[1:k-2], "\x00") == strings.Join(r.Dims, "\x00") &&
			math.Abs(num-r.Numerator) <= 1e-9 && math.Abs(den-r.Denominator) <= 1e-9
		if !same {
			fails = append(fails, fmt.Sprintf("expect.csv:%d: want %s, got %s", b.lines[i], strings.Join(want, ","), gotLines[i]))
		}
	}
	for i := len(b.rows); i < len(got.Rows); i++ {
		fails = append(fails, fmt.Sprintf("expect.csv:%d: unexpected row %s", b.line, gotLines[i]))
	}
	return fails
}

func fnum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// compareMembers compares every row of d's query with members.csv.
func compareMembers(ctx context.Context, db *store.DB, reg *Registry, d *Definition, path string) (int, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", path, err)
	}
	wantHeader := "period_date,patient_id,numerator,denominator"
	if d.HasValue {
		wantHeader += ",value"
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != wantHeader {
		return 0, nil, fmt.Errorf("%s: header must be %s", path, wantHeader)
	}
	cols := "strftime(CAST(period_date AS DATE), '%Y-%m-%d'), CAST(patient_id AS VARCHAR), CAST(numerator AS DOUBLE), CAST(denominator AS DOUBLE)"
	if d.HasValue {
		cols += ", CAST(value AS DOUBLE)"
	}
	var got [][]string
	err = withConn(ctx, db, reg, func(conn *sql.Conn) error {
		rows, err := conn.QueryContext(ctx, "SELECT "+cols+" FROM (\n"+d.SQL+"\n) AS metric")
		if err != nil {
			return err
		}
		defer rows.Close()
		// Rows counting patients without naming them (membership:
		// numerator) are compared as one row per period, summed.
		counted := map[string][2]float64{}
		for rows.Next() {
			var day string
			var patient sql.NullString
			var num, den float64
			var val *float64
			dst := []any{&day, &patient, &num, &den}
			if d.HasValue {
				dst = append(dst, &val)
			}
			if err := rows.Scan(dst...); err != nil {
				return err
			}
			if !patient.Valid {
				if !d.NumeratorMembers || num != 0 {
					return fmt.Errorf("a row of %s has no patient_id (numerator %s)", day, fnum(num))
				}
				sums := counted[day]
				counted[day] = [2]float64{sums[0] + num, sums[1] + den}
				continue
			}
			rec := []string{day, patient.String, fnum(num), fnum(den)}
			if d.HasValue {
				if val == nil {
					rec = append(rec, "")
				} else {
					rec = append(rec, fnum(*val))
				}
			}
			got = append(got, rec)
		}
		for day, sums := range counted {
			rec := []string{day, "", fnum(sums[0]), fnum(sums[1])}
			if d.HasValue {
				rec = append(rec, "")
			}
			got = append(got, rec)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, nil, fmt.Errorf("members of %s: %w", d.Name, err)
	}
	byKey := func(xs [][]string) {
		sort.SliceStable(xs, func(i, j int) bool { return strings.Join(xs[i], "\x00") < strings.Join(xs[j], "\x00") })
	}
	byKey(got)
	want := recs[1:]
	byKey(want)
	var fails []string
	for i := 0; i < max(len(want), len(got)); i++ {
		switch {
		case i >= len(got):
			fails = append(fails, fmt.Sprintf("members.csv:%d: want %s, missing", i+2, strings.Join(want[i], ",")))
		case i >= len(want):
			fails = append(fails, fmt.Sprintf("members.csv: unexpected member %s", strings.Join(got[i], ",")))
		case !sameMember(want[i], got[i]):
			fails = append(fails, fmt.Sprintf("members.csv:%d: want %s, got %s", i+2, strings.Join(want[i], ","), strings.Join(got[i], ",")))
		}
	}
	return len(want), fails, nil
}

// sameMember compares two member records, numbers to 1e-9 (values to 1e-6,
// since they are often rounded by hand).
func sameMember(want, got []string) bool {
	if len(want) != len(got) || want[0] != got[0] || want[1] != got[1] {
		return false
	}
	for i := 2; i < len(want); i++ {
		if want[i] == "" || got[i] == "" {
			if want[i] != got[i] {
				return false
			}
			continue
		}
		w, err1 := strconv.ParseFloat(want[i], 64)
		g, err2 := strconv.ParseFloat(got[i], 64)
		tol := 1e-9
		if i == 4 {
			tol = 1e-6
		}
		if err1 != nil || err2 != nil || math.Abs(w-g) > tol {
			return false
		}
	}
	return true
}
