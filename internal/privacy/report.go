package privacy

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"
)

// Report is the outcome of a Scan. It holds counts and redacted examples
// only, so it may be printed, logged and stored.
type Report struct {
	Tables  int `json:"tables"`
	Columns int `json:"columns"` // columns scanned
	// Skipped counts the date, time and boolean columns, not scanned: their
	// text forms are fixed formats that hold none of the kinds.
	Skipped int `json:"columns_skipped"`
	// Values counts the distinct values scanned, per column; Rows the
	// non-NULL cells they stand for.
	Values    int64          `json:"values"`
	Rows      int64          `json:"rows"`
	SourceIDs SourceIDReport `json:"source_ids"`
	// Findings are ordered by table, column, kind, failures before allowed.
	Findings []Finding `json:"findings"`
}

// SourceIDReport says which vault ids were looked for.
type SourceIDReport struct {
	// Checked counts the ids looked for; TooShort those ignored for being
	// shorter than MinLen bytes (they occur by chance in codes and counts).
	Checked    int      `json:"checked"`
	TooShort   int      `json:"too_short"`
	MinLen     int      `json:"min_len"`
	Namespaces []string `json:"namespaces"`
}

// Finding is one kind of identifier found in one column.
type Finding struct {
	Table  string `json:"table"`
	Column string `json:"column"`
	Kind   Kind   `json:"kind"`
	// Count is the number of rows whose value holds the kind; Values the
	// number of distinct such values.
	Count  int64 `json:"count"`
	Values int64 `json:"values"`
	// Example is one match (the smallest, so reports are reproducible) with
	// every letter and digit masked but the first and the last.
	Example string `json:"example"`
	// Allowed: an allow rule covers every match counted here (Reason says
	// why); an allowed finding does not make the report unclean.
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason,omitempty"`
}

// Clean reports whether the scan found nothing that is not allowed.
func (r *Report) Clean() bool {
	for _, f := range r.Findings {
		if !f.Allowed {
			return false
		}
	}
	return true
}

// Failures returns the findings that are not allowed.
func (r *Report) Failures() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if !f.Allowed {
			out = append(out, f)
		}
	}
	return out
}

// MarshalJSON encodes the report with "clean" added.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	p := plain(r)
	if p.Findings == nil {
		p.Findings = []Finding{}
	}
	return json.Marshal(struct {
		Clean bool `json:"clean"`
		plain
	}{r.Clean(), p})
}

// WriteText writes the report for people: a summary line, the source-id
// rule, then the failures and the allowed findings as tables.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "scanned %d tables, %d columns (%d date/time/boolean columns skipped), %d distinct values in %d rows\n",
		r.Tables, r.Columns, r.Skipped, r.Values, r.Rows)
	s := r.SourceIDs
	fmt.Fprintf(&b, "source ids: %d looked for", s.Checked)
	if len(s.Namespaces) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(s.Namespaces, ", "))
	}
	fmt.Fprintf(&b, "; %d shorter than %d characters ignored\n", s.TooShort, s.MinLen)
	fails := r.Failures()
	if len(fails) == 0 {
		b.WriteString("CLEAN: no identifier found outside allowed columns\n")
	} else {
		fmt.Fprintf(&b, "FAIL: %d findings\n", len(fails))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	table := func(title string, allowed bool) error {
		var rows []Finding
		for _, f := range r.Findings {
			if f.Allowed == allowed {
				rows = append(rows, f)
			}
		}
		if len(rows) == 0 {
			return nil
		}
		if _, err := fmt.Fprintf(w, "\n%s\n", title); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		head := "COLUMN\tKIND\tROWS\tVALUES\tEXAMPLE"
		if allowed {
			head += "\tREASON"
		}
		fmt.Fprintln(tw, head)
		for _, f := range rows {
			line := fmt.Sprintf("%s.%s\t%s\t%d\t%d\t%s", f.Table, f.Column, f.Kind, f.Count, f.Values, f.Example)
			if allowed {
				line += "\t" + f.Reason
			}
			fmt.Fprintln(tw, line)
		}
		return tw.Flush()
	}
	if err := table("findings:", false); err != nil {
		return err
	}
	return table("allowed (not failures):", true)
}

func sortFindings(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Table, b.Table), cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.Kind, b.Kind), compareBool(a.Allowed, b.Allowed))
	})
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// maxExample caps an example's length in runes; longer ones keep their
// start and end around an ellipsis.
const maxExample = 48

// redact masks every letter and digit of s but the first and the last one
// (all of them when s has four or fewer), keeps punctuation and spaces so
// the shape shows ("9**-**-***7", "c*****.*****@******.*******"), turns
// control characters into spaces and caps the length.
func redact(s string) string {
	alnum := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			alnum++
		}
	}
	out := make([]rune, 0, utf8.RuneCountInString(s))
	k := 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			k++
			if alnum > 4 && (k == 1 || k == alnum) {
				out = append(out, r)
			} else {
				out = append(out, '*')
			}
		case unicode.IsControl(r) || unicode.IsSpace(r):
			out = append(out, ' ')
		default:
			out = append(out, r)
		}
	}
	if len(out) > maxExample {
		h := (maxExample - 1) / 2
		out = append(append(out[:h:h], '…'), out[len(out)-(maxExample-1-h):]...)
	}
	return string(out)
}
