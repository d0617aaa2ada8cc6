package synth

import (
	"encoding/csv"
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCivilMatchesTime(t *testing.T) {
	for d := int64(-40_000); d < 120_000; d += 13 {
		y, m, dd := civil(d)
		want := time.Unix(d*86400, 0).UTC()
		if y != want.Year() || m != int(want.Month()) || dd != want.Day() {
			t.Fatalf("civil(%d) = %d-%d-%d, want %s", d, y, m, dd, want.Format(time.DateOnly))
		}
		if back := daysFromCivil(y, m, dd); back != d {
			t.Fatalf("daysFromCivil(civil(%d)) = %d", d, back)
		}
	}
}

func TestAppendTSMatchesRFC3339(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 10_000 {
		ts := r.Int64N(4_000_000_000) - 1_000_000_000
		want := time.Unix(ts, 0).UTC().Format(time.RFC3339)
		if got := string(appendTS(nil, ts)); got != want {
			t.Fatalf("appendTS(%d) = %s, want %s", ts, got, want)
		}
		if got := string(appendDate(nil, ts)); got != want[:10] {
			t.Fatalf("appendDate(%d) = %s, want %s", ts, got, want[:10])
		}
	}
}

func TestAppendQuotedRoundTrips(t *testing.T) {
	tests := []string{"", "plain", `say "hi"`, `back\slash`, "tab\tnew\nline", "ctl\x01", "Zoë Müller", "O'Brien & Co <b>"}
	for _, s := range tests {
		var got string
		if err := json.Unmarshal(appendQuoted(nil, s), &got); err != nil || got != s {
			t.Errorf("appendQuoted(%q) decodes to %q, %v", s, got, err)
		}
	}
}

func TestAppendCSVRoundTrips(t *testing.T) {
	tests := []string{"", "plain", "a,b", `say "hi"`, " lead", "trail ", "multi\nline", "Zoë"}
	for _, s := range tests {
		line := append(appendCSV(nil, s), ",x\n"...)
		rec, err := csv.NewReader(strings.NewReader(string(line))).Read()
		if err != nil || len(rec) != 2 || rec[0] != s {
			t.Errorf("appendCSV(%q) reads back as %q, %v", s, rec, err)
		}
	}
}

func TestAppendUUIDShape(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	r := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		if u := appendUUID(nil, r.Uint64(), r.Uint64()); !re.Match(u) {
			t.Fatalf("bad uuid %s", u)
		}
	}
}

// Identifiers derived from the patient index never collide and never cross
// between patients and unmatched contacts.
func TestIndexIdentifiersUnique(t *testing.T) {
	const n = 300_000
	mrn := make(map[int64]bool, 2*n)
	contact := make(map[int64]bool, n)
	for i := range n {
		for _, v := range []int64{mrnNumber(i), unmatchedMRN(i)} {
			if mrn[v] || v < 10_000_000 || v > 99_999_999 {
				t.Fatalf("MRN number %d (patient %d) repeated or out of range", v, i)
			}
			mrn[v] = true
		}
		if c := contactNumber(i); contact[c] || c > 99_999_999 {
			t.Fatalf("contact number %d repeated", c)
		} else {
			contact[c] = true
		}
	}
	for _, i := range []int{0, 1, MaxPatients - 1} {
		if mrnNumber(i) >= 90_000_000 || unmatchedMRN(i) < 90_000_000 {
			t.Errorf("patient %d: MRN ranges overlap", i)
		}
	}
}
