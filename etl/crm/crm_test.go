package crm

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestReaderHeaderAndRecords(t *testing.T) {
	in := "\ufeffContact_ID , MRN,extra\nC1,MRN1,x\n\"C,2\",\"MRN\"\"2\",y\nC3,short\nC4,\"unterminated\n"
	rd, err := NewReader(strings.NewReader(in), []string{"contact_id", "mrn"})
	if err != nil {
		t.Fatal(err)
	}
	r, line, err := rd.Next()
	if err != nil || line != 2 || r.Get("contact_id") != "C1" || r.Get("mrn") != "MRN1" || r.Get("absent") != "" {
		t.Fatalf("record 1: %v line %d %q", err, line, r.Get("contact_id"))
	}
	r, line, err = rd.Next()
	if err != nil || line != 3 || r.Get("contact_id") != "C,2" || r.Get("mrn") != `MRN"2` {
		t.Fatalf("record 2: %v line %d %q %q", err, line, r.Get("contact_id"), r.Get("mrn"))
	}
	if _, line, err = rd.Next(); !errors.Is(err, ErrShortRecord) || line != 4 {
		t.Fatalf("short record: %v line %d", err, line)
	}
	if _, line, err = rd.Next(); err == nil || errors.Is(err, ErrShortRecord) || line != 5 {
		t.Fatalf("broken quoting: %v line %d", err, line)
	}
	if _, _, err = rd.Next(); err != io.EOF {
		t.Fatalf("after the last record: %v", err)
	}
}

func TestReaderMissingColumns(t *testing.T) {
	_, err := NewReader(strings.NewReader("contact_id,first_name\n"), []string{"contact_id", "mrn", "sent_at"})
	if err == nil || !strings.Contains(err.Error(), "mrn, sent_at") {
		t.Fatalf("missing columns: %v", err)
	}
	if _, err := NewReader(strings.NewReader(""), nil); err == nil {
		t.Fatal("empty file accepted")
	}
}

func TestParseTime(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"2025-03-04T09:15:00Z", "2025-03-04T09:15:00Z"},
		{"2025-03-04T09:15:00-05:00", "2025-03-04T14:15:00Z"},
		{"2025-03-04 09:15:00", "2025-03-04T09:15:00Z"},
		{"", ""},
		{"04/03/2025", "err"},
		{"2025-03-04", "err"},
	} {
		got, err := ParseTime(c.in)
		switch {
		case c.want == "err":
			if err == nil {
				t.Errorf("ParseTime(%q) accepted", c.in)
			}
		case err != nil:
			t.Errorf("ParseTime(%q): %v", c.in, err)
		case c.want == "" && !got.IsZero(), c.want != "" && got.Format(time.RFC3339) != c.want:
			t.Errorf("ParseTime(%q) = %v, want %s", c.in, got, c.want)
		}
	}
}
