package etl

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/carelens/carelens/internal/store"
)

// ErasePatient deletes every warehouse row of one patient (a surrogate):
// each table with a patient_id column, the delivery events of the patient's
// messages, and the derived consent state, in one transaction that commits
// a snapshot of its own (job "privacy-erase") so no cached result outlives
// the rows. It returns the rows deleted per table. The vault side (keys,
// date shift, tombstones) is the caller's next step.
func ErasePatient(ctx context.Context, db *store.DB, surrogate string, now func() time.Time) (map[string]int64, error) {
	if surrogate == "" {
		return nil, fmt.Errorf("erase: no patient")
	}
	if now == nil {
		now = time.Now
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.Query(ctx, `SELECT table_name FROM information_schema.columns
		WHERE column_name = 'patient_id' AND table_schema = 'main'
		AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE')`)
	if err != nil {
		return nil, err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return nil, err
		}
		tables = append(tables, t)
	}
	rows.Close()
	sort.Strings(tables)
	deleted := map[string]int64{}
	// Events hang off the patient's messages: delete them first.
	r, err := tx.Exec(ctx, `DELETE FROM message_events WHERE message_key IN
		(SELECT message_key FROM outreach_messages WHERE patient_id = ?)`, surrogate)
	if err != nil {
		return nil, fmt.Errorf("erase message_events: %w", err)
	}
	if n, _ := r.RowsAffected(); n > 0 {
		deleted["message_events"] = n
	}
	for _, t := range tables {
		r, err := tx.Exec(ctx, fmt.Sprintf(`DELETE FROM %s WHERE patient_id = ?`, t), surrogate)
		if err != nil {
			return nil, fmt.Errorf("erase %s: %w", t, err)
		}
		if n, _ := r.RowsAffected(); n > 0 {
			deleted[t] = n
		}
	}
	// The run records that data changed (a new snapshot), not what: the
	// counts go to the audit trail.
	res := newResult("privacy-erase", "none", now)
	if err := commitRun(ctx, tx, res, &quarantineLog{}, now, nil); err != nil {
		return nil, err
	}
	return deleted, nil
}
