package metrics

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/carelens/carelens/etl"
	"github.com/carelens/carelens/etl/deid"
)

// cms165Deck is the official CMS165 test deck (60 patients, one FHIR Bundle
// each, the measure's value sets, the expected populations), kept beside the
// checkout in ../shared (data/ecqm/SOURCE.md).
var cms165Deck = filepath.Join("..", "..", "shared", "data", "ecqm", "CMS165")

// cms165Populations are one patient's CMS165 populations.
type cms165Populations struct {
	IP, Denom, Denex, Numer bool
}

func (p cms165Populations) diff(want cms165Populations) []string {
	var out []string
	for _, f := range []struct {
		name      string
		got, want bool
	}{
		{"initial population", p.IP, want.IP},
		{"denominator", p.Denom, want.Denom},
		{"denominator exclusion", p.Denex, want.Denex},
		{"numerator", p.Numer, want.Numer},
	} {
		if f.got != f.want {
			out = append(out, fmt.Sprintf("%s %d, want %d", f.name, b2i(f.got), b2i(f.want)))
		}
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cms165Case is one row of expected_populations.csv.
type cms165Case struct {
	id, name string
	from, to time.Time
	want     cms165Populations
}

func readCMS165Expected(t *testing.T, path string) []cms165Case {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(recs) < 2 {
		t.Fatalf("%s: no cases", path)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, h := range []string{"patient_id", "test_name", "period_start", "period_end", "ip", "denom", "denex", "numer"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("%s: no column %s", path, h)
		}
	}
	flag := func(r []string, h string) bool {
		switch r[col[h]] {
		case "1":
			return true
		case "0":
			return false
		}
		t.Fatalf("%s: patient %s: %s is %q, want 0 or 1", path, r[col["patient_id"]], h, r[col[h]])
		return false
	}
	var out []cms165Case
	for _, r := range recs[1:] {
		from, err1 := time.Parse("2006-01-02", r[col["period_start"]])
		to, err2 := time.Parse("2006-01-02", r[col["period_end"]])
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: patient %s: bad measurement period", path, r[col["patient_id"]])
		}
		out = append(out, cms165Case{
			id: r[col["patient_id"]], name: r[col["test_name"]], from: from, to: to,
			want: cms165Populations{IP: flag(r, "ip"), Denom: flag(r, "denom"), Denex: flag(r, "denex"), Numer: flag(r, "numer")},
		})
	}
	return out
}

// TestCMS165Deck loads the official CMS165 test deck — every patient's
// Bundle and the measure's value sets — into an in-memory warehouse through
// the ETL, evaluates the measure's populations for each patient over the
// deck's measurement period (testdata/cms165/populations.sql, built on the
// same macros as the cms165_bp_controlled metric) and compares them with the
// deck's expected populations. It also checks that the metric, computed by
// the engine, reports the performance rate those populations give.
func TestCMS165Deck(t *testing.T) {
	if _, err := os.Stat(cms165Deck); err != nil {
		t.Skipf("CMS165 test deck absent (%v): it lives in ../shared/data/ecqm/CMS165 beside the checkout", err)
	}
	ctx := context.Background()
	cases := readCMS165Expected(t, filepath.Join(cms165Deck, "expected_populations.csv"))
	db := openStore(t)

	valueSets, _ := filepath.Glob(filepath.Join(cms165Deck, "valuesets-*.json"))
	if len(valueSets) == 0 {
		t.Fatalf("no valuesets-*.json in %s", cms165Deck)
	}
	if _, err := etl.NewValueSetJob(etl.ValueSetOptions{Paths: valueSets, DB: db}).Run(ctx); err != nil {
		t.Fatalf("load value sets: %v", err)
	}
	key, err := deid.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	vault, err := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), key)
	if err != nil {
		t.Fatal(err)
	}
	// The deck folder is loaded as it is: the tests-*.json Bundles, and the
	// value-set Bundle, Library and Group, whose resource types the EHR load
	// counts as not loaded.
	res, err := etl.NewFilesJob(etl.FilesOptions{Dir: cms165Deck, DB: db, Vault: vault, Profile: deid.ProfileLimited}).Run(ctx)
	if err != nil {
		t.Fatalf("load the deck: %v", err)
	}
	if res.Quarantined != 0 || res.Read != res.Loaded {
		t.Errorf("deck load: read %d, loaded %d, quarantined %d; every resource should load", res.Read, res.Loaded, res.Quarantined)
	}

	reg := loadBuiltin(t, db)
	query, err := os.ReadFile("testdata/cms165/populations.sql")
	if err != nil {
		t.Fatal(err)
	}
	// All cases share one measurement period (2025 in the published deck).
	from, to := cases[0].from, cases[0].to
	got := map[string]cms165Populations{}
	err = withConn(ctx, db, reg, func(conn *sql.Conn) error {
		rows, err := conn.QueryContext(ctx, string(query), day(from), day(to))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var p cms165Populations
			if err := rows.Scan(&id, &p.IP, &p.Denom, &p.Denex, &p.Numer); err != nil {
				return err
			}
			got[id] = p
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatalf("populations: %v", err)
	}

	var passed int
	var failures []string
	var wantNum, wantDen, wantIP, wantDenex float64
	for _, c := range cases {
		if c.want.IP {
			wantIP++
		}
		if c.want.Denex {
			wantDenex++
		}
		if !c.from.Equal(from) || !c.to.Equal(to) {
			t.Fatalf("patient %s: measurement period %s..%s differs from the deck's %s..%s", c.id, day(c.from), day(c.to), day(from), day(to))
		}
		if c.want.Denom && !c.want.Denex {
			wantDen++
			if c.want.Numer {
				wantNum++
			}
		}
		surrogate, ok := vault.Lookup(deid.NSPatient, c.id)
		if !ok {
			failures = append(failures, fmt.Sprintf("%s (%s): patient not loaded", c.id, c.name))
			t.Logf("FAIL %s %s: patient not loaded", c.id, c.name)
			continue
		}
		if d := got[surrogate].diff(c.want); len(d) > 0 {
			failures = append(failures, fmt.Sprintf("%s (%s): %s", c.id, c.name, strings.Join(d, ", ")))
			t.Logf("FAIL %s %s: %s", c.id, c.name, strings.Join(d, ", "))
			continue
		}
		passed++
	}
	t.Logf("CMS165 deck, measurement period %s..%s: %d passed, %d failed", day(from), day(to), passed, len(failures))
	if len(failures) > 0 || passed != len(cases) {
		sort.Strings(failures)
		t.Errorf("CMS165 deck: %d passed, %d failed:\n  %s", passed, len(failures), strings.Join(failures, "\n  "))
	}

	// The metric aggregates the same populations: over the year, numerator
	// = patients in the numerator, denominator = denominator − exclusions.
	e := NewEngine(db, reg, EngineOptions{})
	r, err := e.Compute(ctx, "cms165_bp_controlled", Query{From: from, To: to, Grain: GrainNone})
	if err != nil {
		t.Fatalf("compute cms165_bp_controlled: %v", err)
	}
	if got, want := rowsText(r.Rows), []string{fmt.Sprintf("%g/%g", wantNum, wantDen)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("cms165_bp_controlled %s..%s = %v, want %v (numerator/denominator from the deck's populations)", day(from), day(to), got, want)
	}
	if len(r.Rows) != 1 || fmt.Sprint(r.Populations) != "[initial_population denominator_exclusion]" ||
		fmt.Sprint(r.Rows[0].Populations) != fmt.Sprint([]float64{wantIP, wantDenex}) {
		t.Errorf("cms165_bp_controlled populations %v = %v, want initial population %g, exclusions %g", r.Populations, r.Rows, wantIP, wantDenex)
	}
	t.Logf("engine: initial population %g, exclusions %g, numerator %g, denominator %g", wantIP, wantDenex, wantNum, wantDen)
}
