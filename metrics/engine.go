package metrics

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Source is the warehouse the engine computes on: connections, and the id of
// the newest committed snapshot (an error when there is none). *store.DB
// satisfies it.
type Source interface {
	DB
	Snapshot(ctx context.Context) (int64, error)
}

// Query asks for a metric over a date range, grouped and filtered.
type Query struct {
	// From and To bound period_date, both inclusive; only the date part
	// counts. A zero To means the last day of the last full month of data
	// (data dated after today is ignored when finding it); a zero From means
	// twelve months before To: the first day of To's month, 11 months back.
	From, To time.Time
	// Grain groups rows by period. "" means the metric's own grain;
	// GrainNone means no period grouping.
	Grain Grain
	// By lists the dimensions to group by, each a declared dimension.
	By []string
	// Filters keeps only rows whose dimension (key, a declared dimension)
	// equals the value. Values are bound as parameters.
	Filters map[string]string
}

// Meta describes a result: which metric, definition and data it comes from
// and which query it answers.
type Meta struct {
	Metric     string
	Title      string
	Unit       string
	Kind       Kind
	Direction  Direction
	Target     *float64
	Version    int
	SnapshotID int64
	From, To   time.Time
	// Grain is the period grain used; GrainNone when rows are not grouped
	// by period.
	Grain Grain
	// Dims are the dimensions rows are grouped by, in query order.
	Dims []string
	// Filters are the dimension filters applied (nil when none).
	Filters map[string]string
	// Scale multiplies numerator / denominator into the value (1, or 1000
	// for a rate per 1,000).
	Scale float64
	// Populations names the eCQM population sums each row carries in
	// Row.Populations (nil for metrics without them).
	Populations []string
	// Materialised is set when the result was read from the snapshot's
	// materialised membership or results rather than computed from the
	// warehouse tables.
	Materialised bool
	// NumeratorMembers is set for a metric whose membership names the
	// patients of its numerator only (header "membership: numerator").
	NumeratorMembers bool
}

// Value returns a cell's value: the numerator for a count, scale ×
// numerator / denominator otherwise; ok is false when it is undefined (a
// zero denominator).
func (m *Meta) Value(numerator, denominator float64) (float64, bool) {
	v, ok := m.Kind.Value(numerator, denominator)
	if ok && m.Kind != KindCount && m.Scale != 0 && m.Scale != 1 {
		v *= m.Scale
	}
	return v, ok
}

// Result is a metric's exact aggregates. It holds counts of any size and
// must not leave the service as is: see Publish. Results are cached and
// shared; treat them as read-only.
type Result struct {
	Meta
	// Rows are sorted by period, then by dimension values. Groups without
	// any row in the range do not appear.
	Rows []Row
	// Months holds, for a rolling12 result, the monthly sums it was built
	// from (same dimensions and filters, from eleven months before From to
	// To): disclosure control hides a rolling cell unless every month in its
	// window can be shown (Publish).
	Months *Result
}

// Row is one group's aggregates.
type Row struct {
	// Period labels the period: "2025-01", "2025-Q1" or "2025"; "" when the
	// grain is GrainNone.
	Period string
	// PeriodStart is the first day of the period; zero for GrainNone.
	PeriodStart time.Time
	// Dims holds one value per Meta.Dims entry. NULL values read "unknown".
	Dims        []string
	Numerator   float64
	Denominator float64
	// Populations holds one sum per Meta.Populations entry.
	Populations []float64
}

// EngineOptions tune an Engine; the zero value is fine.
type EngineOptions struct {
	// CacheSize bounds the number of results kept in memory (default 256).
	CacheSize int
	// Now is the clock used to ignore future-dated data when finding the
	// default range (default time.Now).
	Now func() time.Time
	// MeasurementYearStart is the first month of a measurement year, for
	// the measurement_year grain (default January).
	MeasurementYearStart time.Month
	// RefreshWorkers is how many metrics Refresh computes at once (default:
	// DuckDB's thread count, one per core).
	RefreshWorkers int
}

// Engine computes metrics from the current registry. It caches results per
// snapshot, definition and query, since a snapshot never changes. It is safe
// for concurrent use.
type Engine struct {
	db       Source
	reg      atomic.Pointer[Registry]
	reloadMu sync.Mutex
	now      func() time.Time
	myStart  time.Month
	// refreshWorkers: see EngineOptions.RefreshWorkers (0: DuckDB's
	// thread count).
	refreshWorkers int
	// refreshMu serialises refreshes (they change DuckDB's thread count).
	refreshMu sync.Mutex
	results   *lru[cacheKey, *Result]
	latest    *lru[cacheKey, time.Time] // last data date ≤ today, zero for none
}

type cacheKey struct {
	snapshot int64
	metric   string
	version  int
	query    string // canonical form of the resolved query
}

// NewEngine returns an engine serving reg's metrics from db.
func NewEngine(db Source, reg *Registry, opts EngineOptions) *Engine {
	if opts.CacheSize <= 0 {
		opts.CacheSize = 256
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MeasurementYearStart < time.January || opts.MeasurementYearStart > time.December {
		opts.MeasurementYearStart = time.January
	}
	e := &Engine{
		refreshWorkers: opts.RefreshWorkers,
		db:             db,
		now:            opts.Now,
		myStart:        opts.MeasurementYearStart,
		results:        newLRU[cacheKey, *Result](opts.CacheSize),
		latest:         newLRU[cacheKey, time.Time](opts.CacheSize),
	}
	e.reg.Store(reg)
	return e
}

// Registry returns the registry in use.
func (e *Engine) Registry() *Registry { return e.reg.Load() }

// List returns the current definitions sorted by name (shared, read-only).
func (e *Engine) List() []*Definition { return e.reg.Load().List() }

// Reload loads fsys like Load and, when it has no problem, replaces the
// registry and drops cached results. On any problem the previous registry
// stays in use and the problems are returned.
func (e *Engine) Reload(ctx context.Context, fsys fs.FS) []error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	reg, errs := Load(ctx, fsys, e.db)
	if len(errs) > 0 {
		return errs
	}
	e.reg.Store(reg)
	e.results.clear()
	e.latest.clear()
	return nil
}

// plan is a validated query.
type plan struct {
	from, to time.Time // zero when defaulted
	grain    Grain
	by       []string
	filters  []filter // sorted by dimension
}

type filter struct{ dim, value string }

func newPlan(d *Definition, q Query) (plan, error) {
	p := plan{from: dateOnly(q.From), to: dateOnly(q.To), grain: q.Grain}
	if p.grain == "" {
		p.grain = d.Grain
	}
	if !contains(grains, p.grain) {
		return p, invalidf("grain %q is not one of %s", p.grain, joinAny(grains))
	}
	seen := map[string]bool{}
	for _, dim := range q.By {
		if !d.HasDimension(dim) {
			return p, invalidf("%s has no dimension %q; its dimensions are: %s", d.Name, dim, dimList(d))
		}
		if seen[dim] {
			return p, invalidf("dimension %q is listed twice", dim)
		}
		seen[dim] = true
		p.by = append(p.by, dim)
	}
	for dim, v := range q.Filters {
		if !d.HasDimension(dim) {
			return p, invalidf("%s has no dimension %q; its dimensions are: %s", d.Name, dim, dimList(d))
		}
		if v == "" {
			return p, invalidf("filter %s has an empty value", dim)
		}
		p.filters = append(p.filters, filter{dim, v})
	}
	sort.Slice(p.filters, func(i, j int) bool { return p.filters[i].dim < p.filters[j].dim })
	if !p.from.IsZero() && !p.to.IsZero() && p.from.After(p.to) {
		return p, invalidf("from %s is after to %s", day(p.from), day(p.to))
	}
	return p, nil
}

func dimList(d *Definition) string {
	if len(d.Dimensions) == 0 {
		return "(none)"
	}
	return strings.Join(d.Dimensions, ", ")
}

// key is the canonical text of a resolved plan (dates filled in).
func (p plan) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s..%s|%s|%s", day(p.from), day(p.to), p.grain, strings.Join(p.by, ","))
	for _, f := range p.filters {
		fmt.Fprintf(&b, "|%s=%q", f.dim, f.value)
	}
	return b.String()
}

// Compute returns metric name's aggregates for q. Errors: ErrNotFound for an
// unknown metric, ErrInvalid for a bad query, ErrUnavailable when the
// warehouse has no snapshot or cannot tell which one it has; other errors are
// database failures.
func (e *Engine) Compute(ctx context.Context, name string, q Query) (*Result, error) {
	reg := e.reg.Load()
	d, ok := reg.Get(name)
	if !ok {
		return nil, notFoundf("no metric named %q", name)
	}
	p, err := newPlan(d, q)
	if err != nil {
		return nil, err
	}
	if !d.YearsOnly {
		if err := e.needDates(ctx, d); err != nil {
			return nil, err
		}
	}
	// A snapshot is immutable, but a new one may commit while we query:
	// compare the snapshot before and after and retry if it moved, so a
	// result is never labelled (or cached) with the wrong snapshot.
	for attempt := 0; attempt < 3; attempt++ {
		snap, err := e.snapshot(ctx)
		if err != nil {
			return nil, err
		}
		res, key, latest, err := e.computeAt(ctx, reg, d, p, snap)
		if err != nil {
			return nil, err
		}
		after, err := e.snapshot(ctx)
		if err != nil {
			return nil, err
		}
		if after != snap {
			continue
		}
		if latest != nil {
			e.latest.put(e.latestKey(d, snap), *latest)
		}
		e.results.put(key, res)
		return res, nil
	}
	return nil, &kindError{kind: ErrUnavailable, msg: "data is being reloaded; retry"}
}

// needDates refuses a metric that needs dates of service when the warehouse
// holds data loaded under the safe_harbor profile, where only years survive.
func (e *Engine) needDates(ctx context.Context, d *Definition) error {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return &kindError{kind: ErrUnavailable, msg: err.Error(), err: err}
	}
	defer conn.Close()
	var profile sql.NullString
	err = conn.QueryRowContext(ctx, `SELECT arg_max(deid_profile, started_at) FROM etl_runs
		WHERE snapshot_id IS NOT NULL AND deid_profile <> 'none'`).Scan(&profile)
	if err != nil {
		return &kindError{kind: ErrUnavailable, msg: err.Error(), err: err}
	}
	if profile.String == "safe_harbor" {
		return &kindError{kind: ErrRefused, msg: fmt.Sprintf("metric %s needs dates of service, and this warehouse was loaded under the "+
			"safe_harbor de-identification profile, which keeps only years (PRIVACY.md); load under limited or shifted to compute it", d.Name)}
	}
	return nil
}

// Snapshot returns the newest committed snapshot of the warehouse.
func (e *Engine) Snapshot(ctx context.Context) (int64, error) { return e.snapshot(ctx) }

func (e *Engine) snapshot(ctx context.Context) (int64, error) {
	id, err := e.db.Snapshot(ctx)
	if err != nil {
		return 0, &kindError{kind: ErrUnavailable, msg: err.Error(), err: err}
	}
	return id, nil
}

func (e *Engine) latestKey(d *Definition, snap int64) cacheKey {
	return cacheKey{snap, d.Name, d.Version, "latest<=" + day(e.today())}
}

func (e *Engine) today() time.Time { return dateOnly(e.now()) }

// computeAt resolves p's default dates and returns the result at snapshot
// snap, from the cache when possible, with its cache key. latest is non-nil
// when the last data date had to be read from the database (for the caller
// to cache once the snapshot is confirmed).
func (e *Engine) computeAt(ctx context.Context, reg *Registry, d *Definition, p plan, snap int64) (res *Result, key cacheKey, latest *time.Time, err error) {
	if p.to.IsZero() || p.from.IsZero() {
		if p.to.IsZero() {
			last, ok := e.latest.get(e.latestKey(d, snap))
			if !ok {
				if last, err = e.lastDataDate(ctx, reg, d); err != nil {
					return nil, key, nil, err
				}
				latest = &last
			}
			p.to = lastFullMonthEnd(last, e.today())
			if !p.from.IsZero() && p.from.After(p.to) {
				return nil, key, nil, invalidf("from %s is after %s, the end of the last full month of data; give to", day(p.from), day(p.to))
			}
		}
		if p.from.IsZero() {
			p.from = time.Date(p.to.Year(), p.to.Month()-11, 1, 0, 0, 0, 0, time.UTC)
		}
	}
	key = cacheKey{snap, d.Name, d.Version, p.key()}
	if r, ok := e.results.get(key); ok {
		return r, key, latest, nil
	}
	res, err = e.run(ctx, reg, d, p, snap)
	return res, key, latest, err
}

// lastFullMonthEnd returns the last day of the last complete month ending on
// or before last (or today when there is no data).
func lastFullMonthEnd(last, today time.Time) time.Time {
	if last.IsZero() {
		last = today
	}
	first := time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, time.UTC)
	if end := first.AddDate(0, 1, -1); end.Equal(last) {
		return end
	}
	return first.AddDate(0, 0, -1)
}

// withConn runs fn on a dedicated connection holding reg's macros.
func withConn(ctx context.Context, db DB, reg *Registry, fn func(*sql.Conn) error) error {
	return onConn(ctx, db, func(conn *sql.Conn) error {
		if err := reg.install(ctx, conn); err != nil {
			return err
		}
		return fn(conn)
	})
}

// lastDataDate returns the latest period_date of d's rows that is not after
// today, zero when there is none.
func (e *Engine) lastDataDate(ctx context.Context, reg *Registry, d *Definition) (time.Time, error) {
	var last sql.NullTime
	// The snapshot is read before taking a connection: a pool of one
	// connection (an in-memory warehouse) would otherwise wait on itself.
	snap, snapErr := e.snapshot(ctx)
	err := withConn(ctx, e.db, reg, func(conn *sql.Conn) error {
		source := d.SQL
		if snapErr == nil {
			if mat, err := materialised(ctx, conn, d, snap); err == nil && mat {
				source = "SELECT period_date FROM " + memberTable(d.Name)
			}
		}
		return conn.QueryRowContext(ctx,
			"SELECT max(CAST(period_date AS DATE)) FROM (\n"+source+"\n) AS metric WHERE CAST(period_date AS DATE) <= CAST(? AS DATE)",
			day(e.today())).Scan(&last)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("metric %s: find the last data date: %w", d.Name, err)
	}
	if !last.Valid {
		return time.Time{}, nil
	}
	return dateOnly(last.Time), nil
}

// periodSQL returns the SQL expression giving the first day of the period
// of grain g holding period_date, or "" for GrainNone and GrainRolling12
// (which buildSQL handles by months).
func periodSQL(g Grain, myStart time.Month) string {
	switch g {
	case GrainMonth:
		return "CAST(date_trunc('month', period_date) AS DATE)"
	case GrainQuarter:
		return "CAST(date_trunc('quarter', period_date) AS DATE)"
	case GrainYear:
		return "CAST(date_trunc('year', period_date) AS DATE)"
	case GrainMeasurementYear:
		if myStart <= time.January {
			return "CAST(date_trunc('year', period_date) AS DATE)"
		}
		return fmt.Sprintf("make_date(CAST(year(period_date) AS INTEGER) - CASE WHEN month(period_date) < %[1]d THEN 1 ELSE 0 END, %[1]d, 1)", int(myStart))
	}
	return ""
}

// grouped reports whether rows of grain g carry a period.
func grouped(g Grain) bool { return g != GrainNone && g != "" }

// buildSQL wraps source (d's query, or its materialised membership): it
// filters period_date to the range and the dimension filters (all values
// bound as parameters), groups by the period and the requested dimensions
// (identifiers from the definition's validated allow-list, never from the
// request text) and sums numerator and denominator, and the population
// columns when d has them. A rolling12 grain sums months first, from eleven
// months before from on, then adds each month's eleven predecessors to it.
func buildSQL(d *Definition, p plan, source string, myStart time.Month) (string, []any) {
	dims := append([]string(nil), p.by...)
	for _, f := range p.filters {
		if !contains(dims, f.dim) {
			dims = append(dims, f.dim)
		}
	}
	var inner strings.Builder
	inner.WriteString("SELECT CAST(period_date AS DATE) AS period_date")
	for _, dim := range dims {
		fmt.Fprintf(&inner, ", coalesce(CAST(%[1]s AS VARCHAR), 'unknown') AS %[1]s", quoteIdent(dim))
	}
	inner.WriteString(", CAST(numerator AS DOUBLE) AS numerator, CAST(denominator AS DOUBLE) AS denominator")
	for _, c := range d.Populations {
		fmt.Fprintf(&inner, ", CAST(%[1]s AS DOUBLE) AS %[1]s", quoteIdent(c))
	}
	inner.WriteString(" FROM (\n")
	inner.WriteString(source)
	inner.WriteString("\n) AS metric")

	sums := "sum(numerator), sum(denominator)"
	for _, c := range d.Populations {
		sums += fmt.Sprintf(", sum(%s)", quoteIdent(c))
	}
	where := func(q *strings.Builder, args []any) []any {
		for _, f := range p.filters {
			fmt.Fprintf(q, " AND %s = ?", quoteIdent(f.dim))
			args = append(args, f.value)
		}
		return args
	}
	var byList strings.Builder
	for _, dim := range p.by {
		byList.WriteString(", ")
		byList.WriteString(quoteIdent(dim))
	}

	var q strings.Builder
	var args []any
	if p.grain == GrainRolling12 {
		q.WriteString("WITH months AS (SELECT CAST(date_trunc('month', period_date) AS DATE) AS period_start")
		q.WriteString(byList.String())
		q.WriteString(", sum(numerator) AS numerator, sum(denominator) AS denominator")
		for i, c := range d.Populations {
			fmt.Fprintf(&q, ", sum(%s) AS pop%d", quoteIdent(c), i)
		}
		q.WriteString(" FROM (\n")
		q.WriteString(inner.String())
		q.WriteString("\n) AS m WHERE period_date BETWEEN CAST(date_trunc('month', CAST(? AS DATE)) - INTERVAL 11 MONTH AS DATE) AND CAST(? AS DATE)")
		args = where(&q, []any{day(p.from), day(p.to)})
		q.WriteString(" GROUP BY ALL),\n")
		q.WriteString("ends AS (SELECT CAST(unnest(generate_series(CAST(date_trunc('month', CAST(? AS DATE)) AS TIMESTAMP), CAST(? AS TIMESTAMP), INTERVAL 1 MONTH)) AS DATE) AS period_start)\n")
		args = append(args, day(p.from), day(p.to))
		q.WriteString("SELECT ends.period_start")
		for _, dim := range p.by {
			fmt.Fprintf(&q, ", months.%s", quoteIdent(dim))
		}
		q.WriteString(", sum(months.numerator), sum(months.denominator)")
		for i := range d.Populations {
			fmt.Fprintf(&q, ", sum(months.pop%d)", i)
		}
		q.WriteString(" FROM ends JOIN months ON months.period_start BETWEEN CAST(ends.period_start - INTERVAL 11 MONTH AS DATE) AND ends.period_start")
		q.WriteString(" GROUP BY ")
		q.WriteString(positions(1 + len(p.by)))
		q.WriteString(" ORDER BY ")
		q.WriteString(positions(1 + len(p.by)))
		return q.String(), args
	}

	var groups []string
	if expr := periodSQL(p.grain, myStart); expr != "" {
		groups = append(groups, expr)
	}
	for _, dim := range p.by {
		groups = append(groups, quoteIdent(dim))
	}
	q.WriteString("SELECT ")
	for _, g := range groups {
		q.WriteString(g)
		q.WriteString(", ")
	}
	q.WriteString(sums)
	q.WriteString(" FROM (\n")
	q.WriteString(inner.String())
	q.WriteString("\n) AS m WHERE period_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)")
	args = where(&q, []any{day(p.from), day(p.to)})
	if len(groups) > 0 {
		q.WriteString(" GROUP BY ")
		q.WriteString(positions(len(groups)))
		q.WriteString(" ORDER BY ")
		q.WriteString(positions(len(groups)))
	} else {
		q.WriteString(" HAVING count(*) > 0")
	}
	return q.String(), args
}

func positions(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprint(i + 1)
	}
	return strings.Join(s, ", ")
}

// quoteIdent quotes an identifier already validated against identRE.
func quoteIdent(s string) string { return `"` + s + `"` }

func (e *Engine) newResult(d *Definition, p plan, snap int64) *Result {
	res := &Result{Meta: Meta{
		Metric: d.Name, Title: d.Title, Unit: d.Unit, Kind: d.Kind, Direction: d.Direction,
		Target: d.Target, Version: d.Version, SnapshotID: snap,
		From: p.from, To: p.to, Grain: p.grain, Dims: p.by,
		Scale: d.Scale, Populations: d.Populations, NumeratorMembers: d.NumeratorMembers,
	}}
	if len(p.filters) > 0 {
		res.Filters = map[string]string{}
		for _, f := range p.filters {
			res.Filters[f.dim] = f.value
		}
	}
	return res
}

func (e *Engine) run(ctx context.Context, reg *Registry, d *Definition, p plan, snap int64) (*Result, error) {
	res := e.newResult(d, p, snap)
	err := withConn(ctx, e.db, reg, func(conn *sql.Conn) error {
		mat, err := materialised(ctx, conn, d, snap)
		if err != nil {
			return err
		}
		source := d.SQL
		if mat {
			res.Materialised = true
			if ok, err := e.fromResults(ctx, conn, d, p, res); ok || err != nil {
				return err
			}
			source = "SELECT * FROM " + memberTable(d.Name)
		}
		if err := e.query(ctx, conn, d, p, source, res); err != nil {
			return err
		}
		if p.grain == GrainRolling12 {
			mp := p
			mp.grain = GrainMonth
			mp.from = time.Date(p.from.Year(), p.from.Month()-11, 1, 0, 0, 0, 0, time.UTC)
			res.Months = e.newResult(d, mp, snap)
			res.Months.Materialised = mat
			return e.query(ctx, conn, d, mp, source, res.Months)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, fmt.Errorf("metric %s: %w", d.Name, err)
	}
	return res, nil
}

// query runs p over source on conn and appends the rows to res.
func (e *Engine) query(ctx context.Context, conn *sql.Conn, d *Definition, p plan, source string, res *Result) error {
	query, args := buildSQL(d, p, source, e.myStart)
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r Row
		dst := make([]any, 0, len(p.by)+3+len(d.Populations))
		if grouped(p.grain) {
			dst = append(dst, &r.PeriodStart)
		}
		r.Dims = make([]string, len(p.by))
		for i := range r.Dims {
			dst = append(dst, &r.Dims[i])
		}
		dst = append(dst, &r.Numerator, &r.Denominator)
		if len(d.Populations) > 0 {
			r.Populations = make([]float64, len(d.Populations))
			for i := range r.Populations {
				dst = append(dst, &r.Populations[i])
			}
		}
		if err := rows.Scan(dst...); err != nil {
			return err
		}
		if grouped(p.grain) {
			r.PeriodStart = dateOnly(r.PeriodStart)
			r.Period = PeriodLabelMY(p.grain, r.PeriodStart, e.myStart)
		}
		res.Rows = append(res.Rows, r)
	}
	return rows.Err()
}

// PeriodLabel formats the period of grain g starting on start: "2025-01",
// "2025-Q1", "2025", "2024-04..2025-03" (rolling12: the twelve months ending
// with start's month), "MY2025" (the measurement year ending in 2025); ""
// for GrainNone.
func PeriodLabel(g Grain, start time.Time) string { return PeriodLabelMY(g, start, time.January) }

// PeriodLabelMY is PeriodLabel for measurement years starting in month
// myStart.
func PeriodLabelMY(g Grain, start time.Time, myStart time.Month) string {
	switch g {
	case GrainMonth:
		return start.Format("2006-01")
	case GrainQuarter:
		return fmt.Sprintf("%d-Q%d", start.Year(), (int(start.Month())-1)/3+1)
	case GrainYear:
		return start.Format("2006")
	case GrainRolling12:
		return start.AddDate(0, -11, 0).Format("2006-01") + ".." + start.Format("2006-01")
	case GrainMeasurementYear:
		return fmt.Sprintf("MY%d", start.AddDate(1, 0, -1).Year())
	}
	return ""
}

// Periods lists the starts of every period of grain g that overlaps
// from..to, in order (nil for GrainNone): the x axis of a chart, including
// periods without data. Rolling12 periods are labelled by their last month,
// so they step by months; measurement years start in January here (see
// PeriodsMY).
func Periods(g Grain, from, to time.Time) []time.Time { return PeriodsMY(g, from, to, time.January) }

// PeriodsMY is Periods for measurement years starting in month myStart.
func PeriodsMY(g Grain, from, to time.Time, myStart time.Month) []time.Time {
	var step func(time.Time) time.Time
	var start time.Time
	switch g {
	case GrainMonth, GrainRolling12:
		start = time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
		step = func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	case GrainQuarter:
		start = time.Date(from.Year(), from.Month()-(from.Month()-1)%3, 1, 0, 0, 0, 0, time.UTC)
		step = func(t time.Time) time.Time { return t.AddDate(0, 3, 0) }
	case GrainYear:
		start = time.Date(from.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		step = func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }
	case GrainMeasurementYear:
		y := from.Year()
		if from.Month() < myStart {
			y--
		}
		start = time.Date(y, myStart, 1, 0, 0, 0, 0, time.UTC)
		step = func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }
	default:
		return nil
	}
	var out []time.Time
	for t := start; !t.After(to); t = step(t) {
		out = append(out, t)
	}
	return out
}

// dateOnly drops the time of day, keeping the calendar date as UTC midnight.
func dateOnly(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func day(t time.Time) string { return t.Format("2006-01-02") }

// ParseBy parses a grouping list such as "month,clinic": at most one grain
// (month, quarter, year, or none) and any dimensions, comma-separated. A
// list without a grain groups by no period; an empty list gives one overall
// row. Dimensions are checked against a definition by Compute.
func ParseBy(list string) (Grain, []string, error) {
	g := GrainNone
	var dims []string
	grainSet := false
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "" && strings.TrimSpace(list) == "":
			continue
		case item == "":
			return "", nil, invalidf("by %q has an empty item", list)
		case contains(grains, Grain(item)):
			if grainSet {
				return "", nil, invalidf("by %q names more than one period grain", list)
			}
			g, grainSet = Grain(item), true
		default:
			dims = append(dims, item)
		}
	}
	return g, dims, nil
}
