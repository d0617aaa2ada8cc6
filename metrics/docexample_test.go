package metrics

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// TestWriteAMetricExample keeps docs/write-a-metric.md honest: its example
// metric loads against the schema and passes its fixture
// (testdata/docexample/bp_measured_at_visit, worked out on that page).
func TestWriteAMetricExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/write-a-metric.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```sql\n(-- name: bp_measured_at_visit\n.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/write-a-metric.md has no bp_measured_at_visit example")
	}
	fsys := fstest.MapFS{"bp_measured_at_visit.sql": {Data: m[1]}}
	db := openStore(t)
	for _, mac := range loadBuiltin(t, db).Macros() {
		fsys[mac.File] = &fstest.MapFile{Data: []byte(mac.SQL)}
	}
	opt := fixtureOptions()
	opt.Defs, opt.Dir, opt.ValueSetDirs = fsys, "testdata/docexample", nil
	res, err := RunFixture(context.Background(), opt, "bp_measured_at_visit")
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Checks != 3 {
		t.Fatalf("%d checks: %s", res.Checks, strings.Join(res.Failures, "\n"))
	}
}
