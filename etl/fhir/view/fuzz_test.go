package view

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad checks that loading any ViewDefinition JSON and running it over
// fixed resources never panics, and that every emitted row has one value
// per column. Seeds are the conformance suite's views.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(observationView))
	paths, _ := filepath.Glob(filepath.Join(suiteDir, "*.json"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var sf struct {
			Tests []struct {
				View json.RawMessage `json:"view"`
			} `json:"tests"`
		}
		if json.Unmarshal(b, &sf) != nil {
			continue
		}
		for _, t := range sf.Tests {
			f.Add([]byte(t.View))
		}
	}
	var res []map[string]any
	for _, s := range append(patients[:2:2], bloodPressure) {
		d := json.NewDecoder(bytes.NewReader([]byte(s)))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			f.Fatal(err)
		}
		res = append(res, m)
	}
	f.Fuzz(func(t *testing.T, def []byte) {
		v, err := Load(def)
		if err != nil {
			return
		}
		n := len(v.Columns())
		for _, r := range res {
			rows := 0
			_ = v.Rows(r, func(row []any) error {
				if len(row) != n {
					t.Fatalf("row has %d values, want %d", len(row), n)
				}
				if rows++; rows > 100000 {
					t.Fatal("too many rows")
				}
				return nil
			})
		}
	})
}
