package privacy

import (
	"bytes"
	"net/netip"
	"regexp"
	"strings"
)

// Kind is what a finding looks like: one of the pattern kinds below, or
// "source_id:<namespace>" for a vault id (SourceIDKind).
type Kind string

// Pattern kinds.
const (
	KindSSN    Kind = "ssn"            // 123-45-6789, 123 45 6789; 9 bare digits only in an SSN-named column
	KindPhone  Kind = "phone"          // NANP: (617) 555-0123, 617-555-0123, 617.555.0123, +1 617 555 0123, +16175550123
	KindEmail  Kind = "email"          // local@domain.tld
	KindMRN    Kind = "mrn"            // MRN followed by digits, and ScanOptions.MRNPatterns
	KindURL    Kind = "url"            // http://, https://, www.
	KindIP     Kind = "ip"             // IPv4 and IPv6 addresses (not loopback or unspecified)
	KindStreet Kind = "street_address" // a house number, a name, a street type: 12 Main St
)

// sourceIDPrefix starts the kind of a vault id found in a value.
const sourceIDPrefix = "source_id:"

// SourceIDKind returns the kind of a source id of namespace ns.
func SourceIDKind(ns string) Kind { return Kind(sourceIDPrefix + ns) }

// IsSourceID reports whether k is a source-id kind.
func (k Kind) IsSourceID() bool { return strings.HasPrefix(string(k), sourceIDPrefix) }

// The patterns. Go's regexp has no look-around, so each pattern finds
// candidates and Go code checks what surrounds them (isolated): a candidate
// that is part of a longer number, code or word is not an identifier (the
// "555-0123" inside an OID-like "1.617.555.0123.4" is not a phone).
var (
	ssnRe   = regexp.MustCompile(`(\d{3})[- ](\d{2})[- ](\d{4})`)
	phoneRe = regexp.MustCompile(`(\+1[ .-]?|1[ .-])?(\([2-9]\d{2}\) ?|[2-9]\d{2})([ .-]?)[2-9]\d{2}([ .-]?)\d{4}`)
	emailRe = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
	mrnRe   = regexp.MustCompile(`(?i)MRN[ :#.-]{0,3}\d{4,}`)
	urlRe   = regexp.MustCompile(`(?i)(?:https?://|www\.)[^\s"'<>]+`)
	ipv4Re  = regexp.MustCompile(`\d{1,3}(?:\.\d{1,3}){3}`)
	// A street address: house number (12, 12B, 12-14), optional
	// direction, one to three name words, a street type starting with a
	// capital (Title or UPPER case), so "take 2 pills each way" is not one.
	streetRe = regexp.MustCompile(`\d{1,6}[A-Za-z]?(?:-\d{1,5})? +(?:[NSEW]\.? +)?(?:[A-Za-z0-9][A-Za-z0-9'.-]* +){1,3}(?:` +
		streetTypes() + `)\b\.?`)
	// Column names that hold SSNs, where 9 bare digits count as one.
	ssnColumnRe = regexp.MustCompile(`(?i)(^|_)(ssn|social_?sec(urity)?(_?(no|num|number))?|tin|tax_?id)($|_)`)
)

// streetTypeWords are the USPS street suffixes recognised, Title case; their
// UPPER case forms count too.
var streetTypeWords = []string{
	"Street", "St", "Avenue", "Ave", "Av", "Road", "Rd", "Boulevard", "Blvd", "Lane", "Ln", "Drive", "Dr",
	"Court", "Ct", "Way", "Place", "Pl", "Terrace", "Ter", "Circle", "Cir", "Parkway", "Pkwy", "Highway", "Hwy",
	"Square", "Sq", "Trail", "Trl", "Alley", "Aly", "Plaza", "Plz", "Row", "Crescent", "Cres",
}

func streetTypes() string {
	var alts []string
	for _, w := range streetTypeWords {
		alts = append(alts, w)
		if u := strings.ToUpper(w); u != w {
			alts = append(alts, u)
		}
	}
	return strings.Join(alts, "|")
}

// profile is what one pass over a value learns, to skip the patterns that
// cannot match: most warehouse values are keys, codes and enums.
type profile struct {
	digits, dots, colons int
	at, space, sep       bool // sep: a hyphen, dot, space or parenthesis
	plus, upper          bool
}

func profileOf(v []byte) (p profile) {
	for _, c := range v {
		switch {
		case c >= '0' && c <= '9':
			p.digits++
		case c >= 'A' && c <= 'Z':
			p.upper = true
		case c == '.':
			p.dots++
			p.sep = true
		case c == ':':
			p.colons++
		case c == '@':
			p.at = true
		case c == ' ':
			p.space, p.sep = true, true
		case c == '-', c == '(', c == ')':
			p.sep = true
		case c == '+':
			p.plus = true
		}
	}
	return p
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// isolated reports whether v[s:e] stands alone: not glued to a letter or
// digit on either side, nor continuing a dotted or dashed number (an OID, a
// version, a longer code) with sep.
func isolated(v []byte, s, e int, seps string) bool {
	if s > 0 {
		c := v[s-1]
		if isAlnum(c) || c == '_' || strings.IndexByte(seps, c) >= 0 && s > 1 && isDigit(v[s-2]) {
			return false
		}
	}
	if e < len(v) {
		c := v[e]
		if isAlnum(c) || c == '_' || strings.IndexByte(seps, c) >= 0 && e+1 < len(v) && isDigit(v[e+1]) {
			return false
		}
	}
	return true
}

// detector finds the matches of one kind in v, calling emit with each.
type detector struct {
	kind Kind
	// want reports whether the value can hold a match at all.
	want func(p *profile) bool
	find func(v []byte, emit func(m []byte))
}

var patternDetectors = []detector{
	{KindSSN, func(p *profile) bool { return p.digits >= 9 && p.sep }, findSSN},
	{KindPhone, func(p *profile) bool { return p.digits >= 10 && (p.sep || p.plus) }, findPhone},
	{KindEmail, func(p *profile) bool { return p.at && p.dots > 0 }, findEmail},
	{KindMRN, func(p *profile) bool { return p.digits >= 4 }, findMRN},
	{KindURL, func(p *profile) bool { return p.dots > 0 || p.colons > 0 }, findURL},
	{KindIP, func(p *profile) bool { return p.dots >= 3 || p.colons >= 2 }, findIP},
	{KindStreet, func(p *profile) bool { return p.digits > 0 && p.space && p.upper }, findStreet},
}

func validSSN(area, group, serial []byte) bool {
	return string(area) != "000" && string(area) != "666" && string(group) != "00" && string(serial) != "0000"
}

func findSSN(v []byte, emit func([]byte)) {
	for _, m := range ssnRe.FindAllSubmatchIndex(v, -1) {
		if !isolated(v, m[0], m[1], "-. ") {
			continue
		}
		// both separators alike: 123-45-6789 or 123 45 6789
		if v[m[3]] != v[m[5]] {
			continue
		}
		if validSSN(v[m[2]:m[3]], v[m[4]:m[5]], v[m[6]:m[7]]) {
			emit(v[m[0]:m[1]])
		}
	}
}

// bareSSN reports whether v, a value of an SSN-named column, is 9 digits
// forming a valid SSN.
func bareSSN(v []byte) bool {
	v = bytes.TrimSpace(v)
	if len(v) != 9 {
		return false
	}
	for _, c := range v {
		if !isDigit(c) {
			return false
		}
	}
	return validSSN(v[:3], v[3:5], v[5:])
}

func findPhone(v []byte, emit func([]byte)) {
	for _, m := range phoneRe.FindAllSubmatchIndex(v, -1) {
		if !isolated(v, m[0], m[1], "-.") {
			continue
		}
		plus := m[2] >= 0 && v[m[2]] == '+'
		paren := v[m[4]] == '('
		// Without +1 or parentheses, both groups must be separated: a bare
		// 10-digit run is any number (an NPI, a count), not a phone.
		if !plus && !paren && (m[6] == m[7] || m[8] == m[9]) {
			continue
		}
		emit(v[m[0]:m[1]])
	}
}

func findEmail(v []byte, emit func([]byte)) {
	for _, m := range emailRe.FindAllIndex(v, -1) {
		emit(v[m[0]:m[1]])
	}
}

func findMRN(v []byte, emit func([]byte)) {
	if !containsFold(v, "mrn") {
		return
	}
	for _, m := range mrnRe.FindAllIndex(v, -1) {
		if m[0] > 0 && isAlnum(v[m[0]-1]) || m[1] < len(v) && isDigit(v[m[1]]) {
			continue
		}
		emit(v[m[0]:m[1]])
	}
}

func findURL(v []byte, emit func([]byte)) {
	if !containsFold(v, "http") && !containsFold(v, "www.") {
		return
	}
	for _, m := range urlRe.FindAllIndex(v, -1) {
		if m[0] > 0 && isAlnum(v[m[0]-1]) {
			continue
		}
		u := bytes.TrimRight(v[m[0]:m[1]], ".,;:!?)]}")
		emit(u)
	}
}

func findIP(v []byte, emit func([]byte)) {
	for _, m := range ipv4Re.FindAllIndex(v, -1) {
		if !isolated(v, m[0], m[1], ".") {
			continue
		}
		if a, err := netip.ParseAddr(string(v[m[0]:m[1]])); err == nil && reportableIP(a) {
			emit(v[m[0]:m[1]])
		}
	}
	if bytes.Count(v, []byte{':'}) < 2 {
		return
	}
	// IPv6: maximal runs of hex digits, colons and dots (an embedded IPv4)
	// standing alone, that parse as an IPv6 address with at least two
	// groups and a decimal digit ("a::b" in prose is not one).
	isV6 := func(c byte) bool {
		return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.'
	}
	for i := 0; i < len(v); {
		if !isV6(v[i]) {
			i++
			continue
		}
		j := i
		for j < len(v) && isV6(v[j]) {
			j++
		}
		run := bytes.TrimRight(v[i:j], ".:")
		if bytes.Count(run, []byte{':'}) >= 2 && (i == 0 || !isAlnum(v[i-1]) && v[i-1] != '_') &&
			(j == len(v) || !isAlnum(v[j]) && v[j] != '_') {
			if a, err := netip.ParseAddr(string(run)); err == nil && a.Is6() && reportableIP(a) && v6Groups(run) >= 2 && bytes.ContainsAny(run, "0123456789") {
				emit(run)
			}
		}
		i = j
	}
}

// reportableIP excludes the loopback and unspecified addresses, which name
// no one (an error "dial tcp 127.0.0.1:5432").
func reportableIP(a netip.Addr) bool { return !a.IsLoopback() && !a.IsUnspecified() }

func v6Groups(s []byte) int {
	n := 0
	for _, g := range bytes.Split(s, []byte{':'}) {
		if len(g) > 0 {
			n++
		}
	}
	return n
}

func findStreet(v []byte, emit func([]byte)) {
	for _, m := range streetRe.FindAllIndex(v, -1) {
		if m[0] > 0 && (isAlnum(v[m[0]-1]) || v[m[0]-1] == '.' || v[m[0]-1] == '-') {
			continue
		}
		emit(v[m[0]:m[1]])
	}
}

// containsFold reports whether v contains the lowercase ASCII word w in any
// case.
func containsFold(v []byte, w string) bool {
	n := len(w)
	for i := 0; i+n <= len(v); i++ {
		if fold[v[i]] != w[0] {
			continue
		}
		k := 1
		for k < n && fold[v[i+k]] == w[k] {
			k++
		}
		if k == n {
			return true
		}
	}
	return false
}

// fold maps ASCII upper case to lower case and every other byte to itself.
var fold = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if i >= 'A' && i <= 'Z' {
			t[i] = byte(i - 'A' + 'a')
		}
	}
	return t
}()
