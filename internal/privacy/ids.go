package privacy

import (
	"cmp"
	"slices"
	"strings"
)

// DefaultMinIDLen is the shortest source id looked for unless
// ScanOptions.MinIDLen says otherwise: shorter ids ("42", "A17") occur by
// chance in counts, codes and keys.
const DefaultMinIDLen = 6

// idSet finds source ids in values: an Aho–Corasick automaton over the ids,
// ASCII letters folded to lower case, so one pass over a value finds every
// id it holds whatever the number of ids.
//
// Layout: nodes are numbered in breadth-first order, so the children of
// node u are the consecutive nodes first[u] .. first[u+1]-1, their labels
// sorted. A node costs 13 bytes (first, label, fail, out). The shallow nodes
// (depth ≤ denseDepth, at most maxDense of them), where random ids branch
// most, also have a dense row of 256 transitions with the fail links
// resolved, so matching there is one load per byte. 200,000 vault-like ids
// (a quarter UUIDs) make about 1.9 M nodes (25 MB); 200,000 UUIDs about
// 6.5 M (85 MB).
type idSet struct {
	root   [256]int32
	dense  []int32 // rows of 256 for nodes 0 .. nDense-1
	nDense int32
	first  []int32 // len = nodes+1
	label  []byte
	fail   []int32
	// out is the node itself when a pattern ends there, else the nearest
	// such node on its fail chain; 0 = none.
	out  []int32
	term map[int32]int32 // node -> pattern index
	pats []idPattern
	ns   []string // namespaces, sorted
}

type idPattern struct {
	n      int      // length in bytes
	ns     []uint16 // namespaces (indexes into idSet.ns) holding this id
	bLeft  bool     // the id starts with a letter or digit: a match must not follow one
	bRight bool     // the id ends with a letter or digit: a match must not precede one
}

// idStats say what was loaded into an idSet.
type idStats struct {
	Checked, TooShort int
	Namespaces        []string
}

const (
	denseDepth = 3
	maxDense   = 1 << 14 // 16 MB of dense rows at most
)

// buildIDSet builds the automaton of every id of at least minLen bytes that
// each yields. An id of the FHIR token form system|value is also looked for
// by its value alone.
func buildIDSet(each func(yield func(ns, id string) bool), minLen int) (*idSet, idStats) {
	type pair struct {
		id string
		ns string
	}
	var (
		pairs []pair
		st    idStats
		nsIdx = map[string]bool{}
	)
	if each != nil {
		each(func(ns, id string) bool {
			if len(id) < minLen {
				st.TooShort++
				return true
			}
			st.Checked++
			nsIdx[ns] = true
			folded := foldString(id)
			pairs = append(pairs, pair{folded, ns})
			if i := strings.LastIndexByte(folded, '|'); i >= 0 && len(folded)-i-1 >= minLen {
				pairs = append(pairs, pair{folded[i+1:], ns})
			}
			return true
		})
	}
	s := &idSet{term: map[int32]int32{}}
	for ns := range nsIdx {
		s.ns = append(s.ns, ns)
	}
	slices.Sort(s.ns)
	st.Namespaces = s.ns
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := cmp.Compare(a.id, b.id); c != 0 {
			return c
		}
		return cmp.Compare(a.ns, b.ns)
	})
	// unique ids, each with its namespaces
	var ids []string
	for i := 0; i < len(pairs); {
		j := i
		p := idPattern{n: len(pairs[i].id)}
		for ; j < len(pairs) && pairs[j].id == pairs[i].id; j++ {
			k, _ := slices.BinarySearch(s.ns, pairs[j].ns)
			if len(p.ns) == 0 || p.ns[len(p.ns)-1] != uint16(k) {
				p.ns = append(p.ns, uint16(k))
			}
		}
		id := pairs[i].id
		p.bLeft, p.bRight = isAlnum(id[0]), isAlnum(id[len(id)-1])
		ids = append(ids, id)
		s.pats = append(s.pats, p)
		i = j
	}
	pairs = nil
	s.build(ids)
	return s, st
}

func foldString(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = fold[b[j]]
			}
			return string(b)
		}
	}
	return s
}

// build lays out the trie of the sorted unique ids breadth first, then the
// fail and output links.
func (s *idSet) build(ids []string) {
	// lo, hi: the ids under a node (sharing its prefix); depth: its length.
	type span struct{ lo, hi, depth int32 }
	spans := []span{{0, int32(len(ids)), 0}}
	s.label = []byte{0}
	for u := 0; u < len(spans); u++ {
		s.first = append(s.first, int32(len(spans)))
		sp := spans[u]
		if sp.depth <= denseDepth && u < maxDense {
			s.nDense = int32(u) + 1
		}
		j, d := sp.lo, int(sp.depth)
		if j < sp.hi && len(ids[j]) == d {
			s.term[int32(u)] = j
			j++
		}
		for j < sp.hi {
			c := ids[j][d]
			k := j + 1
			for k < sp.hi && ids[k][d] == c {
				k++
			}
			spans = append(spans, span{j, k, sp.depth + 1})
			s.label = append(s.label, c)
			j = k
		}
	}
	n := len(spans)
	s.first = append(s.first, int32(n))
	spans = nil
	for v := s.first[0]; v < s.first[1]; v++ {
		s.root[s.label[v]] = v
	}
	s.fail = make([]int32, n)
	s.out = make([]int32, n)
	for u := int32(0); u < int32(n); u++ {
		for v := s.first[u]; v < s.first[u+1]; v++ {
			if u != 0 {
				c := s.label[v]
				f := s.fail[u]
				for {
					if g := s.next(f, c); g != 0 {
						s.fail[v] = g
						break
					}
					if f == 0 {
						break
					}
					f = s.fail[f]
				}
			}
			if _, ok := s.term[v]; ok {
				s.out[v] = v
			} else {
				s.out[v] = s.out[s.fail[v]]
			}
		}
	}
	// Dense rows: u's child on c, else the transition of u's fail node
	// (shallower, so its row is done).
	s.dense = make([]int32, int(s.nDense)<<8)
	for u := int32(0); u < s.nDense; u++ {
		row := s.dense[int(u)<<8 : int(u+1)<<8]
		for c := range 256 {
			switch g := s.next(u, byte(c)); {
			case g != 0:
				row[c] = g
			case u != 0:
				row[c] = s.dense[int(s.fail[u])<<8|c]
			}
		}
	}
}

// next returns u's child labelled c, 0 when there is none.
func (s *idSet) next(u int32, c byte) int32 {
	if u == 0 {
		return s.root[c]
	}
	lo, hi := s.first[u], s.first[u+1]
	if hi-lo <= 8 {
		for v := lo; v < hi; v++ {
			if s.label[v] == c {
				return v
			}
		}
		return 0
	}
	for lo < hi {
		m := int32(uint32(lo+hi) >> 1)
		switch l := s.label[m]; {
		case l == c:
			return m
		case l < c:
			lo = m + 1
		default:
			hi = m
		}
	}
	return 0
}

// empty reports whether the set holds no id.
func (s *idSet) empty() bool { return len(s.pats) == 0 }

// find calls fn with each id (pattern index) found in v and where it ends,
// leaving out matches glued to a letter or digit on a side where the id has
// one: "123456" is not found in "ab123456cd" (a hex key), nor "C1234567" in
// "XC1234567".
func (s *idSet) find(v []byte, fn func(pat int32, start, end int)) {
	if len(s.pats) == 0 {
		return
	}
	st := int32(0)
	for i := 0; i < len(v); i++ {
		c := fold[v[i]]
		for {
			if st < s.nDense {
				st = s.dense[int(st)<<8|int(c)]
				break
			}
			if nx := s.next(st, c); nx != 0 {
				st = nx
				break
			}
			st = s.fail[st]
		}
		for o := s.out[st]; o != 0; o = s.out[s.fail[o]] {
			p := s.term[o]
			pat := &s.pats[p]
			start, end := i+1-pat.n, i+1
			if pat.bLeft && start > 0 && isAlnum(v[start-1]) || pat.bRight && end < len(v) && isAlnum(v[end]) {
				continue
			}
			fn(p, start, end)
		}
	}
}
