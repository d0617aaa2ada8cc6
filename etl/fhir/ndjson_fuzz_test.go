package fhir

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzLineReader checks the reader against a plain split: the same
// non-blank trimmed lines, with their 1-based numbers, for any input.
//
//	go test -run '^$' -fuzz FuzzLineReader ./etl/fhir/
func FuzzLineReader(f *testing.F) {
	for _, s := range []string{
		"", "\n", "{}", "{}\n{}", "{\"a\":1}\r\n\n  \n{\"b\":2}\n", "\n\n\nx", "a\rb\n", "\x00\n\xff\xfe",
		strings.Repeat("x", 5000) + "\ny",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		type line struct {
			n int64
			s string
		}
		var want []line
		for i, l := range bytes.Split(in, []byte("\n")) {
			if l = bytes.TrimSpace(l); len(l) > 0 {
				want = append(want, line{int64(i + 1), string(l)})
			}
		}
		lr := NewLineReader(bytes.NewReader(in), nil)
		var got []line
		for {
			b, n, err := lr.Next()
			if err == io.EOF {
				break
			}
			if errors.Is(err, ErrLineTooLong) {
				t.Fatalf("line %d reported too long in a %d-byte input", n, len(in))
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, line{n, string(b)})
		}
		if len(got) != len(want) {
			t.Fatalf("%d lines, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("line %d: got %d %q, want %d %q", i, got[i].n, got[i].s, want[i].n, want[i].s)
			}
		}
	})
}
