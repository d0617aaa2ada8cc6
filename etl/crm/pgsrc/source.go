package pgsrc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carelens/carelens/etl/crm/contract"
)

// DefaultPageSize is the page size Pull uses when given one below 1.
const DefaultPageSize = 5000

// ErrClosed is returned by Pull after Close.
var ErrClosed = errors.New("pgsrc: source closed")

// Row is one contract record read from the CRM.
type Row struct {
	// N is the ordinal of the row within its entity in this pull, from 1:
	// a position for quarantine messages, not an identifier.
	N int64
	// Fields holds the mapped contract fields in the contract's text
	// formats; NULL and fields that failed to convert are "".
	Fields contract.Fields
	// Err, when not empty, says why the row cannot be used, naming the
	// contract field and never its value ("field mrn: unsupported column
	// type jsonb"). The rest of the pull goes on.
	Err string
}

// Source reads contract records from a CRM's PostgreSQL database through a
// mapping. It holds one connection, reopened when it breaks; Pulls on one
// Source run one at a time. A Source is safe for concurrent use.
type Source struct {
	cfg  *pgx.ConnConfig
	ents []*entity // mapped entities in contract order

	mu     sync.Mutex
	conn   *pgx.Conn
	closed bool
	types  map[uint32]columnType // non-built-in type OIDs seen so far

	// beginHook, when set (by tests), runs right after BEGIN.
	beginHook func(context.Context, pgx.Tx) error
}

// entity is one mapped entity, with its queries prepared as text.
type entity struct {
	name   string
	table  string   // schema.table, for messages
	cols   []string // selected columns: key, updated_at, then the other mapped columns
	fields []field  // contract fields by selected column
	// sql holds the page query by [since predicate][after-key predicate].
	sql [2][2]string
}

type field struct {
	name string
	col  int // index into entity.cols
}

// Open connects to the CRM database, checks the mapping against its schema
// and returns a Source holding the connection. Every mapping problem, in
// the file or in the schema, comes back together in one *MappingError:
// unknown entities, keys or contract fields, tables or columns that do not
// exist (as seen in information_schema by the connecting role), a key
// column that is nullable or not unique (a primary key or a unique index on
// it alone), an updated_at column that is not a timestamp, and a where
// expression PostgreSQL rejects. The session runs with TimeZone UTC.
func Open(ctx context.Context, dsn string, mapping []byte) (*Source, error) {
	m, probs := parseMapping(mapping)
	if len(m.Entities) == 0 {
		return nil, probs.err()
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errors.Join(probs.err(), fmt.Errorf("pgsrc: %w", err))
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "carelens-pgsrc"
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, errors.Join(probs.err(), fmt.Errorf("pgsrc: connect: %w", safe(err)))
	}
	s := &Source{cfg: cfg, conn: conn, types: map[uint32]columnType{}}
	for _, name := range m.Names() {
		e, err := s.check(ctx, name, m.Entities[name], &probs)
		if err != nil {
			conn.Close(context.WithoutCancel(ctx))
			return nil, err
		}
		if e != nil {
			s.ents = append(s.ents, e)
		}
	}
	if err := probs.err(); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return s, nil
}

// Close closes the connection, waiting for a running Pull to end first.
// Pulls after Close return ErrClosed.
func (s *Source) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.conn != nil {
		s.conn.Close(context.Background())
		s.conn = nil
	}
}

const qColumns = `SELECT column_name, is_nullable = 'YES', data_type
FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`

const qTable = `SELECT EXISTS (SELECT 1 FROM information_schema.tables
WHERE table_schema = $1 AND table_name = $2)`

// qUnique tells whether a valid, non-partial unique index (a primary key
// or unique constraint has one) covers the column alone.
const qUnique = `SELECT EXISTS (
SELECT 1 FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = $3
AND i.indisunique AND i.indisvalid AND i.indnkeyatts = 1 AND i.indpred IS NULL)`

// check checks one entity against the schema, adding problems; it returns
// the entity when it has none, and an error only when the database fails.
func (s *Source) check(ctx context.Context, name string, me Entity, probs *problems) (*entity, error) {
	path := "entities." + name
	clean := !slices.ContainsFunc(*probs, func(p string) bool { return strings.HasPrefix(p, path+".") })
	schema, table := me.SplitTable()
	if table == "" || schema == "" {
		return nil, nil
	}
	qualified := schema + "." + table
	type column struct {
		nullable bool
		dataType string
	}
	cols := map[string]column{}
	rows, err := s.conn.Query(ctx, qColumns, schema, table)
	if err != nil {
		return nil, fmt.Errorf("pgsrc: read information_schema: %w", safe(err))
	}
	for rows.Next() {
		var n string
		var c column
		if err := rows.Scan(&n, &c.nullable, &c.dataType); err != nil {
			return nil, fmt.Errorf("pgsrc: read information_schema: %w", safe(err))
		}
		cols[n] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgsrc: read information_schema: %w", safe(err))
	}
	if len(cols) == 0 {
		var exists bool
		if err := s.conn.QueryRow(ctx, qTable, schema, table).Scan(&exists); err != nil {
			return nil, fmt.Errorf("pgsrc: read information_schema: %w", safe(err))
		}
		if !exists {
			probs.add("%s.table: table %s does not exist", path, qualified)
		} else {
			probs.add("%s.table: table %s has no column the connecting role can read", path, qualified)
		}
		return nil, nil
	}
	missing := func(setting, col string) bool {
		if _, ok := cols[col]; ok || col == "" {
			return false
		}
		probs.add("%s.%s: column %s.%s does not exist", path, setting, qualified, col)
		clean = false
		return true
	}
	if me.Key != "" && !missing("key", me.Key) {
		if cols[me.Key].nullable {
			probs.add("%s.key: column %s.%s is nullable (the key must be NOT NULL)", path, qualified, me.Key)
			clean = false
		}
		var unique bool
		if err := s.conn.QueryRow(ctx, qUnique, schema, table, me.Key).Scan(&unique); err != nil {
			return nil, fmt.Errorf("pgsrc: read pg_index: %w", safe(err))
		}
		if !unique {
			probs.add("%s.key: column %s.%s is not unique (needs a primary key or a unique index on it alone)", path, qualified, me.Key)
			clean = false
		}
	}
	if me.UpdatedAt != "" && !missing("updated_at", me.UpdatedAt) {
		if t := cols[me.UpdatedAt].dataType; t != "timestamp with time zone" && t != "timestamp without time zone" {
			probs.add("%s.updated_at: column %s.%s has type %s, want timestamptz or timestamp", path, qualified, me.UpdatedAt, t)
			clean = false
		}
	}
	for _, f := range slices.Sorted(maps.Keys(me.Fields)) {
		missing("fields."+f, me.Fields[f])
	}
	if !clean {
		return nil, nil
	}
	// Describing (not running) the where on its own, then the fullest page
	// query, checks that PostgreSQL accepts them.
	if me.Where != "" {
		q := "SELECT FROM " + pgx.Identifier{schema, table}.Sanitize() + " WHERE (" + me.Where + "\n)"
		if ok, err := s.describes(ctx, q, 0, path+".where", probs); !ok || err != nil {
			return nil, err
		}
	}
	e := newEntity(name, schema, table, me)
	if ok, err := s.describes(ctx, e.sql[1][1], 3, path, probs); !ok || err != nil {
		return nil, err
	}
	return e, nil
}

// describes asks PostgreSQL to describe query, adding a problem for setting
// when it refuses or when the query has other than params parameters (the
// where used some). It returns an error only when the database fails.
func (s *Source) describes(ctx context.Context, query string, params int, setting string, probs *problems) (bool, error) {
	sd, err := s.conn.PgConn().Prepare(ctx, "", query, nil)
	if err != nil {
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			return false, fmt.Errorf("pgsrc: describe: %w", safe(err))
		}
		probs.add("%s: %s", setting, safeMessage(pe))
		return false, nil
	}
	if len(sd.ParamOIDs) != params {
		probs.add("%s: must not use parameters", setting)
		return false, nil
	}
	return true, nil
}

// newEntity lays out the selected columns and builds the page queries.
func newEntity(name, schema, table string, me Entity) *entity {
	e := &entity{name: name, table: schema + "." + table, cols: []string{me.Key, me.UpdatedAt}}
	for _, f := range slices.Sorted(maps.Keys(me.Fields)) {
		col := me.Fields[f]
		i := slices.Index(e.cols, col)
		if i < 0 {
			i = len(e.cols)
			e.cols = append(e.cols, col)
		}
		e.fields = append(e.fields, field{name: f, col: i})
	}
	quoted := make([]string, len(e.cols))
	for i, c := range e.cols {
		quoted[i] = pgx.Identifier{c}.Sanitize()
	}
	from := pgx.Identifier{schema, table}.Sanitize()
	key, upd := quoted[0], quoted[1]
	for since := range 2 {
		for after := range 2 {
			var conds []string
			if me.Where != "" {
				// The newline ends a trailing -- comment in the expression.
				conds = append(conds, "("+me.Where+"\n)")
			}
			n := 1
			if since == 1 {
				conds = append(conds, upd+" >= $"+strconv.Itoa(n))
				n++
			}
			if after == 1 {
				conds = append(conds, key+" > $"+strconv.Itoa(n))
				n++
			}
			var b strings.Builder
			b.WriteString("SELECT " + strings.Join(quoted, ", ") + " FROM " + from)
			if len(conds) > 0 {
				b.WriteString(" WHERE " + strings.Join(conds, " AND "))
			}
			b.WriteString(" ORDER BY " + key + " LIMIT $" + strconv.Itoa(n))
			e.sql[since][after] = b.String()
		}
	}
	return e
}

// Pull reads every mapped entity in contract order (contacts, campaigns,
// messages, message_events, survey_responses, consents) in one REPEATABLE
// READ, READ ONLY transaction, so all entities come from one snapshot and
// rows committed by others during the pull are not seen.
//
// An entity with a non-zero since[entity] yields the rows whose updated_at
// is at or after it; otherwise all rows. Rows with updated_at equal to the
// watermark are read again by the next pull (>= rather than >, so a row
// committed later with the same updated_at is not missed); rows whose
// updated_at is NULL are read only by pulls with a zero since. Rows are read
// in key order, pageSize at a time (keyset pagination; DefaultPageSize when
// pageSize < 1), converted to contract text (see the package
// documentation), and handed to fn one page at a time. fn may take its
// time; page is reused once fn returns, the Fields maps in it are not. Only
// one page is held in memory.
//
// Pull returns the watermarks for the next pull: a copy of since in which
// each entity that yielded rows has the greatest updated_at it read
// (infinite timestamps, and any outside years 1–9999, aside). An error from fn ends the pull and comes
// back wrapped; database errors never quote row values. On error no
// watermark is returned: keep the previous ones and pull again.
func (s *Source) Pull(ctx context.Context, since map[string]time.Time, pageSize int, fn func(entity string, page []Row) error) (map[string]time.Time, error) {
	if pageSize < 1 {
		pageSize = DefaultPageSize
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if s.conn == nil || s.conn.IsClosed() {
		conn, err := pgx.ConnectConfig(ctx, s.cfg)
		if err != nil {
			return nil, fmt.Errorf("pgsrc: connect: %w", safe(err))
		}
		s.conn = conn
	}
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	tx, err := s.conn.BeginTx(ctx, opts)
	if err != nil && s.conn.IsClosed() && ctx.Err() == nil {
		// The idle connection was dropped (server restart, idle timeout,
		// terminated backend): reconnect once.
		conn, cerr := pgx.ConnectConfig(ctx, s.cfg)
		if cerr != nil {
			return nil, fmt.Errorf("pgsrc: connect: %w", safe(cerr))
		}
		s.conn = conn
		tx, err = s.conn.BeginTx(ctx, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("pgsrc: begin: %w", safe(err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // no-op after Commit
	if s.beginHook != nil {
		if err := s.beginHook(ctx, tx); err != nil {
			return nil, err
		}
	}
	marks := make(map[string]time.Time, len(since)+len(s.ents))
	for k, v := range since {
		marks[k] = v
	}
	for _, e := range s.ents {
		mark, ok, err := s.pullEntity(ctx, tx, e, since[e.name], pageSize, fn)
		if err != nil {
			return nil, err
		}
		if ok && mark.After(marks[e.name]) {
			marks[e.name] = mark
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("pgsrc: commit: %w", safe(err))
	}
	return marks, nil
}

// pullEntity reads one entity page by page; it returns the greatest finite
// updated_at read, and ok when there was one.
func (s *Source) pullEntity(ctx context.Context, tx pgx.Tx, e *entity, since time.Time, pageSize int, fn func(string, []Row) error) (time.Time, bool, error) {
	types, err := s.describe(ctx, tx, e)
	if err != nil {
		return time.Time{}, false, err
	}
	pc := tx.Conn().PgConn()
	hasSince := 0
	var sinceArg []byte
	if !since.IsZero() {
		hasSince = 1
		sinceArg = binary.BigEndian.AppendUint64(nil, uint64(since.UnixMicro()-pgEpochMicros))
	}
	limitArg := binary.BigEndian.AppendUint64(nil, uint64(pageSize))
	var (
		n       int64
		last    []byte // key of the last row read, binary
		after   int    // 1 once last is set
		maxUS   int64
		haveMax bool
		page    = make([]Row, 0, min(pageSize, 4096))
		vals    = make([]string, len(e.cols))
		bounds  = make([][2]int, len(e.cols)) // of each column's text in buf
		errs    = make([]error, len(e.cols))
		used    = make([]bool, len(e.cols))
		buf     []byte // the row's converted values, end to end
	)
	for _, f := range e.fields {
		used[f.col] = true
	}
	for {
		args := make([][]byte, 0, 3)
		oids := make([]uint32, 0, 3)
		if hasSince == 1 {
			args, oids = append(args, sinceArg), append(oids, 0)
		}
		if after == 1 {
			args, oids = append(args, last), append(oids, 0)
		}
		args, oids = append(args, limitArg), append(oids, oidInt8)
		rr := pc.ExecParams(ctx, e.sql[hasSince][after], args, oids, []int16{pgx.BinaryFormatCode}, []int16{pgx.BinaryFormatCode})
		if fds := rr.FieldDescriptions(); fds != nil && !sameTypes(fds, types) {
			rr.Close()
			return time.Time{}, false, fmt.Errorf("pgsrc: %s: table %s changed during the pull", e.name, e.table)
		}
		page = page[:0]
		for rr.NextRow() {
			row := rr.Values()
			if row[0] == nil {
				rr.Close()
				return time.Time{}, false, fmt.Errorf("pgsrc: %s: key column %s.%s is NULL", e.name, e.table, e.cols[0])
			}
			last, after = append(last[:0], row[0]...), 1
			if u := row[1]; len(u) == 8 {
				us := int64(binary.BigEndian.Uint64(u))
				if us >= minMicros && us <= maxMicros && (!haveMax || us > maxUS) {
					maxUS, haveMax = us, true
				}
			}
			// Convert into one buffer and make one string of it: one
			// allocation per row rather than one per value.
			buf = buf[:0]
			for i, raw := range row {
				errs[i] = nil
				start := len(buf)
				if used[i] && raw != nil {
					if types[i].dec == nil {
						errs[i] = errors.New("unsupported column type " + types[i].name)
					} else if buf, errs[i] = types[i].dec(buf, raw); errs[i] != nil {
						buf = buf[:start]
					}
				}
				bounds[i] = [2]int{start, len(buf)}
			}
			all := string(buf)
			for i, b := range bounds {
				vals[i] = all[b[0]:b[1]]
			}
			n++
			r := Row{N: n, Fields: make(contract.Fields, len(e.fields))}
			for _, f := range e.fields {
				if err := errs[f.col]; err != nil {
					if r.Err == "" {
						r.Err = "field " + f.name + ": " + err.Error()
					}
					continue
				}
				r.Fields[f.name] = vals[f.col]
			}
			page = append(page, r)
		}
		if _, err := rr.Close(); err != nil {
			return time.Time{}, false, fmt.Errorf("pgsrc: %s: read %s: %w", e.name, e.table, safe(err))
		}
		if len(page) > 0 {
			if err := fn(e.name, page); err != nil {
				return time.Time{}, false, fmt.Errorf("pgsrc: %s: %w", e.name, err)
			}
		}
		if len(page) < pageSize {
			break
		}
	}
	if !haveMax {
		return time.Time{}, false, nil
	}
	return time.UnixMicro(pgEpochMicros + maxUS).UTC(), true, nil
}

func sameTypes(fds []pgconn.FieldDescription, types []columnType) bool {
	if len(fds) != len(types) {
		return false
	}
	for i, fd := range fds {
		if fd.DataTypeOID != types[i].oid {
			return false
		}
	}
	return true
}

// describe resolves how each selected column of e converts, inside the
// pull's transaction so it matches what the pages return.
func (s *Source) describe(ctx context.Context, tx pgx.Tx, e *entity) ([]columnType, error) {
	sd, err := tx.Conn().PgConn().Prepare(ctx, "", e.sql[1][1], nil)
	if err != nil {
		return nil, fmt.Errorf("pgsrc: %s: describe %s: %w", e.name, e.table, safe(err))
	}
	if len(sd.Fields) != len(e.cols) {
		return nil, fmt.Errorf("pgsrc: %s: describe %s: %d columns, want %d", e.name, e.table, len(sd.Fields), len(e.cols))
	}
	if oid := sd.Fields[1].DataTypeOID; oid != oidTimestamptz && oid != oidTimestamp {
		return nil, fmt.Errorf("pgsrc: %s: column %s.%s is no longer a timestamp", e.name, e.table, e.cols[1])
	}
	var unknown []uint32
	for _, f := range sd.Fields {
		if _, ok := builtinDecoders[f.DataTypeOID]; !ok && !slices.Contains(unknown, f.DataTypeOID) {
			if _, ok := s.types[f.DataTypeOID]; !ok {
				unknown = append(unknown, f.DataTypeOID)
			}
		}
	}
	if len(unknown) > 0 {
		rows, err := tx.Query(ctx, `SELECT oid::int8, typtype = 'e', format_type(oid, NULL) FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])`, unknown)
		if err != nil {
			return nil, fmt.Errorf("pgsrc: %s: read pg_type: %w", e.name, safe(err))
		}
		for rows.Next() {
			var oid int64
			var enum bool
			var name string
			if err := rows.Scan(&oid, &enum, &name); err != nil {
				return nil, fmt.Errorf("pgsrc: %s: read pg_type: %w", e.name, safe(err))
			}
			ct := columnType{oid: uint32(oid), name: name}
			if enum {
				ct.dec = decodeEnum
			}
			s.types[uint32(oid)] = ct
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("pgsrc: %s: read pg_type: %w", e.name, safe(err))
		}
	}
	types := make([]columnType, len(sd.Fields))
	for i, f := range sd.Fields {
		if dec, ok := builtinDecoders[f.DataTypeOID]; ok {
			types[i] = columnType{oid: f.DataTypeOID, dec: dec}
		} else if ct, ok := s.types[f.DataTypeOID]; ok {
			types[i] = ct
		} else {
			types[i] = columnType{oid: f.DataTypeOID, name: "oid " + strconv.FormatUint(uint64(f.DataTypeOID), 10)}
		}
	}
	return types, nil
}
