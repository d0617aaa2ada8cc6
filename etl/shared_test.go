package etl

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/etl/fhir/views"
)

// sharedData is ../shared/data beside the repository.
const sharedData = "../../shared/data"

// countLines counts the non-blank lines of an NDJSON file, independently of
// the ETL's reader.
func countLines(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	var n int64
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// viewTypes returns the resource types the files job loads: those of the
// ViewDefinitions in etl/fhir/views, value sets aside.
func viewTypes(t *testing.T) map[string]bool {
	t.Helper()
	files, _ := fs.Glob(views.FS, "*.json")
	out := map[string]bool{}
	for _, f := range files {
		var v struct{ Resource string }
		b, _ := fs.ReadFile(views.FS, f)
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(f, err)
		}
		if v.Resource != "ValueSet" {
			out[v.Resource] = true
		}
	}
	return out
}

// The public datasets load as they are: for every resource type carelens
// maps, every line is read and either loaded or quarantined, and the counts
// equal the files' line counts.
func TestSharedDatasetsReconcile(t *testing.T) {
	// Quarantined records per dataset, checked by reading the files: the HL7
	// examples hold 6 resources whose code is text alone and 7 Observations
	// about a Group, Device or Location rather than a Patient.
	wantQuarantined := map[string]int64{"synthea-120": 0, "synthea-bulk-13": 0, "fhir-r4-examples": 13}
	for _, name := range []string{"synthea-120", "synthea-bulk-13", "fhir-r4-examples"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(sharedData, name)
			if _, err := os.Stat(dir); err != nil {
				t.Skipf("shared dataset %s absent (%v): run from a checkout with ../shared beside it", name, err)
			}
			want, wantSkipped := map[string]int64{}, map[string]int64{}
			loadable := viewTypes(t)
			files, _ := filepath.Glob(filepath.Join(dir, "*.ndjson*"))
			for _, f := range files {
				typ, _, _ := strings.Cut(filepath.Base(f), ".")
				switch {
				case typ == "log":
					// Synthea's export log, not a resource file
				case loadable[typ]:
					want[typ] += countLines(t, f)
				default:
					wantSkipped[typ] += countLines(t, f)
				}
			}
			if len(want) == 0 {
				t.Fatal("no loadable files found")
			}
			db := openTestDB(t)
			v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
			res, err := NewFilesJob(FilesOptions{Dir: dir, DB: db, Vault: v, Profile: deid.ProfileLimited}).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got, gotSkipped := map[string]int64{}, map[string]int64{}
			for _, c := range res.Counts {
				got[c.Entity] = c.Read
				if c.Skipped > 0 {
					gotSkipped[c.Entity] = c.Skipped
				}
				if c.Read != c.Loaded+c.Quarantined {
					t.Errorf("%s: read %d != loaded %d + quarantined %d", c.Entity, c.Read, c.Loaded, c.Quarantined)
				}
				t.Logf("%-20s read %6d loaded %6d quarantined %4d rows %6d", c.Entity, c.Read, c.Loaded, c.Quarantined, c.Rows)
			}
			for typ, n := range want {
				if got[typ] != n {
					t.Errorf("%s: read %d, the files hold %d lines", typ, got[typ], n)
				}
			}
			if fmt.Sprint(gotSkipped) != fmt.Sprint(wantSkipped) {
				t.Errorf("skipped types\n got %v\nwant %v", gotSkipped, wantSkipped)
			}
			if res.Quarantined != wantQuarantined[name] {
				t.Errorf("quarantined %d records, want %d", res.Quarantined, wantQuarantined[name])
			}
			rows, _ := db.Query(`SELECT entity, reason, count(*) FROM quarantine GROUP BY ALL ORDER BY ALL`)
			for rows.Next() {
				var e, r string
				var n int
				rows.Scan(&e, &r, &n)
				t.Logf("quarantined %s × %d: %s", e, n, r)
			}
			rows.Close()
		})
	}
}

// testVaultKey seals the tests' vaults.
var testVaultKey = func() deid.Key {
	k, err := deid.ParseKey("0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0")
	if err != nil {
		panic(err)
	}
	return k
}()
