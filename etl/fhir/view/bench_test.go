package view

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// observationView is a typical warehouse view: ten columns over a Synthea
// Observation, with reference keys, coding filters and a choice type.
const observationView = `{
  "resourceType": "ViewDefinition",
  "name": "observations",
  "resource": "Observation",
  "constant": [{"name": "loinc", "valueUri": "http://loinc.org"}],
  "select": [{
    "column": [
      {"name": "id", "path": "getResourceKey()", "type": "id"},
      {"name": "patient_id", "path": "subject.getReferenceKey(Patient)", "type": "id",
       "tag": [{"name": "carelens:deid", "value": "patient"}]},
      {"name": "encounter_id", "path": "encounter.getReferenceKey(Encounter)", "type": "id"},
      {"name": "status", "path": "status", "type": "code"},
      {"name": "category", "path": "category.coding.where(system = 'http://terminology.hl7.org/CodeSystem/observation-category').code.first()", "type": "code"},
      {"name": "code", "path": "code.coding.where(system = %loinc).code.first()", "type": "code"},
      {"name": "display", "path": "code.text", "type": "string"},
      {"name": "effective", "path": "effective.ofType(dateTime)", "type": "dateTime"},
      {"name": "value", "path": "value.ofType(Quantity).value", "type": "decimal"},
      {"name": "unit", "path": "value.ofType(Quantity).code", "type": "code"}
    ]
  }]
}`

// syntheaLines returns up to n raw NDJSON lines of a Synthea resource type.
func syntheaLines(b *testing.B, typ string, n int) [][]byte {
	path := filepath.Join("..", "..", "..", "..", "shared", "data", "synthea-120", typ+".ndjson.gz")
	f, err := os.Open(path)
	if err != nil {
		b.Skipf("Synthea sample not found: %v", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(gz)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var lines [][]byte
	for len(lines) < n && sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return lines
}

func decodeLine(b *testing.B, line []byte) map[string]any {
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkRows measures Rows for one Synthea Observation with a ten-column
// view (one op = one resource, one row).
func BenchmarkRows(b *testing.B) {
	lines := syntheaLines(b, "Observation", 2000)
	res := make([]map[string]any, len(lines))
	for i, l := range lines {
		res[i] = decodeLine(b, l)
	}
	v, err := Load([]byte(observationView))
	if err != nil {
		b.Fatal(err)
	}
	rows := 0
	emit := func([]any) error { rows++; return nil }
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := v.Rows(res[i%len(res)], emit); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
}

// BenchmarkRowsVsDecode compares Rows with its anchor, decoding the same
// NDJSON line with encoding/json (which the ETL does once per resource
// anyway), and reports both per resource and their ratio.
func BenchmarkRowsVsDecode(b *testing.B) {
	lines := syntheaLines(b, "Observation", 2000)
	v, err := Load([]byte(observationView))
	if err != nil {
		b.Fatal(err)
	}
	emit := func([]any) error { return nil }
	var ours, anchor time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		line := lines[i%len(lines)]
		t0 := time.Now()
		r := decodeLine(b, line)
		t1 := time.Now()
		if err := v.Rows(r, emit); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		anchor += t1.Sub(t0)
		ours += t2.Sub(t1)
	}
	b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N), "rows_ns/resource")
	b.ReportMetric(float64(anchor.Nanoseconds())/float64(b.N), "decode_ns/resource")
	b.ReportMetric(ours.Seconds()/anchor.Seconds(), "x_decode")
	b.ReportMetric(0, "ns/op")
}
