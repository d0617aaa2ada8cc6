package pgsrc_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carelens/carelens/etl/crm/contract"
	"github.com/carelens/carelens/etl/crm/pgsrc"
	"github.com/carelens/carelens/internal/pgtest"
)

// crmDB creates a database with pgtest's CRM schema holding recs.
func crmDB(t testing.TB, name string, recs map[string][]contract.Fields) string {
	t.Helper()
	dsn := pgtest.Shared(t).CreateCRM(t, name)
	if err := pgtest.LoadContract(context.Background(), dsn, pgtest.CRMMapping(), recs); err != nil {
		t.Fatal(err)
	}
	return dsn
}

func open(t testing.TB, dsn string, mapping []byte) *pgsrc.Source {
	t.Helper()
	s, err := pgsrc.Open(context.Background(), dsn, mapping)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// connect opens a connection for the test.
func connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// exec runs one statement on a connection of its own.
func exec(t testing.TB, dsn, sql string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// pulled is what one Pull handed to its callback.
type pulled struct {
	order []string // entities in the order their first page came
	rows  map[string][]pgsrc.Row
	pages map[string][]int // page sizes
	marks map[string]time.Time
}

func pull(t testing.TB, s *pgsrc.Source, since map[string]time.Time, pageSize int) pulled {
	t.Helper()
	p := pulled{rows: map[string][]pgsrc.Row{}, pages: map[string][]int{}}
	marks, err := s.Pull(context.Background(), since, pageSize, func(entity string, page []pgsrc.Row) error {
		if !slices.Contains(p.order, entity) {
			p.order = append(p.order, entity)
		}
		p.rows[entity] = append(p.rows[entity], page...) // page is reused; the Rows are copied
		p.pages[entity] = append(p.pages[entity], len(page))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p.marks = marks
	return p
}

// byKey indexes records by their entity's key field, failing on duplicates.
func byKey(t testing.TB, entity string, recs []contract.Fields) map[string]contract.Fields {
	t.Helper()
	out := make(map[string]contract.Fields, len(recs))
	for _, r := range recs {
		k := r[keyField[entity]]
		if _, dup := out[k]; dup {
			t.Fatalf("%s: key %s returned twice", entity, k)
		}
		out[k] = r
	}
	return out
}

// checkRows checks that got holds exactly want (by key, every field equal
// as a string), numbered 1..n in order, without row errors.
func checkRows(t *testing.T, entity string, got []pgsrc.Row, want map[string]contract.Fields) {
	t.Helper()
	recs := make([]contract.Fields, len(got))
	for i, r := range got {
		if r.N != int64(i+1) {
			t.Fatalf("%s: row %d has N = %d", entity, i+1, r.N)
		}
		if r.Err != "" {
			t.Errorf("%s row %d: %s", entity, r.N, r.Err)
		}
		recs[i] = r.Fields
	}
	gotBy := byKey(t, entity, recs)
	if len(gotBy) != len(want) {
		t.Errorf("%s: %d rows, want %d", entity, len(gotBy), len(want))
	}
	bad := 0
	for k, w := range want {
		g, ok := gotBy[k]
		if !ok {
			t.Errorf("%s %s: missing", entity, k)
		} else if !maps.Equal(g, w) {
			for f := range w {
				if g[f] != w[f] {
					t.Errorf("%s %s: %s = %q, want %q", entity, k, f, g[f], w[f])
				}
			}
			for f := range g {
				if _, ok := w[f]; !ok {
					t.Errorf("%s %s: unexpected field %s", entity, k, f)
				}
			}
		} else {
			continue
		}
		if bad++; bad > 10 {
			t.Fatalf("%s: too many differences", entity)
		}
	}
}

// TestPullRoundTrip seeds all six entities with thousands of contract
// records through LoadContract and pulls them back with a small page size:
// every row exactly once, every field equal to what was loaded, ordinals
// 1..n, full pages but the last, contract order, the where filter applied,
// and watermarks equal to each table's greatest updated_at.
func TestPullRoundTrip(t *testing.T) {
	n := sizes{contacts: 3000, campaigns: 150, messages: 6000, events: 9000, surveys: 3000, consents: 2500}
	recs := newGen(1, 1).generate(n)
	dsn := crmDB(t, "roundtrip", recs)
	// Soft-deleted contacts are left out by the mapping's where.
	deleted := []string{recs["contacts"][0]["contact_id"], recs["contacts"][1234]["contact_id"]}
	exec(t, dsn, "UPDATE crm.person SET is_deleted = true WHERE person_id = ANY($1::bigint[])", deleted)

	s := open(t, dsn, pgtest.CRMMapping())
	const pageSize = 97
	p := pull(t, s, nil, pageSize)

	if !slices.Equal(p.order, entityOrder) {
		t.Errorf("entities came in order %v, want %v", p.order, entityOrder)
	}
	for _, entity := range entityOrder {
		want := byKey(t, entity, recs[entity])
		if entity == "contacts" {
			for _, k := range deleted {
				delete(want, k)
			}
		}
		checkRows(t, entity, p.rows[entity], want)
		pages := p.pages[entity]
		for i, size := range pages {
			if size > pageSize || (size != pageSize && i != len(pages)-1) {
				t.Errorf("%s: page sizes %v", entity, pages)
				break
			}
		}
		if want := (len(want) + pageSize - 1) / pageSize; len(pages) != want && len(pages) != want+1 {
			t.Errorf("%s: %d pages, want %d", entity, len(pages), want)
		}
	}
	checkMarks(t, dsn, p.marks)
}

// checkMarks compares watermarks with each table's max(updated_at) (for
// contacts, among the rows the where keeps).
func checkMarks(t *testing.T, dsn string, marks map[string]time.Time) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tables := map[string]string{
		"contacts": "crm.person WHERE NOT is_deleted", "campaigns": "crm.campaign", "messages": "crm.outreach",
		"message_events": "crm.delivery_event", "survey_responses": "crm.survey_answer", "consents": "crm.consent_log",
	}
	for entity, from := range tables {
		var want time.Time
		if err := conn.QueryRow(ctx, "SELECT max(updated_at) FROM "+from).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got := marks[entity]; !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("watermark %s = %v, want %v in UTC", entity, got, want.UTC())
		}
	}
}

// change is how TestPullIncremental edits one entity's rows.
type change struct {
	table, key, column, field string
	value                     func(i int) string // the new contract value
}

var changes = map[string]change{
	"contacts":         {"crm.person", "person_id", "chart_no", "mrn", func(i int) string { return fmt.Sprintf("MRN-NEW-%d", i) }},
	"campaigns":        {"crm.campaign", "code", "title", "name", func(i int) string { return fmt.Sprintf("renamed %d", i) }},
	"messages":         {"crm.outreach", "outreach_id", "content", "body", func(i int) string { return fmt.Sprintf("edited %d", i) }},
	"message_events":   {"crm.delivery_event", "delivery_event_id", `"EventKind"`, "event", func(int) string { return "failed" }},
	"survey_responses": {"crm.survey_answer", "answer_id", "remark", "comment", func(i int) string { return fmt.Sprintf("later %d", i) }},
	"consents":         {"crm.consent_log", "consent_log_id", "status", "status", func(i int) string { return []string{"opt_in", "opt_out"}[i%2] }},
}

// TestPullIncremental: after a full pull, some rows change (value and
// updated_at) and new rows arrive; a pull from the returned watermarks
// yields exactly the changed and new rows, plus the rows whose updated_at
// equals the watermark (>=, documented), with their new values. A further
// pull yields only rows at the new watermark.
func TestPullIncremental(t *testing.T) {
	n := sizes{contacts: 600, campaigns: 60, messages: 900, events: 900, surveys: 600, consents: 600}
	recs := newGen(2, 1).generate(n)
	dsn := crmDB(t, "incremental", recs)
	// Distinct, known updated_at: 2020-01-01 plus the row's rank in seconds.
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, entity := range entityOrder {
		c := changes[entity]
		exec(t, dsn, fmt.Sprintf(`UPDATE %[1]s t SET updated_at = $1::timestamptz + r.rn * interval '1 second'
			FROM (SELECT %[2]s AS k, row_number() OVER (ORDER BY %[2]s) AS rn FROM %[1]s) r WHERE t.%[2]s = r.k`, c.table, c.key), base)
	}
	s := open(t, dsn, pgtest.CRMMapping())
	first := pull(t, s, nil, 50)
	for _, entity := range entityOrder {
		want := base.Add(time.Duration(n.of(entity)) * time.Second)
		if got := first.marks[entity]; !got.Equal(want) {
			t.Fatalf("watermark %s = %v, want %v", entity, got, want)
		}
	}

	// Every 7th row changes, a second after the watermark and on; new rows
	// arrive with their own (later) updated_at.
	want := map[string]map[string]contract.Fields{}
	conn := connect(t, dsn)
	for _, entity := range entityOrder {
		c := changes[entity]
		got := byKey(t, entity, rowFields(first.rows[entity]))
		want[entity] = map[string]contract.Fields{}
		for i, r := range recs[entity] {
			if i%7 != 0 {
				continue
			}
			k := r[keyField[entity]]
			upd := first.marks[entity].Add(time.Duration(i+1) * time.Second)
			q := fmt.Sprintf("UPDATE %s SET %s = $1, updated_at = $2 WHERE %s::text = $3", c.table, c.column, c.key)
			if _, err := conn.Exec(context.Background(), q, c.value(i), upd, k); err != nil {
				t.Fatal(err)
			}
			w := maps.Clone(got[k])
			w[c.field] = c.value(i)
			if entity == "contacts" {
				w["updated_at"] = rfc(upd)
			}
			want[entity][k] = w
		}
	}
	added := newGen(3, 1_000_000).generate(sizes{contacts: 40, campaigns: 5, messages: 70, events: 80, surveys: 30, consents: 20})
	if err := pgtest.LoadContract(context.Background(), dsn, pgtest.CRMMapping(), added); err != nil {
		t.Fatal(err)
	}
	for entity, rs := range added {
		for _, r := range rs {
			want[entity][r[keyField[entity]]] = r
		}
	}
	// The boundary rows: updated_at == watermark, i.e. rank n, the row with
	// the greatest key (with these sizes and seeds it is never a changed one).
	boundary := boundaryRows(t, dsn, first.marks)

	second := pull(t, s, first.marks, 50)
	for _, entity := range entityOrder {
		w := maps.Clone(want[entity])
		for k, r := range boundary[entity] {
			if _, changed := w[k]; !changed {
				w[k] = r
			}
		}
		if len(boundary[entity]) != 1 {
			t.Errorf("%s: %d rows at the watermark, want 1", entity, len(boundary[entity]))
		}
		checkRows(t, entity, second.rows[entity], w)
		if !second.marks[entity].After(first.marks[entity]) {
			t.Errorf("watermark %s did not advance: %v", entity, second.marks[entity])
		}
	}

	// Nothing changed since: only rows at the new watermark come back.
	third := pull(t, s, second.marks, 50)
	atMark := boundaryRows(t, dsn, second.marks)
	for _, entity := range entityOrder {
		got := byKey(t, entity, rowFields(third.rows[entity]))
		if len(got) != len(atMark[entity]) {
			t.Errorf("%s: third pull gave %d rows, want the %d at the watermark", entity, len(got), len(atMark[entity]))
		}
		for k := range got {
			if _, ok := atMark[entity][k]; !ok {
				t.Errorf("%s %s: returned, but its updated_at is before the watermark", entity, k)
			}
		}
		if !third.marks[entity].Equal(second.marks[entity]) {
			t.Errorf("watermark %s moved from %v to %v with no change", entity, second.marks[entity], third.marks[entity])
		}
	}
}

func rowFields(rows []pgsrc.Row) []contract.Fields {
	out := make([]contract.Fields, len(rows))
	for i, r := range rows {
		out[i] = r.Fields
	}
	return out
}

// boundaryRows pulls, with a fresh Source, the rows whose updated_at equals
// each watermark (by asking for them with a where), keyed by key field.
func boundaryRows(t *testing.T, dsn string, marks map[string]time.Time) map[string]map[string]contract.Fields {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	out := map[string]map[string]contract.Fields{}
	s := open(t, dsn, pgtest.CRMMapping())
	all := pull(t, s, nil, 1000)
	for _, entity := range entityOrder {
		c := changes[entity]
		var keys []string
		rows, err := conn.Query(ctx, fmt.Sprintf("SELECT %s::text FROM %s WHERE updated_at = $1", c.key, c.table), marks[entity])
		if err != nil {
			t.Fatal(err)
		}
		keys, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		by := byKey(t, entity, rowFields(all.rows[entity]))
		out[entity] = map[string]contract.Fields{}
		for _, k := range keys {
			out[entity][k] = by[k]
		}
	}
	return out
}

// TestPullSnapshot: rows committed by another connection while a Pull runs
// (here from inside fn, after the first page) are not seen by that Pull,
// neither in the entity being read nor in a later one, and an update made
// meanwhile is not seen either; the next Pull sees them all.
func TestPullSnapshot(t *testing.T) {
	recs := newGen(4, 1).generate(sizes{contacts: 300, campaigns: 3, messages: 300, events: 10, surveys: 10, consents: 10})
	dsn := crmDB(t, "snapshot", recs)
	s := open(t, dsn, pgtest.CRMMapping())
	ctx := context.Background()
	other, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	msg := recs["messages"][5]["message_id"]

	var seen []string
	calls := 0
	_, err = s.Pull(ctx, nil, 100, func(entity string, page []pgsrc.Row) error {
		calls++
		if calls == 1 {
			for _, q := range []string{
				`INSERT INTO crm.person (person_id, updated_at) VALUES (999999999, now() + interval '1 day')`,
				`INSERT INTO crm.outreach (outreach_id, person_id, reason, medium, sent_ts) VALUES (999999999, 1, 'survey', 'sms', '2025-01-01')`,
				`UPDATE crm.outreach SET content = 'changed during the pull', updated_at = now() WHERE outreach_id = ` + msg,
			} {
				if _, err := other.Exec(ctx, q); err != nil {
					return err
				}
			}
		}
		for _, r := range page {
			if r.Fields.Get("contact_id") == "999999999" && entity == "contacts" || r.Fields.Get("message_id") == "999999999" {
				seen = append(seen, entity+" inserted during the pull")
			}
			if entity == "messages" && r.Fields.Get("message_id") == msg && r.Fields["body"] != recs["messages"][5]["body"] {
				seen = append(seen, "message updated during the pull")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls < 2 {
		t.Fatalf("fn called %d times; the test needs several pages", calls)
	}
	for _, s := range seen {
		t.Errorf("pull saw %s", s)
	}
	next := pull(t, s, nil, 100)
	contacts := byKey(t, "contacts", rowFields(next.rows["contacts"]))
	messages := byKey(t, "messages", rowFields(next.rows["messages"]))
	if _, ok := contacts["999999999"]; !ok {
		t.Error("next pull misses the contact inserted during the previous one")
	}
	if _, ok := messages["999999999"]; !ok {
		t.Error("next pull misses the message inserted during the previous one")
	}
	if got := messages[msg]["body"]; got != "changed during the pull" {
		t.Errorf("next pull: body = %q, want the update", got)
	}
}

// TestPullTransaction checks, from inside the pull's transaction, that it is
// READ ONLY and REPEATABLE READ in TimeZone UTC, and that a write fails
// there with SQLSTATE 25006 (read_only_sql_transaction).
func TestPullTransaction(t *testing.T) {
	dsn := crmDB(t, "readonly", newGen(5, 1).generate(sizes{contacts: 5, campaigns: 1, messages: 5}))
	s := open(t, dsn, pgtest.CRMMapping())
	hooked := false
	pgsrc.SetBeginHook(s, func(ctx context.Context, tx pgx.Tx) error {
		hooked = true
		for setting, want := range map[string]string{
			"transaction_read_only": "on", "transaction_isolation": "repeatable read", "TimeZone": "UTC",
		} {
			var got string
			if err := tx.QueryRow(ctx, "SELECT current_setting($1)", setting).Scan(&got); err != nil {
				return err
			}
			if got != want {
				t.Errorf("%s = %q, want %q", setting, got, want)
			}
		}
		if _, err := tx.Exec(ctx, "SAVEPOINT w"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE crm.person SET chart_no = 'x'")
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "25006" {
			t.Errorf("write in the pull's transaction: err = %v, want SQLSTATE 25006", err)
		}
		_, err = tx.Exec(ctx, "ROLLBACK TO SAVEPOINT w")
		return err
	})
	p := pull(t, s, nil, 2)
	if !hooked {
		t.Fatal("begin hook not called")
	}
	if len(p.rows["contacts"]) != 5 || len(p.rows["messages"]) != 5 {
		t.Errorf("pull after the hook: %d contacts, %d messages; want 5, 5", len(p.rows["contacts"]), len(p.rows["messages"]))
	}
}

// TestPullCallbackError: an error from fn ends the pull, comes back wrapped,
// yields no watermarks, and leaves the Source usable.
func TestPullCallbackError(t *testing.T) {
	dsn := crmDB(t, "fnerror", newGen(6, 1).generate(sizes{contacts: 30, campaigns: 1, messages: 30}))
	s := open(t, dsn, pgtest.CRMMapping())
	stop := errors.New("loader failed")
	var entities []string
	marks, err := s.Pull(context.Background(), nil, 10, func(entity string, page []pgsrc.Row) error {
		entities = append(entities, entity)
		if entity == "campaigns" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || marks != nil {
		t.Fatalf("Pull = %v, %v; want nil and an error wrapping fn's", marks, err)
	}
	if slices.Contains(entities, "messages") {
		t.Error("pull went on after fn failed")
	}
	if p := pull(t, s, nil, 10); len(p.rows["messages"]) != 30 {
		t.Errorf("next pull: %d messages, want 30", len(p.rows["messages"]))
	}
}

// TestPullReconnects: a Source whose connection was dropped between pulls
// (server restart, idle timeout) reconnects; a closed one refuses.
func TestPullReconnects(t *testing.T) {
	dsn := crmDB(t, "reconnect", newGen(7, 1).generate(sizes{contacts: 3}))
	s := open(t, dsn, pgtest.CRMMapping())
	pull(t, s, nil, 10)
	exec(t, dsn, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'carelens-pgsrc' AND datname = current_database()")
	if p := pull(t, s, nil, 10); len(p.rows["contacts"]) != 3 {
		t.Errorf("pull after reconnect: %d contacts, want 3", len(p.rows["contacts"]))
	}
	// A closed Source does not reconnect.
	s.Close()
	if _, err := s.Pull(context.Background(), nil, 10, func(string, []pgsrc.Row) error { return nil }); !errors.Is(err, pgsrc.ErrClosed) {
		t.Errorf("Pull after Close: %v, want ErrClosed", err)
	}
}

// TestPullErrorsHideValues: a database error caused by a row value (here the
// where casts a text column to integer) does not quote the value.
func TestPullErrorsHideValues(t *testing.T) {
	dsn := crmDB(t, "hidevalues", map[string][]contract.Fields{"contacts": {{"contact_id": "1", "mrn": "SECRET-MRN-42", "updated_at": "2025-01-01T00:00:00Z"}}})
	mapping := strings.Replace(string(pgtest.CRMMapping()), `"where": "NOT is_deleted"`, `"where": "chart_no::int > 0"`, 1)
	s := open(t, dsn, []byte(mapping))
	_, err := s.Pull(context.Background(), nil, 10, func(string, []pgsrc.Row) error { return nil })
	if err == nil {
		t.Fatal("Pull succeeded; want a cast error")
	}
	if strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "22P02") {
		t.Errorf("error %q: want SQLSTATE 22P02 without the value", err)
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Errorf("error %v does not wrap the *pgconn.PgError", err)
	}
}
