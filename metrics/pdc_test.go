package metrics

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/carelens/carelens/etl"
	"github.com/carelens/carelens/internal/store"
)

// The PQA Proportion of Days Covered measures (docs/pdc.md). Their three
// files call one table macro, pdc_rows, with different classes; the tests
// read its intermediate CTEs (claims, periods, pdc) by replacing its final
// SELECT.

// pdcMetrics are the PDC measures and the class value set each one selects.
var pdcMetrics = map[string]string{
	"pdc_diabetes": pdcValueSet + "pdc-diabetes",
	"pdc_ras":      pdcValueSet + "pdc-ras",
	"pdc_statins":  pdcValueSet + "pdc-statins",
}

const (
	pdcValueSet = "https://carelens.dev/fhir/ValueSet/"
	pdcRxNorm   = "http://www.nlm.nih.gov/research/umls/rxnorm"
	// pdcPQAVectors is PQA's claim-level shift vectors, in shared/ beside the
	// repository root.
	pdcPQAVectors = "../../shared/data/pdc/pqa_shift_vectors.csv"
)

// pdcStore returns an in-memory warehouse with the fixture files applied and
// the shipped value sets (metrics/valuesets) loaded by the ETL's ValueSet
// job, which also commits the snapshot the engine needs.
func pdcStore(t *testing.T, fixtures ...string) *store.DB {
	t.Helper()
	db := openStore(t, fixtures...)
	loadPDCValueSets(t, db)
	return db
}

// loadPDCValueSets loads metrics/valuesets into db as `carelens etl
// valuesets metrics/valuesets` does, and fails unless every value set loads.
func loadPDCValueSets(tb testing.TB, db *store.DB) {
	tb.Helper()
	job := etl.NewValueSetJob(etl.ValueSetOptions{
		Paths: []string{"valuesets"},
		DB:    db,
		Now:   func() time.Time { return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) },
	})
	res, err := job.Run(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	if res.Read == 0 || res.Loaded != res.Read || res.Quarantined != 0 {
		tb.Fatalf("value sets: read %d, loaded %d, quarantined %d", res.Read, res.Loaded, res.Quarantined)
	}
}

// pdcCallRE finds a PDC metric's call of the pdc_rows table macro and its
// two arguments.
var pdcCallRE = regexp.MustCompile(`(?m)^FROM pdc_rows\(('[^']*'), ('[^']*'|NULL)\)$`)

// pdcQuery returns metric name's PDC query, the pdc_rows table macro's
// body with the metric's arguments, with its final SELECT (the only line
// "SELECT" at the start of a line) replaced by final, which may read the
// query's CTEs; final may also begin with ", name AS (…)" to add CTEs.
func pdcQuery(tb testing.TB, name, final string) string {
	tb.Helper()
	b, err := fs.ReadFile(Builtin, name+".sql")
	if err != nil {
		tb.Fatal(err)
	}
	call := pdcCallRE.FindStringSubmatch(string(b))
	if call == nil {
		tb.Fatalf("%s.sql: no line FROM pdc_rows('…', '…' or NULL)", name)
	}
	m, err := fs.ReadFile(Builtin, MacroDir+"/pdc_rows.sql")
	if err != nil {
		tb.Fatal(err)
	}
	text := trimStatement(string(m))
	_, body, ok := strings.Cut(text, " AS TABLE\n")
	if !ok {
		tb.Fatal("macros/pdc_rows.sql: no AS TABLE line")
	}
	for param, arg := range map[string]string{"pdc_class_url": call[1], "pdc_excluded_drug_url": call[2]} {
		use := "CAST(" + param + " AS VARCHAR)"
		if strings.Count(body, param) != 1 || !strings.Contains(body, use) {
			tb.Fatalf("macros/pdc_rows.sql: want %s used once, as %s", param, use)
		}
		body = strings.Replace(body, use, "CAST("+arg+" AS VARCHAR)", 1)
	}
	i := strings.LastIndex(body, "\nSELECT\n")
	if i < 0 || strings.Count(body, "\nSELECT\n") != 1 {
		tb.Fatal("macros/pdc_rows.sql: want exactly one final SELECT on a line of its own")
	}
	return body[:i+1] + final
}

// pdcRows runs query on a connection holding reg's macros and returns
// each row's columns joined by spaces, in the query's order; dates print as
// YYYY-MM-DD, NULL as NULL.
func pdcRows(tb testing.TB, db DB, reg *Registry, query string, args ...any) []string {
	tb.Helper()
	var out []string
	err := withConn(context.Background(), db, reg, func(conn *sql.Conn) error {
		rows, err := conn.QueryContext(context.Background(), query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			parts := make([]string, len(vals))
			for i, v := range vals {
				switch v := v.(type) {
				case nil:
					parts[i] = "NULL"
				case time.Time:
					parts[i] = day(v) // DATE columns
				default:
					parts[i] = fmt.Sprint(v)
				}
			}
			out = append(out, strings.Join(parts, " "))
		}
		return rows.Err()
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// pdcPatients returns "covered/treatment" per "patient year" of metric name's
// denominator.
func pdcPatients(tb testing.TB, db DB, reg *Registry, name string) map[string]string {
	tb.Helper()
	got := map[string]string{}
	for _, r := range pdcRows(tb, db, reg, pdcQuery(tb, name,
		"SELECT patient_id, measure_year, covered_days || '/' || treatment_days FROM pdc")) {
		f := strings.Fields(r)
		got[f[0]+" "+f[1]] = f[2]
	}
	return got
}

// TestPDCMetricsCallPDCRows: each PDC metric is the pdc_rows table with its
// class value set, and the diabetes measure alone excludes insulin users.
func TestPDCMetricsCallPDCRows(t *testing.T) {
	for _, name := range pdcSortedKeys(pdcMetrics) {
		b, err := fs.ReadFile(Builtin, name+".sql")
		if err != nil {
			t.Fatal(err)
		}
		call := pdcCallRE.FindStringSubmatch(string(b))
		wantExcl := "NULL"
		if name == "pdc_diabetes" {
			wantExcl = "'" + pdcValueSet + "pdc-insulin'"
		}
		if call == nil || call[1] != "'"+pdcMetrics[name]+"'" || call[2] != wantExcl {
			t.Errorf("%s.sql calls pdc_rows%v, want ('%s', %s)", name, call, pdcMetrics[name], wantExcl)
		}
	}
}

func pdcSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// pdcGeneratorDrugs are the RxNorm codes carelens' generator dispenses
// (etl/synth/world.go, drugs) by class value set: the generated data must
// fall in the right class.
var pdcGeneratorDrugs = map[string][]string{
	"pdc-ras":      {"314076", "979492"},
	"pdc-diabetes": {"861007", "860975", "310490"},
	"pdc-statins":  {"617310", "312961", "859751"},
}

// TestPDCValueSets checks the shipped value sets as the warehouse holds them
// once loaded: each class value set holds the generator's codes; its codes
// and those of its ingredient value sets (<class>/<ingredient>) are the same
// codes, each in exactly one ingredient; the drug classes and insulin share
// no code; hospice and ESRD hold the codes the fixtures rely on.
func TestPDCValueSets(t *testing.T) {
	db := pdcStore(t)
	reg := loadBuiltin(t, db)
	sets := pdcRows(t, db, reg, `SELECT url, status, codes FROM value_sets ORDER BY url`)
	counts := pdcRows(t, db, reg, `SELECT url, 'active', count(*) FROM value_set_codes GROUP BY url ORDER BY url`)
	if !reflect.DeepEqual(sets, counts) {
		t.Errorf("value_sets (url status codes):\n%q\nvalue_set_codes:\n%q", sets, counts)
	}
	for _, class := range []string{"pdc-diabetes", "pdc-ras", "pdc-statins"} {
		url := pdcValueSet + class
		// Every class code in exactly one ingredient value set, and no
		// ingredient code outside the class.
		bad := pdcRows(t, db, reg, `
			WITH class AS (SELECT code FROM value_set_codes WHERE url = ?),
			groups AS (SELECT code, count(*) AS n FROM value_set_codes WHERE starts_with(url, ? || '/') GROUP BY code)
			SELECT 'class code ' || c.code || ' in ' || coalesce(g.n, 0) || ' ingredient sets'
			FROM class AS c LEFT JOIN groups AS g USING (code) WHERE coalesce(g.n, 0) <> 1
			UNION ALL
			SELECT 'ingredient code ' || g.code || ' not in the class'
			FROM groups AS g WHERE g.code NOT IN (SELECT code FROM class)`, url, url)
		if len(bad) > 0 {
			t.Errorf("%s: %q", class, bad)
		}
		n := pdcRows(t, db, reg, `SELECT count(*), count(*) FILTER (WHERE system <> ?) FROM value_set_codes WHERE url = ?`, pdcRxNorm, url)
		if n[0] == "0 0" || !strings.HasSuffix(n[0], " 0") {
			t.Errorf("%s: codes, codes not RxNorm = %s", class, n[0])
		}
		for _, code := range pdcGeneratorDrugs[class] {
			if got := pdcRows(t, db, reg, `SELECT count(*) FROM value_set_codes WHERE url = ? AND code = ?`, url, code); got[0] != "1" {
				t.Errorf("%s: the generator's code %s is missing", class, code)
			}
		}
	}
	shared := pdcRows(t, db, reg, `
		SELECT code || ' ' || string_agg(url, ' ' ORDER BY url) FROM value_set_codes
		WHERE url IN (?, ?, ?, ?) GROUP BY code HAVING count(*) > 1`,
		pdcValueSet+"pdc-diabetes", pdcValueSet+"pdc-ras", pdcValueSet+"pdc-statins", pdcValueSet+"pdc-insulin")
	if len(shared) > 0 {
		t.Errorf("codes in two drug classes: %q", shared)
	}
	for _, c := range []struct{ url, system, code string }{
		{"pdc-hospice", "http://snomed.info/sct", "305336008"}, // Admission to hospice (Synthea's hospice encounter type)
		{"pdc-hospice", "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "Q5003"},
		{"pdc-esrd", "http://hl7.org/fhir/sid/icd-10-cm", "N18.6"}, // End stage renal disease
		{"pdc-esrd", "http://hl7.org/fhir/sid/icd-10-cm", "Z99.2"}, // Dependence on renal dialysis
		{"pdc-esrd", "http://snomed.info/sct", "46177005"},         // End-stage renal disease
		{"pdc-esrd", "http://snomed.info/sct", "302497006"},        // Hemodialysis
		{"pdc-insulin", pdcRxNorm, "106892"},                       // Humulin 70/30, as in shared/data/synthea-120
		{"pdc-statins/rosuvastatin", pdcRxNorm, "859751"},          // rosuvastatin 20 MG
		{"pdc-diabetes/metformin", pdcRxNorm, "860975"},            // metformin ER 500 MG
		{"pdc-ras/losartan", pdcRxNorm, "979492"},                  // losartan 50 MG
		{"pdc-ras/valsartan", pdcRxNorm, "722126"},                 // amlodipine / valsartan: grouped by its RAS ingredient
	} {
		if got := pdcRows(t, db, reg, `SELECT count(*) FROM value_set_codes WHERE url = ? AND system = ? AND code = ?`,
			pdcValueSet+c.url, c.system, c.code); got[0] != "1" {
			t.Errorf("%s lacks %s|%s", c.url, c.system, c.code)
		}
	}
	// No CPT code ships (AMA licence), and sacubitril/valsartan is no RAS
	// class member.
	if got := pdcRows(t, db, reg, `SELECT count(*) FROM value_set_codes WHERE system = 'http://www.ama-assn.org/go/cpt'
		OR (url = ? AND code IN ('1656340', '1656349', '1656354'))`, pdcValueSet+"pdc-ras"); got[0] != "0" {
		t.Errorf("%s CPT or ARNI codes shipped", got[0])
	}
}

// TestPDCShiftVectors reproduces PQA's claim-level shift vectors claim by
// claim: for each scenario (a patient) and claim (a dispense), the first
// covered day of the shifted claim and its last covered day within the
// measurement year (PQA drops days after 31 December) equal PQA's
// expected_first_dose and expected_last_dose. metformin and glipizide map to
// the generator's codes 861007 and 310490.
func TestPDCShiftVectors(t *testing.T) {
	f, err := os.Open(pdcPQAVectors)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s absent: the PQA vectors live in shared/data/pdc beside the repository (../shared from its root)", pdcPQAVectors)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"scenario_id", "source", "claim_seq", "drug", "date_of_fill", "days_supply", "expected_first_dose", "expected_last_dose"}; !reflect.DeepEqual(recs[0], want) {
		t.Fatalf("columns %q, want %q", recs[0], want)
	}
	codes := map[string]string{"metformin": "861007", "glipizide": "310490"}
	db := pdcStore(t)
	want := map[string]string{}
	scenarios := map[string]bool{}
	for _, r := range recs[1:] {
		scenario, seq, drug, filled, days := r[0], r[2], r[3], r[4], r[5]
		code, ok := codes[drug]
		if !ok {
			t.Fatalf("%s claim %s: no code for drug %q", scenario, seq, drug)
		}
		if !scenarios[scenario] {
			scenarios[scenario] = true
			if _, err := db.Exec(`INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, source)
				VALUES (?, DATE '1950-01-01', 1950, false, 'female', 'ehr')`, scenario); err != nil {
				t.Fatal(err)
			}
		}
		key := scenario + "#" + seq
		if _, err := db.Exec(`INSERT INTO medication_dispenses (dispense_key, patient_id, rxnorm_code, status, dispensed_on, days_supply)
			VALUES (?, ?, ?, 'completed', CAST(? AS DATE), CAST(? AS INTEGER))`, key, scenario, code, filled, days); err != nil {
			t.Fatal(err)
		}
		want[key] = r[6] + ".." + r[7]
	}
	reg := loadBuiltin(t, db)
	rows := pdcRows(t, db, reg, pdcQuery(t, "pdc_diabetes", `
		SELECT c.dispense_key, strftime(c.first_day, '%Y-%m-%d') || '..' || strftime(least(c.last_day, pr.period_end), '%Y-%m-%d')
		FROM claims AS c
		JOIN periods AS pr ON pr.pnum = c.pnum AND pr.measure_year = year(c.dispensed_on)`))
	got := map[string]string{}
	for _, r := range rows {
		k, v, _ := strings.Cut(r, " ")
		got[k] = v
	}
	matched := 0
	for _, key := range pdcSortedKeys(want) {
		if got[key] == want[key] {
			matched++
			continue
		}
		t.Errorf("%s: covered %s, PQA expects %s", key, got[key], want[key])
	}
	if len(got) != len(want) {
		t.Errorf("%d claims computed, %d in the vectors", len(got), len(want))
	}
	t.Logf("PQA shift vectors: %d/%d claims of %d scenarios reproduced", matched, len(want), len(scenarios))
}

// TestPDCWorkedExample reproduces MEASURES.md's worked example (PQA, MY2018):
// one drug filled on 03-25, 07-05 and 09-25, 90 days each. The first fill
// covers 03-25..06-22 and the second 07-05..10-02; the third overlaps it and
// shifts to 10-03..12-31. Covered 90 + 90 + 90 = 270 of the 282 days from
// 03-25 to 12-31 (7 + 30 + 31 + 30 + 31 + 31 + 30 + 31 + 30 + 31):
// PDC = 0.9574, adherent.
func TestPDCWorkedExample(t *testing.T) {
	db := pdcStore(t)
	if _, err := db.Exec(`
		INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, clinic_id, source)
		VALUES ('example', DATE '1950-07-01', 1950, false, 'female', 'clinic-01', 'ehr');
		INSERT INTO medication_dispenses (dispense_key, patient_id, rxnorm_code, status, dispensed_on, days_supply) VALUES
			('fill-1', 'example', '861007', 'completed', '2018-03-25', 90),
			('fill-2', 'example', '861007', 'completed', '2018-07-05', 90),
			('fill-3', 'example', '861007', 'completed', '2018-09-25', 90)`); err != nil {
		t.Fatal(err)
	}
	reg := loadBuiltin(t, db)
	claims := pdcRows(t, db, reg, pdcQuery(t, "pdc_diabetes",
		"SELECT dispense_key, first_day, last_day FROM claims ORDER BY dispense_key"))
	if want := []string{"fill-1 2018-03-25 2018-06-22", "fill-2 2018-07-05 2018-10-02", "fill-3 2018-10-03 2018-12-31"}; !reflect.DeepEqual(claims, want) {
		t.Errorf("claims %q, want %q", claims, want)
	}
	got := pdcRows(t, db, reg, pdcQuery(t, "pdc_diabetes",
		"SELECT ipsd, period_end, covered_days, treatment_days, round(covered_days / treatment_days, 4) FROM pdc"))
	if want := []string{"2018-03-25 2018-12-31 270 282 0.9574"}; !reflect.DeepEqual(got, want) {
		t.Errorf("pdc (ipsd, end, covered, days, PDC) = %q, want %q", got, want)
	}
	e := NewEngine(db, reg, EngineOptions{})
	res, err := e.Compute(context.Background(), "pdc_diabetes", Query{From: date("2018-01-01"), To: date("2018-12-31")})
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsText(res.Rows); !reflect.DeepEqual(got, []string{"2018 1/1"}) {
		t.Errorf("pdc_diabetes 2018 = %q, want [2018 1/1] (adherent)", got)
	}
}

// pdcFixtureWant is what each hand-worked fixture (testdata/pdc_*/fixture.sql,
// whose header works the numbers out) must give. Patient suffixes are the
// same in the three fixtures; only insulin users (11) differ by measure.
type pdcFixtureWant struct {
	prefix   string
	patients map[string]string // patient suffix -> covered/treatment days in 2024
	rows     map[string][]string
}

func pdcFixtures() map[string]pdcFixtureWant {
	common := map[string]string{
		"01": "306/306", // IPSD 03-01, fully covered
		"02": "132/335", // carry-in 12 days + shifted 90 + 30
		"03": "135/366", // two drugs overlapping: union, no shift
		"04": "360/366", // two products of one drug: shifted
		"08": "360/366", // 18 on 31 December
		"12": "173/173", // died 06-30
		"13": "292/365", // exactly 0.80
		"14": "291/365", // just below
		"15": "360/366", // birth year only
		"16": "135/366", // 90+
	}
	withInsulinUser := map[string]string{"11": "360/366"}
	for k, v := range common {
		withInsulinUser[k] = v
	}
	others := map[string][]string{
		"total":    {"2024 7/11"},
		"clinic":   {"2024 clinic-a 3/5", "2024 clinic-b 4/6"},
		"age_band": {"2024 18-44 2/2", "2024 45-64 5/8", "2024 90+ 0/1"},
		"sex":      {"2024 female 4/5", "2024 male 3/6"},
		"payer":    {"2024 commercial 7/10", "2024 medicare 0/1"},
	}
	return map[string]pdcFixtureWant{
		"pdc_diabetes": {"dm", common, map[string][]string{
			"total":    {"2024 6/10"},
			"clinic":   {"2024 clinic-a 3/5", "2024 clinic-b 3/5"},
			"age_band": {"2024 18-44 2/2", "2024 45-64 4/7", "2024 90+ 0/1"},
			"sex":      {"2024 female 3/4", "2024 male 3/6"},
			"payer":    {"2024 commercial 6/9", "2024 medicare 0/1"},
		}},
		"pdc_ras":     {"ras", withInsulinUser, others},
		"pdc_statins": {"sta", withInsulinUser, others},
	}
}

// TestPDCFixtures computes each measure on its hand-worked fixture: per
// patient (covered and treatment days) and through the engine (totals and
// every dimension). Then all three fixtures share one warehouse: each
// measure sees only its own class.
func TestPDCFixtures(t *testing.T) {
	fixtures := pdcFixtures()
	all := []string{}
	for _, name := range pdcSortedKeys(fixtures) {
		all = append(all, "testdata/"+name+"/fixture.sql")
	}
	for _, shared := range []bool{false, true} {
		for _, name := range pdcSortedKeys(fixtures) {
			want := fixtures[name]
			files := []string{"testdata/" + name + "/fixture.sql"}
			label := name
			if shared {
				files, label = all, name+" among all fixtures"
			}
			t.Run(label, func(t *testing.T) {
				db := pdcStore(t, files...)
				reg := loadBuiltin(t, db)
				got := pdcPatients(t, db, reg, name)
				wantPatients := map[string]string{}
				for suffix, v := range want.patients {
					wantPatients[want.prefix+"-"+suffix+" 2024"] = v
				}
				if !reflect.DeepEqual(got, wantPatients) {
					t.Errorf("per patient (covered/treatment days):\n got %v\nwant %v", got, wantPatients)
				}
				e := NewEngine(db, reg, EngineOptions{})
				for _, by := range pdcSortedKeys(want.rows) {
					q := Query{From: date("2024-01-01"), To: date("2024-12-31")}
					if by != "total" {
						q.By = []string{by}
					}
					res, err := e.Compute(context.Background(), name, q)
					if err != nil {
						t.Fatal(err)
					}
					if got := rowsText(res.Rows); !reflect.DeepEqual(got, want.rows[by]) {
						t.Errorf("by %s: %q, want %q", by, got, want.rows[by])
					}
				}
			})
		}
	}
}

// TestPDCDefaultRange: rows are dated 31 December of their measurement year,
// so the engine's default range (the 12 months to the last full month of
// data not after today) is the last measurement year that has ended, and a
// range covering part of a year holds that year only if it holds its
// 31 December.
func TestPDCDefaultRange(t *testing.T) {
	db := pdcStore(t, "testdata/pdc_statins/fixture.sql")
	reg := loadBuiltin(t, db)
	e := NewEngine(db, reg, EngineOptions{Now: func() time.Time { return date("2025-06-15") }})
	ctx := context.Background()
	res, err := e.Compute(ctx, "pdc_statins", Query{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsText(res.Rows); day(res.From) != "2024-01-01" || day(res.To) != "2024-12-31" || !reflect.DeepEqual(got, []string{"2024 7/11"}) {
		t.Errorf("default range %s..%s rows %q, want 2024-01-01..2024-12-31 [2024 7/11]", day(res.From), day(res.To), got)
	}
	for _, tt := range []struct {
		from, to string
		want     []string
	}{
		{"2024-07-01", "2025-06-30", []string{"2024 7/11"}},
		{"2024-01-01", "2024-12-30", nil},
	} {
		res, err := e.Compute(ctx, "pdc_statins", Query{From: date(tt.from), To: date(tt.to)})
		if err != nil {
			t.Fatal(err)
		}
		if got := rowsText(res.Rows); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s..%s: %q, want %q", tt.from, tt.to, got, tt.want)
		}
	}
}

// TestPDCYearToDate: a year still under way ends at the data's horizon, the
// as-of day of the newest committed run that loaded EHR data. A CRM or
// value-set load (dated later or earlier) does not move it.
func TestPDCYearToDate(t *testing.T) {
	db := pdcStore(t, "testdata/pdc_diabetes/fixture.sql")
	reg := loadBuiltin(t, db)
	run := func(id, source, asOf string) {
		t.Helper()
		if _, err := db.Exec(`INSERT INTO etl_runs (run_id, snapshot_id, job, status, deid_profile, started_at, finished_at,
				duration_ms, rows_read, rows_loaded, rows_quarantined, data_as_of)
			VALUES (?, NULL, 'test', 'succeeded', 'limited', now(), now(), 0, 0, 0, 0, CAST(? AS TIMESTAMP))`, id, asOf); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO etl_run_counts VALUES (?, ?, 'x', 1, 1, 0, 0)`, id, source); err != nil {
			t.Fatal(err)
		}
	}
	run("crm-run", "crm", "2024-03-31 12:00:00")
	if got := pdcPatients(t, db, reg, "pdc_diabetes")["dm-01 2024"]; got != "306/306" {
		t.Errorf("after a CRM run: dm-01 %s, want the whole year 306/306", got)
	}
	run("ehr-run", "ehr", "2024-06-30 23:00:00")
	got := pdcPatients(t, db, reg, "pdc_diabetes")
	// Treatment periods end 06-30. dm-01: 03-01..06-30 = 122 days, covered
	// 90 + 32. dm-02: 02-01..06-30 = 151, covered 12 + 90 + 30 as before.
	// dm-03: 01-01..06-30 = 182, covered 135. dm-12 died 06-30: unchanged.
	// dm-13 and dm-14 have one fill by 06-30 (the other is 09-01): out.
	for k, want := range map[string]string{
		"dm-01 2024": "122/122", "dm-02 2024": "132/151", "dm-03 2024": "135/182",
		"dm-12 2024": "173/173", "dm-13 2024": "", "dm-14 2024": "",
	} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
}

// pdcSequentialShift is the PQA rule as a loop, the oracle for the set-based
// query: fills of one drug in order of fill date (ties by key); each starts
// on its fill date or the day after the previous supply ends, whichever is
// later. Days are day numbers.
func pdcSequentialShift(fills []pdcFill) map[string][2]int {
	out := map[string][2]int{}
	byDrug := map[string][]pdcFill{}
	for _, f := range fills {
		byDrug[f.patient+"|"+f.drug] = append(byDrug[f.patient+"|"+f.drug], f)
	}
	for _, fs := range byDrug {
		sort.Slice(fs, func(i, j int) bool {
			if fs[i].day != fs[j].day {
				return fs[i].day < fs[j].day
			}
			return fs[i].key < fs[j].key
		})
		prevEnd := -1 << 30
		for _, f := range fs {
			start := max(f.day, prevEnd+1)
			prevEnd = start + f.days - 1
			out[f.key] = [2]int{start, prevEnd}
		}
	}
	return out
}

type pdcFill struct {
	key, patient, code, drug string
	day, days                int // fill date as a day number, days' supply
}

// TestPDCMatchesSequentialRule checks the query against loops written from
// the spec on random histories: every claim's shifted dates against
// pdcSequentialShift, and every patient-year's eligibility, covered days (a set
// of days, clipped to [IPSD, period end]) and treatment days against a
// day-by-day count. The histories mix early refills, same-day fills, two
// products of one drug, other drugs, fills carried in from the years before,
// deaths, and fills after the data's horizon (2025-03-20: 2025 is measured
// to date).
func TestPDCMatchesSequentialRule(t *testing.T) {
	db := pdcStore(t)
	rng := rand.New(rand.NewPCG(2024, 5))
	epoch := date("1970-01-01")
	dayNum := func(s string) int { return int(date(s).Sub(epoch).Hours() / 24) }
	dayStr := func(n int) string { return day(epoch.AddDate(0, 0, n)) }
	// code -> drug (ingredient): atorvastatin 20 and 40 are one drug.
	codes := []struct{ code, drug string }{
		{"617310", "atorvastatin"}, {"617311", "atorvastatin"}, {"312961", "simvastatin"}, {"859751", "rosuvastatin"},
	}
	supplies := []int{1, 7, 28, 30, 30, 30, 60, 90, 90, 100}
	var fills []pdcFill
	deaths := map[string]int{}
	var sqlPatients, sqlFills []string
	const patients = 600
	for p := 0; p < patients; p++ {
		id := fmt.Sprintf("r%03d", p)
		death := "NULL"
		if rng.IntN(10) == 0 {
			deaths[id] = dayNum("2024-01-01") + rng.IntN(366)
			death = "DATE '" + dayStr(deaths[id]) + "'"
		}
		sqlPatients = append(sqlPatients, fmt.Sprintf("('%s', DATE '1960-01-01', 1960, false, 'male', %s, 'ehr')", id, death))
		n := 1 + rng.IntN(14)
		d := dayNum("2022-10-01") + rng.IntN(700)
		for k := 0; k < n; k++ {
			c := codes[rng.IntN(len(codes))]
			if k > 0 && rng.IntN(3) > 0 {
				c = codes[0] // mostly one drug, so that fills overlap and shift
			}
			f := pdcFill{key: fmt.Sprintf("%s-%02d", id, k), patient: id, code: c.code, drug: c.drug, day: d, days: supplies[rng.IntN(len(supplies))]}
			fills = append(fills, f)
			sqlFills = append(sqlFills, fmt.Sprintf("('%s', '%s', '%s', 'completed', DATE '%s', %d)", f.key, id, f.code, dayStr(f.day), f.days))
			switch rng.IntN(6) {
			case 0: // same day again
			case 1: // a gap
				d += f.days + rng.IntN(60)
			default: // early or on time
				d += rng.IntN(f.days + 5)
			}
		}
	}
	if _, err := db.Exec(`INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, deceased_date, source) VALUES ` + strings.Join(sqlPatients, ",")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO medication_dispenses (dispense_key, patient_id, rxnorm_code, status, dispensed_on, days_supply) VALUES ` + strings.Join(sqlFills, ",")); err != nil {
		t.Fatal(err)
	}
	horizon := dayNum("2025-03-20")
	if _, err := db.Exec(`INSERT INTO etl_runs (run_id, snapshot_id, job, status, deid_profile, started_at, finished_at,
			duration_ms, rows_read, rows_loaded, rows_quarantined, data_as_of)
		VALUES ('ehr-run', NULL, 'test', 'succeeded', 'limited', now(), now(), 0, 0, 0, 0, TIMESTAMP '2025-03-20 12:00:00');
		INSERT INTO etl_run_counts VALUES ('ehr-run', 'ehr', 'MedicationDispense', 1, 1, 0, 0)`); err != nil {
		t.Fatal(err)
	}
	reg := loadBuiltin(t, db)

	// Claims: the window-function shift against the loop.
	want := pdcSequentialShift(fills)
	got := pdcRows(t, db, reg, pdcQuery(t, "pdc_statins", "SELECT dispense_key, first_day, last_day FROM claims"))
	if len(got) != len(want) {
		t.Errorf("%d claims, want %d", len(got), len(want))
	}
	bad := 0
	for _, r := range got {
		f := strings.Fields(r)
		w := want[f[0]]
		if f[1] != dayStr(w[0]) || f[2] != dayStr(w[1]) {
			if bad++; bad <= 10 {
				t.Errorf("claim %s: %s..%s, the sequential rule gives %s..%s", f[0], f[1], f[2], dayStr(w[0]), dayStr(w[1]))
			}
		}
	}

	// Patient-years: eligibility and PDC by counting days.
	wantPDC := map[string]string{}
	byPatient := map[string][]pdcFill{}
	for _, f := range fills {
		byPatient[f.patient] = append(byPatient[f.patient], f)
	}
	for id, fs := range byPatient {
		years := map[int]bool{}
		for _, f := range fs {
			years[epoch.AddDate(0, 0, f.day).Year()] = true
		}
		for year := range years {
			start, end := dayNum(fmt.Sprintf("%d-01-01", year)), dayNum(fmt.Sprintf("%d-12-31", year))
			if dd, ok := deaths[id]; ok && dd < end {
				end = dd
			}
			end = min(end, horizon)
			ipsd, days := 1<<30, map[int]bool{}
			for _, f := range fs {
				if f.day >= start && f.day <= end {
					ipsd = min(ipsd, f.day)
					days[f.day] = true
				}
			}
			if len(days) < 2 {
				continue
			}
			covered := map[int]bool{}
			for _, f := range fs {
				s := want[f.key]
				for d := max(s[0], ipsd); d <= min(s[1], end); d++ {
					covered[d] = true
				}
			}
			wantPDC[fmt.Sprintf("%s %d", id, year)] = fmt.Sprintf("%d/%d", len(covered), end-ipsd+1)
		}
	}
	gotPDC := pdcPatients(t, db, reg, "pdc_statins")
	if len(gotPDC) != len(wantPDC) {
		t.Errorf("%d patient-years in the denominator, want %d", len(gotPDC), len(wantPDC))
	}
	mismatch := 0
	for k, w := range wantPDC {
		if gotPDC[k] != w {
			if mismatch++; mismatch <= 10 {
				t.Errorf("%s: covered/treatment %s, counting days gives %s", k, gotPDC[k], w)
			}
		}
	}
	shiftedClaims := 0
	for _, f := range fills {
		if want[f.key][0] > f.day {
			shiftedClaims++
		}
	}
	if shiftedClaims < len(fills)/4 {
		t.Errorf("only %d of %d claims shift: the histories do not exercise the rule", shiftedClaims, len(fills))
	}
	t.Logf("%d claims (%d of them shifted) and %d patient-years of %d random patients agree with the loops",
		len(got)-bad, shiftedClaims, len(wantPDC)-mismatch, patients)
}
