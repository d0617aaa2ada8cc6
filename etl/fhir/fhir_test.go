package fhir

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseDateTime(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // RFC3339 UTC, "" = zero, "err"
	}{
		{"", ""},
		{"2025", "2025-01-01T00:00:00Z"},
		{"2025-03", "2025-03-01T00:00:00Z"},
		{"2025-03-04", "2025-03-04T00:00:00Z"},
		{"2025-03-04T09:15:00Z", "2025-03-04T09:15:00Z"},
		{"2025-03-04T09:15:00.123+02:00", "2025-03-04T07:15:00.123Z"},
		{"2025-03-04T23:30:00-05:00", "2025-03-05T04:30:00Z"},
		{"2025-02-30", "err"},
		{"04/03/2025", "err"},
		{"2025-3-4", "err"},
	} {
		got, err := ParseDateTime(c.in)
		switch {
		case c.want == "err":
			if err == nil {
				t.Errorf("ParseDateTime(%q) = %v, want error", c.in, got)
			}
		case err != nil:
			t.Errorf("ParseDateTime(%q): %v", c.in, err)
		case c.want == "" && !got.IsZero():
			t.Errorf("ParseDateTime(%q) = %v, want zero", c.in, got)
		case c.want != "" && got.Format(time.RFC3339Nano) != c.want:
			t.Errorf("ParseDateTime(%q) = %s, want %s", c.in, got.Format(time.RFC3339Nano), c.want)
		}
	}
}

func readAll(t *testing.T, lr *LineReader) (lines []string, nums []int64, errs []int64) {
	t.Helper()
	for {
		b, n, err := lr.Next()
		if err == io.EOF {
			return
		}
		if errors.Is(err, ErrLineTooLong) {
			errs = append(errs, n)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(b))
		nums = append(nums, n)
	}
}

func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", 3<<20) // longer than the bufio buffer, shorter than MaxLine
	in := "{\"a\":1}\r\n\n  \n{\"b\":2}\n" + long + "\n{\"c\":3}"
	lines, nums, _ := readAll(t, NewLineReader(strings.NewReader(in), nil))
	if len(lines) != 4 || lines[0] != `{"a":1}` || lines[1] != `{"b":2}` || len(lines[2]) != len(long) || lines[3] != `{"c":3}` {
		t.Fatalf("lines = %d: %.20q", len(lines), lines)
	}
	if want := []int64{1, 4, 5, 6}; len(nums) != 4 || nums[0] != want[0] || nums[1] != want[1] || nums[2] != want[2] || nums[3] != want[3] {
		t.Fatalf("line numbers %v, want %v", nums, want)
	}
}

func TestLineReaderTooLong(t *testing.T) {
	in := "{\"a\":1}\n" + strings.Repeat("y", MaxLine+10) + "\n{\"c\":3}\n"
	lines, nums, errs := readAll(t, NewLineReader(strings.NewReader(in), nil))
	if len(lines) != 2 || nums[1] != 3 || len(errs) != 1 || errs[0] != 2 {
		t.Fatalf("lines %v nums %v too-long at %v", lines, nums, errs)
	}
}

func TestOpenNDJSONGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("{\"resourceType\":\"Patient\",\"id\":\"1\"}\n{\"resourceType\":\"Patient\",\"id\":\"2\"}\n"))
	zw.Close()
	p := filepath.Join(t.TempDir(), "Patient.000.ndjson.gz")
	os.WriteFile(p, buf.Bytes(), 0o600)
	lr, err := OpenNDJSON(p)
	if err != nil {
		t.Fatal(err)
	}
	defer lr.Close()
	lines, _, _ := readAll(t, lr)
	if len(lines) != 2 {
		t.Fatalf("read %d lines from gzip", len(lines))
	}

	// A truncated gzip stream reports an error, not a silent short read.
	os.WriteFile(p, buf.Bytes()[:buf.Len()-12], 0o600)
	lr2, err := OpenNDJSON(p)
	if err != nil {
		t.Fatal(err)
	}
	defer lr2.Close()
	var sawErr bool
	for {
		_, _, err := lr2.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			sawErr = true
			break
		}
	}
	if !sawErr {
		t.Fatal("truncated gzip read without error")
	}
}

func TestValueSetCodes(t *testing.T) {
	vs, err := ParseValueSet([]byte(`{"resourceType":"ValueSet","id":"x","url":"http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.103.12.1001",
		"expansion":{"contains":[{"system":"http://snomed.info/sct","code":"44054006","display":"Diabetes mellitus type 2"},
		{"abstract":true,"system":"http://snomed.info/sct","code":"grouper","contains":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"E11.9"}]}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	codes, err := vs.Codes()
	if err != nil || len(codes) != 2 || codes[0].Code != "44054006" || codes[1].Code != "E11.9" {
		t.Fatalf("codes %+v, %v", codes, err)
	}
	if oid := vs.OID(); oid != "2.16.840.1.113883.3.464.1003.103.12.1001" {
		t.Fatalf("OID %q", oid)
	}

	compose, _ := ParseValueSet([]byte(`{"resourceType":"ValueSet","id":"y","url":"http://example.org/vs/bp","identifier":[{"system":"urn:ietf:rfc:3986","value":"urn:oid:1.2.3"}],
		"compose":{"include":[{"system":"http://loinc.org","concept":[{"code":"8480-6"},{"code":"8462-4"}]}]}}`))
	if codes, err := compose.Codes(); err != nil || len(codes) != 2 || codes[1].System != "http://loinc.org" || compose.OID() != "1.2.3" {
		t.Fatalf("compose codes %+v %v oid %q", codes, err, compose.OID())
	}

	filtered, _ := ParseValueSet([]byte(`{"resourceType":"ValueSet","id":"z","url":"http://example.org/vs/f",
		"compose":{"include":[{"system":"http://snomed.info/sct","filter":[{"property":"concept","op":"is-a","value":"73211009"}]}]}}`))
	if _, err := filtered.Codes(); err == nil {
		t.Fatal("a filtered compose expanded without a terminology server")
	}
	if _, err := ParseValueSet([]byte(`{"resourceType":"ValueSet","id":"n"}`)); err == nil {
		t.Fatal("ValueSet without url accepted")
	}
	for _, s := range []string{"1.2", "2.16.840.1"} {
		if !isOID(s) {
			t.Errorf("isOID(%q) = false", s)
		}
	}
	for _, s := range []string{"", "12", "1..2", ".1.2", "1.2.", "1.a"} {
		if isOID(s) {
			t.Errorf("isOID(%q) = true", s)
		}
	}
}
