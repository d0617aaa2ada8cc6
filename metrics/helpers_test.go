package metrics

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/carelens/carelens/internal/store"
)

// openStore returns a migrated in-memory warehouse with the fixture files
// (SQL scripts) applied.
func openStore(t *testing.T, fixtures ...string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, f := range fixtures {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, string(b)); err != nil {
			t.Fatalf("fixture %s: %v", f, err)
		}
	}
	return db
}

// commitSnapshot records a succeeded ETL run, which makes id the newest
// snapshot.
func commitSnapshot(t *testing.T, db *store.DB, id int64) {
	t.Helper()
	run := fmt.Sprintf("run-%d", id)
	_, err := db.ExecContext(context.Background(), `INSERT INTO etl_runs VALUES
		(?, ?, 'files', 'succeeded', 'limited', now(), now(), 0, 0, 0, 0, NULL, TIMESTAMP '2025-03-31 23:59:59', NULL, NULL)`, run, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(context.Background(), `INSERT INTO etl_run_counts VALUES (?, 'ehr', 'Appointment', 0, 0, 0, 0)`, run); err != nil {
		t.Fatal(err)
	}
}

// loadBuiltin loads the shipped definitions against db or fails the test.
func loadBuiltin(t *testing.T, db DB) *Registry {
	t.Helper()
	reg, errs := Load(context.Background(), Builtin, db)
	for _, err := range errs {
		t.Error(err)
	}
	if reg == nil {
		t.FailNow()
	}
	return reg
}
