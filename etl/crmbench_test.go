package etl

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carelens/carelens/etl/crm/contract"
	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/internal/pgtest"
)

const (
	pgBenchMessages = 1_000_000
	pgBenchContacts = 50_000
)

// pgBenchMapping is the test CRM's mapping cut down to messages.
func pgBenchMapping(b *testing.B) ([]byte, []string) {
	var m struct {
		Entities map[string]json.RawMessage `json:"entities"`
	}
	if err := json.Unmarshal(pgtest.CRMMapping(), &m); err != nil {
		b.Fatal(err)
	}
	var msgs struct {
		Fields map[string]string `json:"fields"`
	}
	json.Unmarshal(m.Entities["messages"], &msgs)
	var cols []string
	for _, c := range msgs.Fields {
		cols = append(cols, `"`+c+`"`)
	}
	out, _ := json.Marshal(map[string]any{"entities": map[string]json.RawMessage{"messages": m.Entities["messages"]}})
	return out, cols
}

// BenchmarkCRMPullPostgres pulls 1 M outreach rows from a real PostgreSQL
// through the mapping into DuckDB (de-identification, checks, Arrow, one
// upsert) beside PostgreSQL's own COPY (SELECT the mapped columns) TO
// STDOUT of the same rows, the limit for getting them out (issue 03).
func BenchmarkCRMPullPostgres(b *testing.B) {
	ctx := context.Background()
	cluster := pgtest.Start(b)
	dsn := cluster.CreateCRM(b, "bench")
	mapping, cols := pgBenchMapping(b)
	purposes := []string{"appointment_reminder", "refill_reminder", "preventive_care", "lab_result", "education", "survey"}
	channels := []string{"sms", "email", "voice", "portal"}
	t0 := time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)
	const chunk = 100_000
	for i := 0; i < pgBenchMessages; i += chunk {
		recs := make([]contract.Fields, 0, chunk)
		for j := i; j < i+chunk; j++ {
			sent := t0.Add(time.Duration(j) * 37 * time.Second)
			f := contract.Fields{"message_id": fmt.Sprint(j + 1), "contact_id": fmt.Sprint(j%pgBenchContacts + 1),
				"purpose": purposes[j%len(purposes)], "channel": channels[j%len(channels)],
				"sent_at": sent.Format(time.RFC3339), "body": "Reminder: your visit on Tuesday"}
			if j%3 != 0 {
				f["delivered_at"] = sent.Add(40 * time.Second).Format(time.RFC3339)
			}
			recs = append(recs, f)
		}
		if err := pgtest.LoadContract(ctx, dsn, mapping, map[string][]contract.Fields{"messages": recs}); err != nil {
			b.Fatal(err)
		}
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE crm.outreach"); err != nil {
		b.Fatal(err)
	}
	copySQL := "COPY (SELECT " + strings.Join(cols, ", ") + " FROM crm.outreach) TO STDOUT"

	b.ResetTimer()
	var ours, anchor time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, v := freshWarehouse(b)
		for c := 1; c <= pgBenchContacts; c++ {
			v.Surrogate(deid.NSContact, fmt.Sprint(c))
		}
		b.StartTimer()
		start := time.Now()
		res, err := NewPGJob(PGOptions{DSN: dsn, Mapping: mapping, DB: db, Vault: v, Profile: deid.ProfileLimited}).Run(ctx)
		if err != nil {
			b.Fatal(err)
		}
		ours += time.Since(start)
		if res.Loaded != pgBenchMessages {
			b.Fatalf("loaded %d of %d", res.Loaded, pgBenchMessages)
		}
		start = time.Now()
		if _, err := conn.PgConn().CopyTo(ctx, io.Discard, copySQL); err != nil {
			b.Fatal(err)
		}
		anchor += time.Since(start)
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	n := float64(b.N) * pgBenchMessages
	b.ReportMetric(n/ours.Seconds(), "rows/s")
	b.ReportMetric(n/anchor.Seconds(), "copy_rows/s")
	b.ReportMetric(anchor.Seconds()/ours.Seconds(), "x_copy")
}
