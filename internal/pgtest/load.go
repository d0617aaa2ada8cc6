package pgtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/carelens/carelens/etl/crm/contract"
	"github.com/carelens/carelens/etl/crm/pgsrc"
)

// LoadContract inserts logical contract records into the CRM tables a
// pgsrc mapping names, the reverse of pgsrc.Source.Pull: each record of
// records[entity] becomes one row of the entity's table, each contract
// field going to the column the mapping gives it. Values are the
// contract's text and PostgreSQL casts them to the column types (COPY ...
// FROM STDIN in CSV format, in one transaction, with TimeZone UTC, so
// "YYYY-MM-DD HH:MM:SS" is UTC); "" is stored as NULL; columns the mapping
// does not name get their defaults. A field the mapping does not map, or
// two fields of one record mapped to one column with different values, is
// an error. A million rows load in seconds.
func LoadContract(ctx context.Context, dsn string, mapping []byte, records map[string][]contract.Fields) error {
	m, err := pgsrc.ParseMapping(mapping)
	if err != nil {
		return err
	}
	for name := range records {
		if _, ok := m.Entities[name]; !ok {
			return fmt.Errorf("pgtest: entity %s is not in the mapping", name)
		}
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	cfg.RuntimeParams["datestyle"] = "ISO, YMD"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgtest: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for _, name := range m.Names() {
		if len(records[name]) == 0 {
			continue
		}
		if err := copyEntity(ctx, tx, name, m.Entities[name], records[name]); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgtest: commit: %w", err)
	}
	return nil
}

// copyEntity COPYs the records of one entity into its table.
func copyEntity(ctx context.Context, tx pgx.Tx, name string, e pgsrc.Entity, recs []contract.Fields) error {
	// Columns in first-field order; each column takes the fields mapped to it.
	var cols []string
	var colFields [][]string
	for _, f := range slices.Sorted(maps.Keys(e.Fields)) {
		i := slices.Index(cols, e.Fields[f])
		if i < 0 {
			i = len(cols)
			cols = append(cols, e.Fields[f])
			colFields = append(colFields, nil)
		}
		colFields[i] = append(colFields[i], f)
	}
	for i, r := range recs {
		for f := range r {
			if _, ok := e.Fields[f]; !ok {
				return fmt.Errorf("pgtest: %s record %d: field %s is not mapped", name, i+1, f)
			}
		}
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = pgx.Identifier{c}.Sanitize()
	}
	schema, table := e.SplitTable()
	sql := "COPY " + pgx.Identifier{schema, table}.Sanitize() + " (" + strings.Join(quoted, ", ") + ") FROM STDIN (FORMAT csv)"

	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(writeCSV(pw, name, recs, colFields))
	}()
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, pr, sql)
	pr.CloseWithError(io.ErrClosedPipe) // unblocks the writer if COPY stopped early
	<-done
	if err != nil {
		return fmt.Errorf("pgtest: load %s into %s: %w", name, e.Table, err)
	}
	if tag.RowsAffected() != int64(len(recs)) {
		return fmt.Errorf("pgtest: load %s into %s: %d rows copied, want %d", name, e.Table, tag.RowsAffected(), len(recs))
	}
	return nil
}

// writeCSV writes one CSV line per record: "" unquoted (NULL to COPY),
// everything else quoted (so `\.` and the like stay data).
func writeCSV(w io.Writer, name string, recs []contract.Fields, colFields [][]string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	for i, r := range recs {
		for c, fs := range colFields {
			if c > 0 {
				bw.WriteByte(',')
			}
			v, from := "", ""
			for _, f := range fs {
				fv := r[f]
				if fv == "" {
					continue
				}
				if v != "" && fv != v {
					return fmt.Errorf("pgtest: %s record %d: fields %s and %s go to one column with different values", name, i+1, from, f)
				}
				v, from = fv, f
			}
			if v == "" {
				continue
			}
			bw.WriteByte('"')
			bw.WriteString(strings.ReplaceAll(v, `"`, `""`))
			bw.WriteByte('"')
		}
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
	}
	return bw.Flush()
}
