package metrics

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/carelens/carelens/internal/store"
)

// TestRefresh materialises the no-show fixture and checks what is stored:
// the membership with snapshot and version, the results by every grain and
// dimension, and that a second refresh on the same snapshot skips.
func TestRefresh(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, noShowFixture)
	commitSnapshot(t, db, 7)
	e := NewEngine(db, loadBuiltin(t, db), EngineOptions{})
	rep, err := e.Refresh(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Snapshot != 7 {
		t.Fatalf("snapshot %d", rep.Snapshot)
	}
	var ns *MetricRefresh
	for i := range rep.Metrics {
		if m := rep.Metrics[i]; m.Err != nil {
			t.Errorf("%s: %v", m.Metric, m.Err)
		}
		if rep.Metrics[i].Metric == "no_show_rate" {
			ns = &rep.Metrics[i]
		}
	}
	// The fixture's due appointments: 5 in 2023, 1 in 2024, 70 in 2025
	// (TestNoShowRate's yearly figures).
	if ns == nil || ns.Skipped || ns.MemberRows != 76 {
		t.Fatalf("no_show_rate refresh %+v", ns)
	}
	var members, snap, version int
	if err := db.QueryRowContext(ctx, `SELECT count(*), min(snapshot_id), min(version) FROM metric_members WHERE metric = 'no_show_rate'`).Scan(&members, &snap, &version); err != nil {
		t.Fatal(err)
	}
	if members != 76 || snap != 7 || version != 1 {
		t.Fatalf("metric_members: %d rows, snapshot %d, version %d", members, snap, version)
	}
	// Results: the 2025 year overall and January 2025 at clinic-01.
	check := func(grain, period, dim, val string, num, den float64) {
		t.Helper()
		var n, d float64
		err := db.QueryRowContext(ctx, `SELECT numerator, denominator FROM metric_results
			WHERE metric = 'no_show_rate' AND grain = ? AND period = ? AND dimension = ? AND dim_value = ? AND snapshot_id = 7`,
			grain, period, dim, val).Scan(&n, &d)
		if err != nil || n != num || d != den {
			t.Errorf("%s %s %s=%s: %v/%v (%v), want %v/%v", grain, period, dim, val, n, d, err, num, den)
		}
	}
	check("year", "2025", "", "", 18, 70)
	check("measurement_year", "MY2023", "", "", 2, 5)
	check("quarter", "2025-Q1", "", "", 18, 70)
	check("month", "2025-01", "clinic", "clinic-01", 3, 19)
	check("month", "2025-02", "sex", "male", 0, 20)
	check("rolling12", "2024-03..2025-02", "", "", 18, 70)

	rep, err = e.Refresh(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range rep.Metrics {
		if !m.Skipped {
			t.Errorf("%s recomputed on an unchanged snapshot", m.Metric)
		}
	}
	// A new snapshot recomputes.
	commitSnapshot(t, db, 8)
	if rep, err = e.Refresh(ctx, false); err != nil {
		t.Fatal(err)
	}
	for _, m := range rep.Metrics {
		if m.Skipped || m.Err != nil {
			t.Errorf("%s on a new snapshot: skipped %v, err %v", m.Metric, m.Skipped, m.Err)
		}
	}
	res, err := e.Compute(ctx, "no_show_rate", Query{From: date("2025-01-01"), To: date("2025-12-31"), Grain: GrainYear})
	if err != nil || !res.Materialised || res.SnapshotID != 8 {
		t.Fatalf("compute after refresh: materialised %v, snapshot %d, %v", res != nil && res.Materialised, res.SnapshotID, err)
	}
}

// TestMaterialisedMatchesLive computes many query shapes live and from the
// materialisation: they must agree exactly.
func TestMaterialisedMatchesLive(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, noShowFixture)
	commitSnapshot(t, db, 7)
	reg := loadBuiltin(t, db)
	live := NewEngine(db, reg, EngineOptions{})
	var queries []Query
	ranges := [][2]string{{"2023-01-01", "2025-12-31"}, {"2025-01-01", "2025-02-28"}, {"2025-01-15", "2025-02-10"}, {"2024-10-01", "2025-03-31"}}
	for _, g := range grains {
		for _, by := range [][]string{nil, {"clinic"}, {"sex"}, {"clinic", "age_band"}} {
			for _, r := range ranges {
				queries = append(queries, Query{From: date(r[0]), To: date(r[1]), Grain: g, By: by})
			}
		}
	}
	queries = append(queries, Query{From: date("2025-01-01"), To: date("2025-02-28"), Grain: GrainMonth, Filters: map[string]string{"clinic": "clinic-01"}})
	want := map[int]*Result{}
	for i, q := range queries {
		r, err := live.Compute(ctx, "no_show_rate", q)
		if err != nil {
			t.Fatal(err)
		}
		if r.Materialised {
			t.Fatal("materialised before any refresh")
		}
		want[i] = r
	}
	mat := NewEngine(db, reg, EngineOptions{})
	if _, err := mat.Refresh(ctx, false); err != nil {
		t.Fatal(err)
	}
	fromResults := 0
	for i, q := range queries {
		r, err := mat.Compute(ctx, "no_show_rate", q)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Materialised {
			t.Fatalf("query %d not materialised", i)
		}
		if !reflect.DeepEqual(r.Rows, want[i].Rows) {
			t.Errorf("%+v:\nmaterialised %v\nlive         %v", q, rowsText(r.Rows), rowsText(want[i].Rows))
		}
		if len(r.Rows) > 0 && (q.Grain != GrainRolling12) && len(q.By) <= 1 && q.Filters == nil {
			fromResults++
		}
	}
	if fromResults == 0 {
		t.Fatal("no query exercised metric_results")
	}
}

// TestRefreshFailureKeepsPrevious: a metric that fails on a new snapshot
// keeps its previous materialisation, and the others still refresh.
func TestRefreshFailureKeepsPrevious(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, noShowFixture)
	commitSnapshot(t, db, 7)
	text := `-- name: fragile
-- title: Fails when a table exists
-- description: Divides by zero once the table boom exists.
-- unit: count
-- kind: count
-- direction: lower_is_better
-- grain: month
-- version: 1
SELECT CAST(start_ts AS DATE) AS period_date, patient_id,
    CASE WHEN (SELECT count(*) FROM duckdb_tables() WHERE table_name = 'boom') > 0
         THEN CAST('x' AS INTEGER) ELSE 1 END AS numerator, 1 AS denominator
FROM appointments`
	fsys := fstest.MapFS{"fragile.sql": {Data: []byte(text)}}
	for _, m := range loadBuiltin(t, db).Macros() {
		fsys[m.File] = &fstest.MapFile{Data: []byte(m.SQL)}
	}
	reg, errs := Load(ctx, fsys, db)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	e := NewEngine(db, reg, EngineOptions{})
	if rep, err := e.Refresh(ctx, false); err != nil || len(rep.Failed()) > 0 {
		t.Fatalf("%v %v", err, rep.Failed())
	}
	var before int
	db.QueryRowContext(ctx, `SELECT count(*) FROM metric_members_fragile`).Scan(&before)
	if _, err := db.ExecContext(ctx, `CREATE TABLE boom (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	commitSnapshot(t, db, 8)
	rep, err := e.Refresh(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.Failed(); len(f) != 1 || f[0].Metric != "fragile" {
		t.Fatalf("failed: %+v", f)
	}
	var after, snap int
	db.QueryRowContext(ctx, `SELECT count(*), min(snapshot_id) FROM metric_members_fragile`).Scan(&after, &snap)
	var refSnap int
	db.QueryRowContext(ctx, `SELECT snapshot_id FROM metric_refreshes WHERE metric = 'fragile'`).Scan(&refSnap)
	if after != before || snap != 7 || refSnap != 7 {
		t.Fatalf("after a failed refresh: %d rows (was %d), snapshot %d, recorded %d", after, before, snap, refSnap)
	}
	// Compute then reads the tables, since the materialisation is stale,
	// and reports the failure itself.
	if _, err := e.Compute(ctx, "fragile", Query{From: date("2025-01-01"), To: date("2025-01-31")}); err == nil {
		t.Fatal("stale materialisation served for snapshot 8")
	}

}

// TestNumeratorMembership: under "membership: numerator" a metric may count
// the rows of its denominator alone instead of naming each patient. Its
// results equal those of the same metric listing every patient, its
// membership names the numerator's patients only, and a row without a
// patient is refused when it is in the numerator or when the metric keeps
// full membership.
func TestNumeratorMembership(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, noShowFixture)
	commitSnapshot(t, db, 7)
	header := func(name, membership string) string {
		h := "-- name: " + name + `
-- title: No-shows
-- description: Appointments missed.
-- unit: ratio
-- kind: ratio
-- direction: lower_is_better
-- grain: month
-- dimensions: clinic
-- version: 1
`
		if membership != "" {
			h += "-- membership: " + membership + "\n"
		}
		return h
	}
	const base = `SELECT CAST(start_ts AS DATE) AS d, patient_id, coalesce(clinic_id, 'unknown') AS clinic,
    CASE WHEN status = 'noshow' THEN 1 ELSE 0 END AS missed
FROM appointments WHERE status IN ('booked', 'fulfilled', 'noshow', 'arrived', 'checked-in')`
	fsys := builtinMacros(t)
	for name, text := range map[string]string{
		"named.sql": header("named", "") +
			"SELECT d AS period_date, patient_id, clinic, missed AS numerator, 1 AS denominator FROM (" + base + ")",
		// No-shows by name; the others counted per day and clinic.
		"counted.sql": header("counted", "numerator") + `
SELECT d AS period_date, patient_id, clinic, 1 AS numerator, 1 AS denominator FROM (` + base + `) WHERE missed = 1
UNION ALL
SELECT d, NULL, clinic, 0, count(*) FROM (` + base + `) WHERE missed = 0 GROUP BY d, clinic`,
		"unnamed_full.sql": header("unnamed_full", "full") +
			"SELECT d AS period_date, NULL AS patient_id, clinic, sum(missed) AS numerator, count(*) AS denominator FROM (" + base + ") GROUP BY d, clinic",
		"unnamed_numerator.sql": header("unnamed_numerator", "numerator") +
			"SELECT d AS period_date, NULL AS patient_id, clinic, sum(missed) AS numerator, count(*) AS denominator FROM (" + base + ") GROUP BY d, clinic",
	} {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	reg, errs := Load(ctx, fsys, db)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	e := NewEngine(db, reg, EngineOptions{})
	rep, err := e.Refresh(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]string{}
	for _, m := range rep.Failed() {
		failed[m.Metric] = m.Err.Error()
	}
	if len(failed) != 2 ||
		!strings.Contains(failed["unnamed_full"], "have no patient_id") ||
		!strings.Contains(failed["unnamed_numerator"], "rows in the numerator have no patient_id") {
		t.Fatalf("failures: %v", failed)
	}

	// Same sums, live and materialised, by month and by clinic. The
	// fixture's 2025: 18 no-shows in 70 due appointments (TestRefresh), and
	// these metrics also count the one booked for 2025-04-15, which
	// no_show_rate holds back until the data is as of that day: 18 of 71.
	for _, q := range []Query{
		{From: date("2025-01-01"), To: date("2025-12-31"), Grain: GrainYear},
		{From: date("2025-01-01"), To: date("2025-03-31"), Grain: GrainMonth, By: []string{"clinic"}},
	} {
		named, err := e.Compute(ctx, "named", q)
		if err != nil {
			t.Fatal(err)
		}
		counted, err := e.Compute(ctx, "counted", q)
		if err != nil {
			t.Fatal(err)
		}
		if !counted.Materialised || !counted.NumeratorMembers || named.NumeratorMembers {
			t.Errorf("meta: counted %+v, named %+v", counted.Meta, named.Meta)
		}
		if !reflect.DeepEqual(named.Rows, counted.Rows) {
			t.Errorf("%+v:\nnamed   %+v\ncounted %+v", q, named.Rows, counted.Rows)
		}
		if q.Grain == GrainYear && (len(counted.Rows) != 1 || counted.Rows[0].Numerator != 18 || counted.Rows[0].Denominator != 71) {
			t.Errorf("2025: %+v", counted.Rows)
		}
	}

	// Membership: the 18 no-shows of 2025 by name, nobody else.
	members, meta, err := e.Members(ctx, "counted", date("2025-01-01"), date("2025-12-31"))
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 18 || !meta.NumeratorMembers {
		t.Fatalf("%d members, meta %+v", len(members), meta)
	}
	for _, m := range members {
		if m.PatientID == "" || m.Numerator != 1 || m.Denominator != 1 {
			t.Fatalf("member %+v", m)
		}
	}
	var viewRows, unnamed int
	if err := db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (patient_id IS NULL)
		FROM metric_members WHERE metric = 'counted' AND year(period_date) = 2025`).Scan(&viewRows, &unnamed); err != nil {
		t.Fatal(err)
	}
	if viewRows != 18 || unnamed != 0 {
		t.Fatalf("metric_members: %d rows, %d without a patient", viewRows, unnamed)
	}
}

// TestRefreshWorkersAgree: two workers refreshing side by side on a
// database file (separate connections and transactions) store exactly what
// one worker stores on its own.
func TestRefreshWorkersAgree(t *testing.T) {
	ctx := context.Background()
	fixture, err := os.ReadFile(noShowFixture)
	if err != nil {
		t.Fatal(err)
	}
	stored := func(path string, workers int) []string {
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, string(fixture)); err != nil {
			t.Fatal(err)
		}
		commitSnapshot(t, db, 7)
		// Refresh runs DuckDB on one thread per query and restores the
		// thread count after.
		if _, err := db.ExecContext(ctx, "SET threads = 3"); err != nil {
			t.Fatal(err)
		}
		e := NewEngine(db, loadBuiltin(t, db), EngineOptions{RefreshWorkers: workers})
		rep, err := e.Refresh(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		var threads int
		if err := db.QueryRowContext(ctx, "SELECT CAST(current_setting('threads') AS INTEGER)").Scan(&threads); err != nil || threads != 3 {
			t.Fatalf("threads after the refresh: %d (%v), want 3", threads, err)
		}
		if f := rep.Failed(); len(f) > 0 || len(rep.Metrics) != len(e.List()) {
			t.Fatalf("%d workers: %d metrics refreshed, failed %v", workers, len(rep.Metrics), f)
		}
		rows, err := db.QueryContext(ctx, `SELECT metric, grain, period, dimension, dim_value, numerator, denominator
			FROM metric_results UNION ALL
			SELECT metric, 'members', CAST(count(*) AS VARCHAR), '', '', sum(numerator), sum(denominator)
			FROM metric_members GROUP BY metric
			ORDER BY ALL`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var m, g, p, dim, val string
			var num, den float64
			if err := rows.Scan(&m, &g, &p, &dim, &val, &num, &den); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(m, g, p, dim, val, num, den))
		}
		return out
	}
	parallel := stored(filepath.Join(t.TempDir(), "w.duckdb"), 2)
	serial := stored(":memory:", 1)
	if len(serial) == 0 || !reflect.DeepEqual(parallel, serial) {
		t.Fatalf("two workers stored %d rows, one worker %d (or they differ)", len(parallel), len(serial))
	}
}
