package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/marcboeker/go-duckdb"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrNoSnapshot reports that no ETL run has committed data yet.
var ErrNoSnapshot = errors.New("no data loaded yet: run 'carelens etl run'")

// DB is the analytics database. It is safe for concurrent use.
type DB struct {
	*sql.DB
	path string
}

// Options tune the DuckDB engine; the zero value keeps DuckDB's defaults.
type Options struct {
	// MemoryLimit caps DuckDB's buffer memory ("1GB", "512MB"); beyond it
	// DuckDB spills to a temporary folder beside the database file.
	MemoryLimit string
	// Threads caps DuckDB's worker threads (0 = one per core).
	Threads int
}

func (o Options) dsn(path string) string {
	v := url.Values{}
	// carelens never relies on the order rows were inserted in (every query
	// whose order matters says ORDER BY), and keeping it makes DuckDB
	// serialise large writes: a 19 M-row membership table takes 25 s with
	// it and 12 s without on 2 cores.
	v.Set("preserve_insertion_order", "false")
	if o.MemoryLimit != "" {
		v.Set("memory_limit", o.MemoryLimit)
	}
	if o.Threads > 0 {
		v.Set("threads", strconv.Itoa(o.Threads))
	}
	return path + "?" + v.Encode()
}

// Open opens (creating if needed) the DuckDB database at path and applies any
// pending migrations. Path ":memory:" or "" opens a private in-memory database.
func Open(ctx context.Context, path string) (*DB, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith is Open with engine options.
func OpenWith(ctx context.Context, path string, opt Options) (*DB, error) {
	dsn := path
	if path == ":memory:" {
		dsn = ""
	}
	dsn = opt.dsn(dsn)
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	sqlDB := sql.OpenDB(connector)
	if dsn == "" {
		// Every connection to an in-memory connector shares one database, but
		// keep one connection so temp objects are visible to all callers.
		sqlDB.SetMaxOpenConns(1)
	}
	db := &DB{DB: sqlDB, path: path}
	if err := db.migrate(ctx); err != nil {
		sqlDB.Close()
		return nil, err
	}
	return db, nil
}

// OpenReadOnly opens an existing database file without write access; it does
// not migrate. The server uses it so it never blocks or alters ETL writes.
func OpenReadOnly(ctx context.Context, path string) (*DB, error) {
	connector, err := duckdb.NewConnector(path+"?access_mode=read_only", nil)
	if err != nil {
		return nil, fmt.Errorf("open %s read-only: %w", path, err)
	}
	sqlDB := sql.OpenDB(connector)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open %s read-only: %w", path, err)
	}
	return &DB{DB: sqlDB, path: path}, nil
}

// Path returns the database file path the DB was opened with.
func (db *DB) Path() string { return db.path }

// Migration is one versioned schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded migrations in version order. File names are
// NNNN_name.sql; a duplicate or malformed version is a programming error.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migration %s: version %d already used by %s", name, v, prev)
		}
		seen[v] = name
		b, err := migrationFS.ReadFile(path.Join("migrations", name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: rest, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// migrate applies, each in its own transaction, every migration newer than the
// database's recorded version.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var current int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	ms, err := Migrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate %04d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %04d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?, now())`, m.Version, m.Name); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %04d_%s: %w", m.Version, m.Name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// SchemaVersion returns the newest applied migration version.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// Snapshot returns the id of the newest committed data snapshot, or
// ErrNoSnapshot when nothing has been loaded.
func (db *DB) Snapshot(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	err := db.QueryRowContext(ctx, `SELECT max(snapshot_id) FROM etl_runs WHERE status = 'succeeded'`).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("read snapshot: %w", err)
	}
	if !id.Valid {
		return 0, ErrNoSnapshot
	}
	return id.Int64, nil
}

// Tx is one load transaction on a single connection. Arrow streams registered
// through it are visible only to its statements.
type Tx struct {
	conn *sql.Conn
	done bool
	n    int
}

// Begin starts a load transaction on a dedicated connection.
func (db *DB) Begin(ctx context.Context) (*Tx, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		conn.Close()
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &Tx{conn: conn}, nil
}

// Exec runs one statement inside the transaction.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.conn.ExecContext(ctx, query, args...)
}

// Query runs a query inside the transaction; close the rows before the
// next statement.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.conn.QueryContext(ctx, query, args...)
}

// QueryRow runs a one-row query inside the transaction.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.conn.QueryRowContext(ctx, query, args...)
}

// Stage scans reader once into a new temporary table named name (dropped at
// the end of the connection), pulling batches from the reader as DuckDB needs
// them so memory stays bounded by the batch size. It returns the row count.
func (tx *Tx) Stage(ctx context.Context, name string, reader array.RecordReader) (int64, error) {
	tx.n++
	view := fmt.Sprintf("arrow_in_%d", tx.n)
	var release func()
	err := tx.conn.Raw(func(dc any) error {
		a, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		release, err = a.RegisterView(reader, view)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("stage %s: register arrow stream: %w", name, err)
	}
	defer release()
	if _, err := tx.conn.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM %s`, name, view)); err != nil {
		return 0, fmt.Errorf("stage %s: %w", name, err)
	}
	tx.conn.ExecContext(ctx, fmt.Sprintf(`DROP VIEW IF EXISTS %s`, view))
	var n int64
	if err := tx.conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM %s`, name)).Scan(&n); err != nil {
		return 0, fmt.Errorf("stage %s: count: %w", name, err)
	}
	return n, nil
}

// Commit commits the transaction and releases the connection.
func (tx *Tx) Commit(ctx context.Context) error {
	if tx.done {
		return errors.New("commit: transaction already finished")
	}
	tx.done = true
	defer tx.conn.Close()
	if _, err := tx.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Rollback aborts the transaction; it is a no-op after Commit.
func (tx *Tx) Rollback() error {
	if tx.done {
		return nil
	}
	tx.done = true
	defer tx.conn.Close()
	_, err := tx.conn.ExecContext(context.Background(), "ROLLBACK")
	return err
}
