package fhirreport

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// partialDate is a FHIR date of year, month or day precision.
var partialDate = regexp.MustCompile(`^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$`)

// parseDate reads a FHIR date of any precision as its first day, or as its
// last when end is set ("2025" ends on 2025-12-31, "2025-02" on
// 2025-02-28).
func parseDate(s string, end bool) (time.Time, error) {
	m := partialDate.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("%q is not a date: want YYYY, YYYY-MM or YYYY-MM-DD", s)
	}
	y, _ := strconv.Atoi(m[1])
	if y < 1 {
		return time.Time{}, fmt.Errorf("%q: year 0000", s)
	}
	switch {
	case m[3] != "":
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not a date: %v", s, err)
		}
		return t, nil
	case m[2] != "":
		mo, _ := strconv.Atoi(m[2])
		if mo < 1 || mo > 12 {
			return time.Time{}, fmt.Errorf("%q: month %s", s, m[2])
		}
		t := time.Date(y, time.Month(mo), 1, 0, 0, 0, 0, time.UTC)
		if end {
			t = t.AddDate(0, 1, -1)
		}
		return t, nil
	}
	t := time.Date(y, time.January, 1, 0, 0, 0, 0, time.UTC)
	if end {
		t = time.Date(y, time.December, 31, 0, 0, 0, 0, time.UTC)
	}
	return t, nil
}

// ParsePeriod reads a measurement period: a date of year, month or day
// precision ("2025" is the calendar year 2025), or an ISO 8601 interval
// "START/END" of such dates, END included ("2025-01-01/2025-12-31",
// "2025-01/2025-06"). Errors are of kind metrics.ErrInvalid.
func ParsePeriod(s string) (from, to time.Time, err error) {
	start, end, interval := strings.Cut(strings.TrimSpace(s), "/")
	if !interval {
		end = start
	}
	return ParseBounds(start, end)
}

// ParseBounds reads a measurement period given as its start and end, as the
// $evaluate-measure operation's periodStart and periodEnd: dates of year,
// month or day precision, end included (a partial end stands for its last
// day). Errors are of kind metrics.ErrInvalid.
func ParseBounds(start, end string) (from, to time.Time, err error) {
	if from, err = parseDate(start, false); err != nil {
		return from, to, invalidf("period start: %v", err)
	}
	if to, err = parseDate(end, true); err != nil {
		return from, to, invalidf("period end: %v", err)
	}
	if from.After(to) {
		return from, to, invalidf("period start %s is after its end %s", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	return from, to, nil
}
