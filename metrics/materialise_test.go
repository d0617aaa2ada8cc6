package metrics

import (
	"context"

	"reflect"
	"testing"
	"testing/fstest"
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
