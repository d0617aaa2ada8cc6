package pgsrc_test

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carelens/carelens/etl/crm/pgsrc"
	"github.com/carelens/carelens/internal/pgtest"
)

const benchRows = 1_000_000

// benchDB is the benchmark's database, seeded once per test binary. It is
// not dropped by a cleanup: the benchmark function runs several times, and
// the shared cluster goes away at the end anyway.
var benchDB struct {
	once sync.Once
	dsn  string
	err  error
}

func seedBench(b *testing.B) string {
	c := pgtest.Shared(b)
	benchDB.once.Do(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		if err != nil {
			benchDB.err = err
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE DATABASE bench"); err != nil {
			benchDB.err = err
			return
		}
		dsn := c.DSN("bench")
		db, err := pgx.Connect(ctx, dsn)
		if err != nil {
			benchDB.err = err
			return
		}
		defer db.Close(ctx)
		if _, err := db.Exec(ctx, pgtest.CRMSchema()); err != nil {
			benchDB.err = err
			return
		}
		// LoadContract in chunks, so the records in memory stay small.
		var load time.Duration
		const chunk = 100_000
		for i := 0; i < benchRows; i += chunk {
			recs := newGen(uint64(i), int64(i+1)).generate(sizes{messages: chunk})
			t0 := time.Now()
			if err := pgtest.LoadContract(ctx, dsn, pgtest.CRMMapping(), recs); err != nil {
				benchDB.err = err
				return
			}
			load += time.Since(t0)
		}
		if _, err := db.Exec(ctx, "VACUUM ANALYZE crm.outreach"); err != nil {
			benchDB.err = err
			return
		}
		b.Logf("LoadContract: %d outreach rows in %v", benchRows, load.Round(time.Millisecond))
		benchDB.dsn = dsn
	})
	if benchDB.err != nil {
		b.Fatal(benchDB.err)
	}
	return benchDB.dsn
}

// messagesOnly is pgtest.CRMMapping cut down to the messages entity.
func messagesOnly(b *testing.B) ([]byte, pgsrc.Entity) {
	var m struct {
		Entities map[string]json.RawMessage `json:"entities"`
	}
	if err := json.Unmarshal(pgtest.CRMMapping(), &m); err != nil {
		b.Fatal(err)
	}
	out, err := json.Marshal(map[string]any{"entities": map[string]json.RawMessage{"messages": m.Entities["messages"]}})
	if err != nil {
		b.Fatal(err)
	}
	parsed, err := pgsrc.ParseMapping(out)
	if err != nil {
		b.Fatal(err)
	}
	return out, parsed.Entities["messages"]
}

// BenchmarkPullVsCopy reads 1 000 000 outreach rows (the messages entity)
// with Pull, converting every value to contract text in crm.Fields and
// discarding them, and beside it with PostgreSQL's own COPY (SELECT the
// same columns) TO STDOUT into io.Discard: the fastest way out of the
// server, the anchor. It reports both rates and their ratio (pull/copy).
func BenchmarkPullVsCopy(b *testing.B) {
	dsn := seedBench(b)
	mapping, e := messagesOnly(b)
	ctx := context.Background()
	s, err := pgsrc.Open(ctx, dsn, mapping)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	// The columns Pull selects: key, updated_at, then the mapped ones.
	cols := []string{pgx.Identifier{e.Key}.Sanitize(), pgx.Identifier{e.UpdatedAt}.Sanitize()}
	for _, c := range e.Fields {
		if q := (pgx.Identifier{c}).Sanitize(); !slices.Contains(cols, q) {
			cols = append(cols, q)
		}
	}
	schema, table := e.SplitTable()
	copySQL := "COPY (SELECT " + strings.Join(cols, ", ") + " FROM " + pgx.Identifier{schema, table}.Sanitize() + ") TO STDOUT"

	var pullTime, copyTime time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		rows := 0
		if _, err := s.Pull(ctx, nil, pgsrc.DefaultPageSize, func(_ string, page []pgsrc.Row) error {
			rows += len(page)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		pullTime += time.Since(t0)
		if rows != benchRows {
			b.Fatalf("Pull read %d rows, want %d", rows, benchRows)
		}

		t0 = time.Now()
		tag, err := conn.PgConn().CopyTo(ctx, io.Discard, copySQL)
		if err != nil {
			b.Fatal(err)
		}
		copyTime += time.Since(t0)
		if tag.RowsAffected() != benchRows {
			b.Fatalf("COPY read %d rows, want %d", tag.RowsAffected(), benchRows)
		}
	}
	total := float64(b.N) * benchRows
	pullRate, copyRate := total/pullTime.Seconds(), total/copyTime.Seconds()
	b.ReportMetric(pullRate, "pull_rows/s")
	b.ReportMetric(copyRate, "copy_rows/s")
	b.ReportMetric(pullRate/copyRate, "pull/copy")
}
