package store

import (
	"context"
	"fmt"
)

// EachText calls fn with every distinct non-NULL value of every column of
// every table in the main schema, cast to text. Privacy checks use it to prove
// that no identifier reached the warehouse; fn must not log the values.
func (db *DB) EachText(ctx context.Context, fn func(table, column, value string)) error {
	rows, err := db.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = 'main' ORDER BY table_name, ordinal_position`)
	if err != nil {
		return fmt.Errorf("list columns: %w", err)
	}
	var cols [][2]string
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, [2]string{t, c})
	}
	rows.Close()
	for _, tc := range cols {
		q := fmt.Sprintf(`SELECT DISTINCT CAST(%s AS VARCHAR) FROM %s WHERE %s IS NOT NULL`,
			quoteIdent(tc[1]), quoteIdent(tc[0]), quoteIdent(tc[1]))
		r, err := db.QueryContext(ctx, q)
		if err != nil {
			return fmt.Errorf("scan %s.%s: %w", tc[0], tc[1], err)
		}
		for r.Next() {
			var v string
			if err := r.Scan(&v); err != nil {
				r.Close()
				return err
			}
			fn(tc[0], tc[1], v)
		}
		r.Close()
		if err := r.Err(); err != nil {
			return err
		}
	}
	return nil
}

func quoteIdent(s string) string {
	out := []byte{'"'}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			out = append(out, '"')
		}
		out = append(out, s[i])
	}
	return string(append(out, '"'))
}
