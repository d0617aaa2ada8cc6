package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
)

// cell is a numerator/denominator pair.
type cell struct{ num, den int }

// dueStatuses are the appointment statuses that count in the no-show
// denominator (../shared/MEASURES.md).
var dueStatuses = map[string]bool{"booked": true, "arrived": true, "checked-in": true, "fulfilled": true, "noshow": true}

// noShowFromFiles computes the no-show rate by month and clinic straight from
// the generated Appointment NDJSON, independently of the ETL and the metric
// SQL. Months are "YYYY-MM" of the start in UTC; the clinic is the Location
// participant. Only appointments starting in [from, to] count.
func noShowFromFiles(t *testing.T, dir string, from, to time.Time) map[[2]string]cell {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "ehr", "Appointment.000.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[[2]string]cell{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var a struct {
			Status      string `json:"status"`
			Start       string `json:"start"`
			Participant []struct {
				Actor struct {
					Reference string `json:"reference"`
				} `json:"actor"`
			} `json:"participant"`
		}
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("generated appointment does not parse: %v", err)
		}
		if !dueStatuses[a.Status] {
			continue
		}
		start, err := time.Parse(time.RFC3339, a.Start)
		if err != nil {
			t.Fatalf("appointment start %q: %v", a.Start, err)
		}
		start = start.UTC()
		day := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
		if day.Before(from) || day.After(to) {
			continue
		}
		var clinic string
		for _, p := range a.Participant {
			if c, ok := strings.CutPrefix(p.Actor.Reference, "Location/"); ok {
				clinic = c
			}
		}
		k := [2]string{start.Format("2006-01"), clinic}
		c := out[k]
		c.den++
		if a.Status == "noshow" {
			c.num++
		}
		out[k] = c
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// identifiers collects the direct identifiers of the generated identified
// sources: Patient names, identifiers (MRN, SSN), telecoms, street lines and
// cities, ids; contacts' ids, MRNs, names, emails and phones. Names are
// returned apart, to be matched as whole words.
func identifiers(t *testing.T, dir string) (exact []string, names []string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "ehr", "Patient.000.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	seen := map[string]bool{}
	add := func(list *[]string, s string) {
		s = strings.TrimSpace(s)
		if s != "" && !seen[s] {
			seen[s] = true
			*list = append(*list, s)
		}
	}
	for sc.Scan() {
		var p struct {
			ID         string `json:"id"`
			Identifier []struct {
				Value string `json:"value"`
			} `json:"identifier"`
			Name []struct {
				Family string   `json:"family"`
				Given  []string `json:"given"`
			} `json:"name"`
			Telecom []struct {
				Value string `json:"value"`
			} `json:"telecom"`
			Address []struct {
				Line []string `json:"line"`
				City string   `json:"city"`
			} `json:"address"`
		}
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		add(&exact, p.ID)
		for _, id := range p.Identifier {
			add(&exact, id.Value)
		}
		for _, n := range p.Name {
			add(&names, n.Family)
			for _, g := range n.Given {
				add(&names, g)
			}
		}
		for _, tc := range p.Telecom {
			add(&exact, tc.Value)
		}
		for _, a := range p.Address {
			for _, l := range a.Line {
				add(&exact, l)
			}
			add(&names, a.City)
		}
	}
	cf, err := os.Open(filepath.Join(dir, "crm", "contacts.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	r := csv.NewReader(cf)
	head, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"contact_id", "mrn", "email", "phone"} {
			add(&exact, rec[col[c]])
		}
		for _, c := range []string{"first_name", "last_name"} {
			add(&names, rec[col[c]])
		}
	}
	return exact, names
}

// words splits s into letter runs, for whole-word name matching.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' && r != '-' })
}

// needles finds which of many identifiers occur inside a value without
// comparing every pair: identifiers are indexed by their first four bytes.
type needles map[string][]string

func newNeedles(ids []string) needles {
	n := needles{}
	for _, id := range ids {
		if len(id) < 4 {
			panic("identifier shorter than 4 bytes: " + id)
		}
		n[id[:4]] = append(n[id[:4]], id)
	}
	return n
}

// in reports the first identifier that occurs in v.
func (n needles) in(v string) (string, bool) {
	for i := 0; i+4 <= len(v); i++ {
		for _, id := range n[v[i:i+4]] {
			if strings.HasPrefix(v[i:], id) {
				return id, true
			}
		}
	}
	return "", false
}
