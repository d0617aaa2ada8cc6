package metrics

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carelens/carelens/etl"
	"github.com/carelens/carelens/internal/store"
)

// fixtureExempt names metrics proven by a published test deck instead of a
// hand-worked fixture, and where.
var fixtureExempt = map[string]string{
	"cms165_bp_controlled": "the official CMS165 deck, 60 patients (cms165_test.go)",
}

// fixtureOptions runs the shipped definitions with the shipped value sets,
// loaded by the ETL's ValueSet job as `carelens etl valuesets` does.
func fixtureOptions() FixtureOptions {
	return FixtureOptions{
		Defs:          Builtin,
		Dir:           "testdata",
		ValueSetDirs:  []string{"valuesets"},
		LoadValueSets: etlValueSets,
	}
}

func etlValueSets(ctx context.Context, db *store.DB, dirs []string) error {
	_, err := etl.NewValueSetJob(etl.ValueSetOptions{
		Paths: dirs, DB: db,
		Now: func() time.Time { return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) },
	}).Run(ctx)
	return err
}

// TestMetricFixtures runs every metric's hand-worked fixture
// (testdata/<name>/), live and materialised; every shipped metric must have
// one unless a published deck proves it.
func TestMetricFixtures(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	reg := loadBuiltin(t, db)
	for _, d := range reg.List() {
		t.Run(d.Name, func(t *testing.T) {
			if why, ok := fixtureExempt[d.Name]; ok {
				t.Skipf("proven by %s", why)
			}
			if _, err := os.Stat(filepath.Join("testdata", d.Name, "expect.csv")); err != nil {
				t.Fatalf("metric %s has no hand-worked fixture: add testdata/%s/fixture.sql and expect.csv", d.Name, d.Name)
			}
			res, err := RunFixture(ctx, fixtureOptions(), d.Name)
			if err != nil {
				t.Fatal(err)
			}
			if res.Checks == 0 {
				t.Fatal("the fixture checks nothing")
			}
			if !res.OK() {
				t.Fatalf("%d checks, %d failed:\n%s", res.Checks, len(res.Failures), strings.Join(res.Failures, "\n"))
			}
		})
	}
}

// TestReadFixtureInclude: "-- include:" lines take another fixture's text,
// from inside the testdata folder only.
func TestReadFixtureInclude(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) string {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("a/fixture.sql", "INSERT INTO t VALUES (1);\n")
	b := write("b/fixture.sql", "-- b reads a's scenario\n-- include: ../a/fixture.sql\nINSERT INTO t VALUES (2);\n")
	got, err := readFixture(root, b)
	if want := "-- b reads a's scenario\nINSERT INTO t VALUES (1);\n\nINSERT INTO t VALUES (2);\n"; err != nil || string(got) != want {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
	out := write("c/fixture.sql", "-- include: ../../outside.sql\n")
	if _, err := readFixture(root, out); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("include outside the folder: %v", err)
	}
	self := write("d/fixture.sql", "-- include: fixture.sql\n")
	if _, err := readFixture(root, self); err == nil || !strings.Contains(err.Error(), "itself") {
		t.Fatalf("self include: %v", err)
	}
}
