package metrics

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/carelens/carelens/internal/store"
)

const noShowFixture = "testdata/no_show_rate/fixture.sql"

func date(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// row renders a result row compactly: "period dims… num/den".
func rowText(r Row) string {
	parts := []string{}
	if r.Period != "" {
		parts = append(parts, r.Period)
	}
	parts = append(parts, r.Dims...)
	parts = append(parts, fmt.Sprintf("%g/%g", r.Numerator, r.Denominator))
	return strings.Join(parts, " ")
}

func rowsText(rs []Row) []string {
	var out []string
	for _, r := range rs {
		out = append(out, rowText(r))
	}
	return out
}

// TestNoShowRate checks the metric against the hand-counted fixture (see
// the comment at the top of testdata/no_show_rate/fixture.sql).
func TestNoShowRate(t *testing.T) {
	db := openStore(t, noShowFixture)
	commitSnapshot(t, db, 7)
	e := NewEngine(db, loadBuiltin(t, db), EngineOptions{})
	jan, feb := date("2025-01-01"), date("2025-02-28")
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"month x clinic", Query{From: jan, To: feb, By: []string{"clinic"}}, []string{
			"2025-01 clinic-01 3/19",
			"2025-01 clinic-02 2/7",
			"2025-02 clinic-01 12/22",
			"2025-02 clinic-02 0/20",
			"2025-02 unknown 0/1",
		}},
		{"month only (the metric's grain by default)", Query{From: jan, To: feb}, []string{
			"2025-01 5/26",
			"2025-02 12/43",
		}},
		{"no grain", Query{From: jan, To: feb, Grain: GrainNone}, []string{"17/69"}},
		{"clinic, no grain", Query{From: jan, To: feb, Grain: GrainNone, By: []string{"clinic"}}, []string{
			"clinic-01 15/41",
			"clinic-02 2/27",
			"unknown 0/1",
		}},
		{"filter clinic-01 by month", Query{From: jan, To: feb, Filters: map[string]string{"clinic": "clinic-01"}}, []string{
			"2025-01 3/19",
			"2025-02 12/22",
		}},
		{"filter and group", Query{From: jan, To: feb, By: []string{"sex"}, Filters: map[string]string{"clinic": "clinic-02"}}, []string{
			"2025-01 male 2/7",
			"2025-02 male 0/20",
		}},
		{"to is inclusive: the 23:30 no-show on 31 January counts", Query{From: jan, To: date("2025-01-31"), By: []string{"clinic"}}, []string{
			"2025-01 clinic-01 3/19",
			"2025-01 clinic-02 2/7",
		}},
		{"to 30 January leaves it out", Query{From: jan, To: date("2025-01-30"), By: []string{"clinic"}}, []string{
			"2025-01 clinic-01 2/18",
			"2025-01 clinic-02 2/7",
		}},
		{"a one-day range", Query{From: date("2025-01-31"), To: date("2025-01-31"), Grain: GrainNone}, []string{"1/1"}},
		{"the time of day of from and to is ignored", Query{From: date("2025-01-31").Add(23 * time.Hour), To: date("2025-01-31").Add(time.Hour), Grain: GrainNone}, []string{"1/1"}},
		{"wider range by month", Query{From: date("2024-12-01"), To: date("2025-03-31")}, []string{
			"2024-12 1/1",
			"2025-01 5/26",
			"2025-02 12/43",
			"2025-03 1/1",
		}},
		{"quarter", Query{From: date("2024-10-01"), To: date("2025-03-31"), Grain: GrainQuarter}, []string{
			"2024-Q4 1/1",
			"2025-Q1 18/70",
		}},
		{"year", Query{From: date("2023-01-01"), To: date("2025-12-31"), Grain: GrainYear}, []string{
			"2023 2/5",
			"2024 1/1",
			"2025 18/70",
		}},
		{"sex", Query{From: jan, To: feb, Grain: GrainNone, By: []string{"sex"}}, []string{
			"female 15/41",
			"male 2/27",
			"unknown 0/1",
		}},
		{"payer", Query{From: jan, To: feb, Grain: GrainNone, By: []string{"payer"}}, []string{
			"commercial 15/41",
			"medicaid 2/27",
			"unknown 0/1",
		}},
		// June 2023 set: see the end of the fixture.
		{"age band x sex x payer on the appointment date", Query{From: date("2023-06-01"), To: date("2023-06-30"), Grain: GrainNone, By: []string{"age_band", "sex", "payer"}}, []string{
			"0-17 female medicaid 0/1",
			"18-44 female commercial 0/1",
			"18-44 female medicaid 1/1",
			"90+ male unknown 1/1",
			"unknown other unknown 0/1",
		}},
		// 2025-04-15 is booked, after the data's as-of time (the run's
		// data_as_of, 2025-03-31 23:59:59): not due yet (and the 2025 year total above stays 18/70).
		{"a booking after the data's horizon is not due", Query{From: date("2025-04-01"), To: date("2025-04-30"), By: []string{"clinic"}}, nil},
		{"no rows in range", Query{From: date("2020-01-01"), To: date("2020-12-31"), By: []string{"clinic"}}, nil},
		{"no rows in range, no grouping", Query{From: date("2020-01-01"), To: date("2020-12-31"), Grain: GrainNone}, nil},
		{"a filter value is data, never SQL", Query{From: jan, To: feb, Filters: map[string]string{"clinic": "clinic-01' OR '1'='1"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.Compute(context.Background(), "no_show_rate", tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := rowsText(res.Rows); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rows:\n  %q\nwant:\n  %q", got, tt.want)
			}
			if res.SnapshotID != 7 || res.Metric != "no_show_rate" || res.Version != 1 || res.Kind != KindRatio {
				t.Errorf("meta = %+v", res.Meta)
			}
		})
	}
}

func TestComputeMeta(t *testing.T) {
	db := openStore(t, noShowFixture)
	commitSnapshot(t, db, 3)
	e := NewEngine(db, loadBuiltin(t, db), EngineOptions{})
	res, err := e.Compute(context.Background(), "no_show_rate", Query{
		From: date("2025-01-01"), To: date("2025-02-28"), By: []string{"clinic"},
		Filters: map[string]string{"clinic": "clinic-02"},
	})
	if err != nil {
		t.Fatal(err)
	}
	target := 0.10
	want := Meta{
		Metric: "no_show_rate", Title: "Appointment no-show rate", Unit: "ratio", Kind: KindRatio,
		Direction: LowerIsBetter, Target: &target, Version: 1, SnapshotID: 3,
		From: date("2025-01-01"), To: date("2025-02-28"), Grain: GrainMonth, Dims: []string{"clinic"},
		Filters: map[string]string{"clinic": "clinic-02"}, Scale: 1,
	}
	if !reflect.DeepEqual(res.Meta, want) {
		t.Errorf("meta =\n%+v\nwant\n%+v", res.Meta, want)
	}
	if got := res.Rows[0]; !got.PeriodStart.Equal(date("2025-01-01")) || got.Period != "2025-01" {
		t.Errorf("first row period = %q %v", got.Period, got.PeriodStart)
	}
	if v, ok := res.Kind.Value(res.Rows[0].Numerator, res.Rows[0].Denominator); !ok || v != 2.0/7 {
		t.Errorf("value = %v, %v; want 2/7", v, ok)
	}
}

func TestComputeDefaultRange(t *testing.T) {
	db := openStore(t, noShowFixture)
	commitSnapshot(t, db, 1)
	tests := []struct {
		name     string
		today    string
		q        Query
		from, to string
	}{
		// The last data on or before today is 2025-03-01: March is not
		// complete, so the range ends with February.
		{"ends with the last full month of data", "2025-06-15", Query{}, "2024-03-01", "2025-02-28"},
		{"future data is ignored", "2025-02-10", Query{}, "2024-02-01", "2025-01-31"},
		// On 2025-02-28 the last counted data is from 2025-02-20 (the
		// 2025-02-21 waitlist entry does not count): February is not
		// complete in the data, January is.
		{"a month is full only if data reaches its last day", "2025-02-28", Query{}, "2024-02-01", "2025-01-31"},
		{"without data, the last full month before today", "2020-05-20", Query{}, "2019-05-01", "2020-04-30"},
		{"to given, from defaults to 12 months", "2025-06-15", Query{To: date("2025-01-31")}, "2024-02-01", "2025-01-31"},
		{"from given, to defaults", "2025-06-15", Query{From: date("2025-01-01")}, "2025-01-01", "2025-02-28"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			today := date(tt.today)
			e := NewEngine(db, loadBuiltin(t, db), EngineOptions{Now: func() time.Time { return today.Add(13 * time.Hour) }})
			res, err := e.Compute(context.Background(), "no_show_rate", tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := day(res.From)+".."+day(res.To), tt.from+".."+tt.to; got != want {
				t.Errorf("range = %s, want %s", got, want)
			}
		})
	}
	e := NewEngine(db, loadBuiltin(t, db), EngineOptions{Now: func() time.Time { return date("2025-06-15") }})
	_, err := e.Compute(context.Background(), "no_show_rate", Query{From: date("2025-04-01")})
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("from after the default to: error = %v, want ErrInvalid", err)
	}
}

func TestComputeErrors(t *testing.T) {
	db := openStore(t, noShowFixture)
	reg := loadBuiltin(t, db)
	e := NewEngine(db, reg, EngineOptions{})
	ctx := context.Background()
	// No snapshot yet: unavailable, and still recognisable as the store's
	// error.
	_, err := e.Compute(ctx, "no_show_rate", Query{})
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, store.ErrNoSnapshot) {
		t.Errorf("no snapshot: error = %v, want ErrUnavailable wrapping store.ErrNoSnapshot", err)
	}
	commitSnapshot(t, db, 1)
	tests := []struct {
		name string
		q    Query
		kind error
		msg  string
	}{
		{"unknown dimension", Query{By: []string{"region"}}, ErrInvalid,
			`no_show_rate has no dimension "region"; its dimensions are: clinic, age_band, sex, payer`},
		{"grain as a dimension", Query{By: []string{"month"}}, ErrInvalid,
			`no_show_rate has no dimension "month"; its dimensions are: clinic, age_band, sex, payer`},
		{"dimension twice", Query{By: []string{"clinic", "clinic"}}, ErrInvalid, `dimension "clinic" is listed twice`},
		{"unknown grain", Query{Grain: "week"}, ErrInvalid, `grain "week" is not one of month, quarter, year, rolling12, measurement_year, none`},
		{"unknown filter", Query{Filters: map[string]string{"zip": "123"}}, ErrInvalid,
			`no_show_rate has no dimension "zip"; its dimensions are: clinic, age_band, sex, payer`},
		{"empty filter", Query{Filters: map[string]string{"clinic": ""}}, ErrInvalid, `filter clinic has an empty value`},
		{"from after to", Query{From: date("2025-02-01"), To: date("2025-01-31")}, ErrInvalid, `from 2025-02-01 is after to 2025-01-31`},
	}
	for _, tt := range tests {
		_, err := e.Compute(ctx, "no_show_rate", tt.q)
		if !errors.Is(err, tt.kind) || err.Error() != tt.msg {
			t.Errorf("%s: error = %v, want %v: %s", tt.name, err, tt.kind, tt.msg)
		}
	}
	_, err = e.Compute(ctx, "no_such_metric", Query{})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown metric: error = %v, want ErrNotFound", err)
	}
}

// TestComputeCache: a snapshot is immutable, so results are reused until a
// new snapshot commits; then the new data shows.
func TestComputeCache(t *testing.T) {
	db := openStore(t, noShowFixture)
	commitSnapshot(t, db, 1)
	e := NewEngine(db, loadBuiltin(t, db), EngineOptions{CacheSize: 2})
	ctx := context.Background()
	q := Query{From: date("2025-01-01"), To: date("2025-01-31"), Grain: GrainNone}
	first, err := e.Compute(ctx, "no_show_rate", q)
	if err != nil {
		t.Fatal(err)
	}
	// Rows written without a new snapshot are invisible to cached results.
	if _, err := db.ExecContext(ctx, `INSERT INTO appointments (appointment_key, patient_id, status, clinic_id, start_ts)
		VALUES ('late', 'p-late', 'noshow', 'clinic-01', '2025-01-15 10:00')`); err != nil {
		t.Fatal(err)
	}
	again, err := e.Compute(ctx, "no_show_rate", q)
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Error("same snapshot and query: result not served from the cache")
	}
	commitSnapshot(t, db, 2)
	fresh, err := e.Compute(ctx, "no_show_rate", q)
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsText(fresh.Rows); !reflect.DeepEqual(got, []string{"6/27"}) || fresh.SnapshotID != 2 {
		t.Errorf("after snapshot 2: rows %v snapshot %d, want [6/27] 2", got, fresh.SnapshotID)
	}
	// Bounded: two more queries evict the oldest entries.
	for _, to := range []string{"2025-02-28", "2025-03-31"} {
		if _, err := e.Compute(ctx, "no_show_rate", Query{From: date("2025-01-01"), To: date(to)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.results.len(); n != 2 {
		t.Errorf("cache holds %d results, want 2", n)
	}
}

// TestReload: a reload with problems keeps the previous registry; a clean
// one replaces it.
func TestReload(t *testing.T) {
	db := openStore(t, noShowFixture)
	commitSnapshot(t, db, 1)
	reg := loadBuiltin(t, db)
	e := NewEngine(db, reg, EngineOptions{})
	ctx := context.Background()
	bad := builtinMacros(t)
	text, err := os.ReadFile("testdata/bad/unknown_column.sql")
	if err != nil {
		t.Fatal(err)
	}
	bad["unknown_column.sql"] = &fstest.MapFile{Data: text}
	if errs := e.Reload(ctx, bad); len(errs) != 1 {
		t.Fatalf("bad reload: errors %v, want 1", errs)
	}
	if e.Registry() != reg {
		t.Fatal("a failed reload replaced the registry")
	}
	if _, err := e.Compute(ctx, "no_show_rate", Query{}); err != nil {
		t.Fatalf("after a failed reload: %v", err)
	}
	good := builtinMacros(t)
	plain, err := os.ReadFile("testdata/badmacros/plain.sql")
	if err != nil {
		t.Fatal(err)
	}
	good["plain.sql"] = &fstest.MapFile{Data: plain}
	for _, f := range []string{"macros/helper.sql", "macros/twice.sql"} {
		b, err := os.ReadFile("testdata/badmacros/" + f)
		if err != nil {
			t.Fatal(err)
		}
		good[f] = &fstest.MapFile{Data: b}
	}
	if errs := e.Reload(ctx, good); len(errs) > 0 {
		t.Fatalf("good reload: %v", errs)
	}
	if _, err := e.Compute(ctx, "no_show_rate", Query{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("no_show_rate after reloading without it: %v, want ErrNotFound", err)
	}
	// plain counts appointments due or not with helper(0) = twice(0)+1 = 1
	// each: January 2025 holds 33 of them (see the fixture).
	res, err := e.Compute(ctx, "plain", Query{From: date("2025-01-01"), To: date("2025-01-31"), Grain: GrainNone})
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsText(res.Rows); !reflect.DeepEqual(got, []string{"33/33"}) {
		t.Errorf("plain rows = %v, want [33/33]", got)
	}
}

func TestPeriods(t *testing.T) {
	tests := []struct {
		g        Grain
		from, to string
		want     []string
	}{
		{GrainMonth, "2024-11-15", "2025-02-01", []string{"2024-11", "2024-12", "2025-01", "2025-02"}},
		{GrainQuarter, "2024-11-15", "2025-04-01", []string{"2024-Q4", "2025-Q1", "2025-Q2"}},
		{GrainYear, "2023-06-01", "2025-01-01", []string{"2023", "2024", "2025"}},
		{GrainNone, "2023-06-01", "2025-01-01", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, p := range Periods(tt.g, date(tt.from), date(tt.to)) {
			got = append(got, PeriodLabel(tt.g, p))
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Periods(%s, %s, %s) = %v, want %v", tt.g, tt.from, tt.to, got, tt.want)
		}
	}
}

func TestParseBy(t *testing.T) {
	tests := []struct {
		in    string
		grain Grain
		dims  []string
		err   bool
	}{
		{"month,clinic", GrainMonth, []string{"clinic"}, false},
		{" clinic , quarter ,sex", GrainQuarter, []string{"clinic", "sex"}, false},
		{"clinic", GrainNone, []string{"clinic"}, false},
		{"none,clinic", GrainNone, []string{"clinic"}, false},
		{"", GrainNone, nil, false},
		{"year", GrainYear, nil, false},
		{"month,year", "", nil, true},
		{"month,,clinic", "", nil, true},
	}
	for _, tt := range tests {
		g, dims, err := ParseBy(tt.in)
		if (err != nil) != tt.err || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("ParseBy(%q) error = %v, want error %v (ErrInvalid)", tt.in, err, tt.err)
			continue
		}
		if !tt.err && (g != tt.grain || !reflect.DeepEqual(dims, tt.dims)) {
			t.Errorf("ParseBy(%q) = %q %q, want %q %q", tt.in, g, dims, tt.grain, tt.dims)
		}
	}
}

// TestComputeConcurrent runs queries from several goroutines while the
// registry is reloaded (run with -race).
func TestComputeConcurrent(t *testing.T) {
	db := openStore(t, noShowFixture)
	commitSnapshot(t, db, 1)
	e := NewEngine(db, loadBuiltin(t, db), EngineOptions{CacheSize: 4})
	ctx := context.Background()
	errs := make(chan error, 64)
	done := make(chan struct{})
	for g := 0; g < 8; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 5; i++ {
				by := [][]string{{"clinic"}, {"sex"}, nil}[(g+i)%3]
				res, err := e.Compute(ctx, "no_show_rate", Query{From: date("2025-01-01"), To: date("2025-02-28"), Grain: GrainNone, By: by})
				if err != nil {
					errs <- err
					return
				}
				var num, den float64
				for _, r := range res.Rows {
					num, den = num+r.Numerator, den+r.Denominator
				}
				if num != 17 || den != 69 {
					errs <- fmt.Errorf("by %v: total %v/%v, want 17/69", by, num, den)
				}
			}
		}()
	}
	if errs := e.Reload(ctx, Builtin); len(errs) > 0 {
		t.Error(errs)
	}
	for g := 0; g < 8; g++ {
		<-done
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestReadOnlyFile runs the engine the way `carelens serve` may: on a
// database file opened read-only, with a pool of connections, each of which
// needs the temp macros.
func TestReadOnlyFile(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/w.duckdb"
	rw, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(noShowFixture)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rw.ExecContext(ctx, string(b)); err != nil {
		t.Fatal(err)
	}
	commitSnapshot(t, rw, 5)
	rw.Close()

	db, err := store.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e := NewEngine(db, loadBuiltin(t, db), EngineOptions{})
	// Hold connections so queries land on fresh ones too.
	held, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	done := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			res, err := e.Compute(ctx, "no_show_rate", Query{From: date("2023-06-01"), To: date("2023-06-30"), Grain: GrainNone, By: []string{"age_band", "payer"}})
			if err == nil && (len(res.Rows) != 5 || res.SnapshotID != 5) {
				err = fmt.Errorf("rows %v snapshot %d", rowsText(res.Rows), res.SnapshotID)
			}
			done <- err
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// Under the safe_harbor profile only years survive: a metric that needs
// dates of service refuses, saying why; one declared "dates: years" runs.
func TestSafeHarborRefusesDateMetrics(t *testing.T) {
	db := openStore(t, noShowFixture)
	reg := loadBuiltin(t, db)
	e := NewEngine(db, reg, EngineOptions{})
	ctx := context.Background()
	commitSnapshot(t, db, 1)
	if _, err := e.Compute(ctx, "no_show_rate", Query{}); err != nil {
		t.Fatalf("limited: %v", err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE etl_runs SET deid_profile = 'safe_harbor'`); err != nil {
		t.Fatal(err)
	}
	_, err := e.Compute(ctx, "no_show_rate", Query{})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "safe_harbor") || !strings.Contains(err.Error(), "only years") {
		t.Fatalf("safe_harbor: %v, want ErrRefused explaining the profile", err)
	}
	// The same query declared "dates: years" is computed.
	d, _ := reg.Get("no_show_rate")
	src := strings.Replace(d.SQL, "-- version: 1", "-- version: 1\n-- dates: years", 1)
	if errs := e.Reload(ctx, fstest.MapFS{"no_show_rate.sql": {Data: []byte(src)}}); len(errs) > 0 {
		t.Fatal(errs)
	}
	if _, err := e.Compute(ctx, "no_show_rate", Query{Grain: GrainYear}); err != nil {
		t.Fatalf("dates: years under safe_harbor: %v", err)
	}
}
