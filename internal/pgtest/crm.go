package pgtest

import (
	"context"
	_ "embed"
	"testing"

	"github.com/jackc/pgx/v5"
)

//go:embed crm_schema.sql
var crmSchema string

//go:embed crm_mapping.json
var crmMapping []byte

// CRMSchema returns SQL creating schema crm: a CRM's own tables (person,
// campaign, outreach, delivery_event, survey_answer, consent_log) with names
// and types unlike carelens' export contract, for tests of the PostgreSQL
// source. CRMMapping maps the contract onto it.
func CRMSchema() string { return crmSchema }

// CRMMapping returns the pgsrc mapping file for CRMSchema: every contract
// entity and field, contacts filtered by "NOT is_deleted". The caller owns
// the returned slice.
func CRMMapping() []byte { return append([]byte(nil), crmMapping...) }

// CreateCRM creates database name holding CRMSchema and returns its DSN.
func (c *Cluster) CreateCRM(tb testing.TB, name string) string {
	tb.Helper()
	dsn := c.CreateDB(tb, name)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, crmSchema); err != nil {
		tb.Fatalf("pgtest: create CRM schema: %v", err)
	}
	return dsn
}
