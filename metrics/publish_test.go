package metrics

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/carelens/carelens/internal/disclosure"
)

// grid is a month x clinic no-show result whose disclosure outcome is worked
// out in internal/disclosure's "complements close into a rectangle" case:
//
//	         clinic-01  clinic-02  clinic-03 | all clinics
//	2025-01     3/19      12/30      15/40   |   30/89
//	2025-02     4/22      11/25       0/20   |   15/67
//
// Primary: the 3 and the 4 no-shows. Complementary: clinic-02's 12 and 11
// (row totals are published; column totals can be queried).
func grid() *Result {
	rows := []struct {
		period, clinic string
		num, den       float64
	}{
		{"2025-01", "clinic-01", 3, 19}, {"2025-01", "clinic-02", 12, 30}, {"2025-01", "clinic-03", 15, 40},
		{"2025-02", "clinic-01", 4, 22}, {"2025-02", "clinic-02", 11, 25}, {"2025-02", "clinic-03", 0, 20},
	}
	r := &Result{Meta: Meta{Metric: "no_show_rate", Kind: KindRatio, Grain: GrainMonth, Dims: []string{"clinic"},
		From: date("2025-01-01"), To: date("2025-02-28"), SnapshotID: 4, Version: 1}}
	for _, x := range rows {
		r.Rows = append(r.Rows, Row{Period: x.period, PeriodStart: date(x.period + "-01"), Dims: []string{x.clinic},
			Numerator: x.num, Denominator: x.den})
	}
	return r
}

func cellText(c Cell) string {
	f := func(p *float64) string {
		if p == nil {
			return "null"
		}
		return fmt.Sprintf("%.4g", *p)
	}
	parts := []string{}
	if c.Period != "" {
		parts = append(parts, c.Period)
	}
	for _, d := range c.Dims {
		if d == "" {
			d = "*"
		}
		parts = append(parts, d)
	}
	parts = append(parts, f(c.Numerator)+"/"+f(c.Denominator)+"="+f(c.Value))
	if c.Suppressed {
		parts = append(parts, "suppressed")
	}
	return strings.Join(parts, " ")
}

func cellsText(cs []Cell) []string {
	var out []string
	for _, c := range cs {
		out = append(out, cellText(c))
	}
	return out
}

func TestPublish(t *testing.T) {
	pub, err := Publish(grid(), disclosure.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"2025-01 clinic-01 null/19=null suppressed",
		"2025-01 clinic-02 null/30=null suppressed",
		"2025-01 clinic-03 15/40=0.375",
		"2025-02 clinic-01 null/22=null suppressed",
		"2025-02 clinic-02 null/25=null suppressed",
		"2025-02 clinic-03 0/20=0",
	}
	if got := cellsText(pub.Rows); !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n  %q\nwant:\n  %q", got, want)
	}
	if pub.Threshold != 11 || pub.SnapshotID != 4 || pub.Metric != "no_show_rate" {
		t.Errorf("meta: threshold %d snapshot %d metric %q", pub.Threshold, pub.SnapshotID, pub.Metric)
	}
	// The all-clinics line: 30/89 and 15/67 are safe to show.
	totals, err := pub.Totals("clinic")
	if err != nil {
		t.Fatal(err)
	}
	wantTotals := []string{"2025-01 * 30/89=0.3371", "2025-02 * 15/67=0.2239"}
	if got := cellsText(totals); !reflect.DeepEqual(got, wantTotals) {
		t.Errorf("totals over clinic:\n  %q\nwant:\n  %q", got, wantTotals)
	}
	// Per clinic over both months: clinic-01's 7 is small, and clinic-03's
	// 15 complements it among the clinic totals.
	totals, err = pub.Totals("period")
	if err != nil {
		t.Fatal(err)
	}
	wantTotals = []string{"clinic-01 null/41=null suppressed", "clinic-02 23/55=0.4182", "clinic-03 null/60=null suppressed"}
	if got := cellsText(totals); !reflect.DeepEqual(got, wantTotals) {
		t.Errorf("totals over period:\n  %q\nwant:\n  %q", got, wantTotals)
	}
	if _, err := pub.Totals("region"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Totals(region): %v, want ErrInvalid", err)
	}
}

func TestPublishThreshold(t *testing.T) {
	p, err := disclosure.New(4)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := Publish(grid(), p)
	if err != nil {
		t.Fatal(err)
	}
	// With threshold 4 only clinic-01's 3 January no-shows are small. Its
	// February 4 partners it in column clinic-01, January's 12 (smaller
	// than 15) in row January, and February's 11 closes column clinic-02
	// and row February: the same rectangle, from one primary cell.
	var suppressed []string
	for _, c := range pub.Rows {
		if c.Suppressed {
			suppressed = append(suppressed, c.Period+" "+c.Dims[0])
		}
	}
	want := []string{"2025-01 clinic-01", "2025-01 clinic-02", "2025-02 clinic-01", "2025-02 clinic-02"}
	if !reflect.DeepEqual(suppressed, want) || pub.Threshold != 4 {
		t.Errorf("suppressed %v (threshold %d), want %v", suppressed, pub.Threshold, want)
	}
}

func TestPublishKinds(t *testing.T) {
	tests := []struct {
		kind     Kind
		num, den float64
		want     string
	}{
		{KindRatio, 12, 130, "12/130=0.09231"},
		{KindRatio, 3, 130, "null/130=null suppressed"},
		{KindRatio, 2, 7, "null/null=null suppressed"},
		{KindRatio, 0, 0, "0/0=null"},
		// 125 of 130 would show that 5 are outside the numerator.
		{KindRatio, 125, 130, "null/130=null suppressed"},
		{KindRatio, 130, 130, "130/130=1"},
		{KindCount, 25, 25, "25/25=25"},
		{KindCount, 5, 5, "null/null=null suppressed"},
		// A mean's numerator sums values: a small sum is not a count.
		{KindMean, 5, 12, "5/12=0.4167"},
		{KindMean, 50, 4, "null/null=null suppressed"},
		{KindScore, -300, 20, "-300/20=-15"},
	}
	for _, tt := range tests {
		r := &Result{Meta: Meta{Metric: "m", Kind: tt.kind, Grain: GrainNone},
			Rows: []Row{{Numerator: tt.num, Denominator: tt.den}}}
		pub, err := Publish(r, disclosure.Policy{})
		if err != nil {
			t.Fatal(err)
		}
		if got := cellText(pub.Rows[0]); got != tt.want {
			t.Errorf("%s %v/%v: %s, want %s", tt.kind, tt.num, tt.den, got, tt.want)
		}
	}
}

// fakeComputer answers every query with grid() and records the queries.
type fakeComputer struct{ queries []Query }

func (f *fakeComputer) Compute(_ context.Context, name string, q Query) (*Result, error) {
	f.queries = append(f.queries, q)
	if name != "no_show_rate" {
		return nil, notFoundf("no metric named %q", name)
	}
	r := grid()
	if !reflect.DeepEqual(q.By, []string{"clinic"}) || q.Filters != nil {
		return nil, fmt.Errorf("fake only knows by=clinic unfiltered, got %+v", q)
	}
	return r, nil
}

// TestDiscloseFilters: a filtered request is cut from the protected
// unfiltered table, so clinic-02 shows the complementary suppressions the
// full table needs (its 12 and 11 would otherwise reveal clinic-01's 3 and 4
// through the all-clinics totals).
func TestDiscloseFilters(t *testing.T) {
	f := &fakeComputer{}
	pub, err := Disclose(context.Background(), f, "no_show_rate", Query{Filters: map[string]string{"clinic": "clinic-02"}}, disclosure.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.queries) != 1 || !reflect.DeepEqual(f.queries[0].By, []string{"clinic"}) || f.queries[0].Filters != nil {
		t.Fatalf("computed %+v, want one unfiltered query grouped by clinic", f.queries)
	}
	want := []string{
		"2025-01 clinic-02 null/30=null suppressed",
		"2025-02 clinic-02 null/25=null suppressed",
	}
	if got := cellsText(pub.Rows); !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n  %q\nwant:\n  %q", got, want)
	}
	if !reflect.DeepEqual(pub.Filters, map[string]string{"clinic": "clinic-02"}) || !reflect.DeepEqual(pub.Dims, []string{"clinic"}) {
		t.Errorf("filters %v dims %v", pub.Filters, pub.Dims)
	}

	f.queries = nil
	_, err = Disclose(context.Background(), f, "no_show_rate", Query{Filters: map[string]string{"clinic": ""}}, disclosure.Policy{})
	if !errors.Is(err, ErrInvalid) || len(f.queries) != 0 {
		t.Errorf("empty filter: error %v after %d queries, want ErrInvalid before any", err, len(f.queries))
	}
	_, err = Disclose(context.Background(), f, "nope", Query{}, disclosure.Policy{})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown metric: %v, want ErrNotFound", err)
	}
}
