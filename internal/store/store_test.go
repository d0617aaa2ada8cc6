package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

func TestOpenMigratesOnce(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/w.duckdb"
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := Migrations()
	v, err := db.SchemaVersion(ctx)
	if err != nil || v != ms[len(ms)-1].Version {
		t.Fatalf("schema version = %d, %v; want %d", v, err, ms[len(ms)-1].Version)
	}
	if _, err := db.Snapshot(ctx); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("Snapshot on empty db = %v, want ErrNoSnapshot", err)
	}
	db.Close()
	// Reopening applies nothing twice.
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n)
	if n != len(ms) {
		t.Fatalf("schema_migrations rows = %d, want %d", n, len(ms))
	}
}

// batches is a RecordReader that yields k batches of size rows each and
// counts how far DuckDB pulled it.
type batches struct {
	schema *arrow.Schema
	k, i   int
	size   int
	cur    arrow.Record
	refs   int64
}

func (b *batches) Retain()               {}
func (b *batches) Release()              {}
func (b *batches) Schema() *arrow.Schema { return b.schema }
func (b *batches) Record() arrow.Record  { return b.cur }
func (b *batches) Err() error            { return nil }
func (b *batches) Next() bool {
	if b.cur != nil {
		b.cur.Release()
		b.cur = nil
	}
	if b.i == b.k {
		return false
	}
	bld := array.NewRecordBuilder(memory.DefaultAllocator, b.schema)
	defer bld.Release()
	for j := 0; j < b.size; j++ {
		bld.Field(0).(*array.Int64Builder).Append(int64(b.i*b.size + j))
		bld.Field(1).(*array.StringBuilder).Append("x")
	}
	b.cur = bld.NewRecord()
	b.i++
	return true
}

func TestStageAndRollback(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}, {Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	if _, err := db.Exec(`CREATE TABLE t (n BIGINT, s VARCHAR)`); err != nil {
		t.Fatal(err)
	}

	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := &batches{schema: schema, k: 5, size: 3000}
	n, err := tx.Stage(ctx, "stg", r)
	if err != nil || n != 15000 {
		t.Fatalf("Stage = %d, %v; want 15000", n, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO t SELECT * FROM stg`); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	var cnt int
	db.QueryRow(`SELECT count(*) FROM t`).Scan(&cnt)
	if cnt != 0 {
		t.Fatalf("after rollback t has %d rows", cnt)
	}

	tx, _ = db.Begin(ctx)
	if _, err := tx.Stage(ctx, "stg", &batches{schema: schema, k: 2, size: 10}); err != nil {
		t.Fatal(err)
	}
	tx.Exec(ctx, `INSERT INTO t SELECT * FROM stg`)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var sum int64
	db.QueryRow(`SELECT count(*), sum(n) FROM t`).Scan(&cnt, &sum)
	if cnt != 20 || sum != 190 {
		t.Fatalf("after commit: count=%d sum=%d, want 20 and 190", cnt, sum)
	}
}

func TestTablesMatchSchema(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tbl := range append(WarehouseTables, Quarantine) {
		rows, err := db.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
			WHERE table_name = ? ORDER BY ordinal_position`, tbl.Name)
		if err != nil {
			t.Fatal(err)
		}
		var got []Column
		for rows.Next() {
			var name, typ string
			rows.Scan(&name, &typ)
			got = append(got, Column{Name: name + " " + typ})
		}
		rows.Close()
		if len(got) != len(tbl.Columns) {
			t.Errorf("%s: schema has %d columns, Table has %d", tbl.Name, len(got), len(tbl.Columns))
			continue
		}
		for i, c := range tbl.Columns {
			if want := c.Name + " " + c.Type.DuckDB(); got[i].Name != want {
				t.Errorf("%s column %d: schema %q, Table %q", tbl.Name, i, got[i].Name, want)
			}
		}
	}
}

func TestUpsertKeepsNewestVersion(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The clinics table, as its view fills it.
	Clinics := &Table{Name: "clinics", Key: "clinic_id", Columns: []Column{{"clinic_id", String}, {"name", String}}}
	load := func(rows [][2]string) int64 {
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		s := NewStream(ctx, Clinics, 2, func(ctx context.Context, b *Batch, max int) (bool, error) {
			for ; i < len(rows) && b.Len() < max; i++ {
				b.Row().Str(rows[i][0]).Str(rows[i][1]).End(int64(i))
			}
			return i < len(rows), nil
		})
		n, err := tx.Upsert(ctx, Clinics, s)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := load([][2]string{{"c1", "One"}, {"c2", "Two"}, {"c1", "One v2"}}); n != 2 {
		t.Fatalf("first load wrote %d rows, want 2 (c1 twice in one load keeps the later)", n)
	}
	load([][2]string{{"c2", "Two v2"}, {"c3", "Three"}})
	got := map[string]string{}
	rows, _ := db.Query(`SELECT clinic_id, name FROM clinics`)
	for rows.Next() {
		var k, v string
		rows.Scan(&k, &v)
		got[k] = v
	}
	rows.Close()
	want := map[string]string{"c1": "One v2", "c2": "Two v2", "c3": "Three"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("clinics = %v, want %v", got, want)
	}
}

func TestBatchTypes(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, _ := db.Begin(ctx)
	// The patients table, as its view fills it.
	Patients := &Table{Name: "patients", Key: "patient_id", Columns: []Column{
		{"patient_id", String}, {"birth_date", Date}, {"birth_year", Int32}, {"age_90_plus", Bool},
		{"sex", String}, {"zip3", String}, {"state", String}, {"deceased_date", Date},
		{"clinic_id", String}, {"source", String},
	}}
	born := time.Date(1950, 7, 4, 0, 0, 0, 0, time.UTC)
	done := false
	s := NewStream(ctx, Patients, 10, func(ctx context.Context, b *Batch, max int) (bool, error) {
		if !done {
			b.Row().Str("p1").Date(born).Int32(1950, true).Bool(false).Str("female").Str("021").Str("MA").
				Date(time.Time{}).Str("clinic-01").Str("ehr").End(1)
			done = true
		}
		return false, nil
	})
	if _, err := tx.Upsert(ctx, Patients, s); err != nil {
		t.Fatal(err)
	}
	tx.Commit(ctx)
	var bd time.Time
	var by int
	var dd sql.NullTime
	db.QueryRow(`SELECT birth_date, birth_year, deceased_date FROM patients`).Scan(&bd, &by, &dd)
	if !bd.Equal(born) || by != 1950 || dd.Valid {
		t.Fatalf("got %v %d %v", bd, by, dd)
	}
}

// Version keeps the newest version of a row whatever the load order;
// Earliest keeps each time at the first value known.
func TestUpsertVersionAndEarliest(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE vt (k VARCHAR, v VARCHAR, ver TIMESTAMP, a TIMESTAMP, b TIMESTAMP)`); err != nil {
		t.Fatal(err)
	}
	tbl := &Table{Name: "vt", Key: "k", Version: "ver", Earliest: []string{"a", "b"}, Columns: []Column{
		{"k", String}, {"v", String}, {"ver", Timestamp}, {"a", Timestamp}, {"b", Timestamp}}}
	day := func(d int) time.Time {
		if d == 0 {
			return time.Time{}
		}
		return time.Date(2025, 1, d, 0, 0, 0, 0, time.UTC)
	}
	type row struct {
		k, v      string
		ver, a, b int
	}
	load := func(rows ...row) {
		t.Helper()
		tx, _ := db.Begin(ctx)
		i := 0
		s := NewStream(ctx, tbl, 10, func(ctx context.Context, b *Batch, max int) (bool, error) {
			for ; i < len(rows) && b.Len() < max; i++ {
				r := rows[i]
				b.Row().Str(r.k).Str(r.v).Time(day(r.ver)).Time(day(r.a)).Time(day(r.b)).End(int64(i))
			}
			return i < len(rows), nil
		})
		if _, err := tx.Upsert(ctx, tbl, s); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	load(row{"x", "x@5", 5, 0, 9}, row{"y", "y@2", 2, 3, 0}, row{"x", "x@4", 4, 7, 0})
	// an older version of x, a newer y with fewer times, a z without version
	load(row{"x", "x@3", 3, 1, 1}, row{"y", "y@6", 6, 0, 4}, row{"z", "z@null", 0, 2, 0})
	load(row{"z", "z@1", 1, 0, 0}, row{"x", "x@5again", 5, 0, 8})
	got := map[string]string{}
	rows, _ := db.Query(`SELECT k, v, coalesce(strftime(a, '%d'), '-'), coalesce(strftime(b, '%d'), '-') FROM vt`)
	for rows.Next() {
		var k, v, a, b string
		rows.Scan(&k, &v, &a, &b)
		got[k] = v + " " + a + " " + b
	}
	rows.Close()
	// x: x@5 beats x@4 in the first load (higher version) and takes a=07
	// from it (the minimum over the load); x@3 is older and ignored whole;
	// x@5again ties and wins, b = least(08, 09). y: y@6 wins, keeps a=03,
	// gets b=04. z: z@1 beats the NULL version and keeps a=02.
	want := map[string]string{"x": "x@5again 07 08", "y": "y@6 03 04", "z": "z@1 02 -"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}
