package metrics

import (
	"context"
	"io/fs"
	"os"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadBuiltin(t *testing.T) {
	db := openStore(t)
	reg := loadBuiltin(t, db)
	var names []string
	for _, d := range reg.List() {
		names = append(names, d.Name)
	}
	// Every shipped file is a metric, named after it, listed by name.
	files, err := fs.Glob(Builtin, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var wantNames []string
	for _, f := range files {
		wantNames = append(wantNames, strings.TrimSuffix(f, ".sql"))
	}
	sort.Strings(wantNames)
	if !reflect.DeepEqual(names, wantNames) {
		t.Fatalf("metrics = %v, want %v", names, wantNames)
	}
	d, _ := reg.Get("no_show_rate")
	target := 0.10
	want := Definition{
		Name:        "no_show_rate",
		Title:       "Appointment no-show rate",
		Description: "Share of appointments due to happen in the period (booked, arrived, checked-in, fulfilled or noshow) that ended as a no-show.",
		Unit:        "ratio",
		Kind:        KindRatio,
		Direction:   LowerIsBetter,
		Target:      &target,
		Grain:       GrainMonth,
		Dimensions:  []string{"clinic", "age_band", "sex", "payer"},
		Spec:        `MEASURES.md "Appointments"; FHIR R4 AppointmentStatus`,
		Version:     1,
		Scale:       1,
		File:        "no_show_rate.sql",
	}
	got := *d
	got.SQL = ""
	if len(got.Hash) != 64 {
		t.Errorf("hash %q", got.Hash)
	}
	got.Hash = ""
	if !reflect.DeepEqual(got, want) {
		t.Errorf("definition =\n%+v\nwant\n%+v", got, want)
	}
	if *d.Target != target {
		t.Errorf("target = %v", *d.Target)
	}
	var macros []string
	for _, m := range reg.Macros() {
		macros = append(macros, m.Name)
	}
	// Every shipped macro is installed once, and each after the macros it
	// calls: age_band calls age_years, so age_years must be created first
	// although it sorts after it.
	macroFiles, err := fs.Glob(Builtin, MacroDir+"/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var wantMacros []string
	for _, f := range macroFiles {
		wantMacros = append(wantMacros, strings.TrimSuffix(path.Base(f), ".sql"))
	}
	installed := append([]string(nil), macros...)
	sort.Strings(installed)
	if !reflect.DeepEqual(installed, wantMacros) {
		t.Errorf("macros installed = %v, want %v", installed, wantMacros)
	}
	pos := map[string]int{}
	for i, m := range macros {
		pos[m] = i
	}
	if pos["age_years"] > pos["age_band"] {
		t.Errorf("macro install order = %v: age_band before age_years, which it calls", macros)
	}
	for _, m := range reg.Macros() {
		for _, callee := range macros {
			if callee != m.Name && regexp.MustCompile(`\b`+callee+`\s*\(`).MatchString(m.SQL) && pos[callee] > pos[m.Name] {
				t.Errorf("macro %s is installed before %s, which it calls", m.Name, callee)
			}
		}
	}
}

// TestLoadBad loads each testdata/bad file on its own (with the shipped
// macros) and expects exactly the listed problems.
func TestLoadBad(t *testing.T) {
	tests := map[string][]string{
		"unknown_key.sql": {
			`unknown_key.sql:4: unknown header key "colour"`,
		},
		"missing_keys.sql": {
			`missing_keys.sql:1: missing header key "title"`,
			`missing_keys.sql:1: missing header key "version"`,
		},
		"name_mismatch.sql": {
			`name_mismatch.sql:1: name "other_name" does not match the file name "name_mismatch"`,
		},
		"bad_values.sql": {
			`bad_values.sql:4: unit "percent" is not one of ratio, count, days, score, per_1000`,
			`bad_values.sql:5: kind "percentage" is not one of ratio, count, mean, score`,
			`bad_values.sql:6: direction "down" is not one of higher_is_better, lower_is_better`,
			`bad_values.sql:8: grain "week" is not one of month, quarter, year, rolling12, measurement_year, none`,
			`bad_values.sql:10: version "1.5" is not a positive integer`,
			`bad_values.sql:7: target "high" is not a number`,
			`bad_values.sql:11: membership "some" is not full or numerator`,
		},
		"target_out_of_range.sql": {
			`target_out_of_range.sql:7: target 1.5 is outside 0..1, the range of a ratio`,
		},
		"dimension_not_column.sql": {
			`dimension_not_column.sql:9: dimension "region" is not a column of the query`,
		},
		"bad_dimension_names.sql": {
			`bad_dimension_names.sql:9: dimension "Clinic": use lower-case letters, digits and _`,
			`bad_dimension_names.sql:9: dimension "period": the name is reserved`,
			`bad_dimension_names.sql:9: dimension "clinic" is listed twice`,
		},
		"missing_columns.sql": {
			`missing_columns.sql:11: the query has no patient_id column`,
			`missing_columns.sql:11: the query has no numerator column`,
		},
		"wrong_types.sql": {
			`wrong_types.sql:11: column period_date is TIMESTAMP, want DATE`,
			`wrong_types.sql:11: column denominator is VARCHAR, want a number`,
		},
		"extra_column.sql": {
			`extra_column.sql:11: column "service_type" is neither a declared dimension nor one of period_date, patient_id, numerator, denominator`,
		},
		"unknown_column.sql": {
			`unknown_column.sql:15: Binder Error: Table "a" does not have a column named "statuz"`,
		},
		"syntax_error.sql": {
			`syntax_error.sql:18: syntax error at or near "AND"`,
		},
		"two_statements.sql": {
			`two_statements.sql:1: the query must be a single SELECT statement, found 2 statements`,
		},
		"not_select.sql": {
			`not_select.sql:1: the query must be a single SELECT statement`,
		},
		"duplicate_key.sql": {
			`duplicate_key.sql:9: header key "unit" repeats line 4`,
		},
		"empty_query.sql": {
			`empty_query.sql:11: no query after the header`,
		},
		"duplicate_column.sql": {
			`duplicate_column.sql:11: column "patient_id" appears twice`,
		},
		"unknown_macro.sql": {
			`unknown_macro.sql:14: Catalog Error: Scalar Function with name age_bnd does not exist!`,
		},
	}
	files, err := fs.Glob(os.DirFS("testdata/bad"), "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := tests[f]; !ok {
			t.Errorf("testdata/bad/%s has no expected errors in this table", f)
		}
	}
	db := openStore(t)
	ctx := context.Background()
	for file, want := range tests {
		t.Run(file, func(t *testing.T) {
			text, err := os.ReadFile(path.Join("testdata/bad", file))
			if err != nil {
				t.Fatal(err)
			}
			fsys := builtinMacros(t)
			fsys[file] = &fstest.MapFile{Data: text}
			reg, errs := Load(ctx, fsys, db)
			if reg != nil {
				t.Error("Load returned a registry despite problems")
			}
			got := make([]string, len(errs))
			for i, e := range errs {
				got[i] = e.Error()
			}
			sort.Strings(got)
			want = append([]string(nil), want...)
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("errors:\n  %q\nwant:\n  %q", got, want)
			}
		})
	}
	// The two-statement file must not have run its second statement, nor
	// anything else written to the warehouse.
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM appointments`).Scan(&n); err != nil {
		t.Fatalf("appointments table damaged: %v", err)
	}
}

func TestLoadBadMacros(t *testing.T) {
	db := openStore(t)
	reg, errs := Load(context.Background(), os.DirFS("testdata/badmacros"), db)
	if reg != nil {
		t.Error("Load returned a registry despite problems")
	}
	got := make([]string, len(errs))
	for i, e := range errs {
		got[i] = e.Error()
	}
	sort.Strings(got)
	want := []string{
		`macros/bad_table.sql:5: syntax error at or near "AND"`,
		`macros/broken.sql:3: Catalog Error: Scalar Function with name no_such_function does not exist!`,
		`macros/injected.sql:1: the query must be a single SELECT statement`,
		`macros/injected_table.sql:3: the query must be a single SELECT statement`,
		`macros/misnamed.sql:1: macro "other_name" does not match the file name "misnamed"`,
		`macros/persistent.sql:2: want one CREATE OR REPLACE TEMP MACRO persistent(…) AS <expression> (or AS TABLE <query>)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n  %q\nwant:\n  %q", got, want)
	}
	if err := db.QueryRow(`SELECT count(*) FROM appointments`).Scan(new(int)); err != nil {
		t.Fatalf("appointments table damaged: %v", err)
	}
}

func TestLoadMacroDependencies(t *testing.T) {
	db := openStore(t)
	fsys := fstest.MapFS{}
	for _, f := range []string{"plain.sql", "macros/helper.sql", "macros/twice.sql"} {
		b, err := os.ReadFile(path.Join("testdata/badmacros", f))
		if err != nil {
			t.Fatal(err)
		}
		fsys[f] = &fstest.MapFile{Data: b}
	}
	reg, errs := Load(context.Background(), fsys, db)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var names []string
	for _, m := range reg.Macros() {
		names = append(names, m.Name)
	}
	if want := []string{"twice", "helper"}; !reflect.DeepEqual(names, want) {
		t.Errorf("install order = %v, want %v", names, want)
	}
}

// builtinMacros returns a MapFS holding the shipped macros.
func builtinMacros(t *testing.T) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	files, err := fs.Glob(Builtin, MacroDir+"/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := fs.ReadFile(Builtin, f)
		if err != nil {
			t.Fatal(err)
		}
		fsys[f] = &fstest.MapFile{Data: b}
	}
	return fsys
}

func TestAgeBand(t *testing.T) {
	db := openStore(t)
	reg := loadBuiltin(t, db)
	tests := []struct {
		birth   any // DATE text or nil
		over89  bool
		on      string
		want    string
		comment string
	}{
		{"2005-06-15", false, "2023-06-14", "0-17", "17, the day before the 18th birthday"},
		{"2005-06-15", false, "2023-06-15", "18-44", "18th birthday"},
		{"2005-06-15", false, "2023-06-15 23:59:00", "18-44", "a timestamp counts by its date"},
		{"1978-06-20", false, "2023-06-19", "18-44", "44"},
		{"1978-06-20", false, "2023-06-20", "45-64", "45th birthday"},
		{"1958-06-11", false, "2023-06-10", "45-64", "64"},
		{"1958-06-10", false, "2023-06-10", "65-74", "65th birthday"},
		{"1948-06-30", false, "2023-06-29", "65-74", "74"},
		{"1948-06-30", false, "2023-06-30", "75-89", "75th birthday"},
		{"1933-06-02", false, "2023-06-01", "75-89", "89"},
		{"1933-06-01", false, "2023-06-01", "90+", "90th birthday"},
		{nil, true, "2023-06-01", "90+", "flagged 90+: no birth date kept"},
		{"2000-01-01", true, "2023-06-01", "90+", "the flag wins"},
		{nil, false, "2023-06-01", "unknown", "no birth date"},
		{"2024-01-01", false, "2023-12-31", "unknown", "before birth"},
		{"2023-06-01", false, "2023-06-01", "0-17", "day of birth"},
		{"2004-02-29", false, "2022-02-28", "0-17", "leap-day birth: not yet 18 on 28 Feb"},
		{"2004-02-29", false, "2022-03-01", "18-44", "leap-day birth: 18 on 1 Mar"},
		{"2004-02-29", false, "2024-02-29", "18-44", "leap-day birth in a leap year: 20"},
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := reg.install(ctx, conn); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		var got string
		err := conn.QueryRowContext(ctx, `SELECT age_band(CAST(? AS DATE), ?, CAST(? AS TIMESTAMP))`, tt.birth, tt.over89, tt.on).Scan(&got)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("age_band(%v, %v, %s) = %q, want %q (%s)", tt.birth, tt.over89, tt.on, got, tt.want, tt.comment)
		}
	}
}

func TestPayerAt(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `INSERT INTO coverage (coverage_key, patient_id, status, payer_type, period_start, period_end) VALUES
		('k1', 'pa', 'active', 'medicaid', '2022-01-01', '2023-06-15'),
		('k2', 'pa', 'active', 'commercial', '2023-06-16', NULL),
		('k3', 'pb', 'active', 'commercial', '2020-01-01', NULL),
		('k4', 'pb', 'active', 'medicare', '2023-01-01', '2023-12-31'),
		('k5', 'pc', 'entered-in-error', 'medicare', NULL, NULL),
		('k6', 'pc', 'draft', 'medicaid', NULL, NULL),
		('k7', 'pd', NULL, 'self_pay', NULL, '2023-01-31'),
		('k8', 'pe', 'active', 'other', '2023-01-01', NULL),
		('k9', 'pe', 'active', 'medicaid', '2023-01-01', NULL)`); err != nil {
		t.Fatal(err)
	}
	reg := loadBuiltin(t, db)
	tests := []struct{ patient, on, want, comment string }{
		{"pa", "2023-06-15", "medicaid", "last day of the first coverage"},
		{"pa", "2023-06-16 08:00:00", "commercial", "first day of the second"},
		{"pa", "2021-12-31", "unknown", "before any coverage"},
		{"pb", "2023-06-01", "medicare", "overlap: the later start wins"},
		{"pb", "2024-01-01", "commercial", "after the overlap ends"},
		{"pc", "2023-06-01", "unknown", "entered-in-error and draft never count"},
		{"pd", "1990-01-01", "self_pay", "open start, status unknown"},
		{"pd", "2023-02-01", "unknown", "after its end"},
		{"pe", "2023-06-01", "other", "same start: the smallest coverage_key"},
		{"nobody", "2023-06-01", "unknown", "no coverage at all"},
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := reg.install(ctx, conn); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		var got string
		if err := conn.QueryRowContext(ctx, `SELECT payer_at(?, CAST(? AS TIMESTAMP))`, tt.patient, tt.on).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("payer_at(%s, %s) = %q, want %q (%s)", tt.patient, tt.on, got, tt.want, tt.comment)
		}
	}
}
