package fhirpath

import (
	"strconv"
	"strings"
	"time"
)

// Date/time values keep the precision they were written with, so that
// comparisons across precisions can answer "unknown" (FHIRPath §6.1, §6.2).

type temporalKind uint8

const (
	kindDate temporalKind = iota + 1
	kindDateTime
	kindTime
)

// Precisions, coarsest first. Seconds and their fraction are one precision.
const (
	precYear = iota + 1
	precMonth
	precDay
	precHour
	precMinute
	precSecond
)

type temporal struct {
	kind  temporalKind
	prec  int // precYear … precSecond; a time starts at precHour
	year  int
	month int
	day   int
	hour  int
	min   int
	sec   int
	nanos int
	fracN int // digits of fraction written (0 = none)
	hasTZ bool
	zulu  bool
	tzMin int // offset east of UTC in minutes
}

func digits(s string, n int) (int, bool) {
	if len(s) < n {
		return 0, false
	}
	v := 0
	for i := 0; i < n; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseTemporal parses a FHIR date, dateTime, instant or time (or the body of
// a FHIRPath @ literal), deciding the kind from the shape: "T" prefix or
// hh:mm → time, a "T" after the date → dateTime, otherwise date.
func parseTemporal(s string) (temporal, bool) {
	var t temporal
	if strings.HasPrefix(s, "T") {
		return parseTime(s[1:])
	}
	if len(s) >= 3 && s[2] == ':' {
		return parseTime(s)
	}
	y, ok := digits(s, 4)
	if !ok {
		return t, false
	}
	t.kind, t.prec, t.year, t.month, t.day = kindDate, precYear, y, 1, 1
	s = s[4:]
	if strings.HasPrefix(s, "-") {
		m, ok := digits(s[1:], 2)
		if !ok || m < 1 || m > 12 {
			return t, false
		}
		t.prec, t.month = precMonth, m
		s = s[3:]
		if strings.HasPrefix(s, "-") {
			d, ok := digits(s[1:], 2)
			if !ok || d < 1 || d > daysIn(t.year, t.month) {
				return t, false
			}
			t.prec, t.day = precDay, d
			s = s[3:]
		}
	}
	if s == "" {
		return t, true
	}
	if s[0] != 'T' {
		return t, false
	}
	t.kind = kindDateTime
	s = s[1:]
	if s == "" {
		// FHIRPath allows @2015-02-04T (a dateTime to day precision).
		return t, true
	}
	if t.prec != precDay {
		return t, false
	}
	rest, ok := t.parseClock(s)
	if !ok {
		return t, false
	}
	return t, t.parseTZ(rest)
}

func parseTime(s string) (temporal, bool) {
	t := temporal{kind: kindTime}
	rest, ok := t.parseClock(s)
	if !ok || rest != "" {
		return t, false
	}
	return t, true
}

// parseClock reads hh[:mm[:ss[.fff]]] and returns the rest.
func (t *temporal) parseClock(s string) (string, bool) {
	h, ok := digits(s, 2)
	if !ok || h > 23 {
		return s, false
	}
	t.prec, t.hour = precHour, h
	s = s[2:]
	if !strings.HasPrefix(s, ":") {
		return s, true
	}
	m, ok := digits(s[1:], 2)
	if !ok || m > 59 {
		return s, false
	}
	t.prec, t.min = precMinute, m
	s = s[3:]
	if !strings.HasPrefix(s, ":") {
		return s, true
	}
	sec, ok := digits(s[1:], 2)
	if !ok || sec > 60 {
		return s, false
	}
	t.prec, t.sec = precSecond, sec
	s = s[3:]
	if strings.HasPrefix(s, ".") {
		n := 1
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n == 1 {
			return s, false
		}
		frac := s[1:n]
		t.fracN = len(frac)
		ns := 0
		for i := 0; i < 9; i++ {
			ns *= 10
			if i < len(frac) {
				ns += int(frac[i] - '0')
			}
		}
		t.nanos = ns
		s = s[n:]
	}
	return s, true
}

func (t *temporal) parseTZ(s string) bool {
	switch {
	case s == "":
		return true
	case s == "Z":
		t.hasTZ, t.zulu = true, true
		return true
	case len(s) == 6 && (s[0] == '+' || s[0] == '-') && s[3] == ':':
		h, ok1 := digits(s[1:], 2)
		m, ok2 := digits(s[4:], 2)
		if !ok1 || !ok2 || h > 14 || m > 59 {
			return false
		}
		t.hasTZ, t.tzMin = true, h*60+m
		if s[0] == '-' {
			t.tzMin = -t.tzMin
		}
		return true
	}
	return false
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// utc returns t shifted to UTC when it has an offset and a time of day.
func (t temporal) utc() temporal {
	if !t.hasTZ || t.tzMin == 0 || t.prec < precHour || t.kind != kindDateTime {
		return t
	}
	g := time.Date(t.year, time.Month(t.month), t.day, t.hour, t.min-t.tzMin, t.sec, 0, time.UTC)
	t.year, t.month, t.day = g.Year(), int(g.Month()), g.Day()
	t.hour, t.min = g.Hour(), g.Minute()
	t.tzMin = 0
	return t
}

// compareTemporal compares two date/time values. known is false when the
// result is unknown (different precisions that agree as far as both go);
// ok is false when the kinds cannot be compared (a time with a date).
func compareTemporal(a, b temporal) (cmp int, known, ok bool) {
	if (a.kind == kindTime) != (b.kind == kindTime) {
		return 0, false, false
	}
	a, b = a.utc(), b.utc()
	var ca, cb [6]int
	ca = [6]int{a.year, a.month, a.day, a.hour, a.min, a.sec*1e9 + a.nanos}
	cb = [6]int{b.year, b.month, b.day, b.hour, b.min, b.sec*1e9 + b.nanos}
	start := precYear
	if a.kind == kindTime {
		start = precHour
	}
	common := min(a.prec, b.prec)
	for p := start; p <= common; p++ {
		if ca[p-1] != cb[p-1] {
			if ca[p-1] < cb[p-1] {
				return -1, true, true
			}
			return 1, true, true
		}
	}
	if a.prec != b.prec {
		return 0, false, true
	}
	return 0, true, true
}

// boundary returns the low or high boundary of t at the given precision
// (number of digits, FHIRPath lowBoundary/highBoundary) or the default:
// milliseconds for times and dateTimes, days for dates. ok is false for an
// invalid precision.
func (t temporal) boundary(high bool, precision int) (string, bool) {
	if !high {
		if t.prec < precMonth {
			t.month = 1
		}
		if t.prec < precDay {
			t.day = 1
		}
		if t.prec < precHour {
			t.hour = 0
		}
		if t.prec < precMinute {
			t.min = 0
		}
		if t.prec < precSecond {
			t.sec, t.nanos = 0, 0
		}
	} else {
		if t.prec < precMonth {
			t.month = 12
		}
		if t.prec < precDay {
			t.day = daysIn(t.year, t.month)
		}
		if t.prec < precHour {
			t.hour = 23
		}
		if t.prec < precMinute {
			t.min = 59
		}
		if t.prec < precSecond {
			t.sec, t.nanos = 59, 999_000_000
		} else if t.fracN < 3 {
			// Unwritten fraction digits take their extreme value.
			scale := 1
			for i := t.fracN; i < 3; i++ {
				scale *= 10
			}
			t.nanos += (scale - 1) * 1_000_000
		}
	}
	if t.kind == kindDateTime && !t.hasTZ {
		t.hasTZ = true
		if high {
			t.tzMin = -12 * 60
		} else {
			t.tzMin = 14 * 60
		}
	}
	var b strings.Builder
	switch t.kind {
	case kindDate:
		if precision == 0 {
			precision = 8
		}
		switch precision {
		case 4:
			b.WriteString(pad(t.year, 4))
		case 6:
			b.WriteString(pad(t.year, 4) + "-" + pad(t.month, 2))
		case 8:
			b.WriteString(pad(t.year, 4) + "-" + pad(t.month, 2) + "-" + pad(t.day, 2))
		default:
			return "", false
		}
	case kindDateTime:
		if precision == 0 {
			precision = 17
		}
		parts := map[int]int{4: 1, 6: 2, 8: 3, 10: 4, 12: 5, 14: 6, 17: 7}
		n, ok := parts[precision]
		if !ok {
			return "", false
		}
		b.WriteString(pad(t.year, 4))
		if n >= 2 {
			b.WriteString("-" + pad(t.month, 2))
		}
		if n >= 3 {
			b.WriteString("-" + pad(t.day, 2))
		}
		if n >= 4 {
			b.WriteString("T" + pad(t.hour, 2))
		}
		if n >= 5 {
			b.WriteString(":" + pad(t.min, 2))
		}
		if n >= 6 {
			b.WriteString(":" + pad(t.sec, 2))
		}
		if n >= 7 {
			b.WriteString(fraction(t))
		}
		if n >= 4 {
			b.WriteString(tzString(t))
		}
	case kindTime:
		if precision == 0 {
			precision = 9
		}
		n, ok := map[int]int{2: 1, 4: 2, 6: 3, 9: 4}[precision]
		if !ok {
			return "", false
		}
		b.WriteString(pad(t.hour, 2))
		if n >= 2 {
			b.WriteString(":" + pad(t.min, 2))
		}
		if n >= 3 {
			b.WriteString(":" + pad(t.sec, 2))
		}
		if n >= 4 {
			b.WriteString(fraction(t))
		}
	}
	return b.String(), true
}

// fraction renders the fraction with at least millisecond digits, keeping
// finer digits that were written.
func fraction(t temporal) string {
	n := max(3, t.fracN)
	s := strconv.Itoa(t.nanos + 1_000_000_000)[1:]
	return "." + s[:min(n, 9)]
}

func tzString(t temporal) string {
	if t.zulu && t.tzMin == 0 {
		return "Z"
	}
	sign := "+"
	m := t.tzMin
	if m < 0 {
		sign, m = "-", -m
	}
	return sign + pad(m/60, 2) + ":" + pad(m%60, 2)
}

func pad(v, n int) string {
	s := strconv.Itoa(v)
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// typeName returns the FHIR type name of a parsed value.
func (t temporal) typeName() string {
	switch t.kind {
	case kindDate:
		return "date"
	case kindTime:
		return "time"
	}
	return "dateTime"
}
