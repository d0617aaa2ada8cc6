package store

import (
	"context"
	"fmt"
)

// ColumnInfo is a column of a table as the database has it.
type ColumnInfo struct {
	Name     string
	Type     string // DuckDB type name: VARCHAR, DATE, …
	Nullable bool
}

// Describe returns the columns of a main-schema table in order, or an error
// when there is no such table.
func (db *DB) Describe(ctx context.Context, table string) ([]ColumnInfo, error) {
	rows, err := db.QueryContext(ctx, `SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns
		WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position`, table)
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", table, err)
	}
	defer rows.Close()
	var cols []ColumnInfo
	for rows.Next() {
		var c ColumnInfo
		if err := rows.Scan(&c.Name, &c.Type, &c.Nullable); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("no table %s in the warehouse (add it in a migration)", table)
	}
	return cols, nil
}

// ColTypeOf returns the ColType of a DuckDB type name.
func ColTypeOf(duck string) (ColType, bool) {
	for t := String; t <= Timestamp; t++ {
		if t.DuckDB() == duck {
			return t, true
		}
	}
	return 0, false
}
