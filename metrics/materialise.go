package metrics

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Materialisation. After each load, Refresh computes every metric once on
// the new snapshot and stores
//
//   - its patient-level membership, every row the metric's query returns
//     (who is in the denominator and the numerator, with the value), in
//     metric_members_<name>, with the snapshot id and the metric version;
//   - its sums by period (month, quarter, year, rolling12, measurement_year)
//     for the whole population and for each declared dimension, in
//     metric_results;
//   - what they were computed from in metric_refreshes.
//
// A metric whose version, definition (query and macros) and snapshot are
// those already stored is skipped: refreshes are incremental per metric.
// Each metric is replaced in one transaction, so a failed metric leaves its
// previous materialisation in place, and readers never see half of one.
// Compute reads the materialisation when it matches the current snapshot
// and definition, and the warehouse tables otherwise (a read-only database,
// a metric not yet refreshed).

// memberTable names metric name's membership table; name is a validated
// identifier.
func memberTable(name string) string { return quoteIdent("metric_members_" + name) }

// definitionHash identifies what a metric computes: its query and every
// macro (a macro change may change any metric).
func definitionHash(d *Definition, macros []Macro) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s\x00", d.Version, d.SQL)
	for _, m := range macros {
		fmt.Fprintf(h, "%s\x00%s\x00", m.Name, m.SQL)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// materialised reports whether conn's database holds d's materialisation
// for snapshot snap. A database without the tables (not migrated) has none.
func materialised(ctx context.Context, conn *sql.Conn, d *Definition, snap int64) (bool, error) {
	var n int
	err := conn.QueryRowContext(ctx, `SELECT count(*) FROM metric_refreshes
		WHERE metric = ? AND version = ? AND definition_hash = ? AND snapshot_id = ?`,
		d.Name, d.Version, d.Hash, snap).Scan(&n)
	if err != nil {
		if strings.Contains(err.Error(), "metric_refreshes does not exist") {
			return false, nil
		}
		return false, err
	}
	return n > 0, nil
}

// materialisedGrains are the grains metric_results holds.
var materialisedGrains = []Grain{GrainMonth, GrainQuarter, GrainYear, GrainMeasurementYear, GrainRolling12}

// fromResults answers p from metric_results when it can: at most one
// dimension, no filter, a materialised grain, and a range made of whole
// periods. ok is false when it cannot (the caller then aggregates the
// membership).
func (e *Engine) fromResults(ctx context.Context, conn *sql.Conn, d *Definition, p plan, res *Result) (ok bool, err error) {
	if len(p.filters) > 0 || len(p.by) > 1 || !contains(materialisedGrains, p.grain) || p.grain == GrainRolling12 {
		// Rolling results also need their months (Result.Months), which
		// the membership gives as cheaply.
		return false, nil
	}
	starts := PeriodsMY(p.grain, p.from, p.to, e.myStart)
	if len(starts) == 0 || !starts[0].Equal(p.from) || !periodEnd(p.grain, starts[len(starts)-1]).Equal(p.to) {
		return false, nil
	}
	dimension, dimCol := "", "''"
	if len(p.by) == 1 {
		dimension, dimCol = p.by[0], "dim_value"
	}
	q := "SELECT period_start, " + dimCol + ", numerator, denominator"
	for _, c := range d.Populations {
		q += ", coalesce(" + quoteIdent(c) + ", 0)"
	}
	q += ` FROM metric_results WHERE metric = ? AND version = ? AND snapshot_id = ? AND grain = ?
		AND dimension = ? AND period_start BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
		ORDER BY period_start, dim_value`
	rows, err := conn.QueryContext(ctx, q, d.Name, d.Version, res.SnapshotID, string(p.grain), dimension, day(p.from), day(p.to))
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		var r Row
		var dim string
		dst := []any{&r.PeriodStart, &dim, &r.Numerator, &r.Denominator}
		if len(d.Populations) > 0 {
			r.Populations = make([]float64, len(d.Populations))
			for i := range r.Populations {
				dst = append(dst, &r.Populations[i])
			}
		}
		if err := rows.Scan(dst...); err != nil {
			return false, err
		}
		r.PeriodStart = dateOnly(r.PeriodStart)
		r.Period = PeriodLabelMY(p.grain, r.PeriodStart, e.myStart)
		if len(p.by) == 1 {
			r.Dims = []string{dim}
		} else {
			r.Dims = []string{}
		}
		res.Rows = append(res.Rows, r)
	}
	return true, rows.Err()
}

// periodEnd returns the last day of the period of grain g starting on start.
func periodEnd(g Grain, start time.Time) time.Time {
	switch g {
	case GrainMonth, GrainRolling12:
		return start.AddDate(0, 1, -1)
	case GrainQuarter:
		return start.AddDate(0, 3, -1)
	}
	return start.AddDate(1, 0, -1)
}

// RefreshReport says what Refresh did.
type RefreshReport struct {
	// Snapshot is the snapshot the metrics were computed on.
	Snapshot int64
	Metrics  []MetricRefresh
}

// MetricRefresh is one metric's part of a refresh.
type MetricRefresh struct {
	Metric string
	// Skipped is set when the stored materialisation was already current.
	Skipped    bool
	MemberRows int64
	ResultRows int64
	Duration   time.Duration
	// Err is the metric's failure; its previous materialisation stays.
	Err error
}

// Failed returns the metrics that failed.
func (r *RefreshReport) Failed() []MetricRefresh {
	var out []MetricRefresh
	for _, m := range r.Metrics {
		if m.Err != nil {
			out = append(out, m)
		}
	}
	return out
}

// Refresh materialises every metric of the current registry on the newest
// snapshot (see the comment at the top of this file). force recomputes
// metrics that are current. A metric's failure is reported in its
// MetricRefresh and does not stop the others; the error is for failures that
// stop the whole refresh (no snapshot, a cancelled context).
func (e *Engine) Refresh(ctx context.Context, force bool) (*RefreshReport, error) {
	return e.RefreshOnly(ctx, force)
}

// RefreshOnly is Refresh for the named metrics only (all when none is
// named); an unknown name is an error.
func (e *Engine) RefreshOnly(ctx context.Context, force bool, names ...string) (*RefreshReport, error) {
	reg := e.reg.Load()
	defs := reg.List()
	if len(names) > 0 {
		defs = nil
		for _, n := range names {
			d, ok := reg.Get(n)
			if !ok {
				return nil, notFoundf("no metric named %q", n)
			}
			defs = append(defs, d)
		}
	}
	snap, err := e.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	rep := &RefreshReport{Snapshot: snap, Metrics: make([]MetricRefresh, len(defs))}
	// Metrics are refreshed by several workers at once, one per core, each
	// metric on its own connection in its own transaction; they write
	// different tables and different rows of metric_results. Meanwhile
	// DuckDB runs each query on one thread: its parallelism inside a query
	// (partitioned aggregates and sorts, merges) costs more than it gives
	// on these queries, and one metric per core keeps the cores busy. At
	// 100 000 patients on 2 cores: 44 s of CPU and 24 s against 55 s and
	// 30 s with two threads per query. Other queries run on one thread
	// too until the refresh ends. The metrics are ordered by how long they
	// took last time; one worker takes the slowest left, the next the
	// quickest, and so on, so the heavy ones do not run together and
	// compete for DuckDB's memory (together they spill at the 768 MB
	// default).
	e.refreshMu.Lock()
	defer e.refreshMu.Unlock()
	// One connection (no macros needed) reads the last timings and sets
	// the thread count; it goes back to the pool before the workers start.
	var workers int
	var order []int
	var restore func()
	err = onConn(ctx, e.db, func(conn *sql.Conn) error {
		var err error
		order = longestFirst(ctx, conn, defs)
		workers, restore, err = e.singleThreaded(ctx, conn)
		return err
	})
	if err != nil {
		return nil, err
	}
	defer restore()
	workers = min(workers, len(defs))
	var mu sync.Mutex
	lo, hi := 0, len(order)
	take := func(fromSlow bool) (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if lo >= hi || ctx.Err() != nil {
			return 0, false
		}
		if fromSlow {
			lo++
			return order[lo-1], true
		}
		hi--
		return order[hi], true
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(fromSlow bool) {
			defer wg.Done()
			for {
				i, ok := take(fromSlow)
				if !ok {
					return
				}
				d := defs[i]
				start := time.Now()
				mr := MetricRefresh{Metric: d.Name}
				err := withConn(ctx, e.db, reg, func(conn *sql.Conn) error {
					var err error
					mr.Skipped, mr.MemberRows, mr.ResultRows, err = e.refreshOne(ctx, conn, d, force)
					return err
				})
				mr.Duration = time.Since(start)
				if err != nil {
					mr.Err = fmt.Errorf("metric %s: %w", d.Name, err)
				}
				rep.Metrics[i] = mr
			}
		}(w%2 == 0)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		done := rep.Metrics[:0]
		for _, m := range rep.Metrics {
			if m.Metric != "" {
				done = append(done, m)
			}
		}
		rep.Metrics = done
		return rep, err
	}
	if err := withConn(ctx, e.db, reg, func(conn *sql.Conn) error { return e.membersView(ctx, conn, reg) }); err != nil {
		return rep, fmt.Errorf("metric_members view: %w", err)
	}
	return rep, nil
}

// onConn runs fn on a dedicated connection without installing macros.
func onConn(ctx context.Context, db DB, fn func(*sql.Conn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	return fn(conn)
}

// singleThreaded sets DuckDB to one thread per query for a refresh by
// several workers and returns the number of workers (EngineOptions, else
// DuckDB's thread count) and the function that restores the thread count
// (on a connection of its own, after conn is back in the pool).
func (e *Engine) singleThreaded(ctx context.Context, conn *sql.Conn) (workers int, restore func(), err error) {
	var threads int
	if err := conn.QueryRowContext(ctx, `SELECT CAST(current_setting('threads') AS INTEGER)`).Scan(&threads); err != nil {
		return 0, nil, fmt.Errorf("read DuckDB threads: %w", err)
	}
	workers = e.refreshWorkers
	if workers <= 0 {
		workers = max(threads, 1)
	}
	if workers == 1 || threads == 1 {
		return workers, func() {}, nil
	}
	if _, err := conn.ExecContext(ctx, "SET threads = 1"); err != nil {
		return 0, nil, fmt.Errorf("set DuckDB threads: %w", err)
	}
	return workers, func() {
		ctx := context.WithoutCancel(ctx)
		_ = onConn(ctx, e.db, func(conn *sql.Conn) error {
			_, err := conn.ExecContext(ctx, fmt.Sprintf("SET threads = %d", threads))
			return err
		})
	}, nil
}

// longestFirst returns the indexes of defs in the order to refresh them:
// the slowest last time first (metrics never refreshed count as slowest),
// so the workers do not end with one long metric running alone.
func longestFirst(ctx context.Context, conn *sql.Conn, defs []*Definition) []int {
	took := map[string]float64{}
	// Not migrated (no table): any order will do.
	if rows, err := conn.QueryContext(ctx, `SELECT metric, seconds FROM metric_refreshes`); err == nil {
		for rows.Next() {
			var name string
			var secs float64
			if rows.Scan(&name, &secs) == nil {
				took[name] = secs
			}
		}
		rows.Close()
	}
	order := make([]int, len(defs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ta, oka := took[defs[order[a]].Name]
		tb, okb := took[defs[order[b]].Name]
		if oka != okb {
			return !oka
		}
		return ta > tb
	})
	return order
}

// refreshOne replaces d's materialisation in one transaction. The snapshot
// is read inside it: the transaction sees one consistent state of the
// warehouse, so membership, results and the recorded snapshot agree even
// when a load commits meanwhile.
func (e *Engine) refreshOne(ctx context.Context, conn *sql.Conn, d *Definition, force bool) (skipped bool, members, results int64, err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return false, 0, 0, err
	}
	defer func() {
		if err != nil || skipped {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	var snap sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT max(snapshot_id) FROM etl_runs WHERE status = 'succeeded'`).Scan(&snap); err != nil {
		return false, 0, 0, err
	}
	if !snap.Valid {
		return false, 0, 0, fmt.Errorf("no committed snapshot")
	}
	if !force {
		ok, err := materialised(ctx, conn, d, snap.Int64)
		if err != nil || ok {
			return ok, 0, 0, err
		}
	}
	started := time.Now()

	// The membership: the query's rows, typed, with snapshot and version.
	var cols strings.Builder
	fmt.Fprintf(&cols, "CAST(%d AS BIGINT) AS snapshot_id, CAST(%d AS INTEGER) AS version, ", snap.Int64, d.Version)
	cols.WriteString("CAST(period_date AS DATE) AS period_date, CAST(patient_id AS VARCHAR) AS patient_id")
	for _, dim := range d.Dimensions {
		fmt.Fprintf(&cols, ", coalesce(CAST(%[1]s AS VARCHAR), 'unknown') AS %[1]s", quoteIdent(dim))
	}
	cols.WriteString(", CAST(numerator AS DOUBLE) AS numerator, CAST(denominator AS DOUBLE) AS denominator")
	if d.HasValue {
		cols.WriteString(", CAST(value AS DOUBLE) AS value")
	} else {
		cols.WriteString(", CAST(NULL AS DOUBLE) AS value")
	}
	for _, c := range populationCols {
		if contains(d.Populations, c) {
			fmt.Fprintf(&cols, ", CAST(%[1]s AS DOUBLE) AS %[1]s", quoteIdent(c))
		} else {
			fmt.Fprintf(&cols, ", CAST(NULL AS DOUBLE) AS %s", quoteIdent(c))
		}
	}
	table := memberTable(d.Name)
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TABLE "+table+" AS SELECT "+cols.String()+" FROM (\n"+d.SQL+"\n) AS metric"); err != nil {
		return false, 0, 0, err
	}
	// Every row names its patient, except, under "membership: numerator",
	// rows counting patients in the denominator alone.
	var anonymous, anonymousNum int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*), count(*) FILTER (patient_id IS NULL), count(*) FILTER (patient_id IS NULL AND numerator <> 0) FROM "+table).
		Scan(&members, &anonymous, &anonymousNum); err != nil {
		return false, 0, 0, err
	}
	switch {
	case !d.NumeratorMembers && anonymous > 0:
		return false, 0, 0, fmt.Errorf("%d rows have no patient_id (every row must name its patient; see the header key membership)", anonymous)
	case anonymousNum > 0:
		return false, 0, 0, fmt.Errorf("%d rows in the numerator have no patient_id (membership: numerator lets only denominator counts omit it)", anonymousNum)
	}

	// The results: every grain, overall and by each dimension. The rows
	// are first summed by month and all dimensions together (at most as
	// many groups as rows, usually far fewer); quarters, years, measurement
	// years and rolling windows are unions of months, and each dimension's
	// sums are sums over the others, so every result comes from that base.
	if _, err := conn.ExecContext(ctx, `DELETE FROM metric_results WHERE metric = ?`, d.Name); err != nil {
		return false, 0, 0, err
	}
	var dimCols strings.Builder
	for _, dim := range d.Dimensions {
		dimCols.WriteString(", ")
		dimCols.WriteString(quoteIdent(dim))
	}
	pops := "CAST(NULL AS DOUBLE) AS initial_population, CAST(NULL AS DOUBLE) AS denominator_exclusion"
	if len(d.Populations) > 0 {
		pops = "sum(initial_population) AS initial_population, sum(denominator_exclusion) AS denominator_exclusion"
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE metric_base AS
		SELECT CAST(date_trunc('month', period_date) AS DATE) AS period_date`+dimCols.String()+`,
			sum(numerator) AS numerator, sum(denominator) AS denominator, `+pops+`
		FROM `+table+`
		WHERE period_date IS NOT NULL
		GROUP BY ALL`); err != nil {
		return false, 0, 0, fmt.Errorf("monthly base: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS metric_base`)
	dimSets := []string{"SELECT '' AS dimension, '' AS dim_value, * FROM metric_base"}
	for _, dim := range d.Dimensions {
		dimSets = append(dimSets, fmt.Sprintf("SELECT '%s' AS dimension, %s AS dim_value, * FROM metric_base", dim, quoteIdent(dim)))
	}
	long := strings.Join(dimSets, "\nUNION ALL\n")
	// Months from the base; quarters, years and measurement years from the
	// months just stored (a few thousand rows rather than the base again).
	if _, err := conn.ExecContext(ctx, `INSERT INTO metric_results
		SELECT ?, ?, ?, 'month', period_date, '', dimension, dim_value,
			sum(numerator), sum(denominator), sum(initial_population), sum(denominator_exclusion)
		FROM (`+long+`) AS m
		GROUP BY period_date, dimension, dim_value`, d.Name, d.Version, snap.Int64); err != nil {
		return false, 0, 0, fmt.Errorf("results by month: %w", err)
	}
	for _, g := range []Grain{GrainQuarter, GrainYear, GrainMeasurementYear} {
		q := fmt.Sprintf(`INSERT INTO metric_results
			SELECT metric, version, snapshot_id, ?, %s AS period_start, '', dimension, dim_value,
				sum(numerator), sum(denominator), sum(initial_population), sum(denominator_exclusion)
			FROM (SELECT metric, version, snapshot_id, period_start AS period_date, dimension, dim_value,
					numerator, denominator, initial_population, denominator_exclusion
				FROM metric_results WHERE metric = ? AND grain = 'month') AS m
			GROUP BY metric, version, snapshot_id, 5, dimension, dim_value`, periodSQL(g, e.myStart))
		if _, err := conn.ExecContext(ctx, q, string(g), d.Name); err != nil {
			return false, 0, 0, fmt.Errorf("results by %s: %w", g, err)
		}
	}
	// Rolling twelve months, from the monthly sums: each month that has
	// data in its window, from the first month of data to the last.
	if _, err := conn.ExecContext(ctx, `INSERT INTO metric_results
		WITH m AS (SELECT * FROM metric_results WHERE metric = ? AND grain = 'month'),
		ends AS (
			SELECT CAST(unnest(generate_series(CAST(min(period_start) AS TIMESTAMP), CAST(max(period_start) AS TIMESTAMP), INTERVAL 1 MONTH)) AS DATE) AS period_start
			FROM m
		)
		SELECT ?, ?, ?, 'rolling12', ends.period_start, '', m.dimension, m.dim_value,
			sum(m.numerator), sum(m.denominator), sum(m.initial_population), sum(m.denominator_exclusion)
		FROM ends
		JOIN m ON m.period_start BETWEEN CAST(ends.period_start - INTERVAL 11 MONTH AS DATE) AND ends.period_start
		GROUP BY ends.period_start, m.dimension, m.dim_value`, d.Name, d.Name, d.Version, snap.Int64); err != nil {
		return false, 0, 0, fmt.Errorf("results by rolling12: %w", err)
	}
	// Period labels, as PeriodLabelMY writes them.
	if _, err := conn.ExecContext(ctx, `UPDATE metric_results SET period = CASE grain
			WHEN 'month' THEN strftime(period_start, '%Y-%m')
			WHEN 'quarter' THEN CAST(year(period_start) AS VARCHAR) || '-Q' || CAST(quarter(period_start) AS VARCHAR)
			WHEN 'year' THEN CAST(year(period_start) AS VARCHAR)
			WHEN 'rolling12' THEN strftime(CAST(period_start - INTERVAL 11 MONTH AS DATE), '%Y-%m') || '..' || strftime(period_start, '%Y-%m')
			WHEN 'measurement_year' THEN 'MY' || CAST(year(CAST(period_start + INTERVAL 11 MONTH AS DATE)) AS VARCHAR)
		END WHERE metric = ?`, d.Name); err != nil {
		return false, 0, 0, fmt.Errorf("label results: %w", err)
	}
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM metric_results WHERE metric = ?`, d.Name).Scan(&results); err != nil {
		return false, 0, 0, err
	}
	if _, err := conn.ExecContext(ctx, `INSERT OR REPLACE INTO metric_refreshes VALUES (?, ?, ?, ?, ?, ?, now(), ?)`,
		d.Name, d.Version, d.Hash, snap.Int64, members, results, time.Since(started).Seconds()); err != nil {
		return false, 0, 0, err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return false, 0, 0, err
	}
	return false, members, results, nil
}

// membersView (re)creates metric_members: every materialised metric's
// membership in one shape (metric, version, snapshot_id, period_date,
// patient_id, numerator, denominator, value), for cohorts and the CRM's
// patient summary. Rows that count patients without naming them
// (membership: numerator) are left out.
func (e *Engine) membersView(ctx context.Context, conn *sql.Conn, reg *Registry) error {
	rows, err := conn.QueryContext(ctx, `SELECT metric FROM metric_refreshes ORDER BY metric`)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		if _, ok := reg.Get(n); ok {
			names = append(names, n)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	parts := []string{`SELECT CAST(NULL AS VARCHAR) AS metric, CAST(NULL AS INTEGER) AS version, CAST(NULL AS BIGINT) AS snapshot_id,
		CAST(NULL AS DATE) AS period_date, CAST(NULL AS VARCHAR) AS patient_id, CAST(NULL AS DOUBLE) AS numerator,
		CAST(NULL AS DOUBLE) AS denominator, CAST(NULL AS DOUBLE) AS value WHERE false`}
	for _, n := range names {
		parts = append(parts, fmt.Sprintf(`SELECT '%s', version, snapshot_id, period_date, patient_id, numerator, denominator, value FROM %s WHERE patient_id IS NOT NULL`, n, memberTable(n)))
	}
	_, err = conn.ExecContext(ctx, "CREATE OR REPLACE VIEW metric_members AS\n"+strings.Join(parts, "\nUNION ALL\n"))
	return err
}

// Member is one row of a metric's patient-level membership: a unit of its
// denominator (a patient-year, an appointment …) and where it stands.
type Member struct {
	PeriodDate  time.Time
	PatientID   string
	Numerator   float64
	Denominator float64
	// Value is the row's measured value (a PDC, a last HbA1c), nil when the
	// metric returns none.
	Value *float64
	// Populations holds one 0/1 per Meta.Populations entry.
	Populations []float64
}

// Members returns metric name's membership rows with period_date from..to
// (inclusive; both required), at the newest snapshot, ordered by period
// date and patient (rows that count patients without naming them, under
// "membership: numerator", are left out; Meta.NumeratorMembers says so): from the materialisation when it is current, else from
// the warehouse tables. They hold patient ids and small counts: for
// authorised callers only (cohorts, MeasureReport subject lists).
func (e *Engine) Members(ctx context.Context, name string, from, to time.Time) ([]Member, *Meta, error) {
	reg := e.reg.Load()
	d, ok := reg.Get(name)
	if !ok {
		return nil, nil, notFoundf("no metric named %q", name)
	}
	if from.IsZero() || to.IsZero() || from.After(to) {
		return nil, nil, invalidf("members need from <= to")
	}
	if !d.YearsOnly {
		if err := e.needDates(ctx, d); err != nil {
			return nil, nil, err
		}
	}
	snap, err := e.snapshot(ctx)
	if err != nil {
		return nil, nil, err
	}
	meta := &e.newResult(d, plan{from: dateOnly(from), to: dateOnly(to), grain: GrainNone}, snap).Meta
	var out []Member
	err = withConn(ctx, e.db, reg, func(conn *sql.Conn) error {
		mat, err := materialised(ctx, conn, d, snap)
		if err != nil {
			return err
		}
		source := d.SQL
		if mat {
			source = "SELECT * FROM " + memberTable(d.Name)
			meta.Materialised = true
		}
		cols := "CAST(period_date AS DATE), CAST(patient_id AS VARCHAR), CAST(numerator AS DOUBLE), CAST(denominator AS DOUBLE)"
		if d.HasValue {
			cols += ", CAST(value AS DOUBLE)"
		} else {
			cols += ", CAST(NULL AS DOUBLE)"
		}
		for _, c := range d.Populations {
			cols += ", CAST(" + quoteIdent(c) + " AS DOUBLE)"
		}
		rows, err := conn.QueryContext(ctx, "SELECT "+cols+" FROM (\n"+source+"\n) AS m WHERE CAST(period_date AS DATE) BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND patient_id IS NOT NULL ORDER BY 1, 2, 3",
			day(from), day(to))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m Member
			dst := []any{&m.PeriodDate, &m.PatientID, &m.Numerator, &m.Denominator, &m.Value}
			m.Populations = make([]float64, len(d.Populations))
			for i := range m.Populations {
				dst = append(dst, &m.Populations[i])
			}
			if err := rows.Scan(dst...); err != nil {
				return err
			}
			m.PeriodDate = dateOnly(m.PeriodDate)
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, fmt.Errorf("metric %s members: %w", name, err)
	}
	// A load may have committed meanwhile: label with the snapshot read.
	return out, meta, nil
}
