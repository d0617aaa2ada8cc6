package synth

import (
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// These tests read the fixture's files the way the ETL and the measures
// would (a message's states from its columns and its events), and check that
// the effects the generator models are visible there.

type population struct {
	export       time.Time
	exportDay    time.Time
	contactOf    map[string]string      // contact_id → Patient id (linked contacts)
	reminders    map[string][]time.Time // Patient id → delivered appointment reminders, sorted
	appts        []apptRow
	fills        map[string]map[string][]fillRow // class → Patient id → fills
	a1c          map[string][]float64            // Patient id → HbA1c values
	systolic     map[string][]float64            // Patient id → ambulatory systolic readings
	hypertensive map[string]bool
}

type apptRow struct {
	patient, status string
	created, start  time.Time
}

type fillRow struct {
	on   time.Time
	days int
}

var rxClass = map[string]string{}

func init() {
	names := [nClasses]string{"ras", "dm", "statin"}
	for k, list := range drugs {
		for _, d := range list {
			rxClass[d.rxnorm] = names[k]
		}
	}
}

func ref(s, typ string) string {
	if len(s) > len(typ)+1 && s[:len(typ)+1] == typ+"/" {
		return s[len(typ)+1:]
	}
	return ""
}

func loadPopulation(t *testing.T, dir string) *population {
	t.Helper()
	p := &population{
		exportDay: date("2025-12-31"),
		contactOf: map[string]string{}, reminders: map[string][]time.Time{},
		fills: map[string]map[string][]fillRow{}, a1c: map[string][]float64{}, systolic: map[string][]float64{},
		hypertensive: map[string]bool{},
	}
	p.export = p.exportDay.Add(24*time.Hour - time.Second)
	mrns := patientMRNs(t, dir)
	_, contacts, _ := readCSV(t, filepath.Join(dir, "crm/contacts.csv"))
	for _, c := range contacts {
		if pid, ok := mrns[c["mrn"]]; ok {
			p.contactOf[c["contact_id"]] = pid
		}
	}
	msgs, _, _ := readMessages(t, dir)
	for _, m := range msgs {
		pid := p.contactOf[m.row["contact_id"]]
		if m.row["purpose"] != "appointment_reminder" || m.at[evDelivered].IsZero() || pid == "" {
			continue
		}
		p.reminders[pid] = append(p.reminders[pid], m.at[evDelivered])
	}
	for _, v := range p.reminders {
		slices.SortFunc(v, func(a, b time.Time) int { return a.Compare(b) })
	}

	for _, line := range readLines(t, filepath.Join(dir, "ehr/Appointment.000.ndjson")) {
		var a struct {
			Status, Created, Start string
			Participant            []struct {
				Actor struct{ Reference string } `json:"actor"`
			} `json:"participant"`
		}
		if err := json.Unmarshal(line, &a); err != nil {
			t.Fatal(err)
		}
		row := apptRow{patient: ref(a.Participant[0].Actor.Reference, "Patient"), status: a.Status}
		row.created, _ = time.Parse(time.RFC3339, a.Created)
		row.start, _ = time.Parse(time.RFC3339, a.Start)
		p.appts = append(p.appts, row)
	}

	for _, line := range readLines(t, filepath.Join(dir, "ehr/MedicationDispense.000.ndjson")) {
		var d struct {
			MedicationCodeableConcept struct {
				Coding []struct{ Code string } `json:"coding"`
			} `json:"medicationCodeableConcept"`
			Subject        struct{ Reference string } `json:"subject"`
			DaysSupply     struct{ Value int }        `json:"daysSupply"`
			WhenHandedOver string                     `json:"whenHandedOver"`
		}
		if err := json.Unmarshal(line, &d); err != nil {
			t.Fatal(err)
		}
		class := rxClass[d.MedicationCodeableConcept.Coding[0].Code]
		on, _ := time.Parse(time.RFC3339, d.WhenHandedOver)
		if p.fills[class] == nil {
			p.fills[class] = map[string][]fillRow{}
		}
		pid := ref(d.Subject.Reference, "Patient")
		p.fills[class][pid] = append(p.fills[class][pid], fillRow{on, d.DaysSupply.Value})
	}

	ambulatory := map[string]bool{}
	for _, line := range readLines(t, filepath.Join(dir, "ehr/Encounter.000.ndjson")) {
		var e struct {
			ID    string
			Class struct{ Code string } `json:"class"`
		}
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatal(err)
		}
		ambulatory[e.ID] = e.Class.Code == "AMB"
	}
	for _, line := range readLines(t, filepath.Join(dir, "ehr/Condition.000.ndjson")) {
		var c struct {
			Code struct {
				Coding []struct{ Code string } `json:"coding"`
			} `json:"code"`
			Subject struct{ Reference string } `json:"subject"`
		}
		if err := json.Unmarshal(line, &c); err != nil {
			t.Fatal(err)
		}
		if c.Code.Coding[0].Code == "59621000" {
			p.hypertensive[ref(c.Subject.Reference, "Patient")] = true
		}
	}
	type quantity struct{ Value float64 }
	for _, line := range readLines(t, filepath.Join(dir, "ehr/Observation.000.ndjson")) {
		var o struct {
			Code struct {
				Coding []struct{ Code string } `json:"coding"`
			} `json:"code"`
			Subject       struct{ Reference string } `json:"subject"`
			Encounter     struct{ Reference string } `json:"encounter"`
			ValueQuantity quantity                   `json:"valueQuantity"`
			Component     []struct {
				Code struct {
					Coding []struct{ Code string } `json:"coding"`
				} `json:"code"`
				ValueQuantity quantity `json:"valueQuantity"`
			} `json:"component"`
		}
		if err := json.Unmarshal(line, &o); err != nil {
			t.Fatal(err)
		}
		pid := ref(o.Subject.Reference, "Patient")
		switch o.Code.Coding[0].Code {
		case "4548-4":
			p.a1c[pid] = append(p.a1c[pid], o.ValueQuantity.Value)
		case "85354-9":
			if ambulatory[ref(o.Encounter.Reference, "Encounter")] {
				p.systolic[pid] = append(p.systolic[pid], o.Component[0].ValueQuantity.Value)
			}
		}
	}
	return p
}

// pdc is a simple proportion of days covered in [first fill in window,
// export]: union of fill supplies, no shifting. ok is false with fewer than
// two fills in the window.
func (p *population) pdc(fills []fillRow, from time.Time) (float64, bool) {
	covered := map[int]bool{}
	var first time.Time
	n := 0
	for _, f := range fills {
		if f.on.Before(from) {
			continue
		}
		if n == 0 {
			first = f.on
		}
		n++
		for d := 0; d < f.days; d++ {
			day := f.on.AddDate(0, 0, d)
			if day.After(p.export) {
				break
			}
			covered[int(day.Unix()/86400)] = true
		}
	}
	if n < 2 {
		return 0, false
	}
	total := int(p.export.Sub(first).Hours()/24) + 1
	return float64(len(covered)) / float64(total), true
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

type rate struct{ hits, n int }

func (r rate) value() float64 { return float64(r.hits) / float64(r.n) }

// se is the standard error of the difference of two proportions.
func se(a, b rate) float64 {
	pa, pb := a.value(), b.value()
	return math.Sqrt(pa*(1-pa)/float64(a.n) + pb*(1-pb)/float64(b.n))
}

func TestDynamicsVisibleInFiles(t *testing.T) {
	p := loadPopulation(t, fixtureDir)

	// Every appointment status occurs.
	seen := map[string]int{}
	for _, a := range p.appts {
		seen[a.status]++
	}
	for _, s := range apptStatuses {
		if seen[s] == 0 {
			t.Errorf("no %s appointment among %d patients", s, fixturePatients)
		}
		if seen[s] != fixtureTruth.AppointmentStatuses[s] {
			t.Errorf("%s: %d in the file, truth says %d", s, seen[s], fixtureTruth.AppointmentStatuses[s])
		}
	}

	// Reminder effect and lead time, on due appointments of linked patients.
	window := 7 * 24 * time.Hour
	var with, without, short, long rate
	for _, a := range p.appts {
		if a.status != "fulfilled" && a.status != "noshow" || !a.start.Before(p.exportDay) {
			continue
		}
		miss := 0
		if a.status == "noshow" {
			miss = 1
		}
		rem := p.reminders[a.patient]
		i, _ := slices.BinarySearchFunc(rem, a.start.Add(-window), func(x, t time.Time) int { return x.Compare(t) })
		reminded := i < len(rem) && rem[i].Before(a.start)
		if reminded {
			with.hits, with.n = with.hits+miss, with.n+1
		} else {
			without.hits, without.n = without.hits+miss, without.n+1
		}
		switch lead := a.start.Sub(a.created); {
		case lead < 7*24*time.Hour:
			short.hits, short.n = short.hits+miss, short.n+1
		case lead >= 42*24*time.Hour:
			long.hits, long.n = long.hits+miss, long.n+1
		}
	}
	t.Logf("no-show with reminder %.3f (n=%d), without %.3f (n=%d)", with.value(), with.n, without.value(), without.n)
	t.Logf("no-show lead < 1 week %.3f (n=%d), ≥ 6 weeks %.3f (n=%d)", short.value(), short.n, long.value(), long.n)
	if with.n < 1000 || without.n < 1000 {
		t.Fatalf("too few due appointments: %d with, %d without a reminder", with.n, without.n)
	}
	if d := without.value() - with.value(); d < 3*se(with, without) {
		t.Errorf("reminders do not lower no-shows: %.3f with, %.3f without", with.value(), without.value())
	}
	if d := long.value() - short.value(); d < 3*se(long, short) {
		t.Errorf("no-shows do not rise with lead time: %.3f short, %.3f long", short.value(), long.value())
	}

	// Adherence drives HbA1c and blood pressure.
	from := date("2024-01-01")
	var lowA1c, highA1c, lowSys, highSys []float64
	for pid, fills := range p.fills["dm"] {
		if v, ok := p.pdc(fills, from); ok && len(p.a1c[pid]) > 0 {
			if v < 0.6 {
				lowA1c = append(lowA1c, p.a1c[pid]...)
			} else if v >= 0.85 {
				highA1c = append(highA1c, p.a1c[pid]...)
			}
		}
	}
	for pid, fills := range p.fills["ras"] {
		if v, ok := p.pdc(fills, from); ok && p.hypertensive[pid] && len(p.systolic[pid]) > 0 {
			if v < 0.6 {
				lowSys = append(lowSys, p.systolic[pid]...)
			} else if v >= 0.85 {
				highSys = append(highSys, p.systolic[pid]...)
			}
		}
	}
	t.Logf("HbA1c: PDC < 0.6 %.2f (n=%d), ≥ 0.85 %.2f (n=%d)", mean(lowA1c), len(lowA1c), mean(highA1c), len(highA1c))
	t.Logf("systolic: PDC < 0.6 %.1f (n=%d), ≥ 0.85 %.1f (n=%d)", mean(lowSys), len(lowSys), mean(highSys), len(highSys))
	if len(lowA1c) < 30 || len(highA1c) < 30 || mean(lowA1c)-mean(highA1c) < 0.5 {
		t.Errorf("HbA1c of low-adherence diabetics (%.2f, n=%d) not clearly above high-adherence (%.2f, n=%d)",
			mean(lowA1c), len(lowA1c), mean(highA1c), len(highA1c))
	}
	if len(lowSys) < 30 || len(highSys) < 30 || mean(lowSys)-mean(highSys) < 4 {
		t.Errorf("systolic of low-adherence hypertensives (%.1f) not clearly above high-adherence (%.1f)", mean(lowSys), mean(highSys))
	}

	// Some diabetics are over 9 %, and some have no HbA1c at all.
	over9, none := 0, 0
	for pid := range p.fills["dm"] {
		if len(p.a1c[pid]) == 0 {
			none++
		}
		for _, v := range p.a1c[pid] {
			if v > 9 {
				over9++
				break
			}
		}
	}
	if over9 == 0 || none == 0 {
		t.Errorf("treated diabetics: %d with a value > 9 %%, %d without HbA1c; want some of each", over9, none)
	}
}

func TestRefillReplyRaisesFills(t *testing.T) {
	p := loadPopulation(t, fixtureDir)
	msgs, _, _ := readMessages(t, fixtureDir)
	var replied, ignored rate
	for _, m := range msgs {
		pid := p.contactOf[m.row["contact_id"]]
		if m.row["purpose"] != "refill_reminder" || m.at[evDelivered].IsZero() || pid == "" {
			continue
		}
		sent := m.sent
		if sent.After(p.export.Add(-14 * 24 * time.Hour)) {
			continue
		}
		hit := 0
		for _, class := range []string{"ras", "dm", "statin"} {
			for _, f := range p.fills[class][pid] {
				if f.on.After(sent) && f.on.Before(sent.Add(14*24*time.Hour)) {
					hit = 1
				}
			}
		}
		if !m.at[evReplied].IsZero() {
			replied.hits, replied.n = replied.hits+hit, replied.n+1
		} else {
			ignored.hits, ignored.n = ignored.hits+hit, ignored.n+1
		}
	}
	t.Logf("fill within 14 days: replied %.3f (n=%d), not replied %.3f (n=%d)", replied.value(), replied.n, ignored.value(), ignored.n)
	if replied.n < 50 || replied.value()-ignored.value() < 3*se(replied, ignored) {
		t.Errorf("a replied refill reminder does not raise fills: %.3f vs %.3f", replied.value(), ignored.value())
	}
}
