package metrics

import (
	"context"
	"reflect"
	"sort"
	"testing"
)

// TestPrimaryNonadherence computes primary_nonadherence on its hand-worked
// fixture (testdata/primary_nonadherence/fixture.sql, whose comments work
// the numbers out) with the shipped value sets, which group RxNorm codes by
// ingredient: per month, overall, by every dimension, and the units
// themselves (who is in the denominator, who in the numerator).
func TestPrimaryNonadherence(t *testing.T) {
	db := pdcStore(t, "testdata/primary_nonadherence/fixture.sql")
	reg := loadBuiltin(t, db)
	e := NewEngine(db, reg, EngineOptions{})
	ctx := context.Background()
	from, to := date("2025-01-01"), date("2025-06-30")
	for _, tt := range []struct {
		grain Grain
		by    []string
		want  []string
	}{
		{GrainMonth, nil, []string{"2025-01 2/4", "2025-02 0/1", "2025-03 2/3", "2025-04 1/3", "2025-05 2/2"}},
		{GrainNone, nil, []string{"7/13"}},
		{GrainNone, []string{"clinic"}, []string{"clinic-a 4/7", "clinic-b 3/6"}},
		{GrainNone, []string{"sex"}, []string{"female 4/6", "male 3/7"}},
		{GrainNone, []string{"age_band"}, []string{"0-17 1/1", "45-64 4/10", "75-89 1/1", "90+ 1/1"}},
		{GrainNone, []string{"payer"}, []string{"commercial 4/10", "medicaid 1/1", "medicare 1/1", "unknown 1/1"}},
	} {
		res, err := e.Compute(ctx, "primary_nonadherence", Query{From: from, To: to, Grain: tt.grain, By: tt.by})
		if err != nil {
			t.Fatal(err)
		}
		if got := rowsText(res.Rows); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("by %s %v: %q, want %q", tt.grain, tt.by, got, tt.want)
		}
	}

	// The units: each patient's new prescription (the day written) and
	// whether it went unfilled, in every month. Patients 05, 06, 15, 16 and
	// 17 have none; 07's June prescription is after the horizon's cut-off;
	// 08's and 09's of 2024-08 are before the months above.
	d, ok := reg.Get("primary_nonadherence")
	if !ok {
		t.Fatal("no primary_nonadherence")
	}
	got := pdcRows(t, db, reg, "SELECT patient_id, period_date, numerator FROM ("+d.SQL+") ORDER BY patient_id, period_date")
	want := []string{
		"pna-01 2025-01-10 0", "pna-02 2025-01-10 1", "pna-03 2025-01-15 1", "pna-04 2025-01-20 0",
		"pna-07 2025-05-31 1", "pna-08 2024-08-01 1", "pna-08 2025-02-10 0", "pna-09 2024-08-14 1",
		"pna-10 2025-03-03 1", "pna-11 2025-03-10 0", "pna-12 2025-03-15 1", "pna-13 2025-04-01 1",
		"pna-14 2025-04-10 0", "pna-18 2025-04-05 0", "pna-19 2025-05-02 1",
	}
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("units (patient, day written, unfilled):\n got %q\nwant %q", got, want)
	}
}
