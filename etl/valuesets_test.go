package etl

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The CMS122 and CMS165 value-set bundles load whole: every ValueSet in
// them, with every code of its expansion (counted here from the files).
func TestValueSetsFromECQMBundles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sharedData, "ecqm", "*", "valuesets-*.json"))
	if len(files) == 0 {
		t.Skip("../shared/data/ecqm absent: run from a checkout with ../shared beside it")
	}
	wantSets, wantCodes := 0, 0
	urls := map[string]bool{}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var bundle struct {
			Entry []struct {
				Resource struct {
					ResourceType, URL string
					Expansion         struct {
						Contains []json.RawMessage
					}
				}
			}
		}
		if err := json.Unmarshal(b, &bundle); err != nil {
			t.Fatal(err)
		}
		for _, e := range bundle.Entry {
			if e.Resource.ResourceType == "ValueSet" {
				wantSets++
				if !urls[e.Resource.URL] {
					urls[e.Resource.URL] = true
					wantCodes += len(e.Resource.Expansion.Contains)
				}
			}
		}
	}
	db := openTestDB(t)
	res, err := NewValueSetJob(ValueSetOptions{Paths: files, DB: db}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Read != int64(wantSets) || res.Loaded != int64(wantSets) || res.Quarantined != 0 {
		t.Fatalf("read %d loaded %d quarantined %d, want %d value sets all loaded", res.Read, res.Loaded, res.Quarantined, wantSets)
	}
	var sets, codes int
	db.QueryRow(`SELECT count(*), sum(codes) FROM value_sets`).Scan(&sets, &codes)
	if sets != len(urls) || codes != wantCodes {
		t.Fatalf("value_sets: %d sets with %d codes, want %d with %d", sets, codes, len(urls), wantCodes)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM value_set_codes`).Scan(&n)
	if n != wantCodes {
		t.Fatalf("value_set_codes has %d rows, want %d", n, wantCodes)
	}
	// Metrics select by OID: the VSAC "Diabetes" value set holds SNOMED 44054006.
	db.QueryRow(`SELECT count(*) FROM value_set_codes WHERE oid = '2.16.840.1.113883.3.464.1003.103.12.1001'
		AND system = 'http://snomed.info/sct' AND code = '44054006'`).Scan(&n)
	if n != 1 {
		t.Fatalf("Diabetes value set lookup by OID found %d rows", n)
	}
	// Loading again replaces, never duplicates.
	if _, err := NewValueSetJob(ValueSetOptions{Paths: files, DB: db}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	db.QueryRow(`SELECT count(*) FROM value_set_codes`).Scan(&n)
	if n != wantCodes {
		t.Fatalf("after reload value_set_codes has %d rows, want %d", n, wantCodes)
	}
}
