package privacy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/carelens/carelens/internal/store"
)

// benchIDs yields n vault-like ids: a quarter each Patient UUIDs, MRNs as
// system|value, MRN values, CRM contact ids.
func benchIDs(n int) func(yield func(ns, id string) bool) {
	return func(yield func(ns, id string) bool) {
		r := rand.New(rand.NewPCG(7, 7))
		for i := 0; i < n; i++ {
			var ns, id string
			switch i % 4 {
			case 0:
				ns = "ehr:patient"
				id = fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff,
					0x8000|r.Uint32()&0x3fff, r.Uint64()&0xffffffffffff)
			case 1:
				ns, id = "ehr:mrn", fmt.Sprintf("urn:oid:2.16.840.1.113883.19.5|MRN%08d", 10_000_000+i)
			case 2:
				ns, id = "ehr:mrn-value", fmt.Sprintf("MRN%08d", 10_000_000+i)
			default:
				ns, id = "crm:contact", fmt.Sprintf("C%08d", 10_000_000+i)
			}
			if !yield(ns, id) {
				return
			}
		}
	}
}

// benchDB creates a table of about 1 M distinct values shaped like the
// warehouse's (record keys, surrogates, codes, enums, names, a few planted
// ids and identifiers).
func benchDB(b *testing.B) *store.DB {
	db := openDB(b)
	exec(b, db, `CREATE TABLE big AS SELECT
		md5(i::VARCHAR) AS record_key,
		substr(md5((i % 200000)::VARCHAR || 'p'), 1, 16) AS patient_id,
		(100000 + i % 5000)::VARCHAR AS code,
		['finished', 'in-progress', 'cancelled', 'noshow', 'booked'][1 + i % 5] AS status,
		CASE WHEN i % 100000 = 0 THEN 'contact C' || (10000003 + 4 * (i // 100000))::VARCHAR || ' replied'
		     WHEN i % 100000 = 1 THEN 'call 617-555-0123'
		     ELSE 'Flu season ' || (i % 50000)::VARCHAR || ': get your flu shot' END AS note,
		(i % 1000)::DOUBLE / 10 AS value,
		TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND AS at
		FROM range(1000000) t(i)`)
	return db
}

// BenchmarkScan scans about 1.25 M distinct values (1 M rows) for the
// patterns and 200,000 source ids, and reports its ratio to reading the same
// values with store.EachText (the anchor, no matching) in the same run.
func BenchmarkScan(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	var scan, read time.Duration
	var values int64
	for b.Loop() {
		start := time.Now()
		rep, err := Scan(ctx, db, ScanOptions{SourceIDs: benchIDs(200_000)})
		if err != nil {
			b.Fatal(err)
		}
		scan += time.Since(start)
		values = rep.Values
		if rep.Clean() || len(rep.Failures()) != 2 {
			b.Fatalf("want the planted contact ids and phone found: %+v", rep.Failures())
		}
		start = time.Now()
		if err := db.EachText(ctx, func(_, _, _ string) {}); err != nil {
			b.Fatal(err)
		}
		read += time.Since(start)
	}
	b.ReportMetric(scan.Seconds()/float64(b.N), "s/scan")
	b.ReportMetric(float64(values)*float64(b.N)/scan.Seconds(), "values/s")
	b.ReportMetric(scan.Seconds()/read.Seconds(), "x_EachText")
}

// BenchmarkBuildIDSet: building the automaton of 200,000 ids.
func BenchmarkBuildIDSet(b *testing.B) {
	var s *idSet
	for b.Loop() {
		s, _ = buildIDSet(benchIDs(200_000), DefaultMinIDLen)
	}
	b.ReportMetric(float64(len(s.label)), "nodes")
	b.ReportMetric(float64(13*len(s.label))/1e6, "MB_nodes")
}

// BenchmarkMatch: matching alone (one goroutine), per value, on record keys
// and short texts, against 200,000 ids.
func BenchmarkMatch(b *testing.B) {
	s, err := newScanner(ScanOptions{SourceIDs: benchIDs(200_000)})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	vals := make([][]byte, 4096)
	for i := range vals {
		switch i % 4 {
		case 0, 1:
			vals[i] = fmt.Appendf(nil, "%016x%016x", r.Uint64(), r.Uint64())
		case 2:
			vals[i] = fmt.Appendf(nil, "%d", 100000+r.IntN(900000))
		default:
			vals[i] = fmt.Appendf(nil, "Flu season %d: get your flu shot", r.IntN(3000))
		}
	}
	c := &column{table: "t", name: "v", typ: "VARCHAR"}
	m := &matchState{s: s, accs: map[accKey]*acc{}}
	i := 0
	for b.Loop() {
		m.value(0, c, vals[i%len(vals)], 1)
		i++
	}
}
