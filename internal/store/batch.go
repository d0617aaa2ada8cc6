package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// ColType is a warehouse column type and its Arrow representation.
type ColType int

// Column types, with the DuckDB type each maps to.
const (
	String    ColType = iota // VARCHAR
	Int32                    // INTEGER
	Int64                    // BIGINT
	Float64                  // DOUBLE
	Bool                     // BOOLEAN
	Date                     // DATE
	Timestamp                // TIMESTAMP (UTC, microseconds)
)

// DuckDB returns the DuckDB type name of t.
func (t ColType) DuckDB() string {
	return [...]string{"VARCHAR", "INTEGER", "BIGINT", "DOUBLE", "BOOLEAN", "DATE", "TIMESTAMP"}[t]
}

func (t ColType) arrow() arrow.DataType {
	switch t {
	case String:
		return arrow.BinaryTypes.String
	case Int32:
		return arrow.PrimitiveTypes.Int32
	case Int64:
		return arrow.PrimitiveTypes.Int64
	case Float64:
		return arrow.PrimitiveTypes.Float64
	case Bool:
		return arrow.FixedWidthTypes.Boolean
	case Date:
		return arrow.FixedWidthTypes.Date32
	default:
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	}
}

// Column is one warehouse column.
type Column struct {
	Name string
	Type ColType
}

// SeqColumn is the extra column every staged batch carries: the position of
// the row's record in its input, so that the last version of a key in a load
// wins.
const SeqColumn = "_seq"

// Table describes a warehouse table that loads upsert by Key: rows whose key
// appears in a load replace all existing rows with that key. A key may span
// several rows of one record (an Observation's components).
type Table struct {
	Name    string
	Key     string
	Columns []Column
	// Version, when set, names a column that orders the versions of a row
	// (one row per key): a load replaces a stored row only with a version
	// that is not older, NULL being oldest, so a later load of older data
	// changes nothing.
	Version string
	// Earliest names timestamp columns (one row per key) that keep the
	// earliest non-NULL value among the stored row and every staged row of
	// the key (a staged version older than Version's is ignored whole): a
	// state reached stays reached, at the first time it was known.
	Earliest []string

	once   sync.Once
	schema *arrow.Schema
}

// Schema returns the Arrow schema of a staged batch: the columns, then _seq.
func (t *Table) Schema() *arrow.Schema {
	t.once.Do(func() {
		fs := make([]arrow.Field, 0, len(t.Columns)+1)
		for _, c := range t.Columns {
			fs = append(fs, arrow.Field{Name: c.Name, Type: c.Type.arrow(), Nullable: true})
		}
		fs = append(fs, arrow.Field{Name: SeqColumn, Type: arrow.PrimitiveTypes.Int64})
		t.schema = arrow.NewSchema(fs, nil)
	})
	return t.schema
}

func (t *Table) columnList() string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// Batch accumulates rows of one table as Arrow columns. Rows are appended
// field by field in column order: b.Row().Str(..).Time(..)...End(seq).
type Batch struct {
	t   *Table
	b   *array.RecordBuilder
	col int
	n   int
}

// NewBatch returns an empty batch for t.
func NewBatch(t *Table) *Batch {
	return &Batch{t: t, b: array.NewRecordBuilder(memory.DefaultAllocator, t.Schema())}
}

// Len returns the number of complete rows in the batch.
func (b *Batch) Len() int { return b.n }

// Row starts a new row.
func (b *Batch) Row() *Batch {
	if b.col != 0 {
		panic(fmt.Sprintf("store: %s: row started before the previous one ended", b.t.Name))
	}
	return b
}

func (b *Batch) next(want ColType) array.Builder {
	if b.col >= len(b.t.Columns) {
		panic(fmt.Sprintf("store: %s: too many fields in row", b.t.Name))
	}
	c := b.t.Columns[b.col]
	if c.Type != want {
		panic(fmt.Sprintf("store: %s.%s is %s, appended %s", b.t.Name, c.Name, c.Type.DuckDB(), want.DuckDB()))
	}
	f := b.b.Field(b.col)
	b.col++
	return f
}

// Str appends a string; "" is stored as NULL.
func (b *Batch) Str(s string) *Batch {
	f := b.next(String).(*array.StringBuilder)
	if s == "" {
		f.AppendNull()
	} else {
		f.Append(s)
	}
	return b
}

// Int32 appends an INTEGER, NULL when !ok.
func (b *Batch) Int32(v int32, ok bool) *Batch {
	f := b.next(Int32).(*array.Int32Builder)
	if ok {
		f.Append(v)
	} else {
		f.AppendNull()
	}
	return b
}

// Int64 appends a BIGINT, NULL when !ok.
func (b *Batch) Int64(v int64, ok bool) *Batch {
	f := b.next(Int64).(*array.Int64Builder)
	if ok {
		f.Append(v)
	} else {
		f.AppendNull()
	}
	return b
}

// Float appends a DOUBLE, NULL when !ok.
func (b *Batch) Float(v float64, ok bool) *Batch {
	f := b.next(Float64).(*array.Float64Builder)
	if ok {
		f.Append(v)
	} else {
		f.AppendNull()
	}
	return b
}

// Bool appends a BOOLEAN.
func (b *Batch) Bool(v bool) *Batch {
	b.next(Bool).(*array.BooleanBuilder).Append(v)
	return b
}

// NullBool appends a BOOLEAN, NULL when !ok.
func (b *Batch) NullBool(v, ok bool) *Batch {
	f := b.next(Bool).(*array.BooleanBuilder)
	if ok {
		f.Append(v)
	} else {
		f.AppendNull()
	}
	return b
}

// Columns returns the columns of the batch's table, in row order.
func (b *Batch) Columns() []Column { return b.t.Columns }

// Date appends the calendar date of t (in t's location); the zero time is NULL.
func (b *Batch) Date(t time.Time) *Batch {
	f := b.next(Date).(*array.Date32Builder)
	if t.IsZero() {
		f.AppendNull()
	} else {
		y, m, d := t.Date()
		f.Append(arrow.Date32FromTime(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)))
	}
	return b
}

// Time appends a UTC timestamp; the zero time is NULL.
func (b *Batch) Time(t time.Time) *Batch {
	f := b.next(Timestamp).(*array.TimestampBuilder)
	if t.IsZero() {
		f.AppendNull()
	} else {
		f.Append(arrow.Timestamp(t.UTC().UnixMicro()))
	}
	return b
}

// End completes the row; seq orders versions of one key within a load.
func (b *Batch) End(seq int64) {
	if b.col != len(b.t.Columns) {
		panic(fmt.Sprintf("store: %s: row has %d of %d fields", b.t.Name, b.col, len(b.t.Columns)))
	}
	b.b.Field(b.col).(*array.Int64Builder).Append(seq)
	b.col = 0
	b.n++
}

// Flush returns the rows so far as a record (the caller releases it) and
// empties the batch.
func (b *Batch) Flush() arrow.Record {
	b.n = 0
	return b.b.NewRecord()
}

// Fill appends up to max rows to b. It returns false once its input is
// exhausted (possibly after appending rows) and an error only for failures
// that must abort the load; bad records are the filler's to quarantine.
type Fill func(ctx context.Context, b *Batch, max int) (more bool, err error)

// Stream is an array.RecordReader that runs fill in its own goroutine, so
// parsing overlaps with DuckDB consuming the previous batch, and keeps at most
// two batches in memory.
type Stream struct {
	t    *Table
	recs chan arrow.Record
	stop chan struct{}
	cur  arrow.Record
	err  atomic.Pointer[error]
	refs atomic.Int64
	once sync.Once
	rows atomic.Int64
}

// NewStream starts reading t's rows from fill in batches of batchSize.
func NewStream(ctx context.Context, t *Table, batchSize int, fill Fill) *Stream {
	s := &Stream{t: t, recs: make(chan arrow.Record, 1), stop: make(chan struct{})}
	s.refs.Store(1)
	go s.produce(ctx, batchSize, fill)
	return s
}

// Produce returns the next record of a table's rows (the stream releases it),
// nil at the end, or an error that aborts the load.
type Produce func(ctx context.Context) (arrow.Record, error)

// NewRecordStream streams the records next produces, for producers that
// build their own batches (in parallel, say); records must match t.Schema().
func NewRecordStream(ctx context.Context, t *Table, next Produce) *Stream {
	s := &Stream{t: t, recs: make(chan arrow.Record, 1), stop: make(chan struct{})}
	s.refs.Store(1)
	go func() {
		defer close(s.recs)
		for {
			rec, err := next(ctx)
			if err == nil {
				err = ctx.Err()
			}
			if err != nil {
				if rec != nil {
					rec.Release()
				}
				s.err.Store(&err)
				return
			}
			if rec == nil {
				return
			}
			if rec.NumRows() == 0 {
				rec.Release()
				continue
			}
			s.rows.Add(rec.NumRows())
			select {
			case s.recs <- rec:
			case <-s.stop:
				rec.Release()
				return
			}
		}
	}()
	return s
}

func (s *Stream) produce(ctx context.Context, size int, fill Fill) {
	defer close(s.recs)
	b := NewBatch(s.t)
	defer b.b.Release()
	for {
		more, err := fill(ctx, b, size)
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			s.err.Store(&err)
			return
		}
		if b.Len() > 0 {
			s.rows.Add(int64(b.Len()))
			rec := b.Flush()
			select {
			case s.recs <- rec:
			case <-s.stop:
				rec.Release()
				return
			}
		}
		if !more {
			return
		}
	}
}

// Schema implements array.RecordReader.
func (s *Stream) Schema() *arrow.Schema { return s.t.Schema() }

// Next implements array.RecordReader.
func (s *Stream) Next() bool {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	rec, ok := <-s.recs
	if !ok {
		return false
	}
	s.cur = rec
	return true
}

// Record implements array.RecordReader.
func (s *Stream) Record() arrow.Record { return s.cur }

// Err implements array.RecordReader: the error that stopped the producer.
func (s *Stream) Err() error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return nil
}

// Rows returns the number of rows produced so far.
func (s *Stream) Rows() int64 { return s.rows.Load() }

// Retain implements array.RecordReader.
func (s *Stream) Retain() { s.refs.Add(1) }

// Release implements array.RecordReader; the last release stops the producer.
func (s *Stream) Release() {
	if s.refs.Add(-1) > 0 {
		return
	}
	s.once.Do(func() {
		close(s.stop)
		if s.cur != nil {
			s.cur.Release()
			s.cur = nil
		}
		for rec := range s.recs {
			rec.Release()
		}
	})
}

// Upsert stages stream into a temporary table and replaces, for every key it
// holds, the table's rows with the newest version in the stream (highest
// _seq). It returns the number of rows written.
func (tx *Tx) Upsert(ctx context.Context, t *Table, stream array.RecordReader) (int64, error) {
	stg := "stg_" + t.Name
	if _, err := tx.Stage(ctx, stg, stream); err != nil {
		return 0, err
	}
	if s, ok := stream.(*Stream); ok {
		if err := s.Err(); err != nil {
			return 0, fmt.Errorf("load %s: %w", t.Name, err)
		}
	}
	if t.Version != "" || len(t.Earliest) > 0 {
		return tx.merge(ctx, t, stg)
	}
	cols := t.columnList()
	q := fmt.Sprintf(`DELETE FROM %[1]s WHERE %[2]s IN (SELECT %[2]s FROM %[3]s)`, t.Name, t.Key, stg)
	if _, err := tx.Exec(ctx, q); err != nil {
		return 0, fmt.Errorf("load %s: delete replaced rows: %w", t.Name, err)
	}
	q = fmt.Sprintf(`INSERT INTO %[1]s (%[2]s) SELECT %[2]s FROM %[3]s
		QUALIFY %[4]s = max(%[4]s) OVER (PARTITION BY %[5]s)`, t.Name, cols, stg, SeqColumn, t.Key)
	res, err := tx.Exec(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("load %s: insert: %w", t.Name, err)
	}
	n, _ := res.RowsAffected()
	tx.Exec(ctx, "DROP TABLE IF EXISTS "+stg)
	return n, nil
}

// merge upserts the staged rows of a one-row-per-key table with Version
// and Earliest semantics (see Table).
func (tx *Tx) merge(ctx context.Context, t *Table, stg string) (int64, error) {
	// A first load of distinct keys (the common bulk case) has nothing to
	// merge: insert the staged rows as they are.
	var fresh bool
	q := fmt.Sprintf(`SELECT NOT EXISTS (SELECT 1 FROM %[1]s) AND (SELECT count(*) = count(DISTINCT %[2]s) FROM %[3]s)`, t.Name, t.Key, stg)
	if err := tx.QueryRow(ctx, q).Scan(&fresh); err != nil {
		return 0, fmt.Errorf("load %s: %w", t.Name, err)
	}
	if fresh {
		cols := t.columnList()
		res, err := tx.Exec(ctx, fmt.Sprintf(`INSERT INTO %[1]s (%[2]s) SELECT %[2]s FROM %[3]s`, t.Name, cols, stg))
		if err != nil {
			return 0, fmt.Errorf("load %s: insert: %w", t.Name, err)
		}
		tx.Exec(ctx, "DROP TABLE IF EXISTS "+stg)
		return res.RowsAffected()
	}
	best := "best_" + t.Name
	order := SeqColumn + " DESC"
	if t.Version != "" {
		order = t.Version + " DESC NULLS LAST, " + order
	}
	// The winning staged row per key, its Earliest columns the minimum over
	// all the key's staged rows: one hash aggregation when the newest load
	// order decides (no Version), else a window.
	var first string
	if t.Version == "" {
		sel := []string{t.Key}
		for _, c := range t.Columns {
			switch {
			case c.Name == t.Key:
			case slices.Contains(t.Earliest, c.Name):
				sel = append(sel, fmt.Sprintf("min(%[1]s) AS %[1]s", c.Name))
			default:
				sel = append(sel, fmt.Sprintf("arg_max(%[1]s, %[2]s) AS %[1]s", c.Name, SeqColumn))
			}
		}
		first = fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %s AS SELECT %s FROM %s GROUP BY %s`, best, strings.Join(sel, ", "), stg, t.Key)
	} else {
		star := "*"
		if len(t.Earliest) > 0 {
			var mins []string
			for _, c := range t.Earliest {
				mins = append(mins, fmt.Sprintf("min(%[1]s) OVER (PARTITION BY %[2]s) AS %[1]s", c, t.Key))
			}
			star = "* REPLACE (" + strings.Join(mins, ", ") + ")"
		}
		first = fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %[1]s AS SELECT %[5]s FROM %[2]s
			QUALIFY row_number() OVER (PARTITION BY %[3]s ORDER BY %[4]s) = 1`, best, stg, t.Key, order, star)
	}
	steps := []string{first}
	if t.Version != "" {
		// Staged rows older than the stored version are dropped.
		steps = append(steps, fmt.Sprintf(`DELETE FROM %[1]s WHERE %[3]s IN (SELECT b.%[3]s FROM %[1]s b
			JOIN %[2]s s ON s.%[3]s = b.%[3]s WHERE NOT coalesce(b.%[4]s >= s.%[4]s OR s.%[4]s IS NULL, false))`, best, t.Name, t.Key, t.Version))
	}
	sel := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		sel[i] = "b." + c.Name
		if slices.Contains(t.Earliest, c.Name) {
			sel[i] = fmt.Sprintf("least(b.%[1]s, s.%[1]s) AS %[1]s", c.Name)
		}
	}
	merged := "merged_" + t.Name
	steps = append(steps,
		fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %[1]s AS SELECT %[2]s FROM %[3]s b LEFT JOIN %[4]s s ON s.%[5]s = b.%[5]s`,
			merged, strings.Join(sel, ", "), best, t.Name, t.Key),
		fmt.Sprintf(`DELETE FROM %[1]s WHERE %[2]s IN (SELECT %[2]s FROM %[3]s)`, t.Name, t.Key, merged))
	for _, q := range steps {
		if _, err := tx.Exec(ctx, q); err != nil {
			return 0, fmt.Errorf("load %s: %w", t.Name, err)
		}
	}
	cols := t.columnList()
	res, err := tx.Exec(ctx, fmt.Sprintf(`INSERT INTO %[1]s (%[2]s) SELECT %[2]s FROM %[3]s`, t.Name, cols, merged))
	if err != nil {
		return 0, fmt.Errorf("load %s: insert: %w", t.Name, err)
	}
	n, _ := res.RowsAffected()
	for _, x := range []string{stg, best, merged} {
		tx.Exec(ctx, "DROP TABLE IF EXISTS "+x)
	}
	return n, nil
}

// Append stages stream and inserts all its rows into t (no key, no upsert).
func (tx *Tx) Append(ctx context.Context, t *Table, stream array.RecordReader) (int64, error) {
	stg := "stg_" + t.Name
	if _, err := tx.Stage(ctx, stg, stream); err != nil {
		return 0, err
	}
	cols := t.columnList()
	res, err := tx.Exec(ctx, fmt.Sprintf(`INSERT INTO %[1]s (%[2]s) SELECT %[2]s FROM %[3]s ORDER BY %[4]s`, t.Name, cols, stg, SeqColumn))
	if err != nil {
		return 0, fmt.Errorf("append %s: %w", t.Name, err)
	}
	n, _ := res.RowsAffected()
	tx.Exec(ctx, "DROP TABLE IF EXISTS "+stg)
	return n, nil
}
