package metrics

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/carelens/carelens/internal/disclosure"
)

// measureResult is a one-row result of an eCQM-style ratio metric over 2025.
func measureResult(ip, dx, den, num float64) *Result {
	r := &Result{Meta: Meta{Metric: "m", Kind: KindRatio, Direction: HigherIsBetter, Version: 1, SnapshotID: 1,
		From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC),
		Grain: GrainNone, Scale: 1, Populations: []string{colInitialPopulation, colDenominatorExclusion}}}
	if ip+dx+den+num > 0 {
		r.Rows = []Row{{Dims: []string{}, Numerator: num, Denominator: den, Populations: []float64{ip, dx}}}
	}
	return r
}

// populationsText renders populations as "code=count", "code=-" when withheld.
func populationsText(m *MeasureResult) string {
	var parts []string
	for _, p := range m.Populations {
		v := "-"
		if p.Count != nil {
			v = fmt.Sprint(*p.Count)
		}
		parts = append(parts, p.Code+"="+v)
	}
	score := "n/a"
	switch {
	case m.Score != nil:
		score = fmt.Sprintf("%.4g", *m.Score)
	case m.ScoreWithheld:
		score = "-"
	}
	return strings.Join(parts, " ") + " score=" + score
}

// TestMeasurePublish works through the disclosure of a measure's
// populations by hand (threshold 11).
func TestMeasurePublish(t *testing.T) {
	tests := []struct {
		name            string
		ip, dx, den, nu float64
		want            string
	}{
		{
			// The CMS165 deck for 2025: the numerator of 2 is hidden,
			// and with it the score; the rest is shown.
			name: "CMS165 deck", ip: 59, dx: 31, den: 28, nu: 2,
			want: "initial-population=59 denominator=59 denominator-exclusion=31 numerator=- score=-",
		},
		{
			name: "all large", ip: 52, dx: 12, den: 40, nu: 20,
			want: "initial-population=52 denominator=52 denominator-exclusion=12 numerator=20 score=0.5",
		},
		{
			// 5 exclusions are hidden; the denominator after exclusions
			// (40) is public (the score and /api/v1/metrics show it), so
			// 45 − 40 would give them away: the initial population and
			// the denominator (equal, as no unit is outside both) go.
			name: "small exclusion", ip: 45, dx: 5, den: 40, nu: 15,
			want: "initial-population=- denominator=- denominator-exclusion=- numerator=15 score=0.375",
		},
		{
			// 7 units left: hidden with the numerator and score (as
			// Publish does); 37 − 30 would give them away: the
			// exclusions go (one population rather than two).
			name: "small denominator after exclusions", ip: 37, dx: 30, den: 7, nu: 3,
			want: "initial-population=37 denominator=37 denominator-exclusion=- numerator=- score=-",
		},
		{
			// Both parts small, their sum 13 is not: shown.
			name: "two small parts", ip: 13, dx: 5, den: 8, nu: 2,
			want: "initial-population=13 denominator=13 denominator-exclusion=- numerator=- score=-",
		},
		{
			name: "everything small", ip: 10, dx: 4, den: 6, nu: 1,
			want: "initial-population=- denominator=- denominator-exclusion=- numerator=- score=-",
		},
		{
			name: "zero exclusions are shown", ip: 40, dx: 0, den: 40, nu: 12,
			want: "initial-population=40 denominator=40 denominator-exclusion=0 numerator=12 score=0.3",
		},
		{
			name: "zero numerator", ip: 40, dx: 0, den: 40, nu: 0,
			want: "initial-population=40 denominator=40 denominator-exclusion=0 numerator=0 score=0",
		},
		{
			// 5 units in the initial population are in neither the
			// denominator nor its exclusions: 50 − 45 would show them;
			// hiding the initial population suffices (the denominator
			// follows from 12 + 33 anyway).
			name: "initial population larger than the denominator", ip: 50, dx: 12, den: 33, nu: 11,
			want: "initial-population=- denominator=45 denominator-exclusion=12 numerator=11 score=0.3333",
		},
		{
			// Everything excluded: no unit left, the score is undefined
			// (not withheld).
			name: "all excluded", ip: 20, dx: 20, den: 0, nu: 0,
			want: "initial-population=20 denominator=20 denominator-exclusion=20 numerator=0 score=n/a",
		},
		{
			name: "no data", want: "initial-population=0 denominator=0 denominator-exclusion=0 numerator=0 score=n/a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := PublishMeasure(measureResult(tt.ip, tt.dx, tt.den, tt.nu), disclosure.Policy{})
			if err != nil {
				t.Fatal(err)
			}
			if got := populationsText(m); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if m.Exact || m.Threshold != 11 {
				t.Errorf("Exact %v, Threshold %d", m.Exact, m.Threshold)
			}
			// The guard sees the metric's own cell and the populations.
			if len(m.Published) != 2 || m.Published[0].Metric != "m" || m.Published[1].Metric != "m:populations" ||
				len(m.Published[1].Rows) != 3 || m.Published[1].Dims[0] != "population" {
				t.Fatalf("published for the guard: %+v", m.Published)
			}
			for i, row := range m.Published[1].Rows {
				if row.Dims[0] != m.Populations[i].Code || row.Denominator != m.Populations[i].Count {
					t.Errorf("guard row %d = %+v, want population %+v", i, row, m.Populations[i])
				}
			}
		})
	}
}

func TestMeasurePublishWithoutPopulations(t *testing.T) {
	r := measureResult(0, 0, 100, 30)
	r.Populations, r.Rows[0].Populations = nil, nil
	m, err := PublishMeasure(r, disclosure.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := populationsText(m), "initial-population=100 denominator=100 numerator=30 score=0.3"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if len(m.Published) != 1 {
		t.Errorf("published %d results, want the metric's cell only", len(m.Published))
	}
	r = measureResult(0, 0, 8, 3)
	r.Populations, r.Rows[0].Populations = nil, nil
	r.Scale = 1000
	if m, _ = PublishMeasure(r, disclosure.Policy{}); populationsText(m) != "initial-population=- denominator=- numerator=- score=-" {
		t.Errorf("small: %s", populationsText(m))
	}
	r = measureResult(0, 0, 400, 30)
	r.Populations, r.Rows[0].Populations = nil, nil
	r.Scale = 1000
	if m, _ = PublishMeasure(r, disclosure.Policy{}); populationsText(m) != "initial-population=400 denominator=400 numerator=30 score=75" {
		t.Errorf("scaled: %s", populationsText(m))
	}
	for _, bad := range []func(*Result){
		func(r *Result) { r.Kind = KindMean },
		func(r *Result) { r.Grain = GrainYear },
		func(r *Result) { r.Dims = []string{"clinic"} },
	} {
		r := measureResult(1, 1, 1, 1)
		bad(r)
		if _, err := PublishMeasure(r, disclosure.Policy{}); err == nil || !strings.Contains(err.Error(), "m") {
			t.Errorf("accepted %+v", r.Meta)
		}
	}
}

// TestMeasurePublishAttack attacks every combination of parts up to 24 the
// way a reader of the report would: it knows the shown populations, the
// denominator after exclusions when the metric shows it, and that nothing
// lies outside the denominator when that is so; it lists every split of the
// initial population into (outside, excluded, left) consistent with that,
// and checks that no sum of parts from 1 to 10 is the same in all of them.
func TestMeasurePublishAttack(t *testing.T) {
	const w = 40 // the attacker's search window, above every true value
	p := disclosure.Policy{}
	cases, leaks := 0, 0
	for _, a := range []float64{0, 4, 20} {
		for x := 0.0; x <= 24; x++ {
			for e := 0.0; e <= 24; e++ {
				m, err := PublishMeasure(measureResult(a+x+e, x, e, 0), p)
				if err != nil {
					t.Fatal(err)
				}
				cases++
				shown := func(code string) (float64, bool) {
					pc, _ := m.Population(code)
					if pc.Count == nil {
						return 0, false
					}
					return *pc.Count, true
				}
				ip, ipOK := shown(PopulationInitial)
				d, dOK := shown(PopulationDenominator)
				dx, dxOK := shown(PopulationExclusion)
				rows := m.Published[0].Rows
				eOK := len(rows) == 0 || rows[0].Denominator != nil
				sets := [][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 1, 0}, {1, 0, 1}, {0, 1, 1}, {1, 1, 1}}
				first := make([]float64, len(sets))
				same := make([]bool, len(sets))
				found := false
				for a2 := 0.0; a2 <= w; a2++ {
					if a == 0 && a2 != 0 {
						break
					}
					for x2 := 0.0; x2 <= w; x2++ {
						if dxOK && x2 != dx {
							continue
						}
						for e2 := 0.0; e2 <= w; e2++ {
							if (eOK && e2 != e) || (dOK && x2+e2 != d) || (ipOK && a2+x2+e2 != ip) {
								continue
							}
							for i, s := range sets {
								v := s[0]*a2 + s[1]*x2 + s[2]*e2
								if !found {
									first[i], same[i] = v, true
								} else if v != first[i] {
									same[i] = false
								}
							}
							found = true
						}
					}
				}
				if !found {
					t.Fatalf("a=%g x=%g e=%g: the true split is not consistent with the report", a, x, e)
				}
				for i, s := range sets {
					truth := s[0]*a + s[1]*x + s[2]*e
					if same[i] && p.Hidden(truth) {
						leaks++
						if leaks < 10 {
							t.Errorf("a=%g x=%g e=%g: %s recovers the count %g (parts %v)", a, x, e, populationsText(m), truth, s)
						}
					}
				}
			}
		}
	}
	t.Logf("%d reports attacked, %d leaks", cases, leaks)
}

// measureDefs is a test metric with eCQM populations over measure_fixture.
var measureDefs = fstest.MapFS{"ecqm_test.sql": {Data: []byte(`-- name: ecqm_test
-- title: Test proportion measure
-- description: One row per unit of measure_fixture, with its eCQM populations.
-- unit: ratio
-- kind: ratio
-- direction: higher_is_better
-- grain: year
-- spec: eCQM CMS999 TestMeasureFHIR 1.2.003
-- version: 3
SELECT period_date, patient_id, numerator, denominator, initial_population, denominator_exclusion FROM measure_fixture
`)}}

// measureFixture: 2023 has 37 units in the initial population, 30 of them
// excluded, 7 left of whom 3 are in the numerator; patient p-2 has two
// units (both excluded).
const measureFixture = `CREATE TABLE measure_fixture (period_date DATE, patient_id VARCHAR, numerator INTEGER,
	denominator INTEGER, initial_population INTEGER, denominator_exclusion INTEGER);
INSERT INTO measure_fixture SELECT DATE '2023-12-31', 'p-' || CAST(CASE WHEN i = 1 THEN 2 ELSE i END AS VARCHAR),
	0, 0, 1, 1 FROM range(0, 30) AS r(i);
INSERT INTO measure_fixture SELECT DATE '2023-12-31', 'q-' || CAST(i AS VARCHAR),
	CASE WHEN i < 3 THEN 1 ELSE 0 END, 1, 1, 0 FROM range(0, 7) AS r(i);
INSERT INTO measure_fixture VALUES (DATE '2024-12-31', 'q-0', 1, 1, 1, 0);`

func TestMeasureSubjects(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	if _, err := db.ExecContext(ctx, measureFixture); err != nil {
		t.Fatal(err)
	}
	commitSnapshot(t, db, 4)
	reg, errs := Load(ctx, measureDefs, db)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	e := NewEngine(db, reg, EngineOptions{})
	from, to := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC)
	check := func(label string) {
		t.Helper()
		res, err := e.Compute(ctx, "ecqm_test", Query{From: from, To: to, Grain: GrainNone})
		if err != nil {
			t.Fatal(err)
		}
		pub, err := PublishMeasure(res, disclosure.Policy{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := populationsText(pub), "initial-population=37 denominator=37 denominator-exclusion=- numerator=- score=-"; got != want {
			t.Errorf("%s: published %s, want %s", label, got, want)
		}
		members, meta, err := e.Members(ctx, "ecqm_test", from, to)
		if err != nil {
			t.Fatal(err)
		}
		m, err := MeasureSubjects(members, meta)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := populationsText(m), "initial-population=37 denominator=37 denominator-exclusion=30 numerator=3 score=0.4286"; got != want {
			t.Errorf("%s: exact %s, want %s", label, got, want)
		}
		if !m.Exact || m.Published != nil || m.SnapshotID != 4 || m.Version != 3 {
			t.Errorf("%s: exact result %+v", label, m.Meta)
		}
		// Lists hold each patient once: p-2 has two excluded units.
		wantLen := map[string]int{PopulationInitial: 36, PopulationDenominator: 36, PopulationExclusion: 29, PopulationNumerator: 3}
		for _, p := range m.Populations {
			if len(p.Subjects) != wantLen[p.Code] {
				t.Errorf("%s: %s lists %d patients, want %d", label, p.Code, len(p.Subjects), wantLen[p.Code])
			}
		}
		num, _ := m.Population(PopulationNumerator)
		if fmt.Sprint(num.Subjects) != "[q-0 q-1 q-2]" {
			t.Errorf("%s: numerator subjects %v", label, num.Subjects)
		}
		dx, _ := m.Population(PopulationExclusion)
		for _, id := range dx.Subjects {
			if strings.HasPrefix(id, "q-") || id == "p-1" {
				t.Errorf("%s: %s listed as excluded", label, id)
			}
		}
	}
	check("from the tables")
	if rep, err := e.Refresh(ctx, false); err != nil || len(rep.Failed()) > 0 {
		t.Fatalf("refresh: %v %v", err, rep)
	}
	check("materialised")
}

func TestMeasureSubjectsWithoutPopulations(t *testing.T) {
	meta := &Meta{Metric: "no_show", Kind: KindRatio, Grain: GrainNone, Scale: 1}
	members := []Member{
		{PatientID: "a", Numerator: 1, Denominator: 1}, {PatientID: "a", Numerator: 0, Denominator: 1},
		{PatientID: "b", Numerator: 0, Denominator: 1},
	}
	m, err := MeasureSubjects(members, meta)
	if err != nil {
		t.Fatal(err)
	}
	if got := populationsText(m); got != "initial-population=3 denominator=3 numerator=1 score=0.3333" {
		t.Errorf("got %s", got)
	}
	ip, _ := m.Population(PopulationInitial)
	num, _ := m.Population(PopulationNumerator)
	if fmt.Sprint(ip.Subjects, num.Subjects) != "[a b] [a]" {
		t.Errorf("subjects %v %v", ip.Subjects, num.Subjects)
	}
	if math.IsNaN(*m.Score) {
		t.Error("NaN score")
	}
}
