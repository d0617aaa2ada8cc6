package metrics

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/carelens/carelens/etl"
	"github.com/carelens/carelens/internal/store"
)

// cms122Deck holds the official CMS122 materials (the measure's CQL and
// Library, its value-set bundle), kept beside the checkout in ../shared
// (data/ecqm/SOURCE.md). No test deck of patients ships with them: the
// populations are checked on the hand-made population of
// testdata/cms122_glycemic_poor_control/fixture.sql.
var cms122Deck = filepath.Join("..", "..", "shared", "data", "ecqm", "CMS122")

// cms122Metrics are the metrics built on the CMS122 populations.
var cms122Metrics = []string{"cms122_glycemic_poor_control", "gsd_glycemic_controlled"}

// cms122SupplementalValueSets are value sets of the bundle that only the
// supplemental data elements use (SDE Payer, Race, Ethnicity, Sex), not the
// populations.
var cms122SupplementalValueSets = map[string]string{
	"http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.114222.4.11.3591": "Payer Type",
	"http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.114222.4.11.836":  "Race",
	"http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.114222.4.11.837":  "Ethnicity",
	"http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113762.1.4.1":     "ONC Administrative Sex",
}

// cms122Bundle returns the path of the official value-set bundle, or skips
// the test when ../shared is not beside the checkout.
func cms122Bundle(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(cms122Deck); err != nil {
		t.Skipf("CMS122 materials absent (%v): the official value-set bundle lives in ../shared/data/ecqm/CMS122 beside the checkout", err)
	}
	paths, _ := filepath.Glob(filepath.Join(cms122Deck, "valuesets-*.json"))
	if len(paths) != 1 {
		t.Fatalf("want one valuesets-*.json in %s, found %d", cms122Deck, len(paths))
	}
	return paths[0]
}

// loadValueSets loads FHIR ValueSets through the ETL's job, as
// `carelens etl valuesets` does.
func loadValueSets(t *testing.T, db *store.DB, paths ...string) {
	t.Helper()
	_, err := etl.NewValueSetJob(etl.ValueSetOptions{
		Paths: paths, DB: db,
		Now: func() time.Time { return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) },
	}).Run(context.Background())
	if err != nil {
		t.Fatalf("load value sets %v: %v", paths, err)
	}
}

var (
	vsacURLRE   = regexp.MustCompile(`http://cts\.nlm\.nih\.gov/fhir/ValueSet/[0-9.]+`)
	sqlCallRE   = regexp.MustCompile(`\b([a-z_][a-z0-9_]*)\s*\(`)
	sqlCommentR = regexp.MustCompile(`--[^\n]*`)
)

// cms122ValueSetRefs returns every VSAC value-set URL the CMS122 metrics'
// SQL uses, directly or through the macros it calls (transitively), each
// with the files naming it. Comments are not read.
func cms122ValueSetRefs(t *testing.T) map[string][]string {
	t.Helper()
	macroFiles, err := fs.Glob(Builtin, MacroDir+"/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	macros := map[string]string{}
	for _, f := range macroFiles {
		macros[strings.TrimSuffix(path.Base(f), ".sql")] = f
	}
	var queue []string
	for _, m := range cms122Metrics {
		queue = append(queue, m+".sql")
	}
	seen := map[string]bool{}
	refs := map[string][]string{}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		if seen[f] {
			continue
		}
		seen[f] = true
		b, err := fs.ReadFile(Builtin, f)
		if err != nil {
			t.Fatal(err)
		}
		code := sqlCommentR.ReplaceAllString(string(b), "")
		for _, u := range vsacURLRE.FindAllString(code, -1) {
			if len(refs[u]) == 0 || refs[u][len(refs[u])-1] != f {
				refs[u] = append(refs[u], f)
			}
		}
		for _, m := range sqlCallRE.FindAllStringSubmatch(code, -1) {
			if mf, ok := macros[m[1]]; ok && !seen[mf] {
				queue = append(queue, mf)
			}
		}
	}
	if !seen[MacroDir+"/cms122_initial_population.sql"] || !seen[MacroDir+"/ecqm_hospice.sql"] {
		t.Fatalf("macro closure misses the CMS122 macros: %v", seen)
	}
	return refs
}

// fhirValueSetCodes reads the expansion codes of every ValueSet in a FHIR
// Bundle (or a single ValueSet) file: URL → "system|code" set.
func fhirValueSetCodes(t *testing.T, file string) map[string]map[string]bool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	type valueSet struct {
		ResourceType string `json:"resourceType"`
		URL          string `json:"url"`
		Expansion    struct {
			Contains []struct{ System, Code string } `json:"contains"`
		} `json:"expansion"`
	}
	var doc struct {
		valueSet
		Entry []struct {
			Resource valueSet `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	sets := []valueSet{doc.valueSet}
	if doc.ResourceType == "Bundle" {
		sets = sets[:0]
		for _, e := range doc.Entry {
			sets = append(sets, e.Resource)
		}
	}
	out := map[string]map[string]bool{}
	for _, vs := range sets {
		if vs.ResourceType != "ValueSet" {
			continue
		}
		codes := map[string]bool{}
		for _, c := range vs.Expansion.Contains {
			codes[c.System+"|"+c.Code] = true
		}
		out[vs.URL] = codes
	}
	return out
}

// TestCMS122ValueSets loads the official CMS122 value-set bundle through the
// ETL and checks that every value set the CMS122 metrics and their macros
// name by URL is in it with codes (so no SQL names a wrong OID), that every
// value set the measure's populations use is named by the SQL, and that the
// fixtures' hand-made value sets are subsets of the official ones of the
// same URL.
func TestCMS122ValueSets(t *testing.T) {
	bundle := cms122Bundle(t)
	db := openStore(t)
	loadValueSets(t, db, bundle)

	loaded := map[string]int{}
	rows, err := db.QueryContext(context.Background(), `SELECT url, codes FROM value_sets`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var url string
		var n int
		if err := rows.Scan(&url, &n); err != nil {
			t.Fatal(err)
		}
		loaded[url] = n
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}

	refs := cms122ValueSetRefs(t)
	var urls []string
	for u := range refs {
		urls = append(urls, u)
	}
	sort.Strings(urls)
	for _, u := range urls {
		switch n, ok := loaded[u]; {
		case !ok:
			t.Errorf("%s (named in %s) is not in the CMS122 value-set bundle", u, strings.Join(refs[u], ", "))
		case n == 0:
			t.Errorf("%s (named in %s) has no codes in the CMS122 value-set bundle", u, strings.Join(refs[u], ", "))
		}
	}
	for u := range loaded {
		if _, sde := cms122SupplementalValueSets[u]; sde {
			continue
		}
		if _, ok := refs[u]; !ok {
			t.Errorf("the CMS122 bundle's value set %s is named by no CMS122 SQL: a population criterion is missing", u)
		}
	}
	t.Logf("CMS122: the SQL names %d value sets; the bundle holds %d", len(refs), len(loaded))

	official := fhirValueSetCodes(t, bundle)
	for _, m := range cms122Metrics {
		files, _ := filepath.Glob(filepath.Join("testdata", m, "valuesets", "*.json"))
		if len(files) == 0 {
			t.Errorf("testdata/%s/valuesets holds no value sets", m)
		}
		for _, f := range files {
			for u, codes := range fhirValueSetCodes(t, f) {
				want, ok := official[u]
				if !ok {
					t.Errorf("%s: value set %s is not in the official bundle", f, u)
					continue
				}
				for c := range codes {
					if !want[c] {
						t.Errorf("%s: %s is not a member of the official %s", f, c, u)
					}
				}
			}
		}
	}
}

// cms122Member is one patient-year as the CMS122 metrics report it.
type cms122Member struct {
	excluded bool    // denominator_exclusion
	poor     bool    // cms122_glycemic_poor_control numerator (0 when excluded)
	ctrl     bool    // gsd_glycemic_controlled numerator (0 when excluded)
	value    float64 // the deciding reading in %; noValue when none
}

const noValue = -1

// cms122Expected are the populations of the hand-made population
// (testdata/cms122_glycemic_poor_control/fixture.sql), worked out by hand
// from the CQL, DiabetesGlycemicStatusAssessmentGreaterThan9PercentFHIR
// 0.1.002, for the year ending on the key's date. A patient-year that is not
// listed is not in the initial population: there is no row for it.
// "Reading" is an HbA1c (LOINC 4548-4) final, category laboratory, in %,
// unless said otherwise. Poor = CMS122 numerator (most recent > 9, without
// result, or none); ctrl = GSD (most recent < 8).
var cms122Expected = map[string]cms122Member{
	// Most recent result. 9.5 on 10-01 follows 7.0: > 9.
	"2025-12-31/c122-01": {poor: true, value: 9.5},
	// 7.2 on 11-15 follows 9.8: neither > 9 nor ≥ 8.
	"2025-12-31/c122-02": {ctrl: true, value: 7.2},
	// Exactly 9.0: "> 9 '%'" is false; not < 8 either.
	"2025-12-31/c122-03": {value: 9.0},
	// No HbA1c or GMI: "Has No Record Of Glycemic Status Assessment".
	"2025-12-31/c122-04": {poor: true, value: noValue},
	// The most recent (09-01) is final without a value: "Without Result".
	"2025-12-31/c122-05": {poor: true, value: noValue},
	// GMI (LOINC 97506-0) 8.4 on 08-01 is more recent than HbA1c 9.6.
	"2025-12-31/c122-06": {value: 8.4},
	// GMI 9.3 at 23:00 on 12-31, the period's last day: > 9.
	"2025-12-31/c122-07": {poor: true, value: 9.3},
	// Cancelled (10-01) and entered-in-error (11-01) are no assessments
	// (isLaboratoryTestPerformed): the final 6.8 of 05-01 decides.
	"2025-12-31/c122-08": {ctrl: true, value: 6.8},
	// Only a cancelled HbA1c: not performed, so no record.
	"2025-12-31/c122-09": {poor: true, value: noValue},
	// A preliminary 6.0 (10-01) is no assessment: the final 9.4 decides.
	"2025-12-31/c122-10": {poor: true, value: 9.4},
	// 9.6 and 8.9 on the most recent day: the lowest, 8.9.
	"2025-12-31/c122-11": {value: 8.9},
	// 7.5 and a reading without a value on the most recent day: nulls sort
	// first, so the day's reading has no result.
	"2025-12-31/c122-12": {poor: true, value: noValue},
	// 2024-12-31, category exam, and 2026-01-01 readings: none counts in
	// 2025, so no record.
	"2025-12-31/c122-13": {poor: true, value: noValue},
	// 17856-6 (HbA1c by HPLC, a value-set member) 10.2; glucose 2345-7 is
	// not an assessment.
	"2025-12-31/c122-14": {poor: true, value: 10.2},
	// 9.1 on 11-01; a 7.0 whose Period ends 2026-01-02 (latest() in 2026)
	// does not count.
	"2025-12-31/c122-15": {poor: true, value: 9.1},
	// 18 on 2025-12-31 (born 2007-12-31): in. 8.0 is not < 8.
	"2025-12-31/c122-16": {value: 8.0},
	// c122-17 is 17 (born 2008-01-01): not in the IP.
	// 75 (born 1950-12-31): in; 7.9 < 8.
	"2025-12-31/c122-18": {ctrl: true, value: 7.9},
	// c122-19 is 76; c122-20's diabetes abated 2024-12-31: not in the IP.
	// Diabetes from 2025-12-31, the last day, overlaps; no reading.
	"2025-12-31/c122-21": {poor: true, value: noValue},
	// c122-22's diabetes starts 2026-01-05: not in the IP.
	// Diabetes coded ICD-10-CM E11.65 alone; 6.5.
	"2025-12-31/c122-23": {ctrl: true, value: 6.5},
	// c122-24's resolved diabetes has no abatement: its end is unknown,
	// it overlaps nothing, not in the IP.
	// Telephone visit; 10.0.
	"2025-12-31/c122-25": {poor: true, value: 10.0},
	// Annual wellness visit; 7.1.
	"2025-12-31/c122-26": {ctrl: true, value: 7.1},
	// Home healthcare visit; 7.3.
	"2025-12-31/c122-27": {ctrl: true, value: 7.3},
	// Virtual encounter; no reading.
	"2025-12-31/c122-28": {poor: true, value: noValue},
	// Preventive care, established, 18 and up; 7.7.
	"2025-12-31/c122-29": {ctrl: true, value: 7.7},
	// Preventive care, initial, 18 and up; 9.9.
	"2025-12-31/c122-30": {poor: true, value: 9.9},
	// c122-31 (check-up, in no visit value set), c122-32 (cancelled office
	// visit), c122-33 (office visit from 2024-12-31 23:00 to 2025-01-01
	// 00:30, within neither year), c122-34 (visit without an end): no
	// qualifying encounter, not in the IP.
	// Hospice encounter: excluded (its 10.0 would be > 9).
	"2025-12-31/c122-35": {excluded: true, value: 10.0},
	// Palliative care diagnosis Z51.5: excluded.
	"2025-12-31/c122-36": {excluded: true, value: 6.0},
	// 70, frailty and advanced illness from the year before: excluded.
	"2025-12-31/c122-37": {excluded: true, value: noValue},
	// 70, frailty alone (no 81+ branch in CMS122): not excluded; 8.5.
	"2025-12-31/c122-38": {value: 8.5},
	// 65, frailty and advanced illness: under 66, not excluded; 9.2.
	"2025-12-31/c122-39": {poor: true, value: 9.2},
	// 70, frailty and an active dementia medication order: excluded.
	"2025-12-31/c122-40": {excluded: true, value: 7.0},
	// 70, frailty, advanced illness from 2023-12-31 (before 2024-01-01):
	// not excluded; no reading.
	"2025-12-31/c122-41": {poor: true, value: noValue},
	// 66, last housing status "lives in a nursing home": excluded.
	"2025-12-31/c122-42": {excluded: true, value: 9.5},
	// 65 with the same assessment: not excluded; 6.9.
	"2025-12-31/c122-43": {ctrl: true, value: 6.9},
	// 70, nursing home on 02-01 but "lives alone" on 08-01, the last:
	// not excluded; 8.2.
	"2025-12-31/c122-44": {value: 8.2},
	// Visits in 2024, 2025 and 2026: 2024 with 9.2, 2025 with 7.0; 2026 is
	// not over by the horizon (2025-12-31 23:59:59), so no row.
	"2024-12-31/c122-45": {poor: true, value: 9.2},
	"2025-12-31/c122-45": {ctrl: true, value: 7.0},
	// c122-46 is 90+ with no birth date: no age, not in the IP.
	// Every dimension unknown; 8.8.
	"2025-12-31/c122-47": {value: 8.8},
}

// TestCMS122Populations evaluates the shipped CMS122 metrics on the
// hand-made population (testdata/cms122_glycemic_poor_control/fixture.sql)
// and checks every patient-year against cms122Expected: in the initial
// population or not, excluded or not, each numerator and the value. It runs
// with the fixture's own value sets and, when ../shared is there, with the
// official CMS122 value-set bundle, which must give the same populations.
func TestCMS122Populations(t *testing.T) {
	fixture := filepath.Join("testdata", "cms122_glycemic_poor_control", "fixture.sql")
	for _, tc := range []struct {
		name      string
		valueSets func(t *testing.T) []string
	}{
		{"fixture value sets", func(t *testing.T) []string {
			return []string{filepath.Join("testdata", "cms122_glycemic_poor_control", "valuesets")}
		}},
		{"official value sets", func(t *testing.T) []string { return []string{cms122Bundle(t)} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs := tc.valueSets(t)
			db := openStore(t, fixture)
			loadValueSets(t, db, vs...)
			reg := loadBuiltin(t, db)
			got := map[string]cms122Member{}
			ip := map[string]bool{}
			for _, name := range cms122Metrics {
				for key, r := range cms122Rows(t, db, reg, name) {
					if r.ip != 1 || r.excluded != 1-r.den || (r.excluded == 1 && r.num != 0) {
						t.Errorf("%s %s: initial_population %d, denominator_exclusion %d, denominator %d, numerator %d are inconsistent",
							name, key, r.ip, r.excluded, r.den, r.num)
					}
					m := got[key]
					m.excluded = r.excluded == 1
					m.value = r.value
					if name == "cms122_glycemic_poor_control" {
						m.poor = r.num == 1
						ip[key] = true
					} else {
						m.ctrl = r.num == 1
						if !ip[key] {
							t.Errorf("%s %s: a row the CMS122 metric does not have: the denominators differ", name, key)
						}
					}
					got[key] = m
				}
			}
			var keys []string
			for k := range cms122Expected {
				keys = append(keys, k)
			}
			for k := range got {
				if _, ok := cms122Expected[k]; !ok {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			var fails []string
			for _, k := range keys {
				want, wok := cms122Expected[k]
				g, gok := got[k]
				switch {
				case !gok:
					fails = append(fails, fmt.Sprintf("%s: not in the initial population, want %s", k, want))
				case !wok:
					fails = append(fails, fmt.Sprintf("%s: in the initial population (%s), want no row", k, g))
				case g != want:
					fails = append(fails, fmt.Sprintf("%s: got %s, want %s", k, g, want))
				}
			}
			if len(fails) > 0 {
				t.Errorf("%d of %d patient-years differ:\n  %s", len(fails), len(keys), strings.Join(fails, "\n  "))
			}
		})
	}
}

func (m cms122Member) String() string {
	v := "none"
	if m.value != noValue {
		v = fmt.Sprint(m.value)
	}
	return fmt.Sprintf("excluded=%d poor=%d controlled=%d value=%s", b2i(m.excluded), b2i(m.poor), b2i(m.ctrl), v)
}

type cms122Row struct {
	ip, excluded, num, den int
	value                  float64
}

// cms122Rows runs metric name's query and returns its rows by
// "period_date/patient_id".
func cms122Rows(t *testing.T, db DB, reg *Registry, name string) map[string]cms122Row {
	t.Helper()
	ctx := context.Background()
	d, ok := reg.Get(name)
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	out := map[string]cms122Row{}
	err := withConn(ctx, db, reg, func(conn *sql.Conn) error {
		rows, err := conn.QueryContext(ctx, `SELECT strftime(period_date, '%Y-%m-%d') || '/' || patient_id,
			CAST(initial_population AS INTEGER), CAST(denominator_exclusion AS INTEGER),
			CAST(numerator AS INTEGER), CAST(denominator AS INTEGER), CAST(value AS DOUBLE)
			FROM (`+d.SQL+"\n) AS m")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var key string
			var r cms122Row
			var v sql.NullFloat64
			if err := rows.Scan(&key, &r.ip, &r.excluded, &r.num, &r.den, &v); err != nil {
				return err
			}
			r.value = noValue
			if v.Valid {
				r.value = v.Float64
			}
			if _, dup := out[key]; dup {
				return fmt.Errorf("%s: two rows for %s", name, key)
			}
			out[key] = r
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}
