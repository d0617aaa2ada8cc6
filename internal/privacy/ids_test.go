package privacy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func idsOf(pairs ...string) func(yield func(ns, id string) bool) {
	return func(yield func(ns, id string) bool) {
		for i := 0; i+1 < len(pairs); i += 2 {
			if !yield(pairs[i], pairs[i+1]) {
				return
			}
		}
	}
}

// found returns "ns=match" for each id found in v.
func found(s *idSet, v string) []string {
	var out []string
	s.find([]byte(v), func(p int32, start, end int) {
		for _, ns := range s.pats[p].ns {
			out = append(out, s.ns[ns]+"="+v[start:end])
		}
	})
	slices.Sort(out)
	return out
}

func TestIDSetFinds(t *testing.T) {
	s, st := buildIDSet(idsOf(
		"ehr:patient", "1b4e28ba-2fa1-41d2-883f-0016d3cca427",
		"ehr:mrn", "urn:oid:2.16.840.1.113883.19.5|MRN00012345",
		"ehr:mrn-value", "MRN00012345",
		"crm:contact", "C12345678",
		"crm:contact", "123456",
		"crm:contact", "42", // too short
		"crm:contact", "A17",
		"ehr:patient", "-dash-id-",
	), DefaultMinIDLen)
	if st.Checked != 6 || st.TooShort != 2 || !slices.Equal(st.Namespaces, []string{"crm:contact", "ehr:mrn", "ehr:mrn-value", "ehr:patient"}) {
		t.Fatalf("stats %+v", st)
	}
	cases := []struct {
		value string
		want  []string
	}{
		{"1b4e28ba-2fa1-41d2-883f-0016d3cca427", []string{"ehr:patient=1b4e28ba-2fa1-41d2-883f-0016d3cca427"}},
		{"Patient/1B4E28BA-2FA1-41D2-883F-0016D3CCA427/_history/2", []string{"ehr:patient=1B4E28BA-2FA1-41D2-883F-0016D3CCA427"}},
		{"MRN00012345", []string{"ehr:mrn-value=MRN00012345", "ehr:mrn=MRN00012345"}},
		{"urn:oid:2.16.840.1.113883.19.5|MRN00012345", []string{"ehr:mrn-value=MRN00012345", "ehr:mrn=MRN00012345",
			"ehr:mrn=urn:oid:2.16.840.1.113883.19.5|MRN00012345"}},
		{"contact C12345678 replied", []string{"crm:contact=C12345678"}},
		{"c12345678", []string{"crm:contact=c12345678"}},
		{"XC12345678", nil},                            // glued on the left
		{"C123456789", nil},                            // glued on the right
		{"ab123456cd", nil},                            // a digit run inside a hex key
		{"3a551f0c123456e99707fc", nil},                // likewise
		{"id=123456;", []string{"crm:contact=123456"}}, // a token
		{"123456", []string{"crm:contact=123456"}},
		{"x-dash-id-y", []string{"ehr:patient=-dash-id-"}}, // an id ending in punctuation needs no boundary
		{"42", nil},
		{"A17", nil},
		{"", nil},
	}
	for _, c := range cases {
		if got := found(s, c.value); !slices.Equal(got, c.want) {
			t.Errorf("%q: found %q, want %q", c.value, got, c.want)
		}
	}
}

// naiveFind is the reference: every occurrence of every id (folded), with
// the same boundary rule.
func naiveFind(ids []string, v string) []string {
	lv := strings.ToLower(v)
	var out []string
	for _, id := range ids {
		lid := strings.ToLower(id)
		for off := 0; ; {
			i := strings.Index(lv[off:], lid)
			if i < 0 {
				break
			}
			start, end := off+i, off+i+len(lid)
			if !(isAlnum(lid[0]) && start > 0 && isAlnum(v[start-1]) || isAlnum(lid[len(lid)-1]) && end < len(v) && isAlnum(v[end])) {
				out = append(out, fmt.Sprintf("%d:%d", start, end))
			}
			off = start + 1
		}
	}
	slices.Sort(out)
	return out
}

// TestIDSetMatchesNaive: on random ids over a small alphabet (so ids
// overlap, nest and share prefixes and suffixes) and random values, the
// automaton finds exactly what a naive search finds.
func TestIDSetMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const alpha = "abAB01-. "
	word := func(lo, hi int) string {
		b := make([]byte, lo+r.IntN(hi-lo+1))
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		return string(b)
	}
	for round := 0; round < 50; round++ {
		var ids []string
		seen := map[string]bool{}
		for range 1 + r.IntN(40) {
			id := word(2, 7)
			if !seen[strings.ToLower(id)] && !strings.Contains(id, "|") {
				seen[strings.ToLower(id)] = true
				ids = append(ids, id)
			}
		}
		pairs := make([]string, 0, 2*len(ids))
		for _, id := range ids {
			pairs = append(pairs, "ns", id)
		}
		s, _ := buildIDSet(idsOf(pairs...), 1)
		for range 200 {
			v := word(0, 30)
			var got []string
			s.find([]byte(v), func(p int32, start, end int) { got = append(got, fmt.Sprintf("%d:%d", start, end)) })
			slices.Sort(got)
			if want := naiveFind(ids, v); !slices.Equal(got, want) {
				t.Fatalf("ids %q, value %q: found %v, want %v", ids, v, got, want)
			}
		}
	}
}
