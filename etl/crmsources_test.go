package etl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carelens/carelens/etl/crm"
	"github.com/carelens/carelens/etl/crm/contract"
	"github.com/carelens/carelens/etl/crm/rest"
	"github.com/carelens/carelens/etl/crm/rest/resttest"
	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/etl/synth"
	"github.com/carelens/carelens/internal/pgtest"
	"github.com/carelens/carelens/internal/store"
)

// crmTables are the warehouse tables CRM loads fill or derive.
var crmTables = []string{"contacts", "campaigns", "outreach_messages", "message_events", "survey_responses", "consents", "channel_consent", "crm_sync"}

// readCRMRecords reads a generated crm/ folder into logical records.
func readCRMRecords(t *testing.T, dir string) map[string][]contract.Fields {
	t.Helper()
	out := map[string][]contract.Fields{}
	for _, spec := range contract.Specs {
		ent := crm.EntityNamed(spec.Name)
		rd, err := crm.OpenFile(filepath.Join(dir, spec.Name+".csv"), ent)
		if err != nil {
			t.Fatal(err)
		}
		for {
			r, _, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			f := contract.Fields{}
			for _, name := range spec.Fields {
				if v := r.Get(name); v != "" {
					f[name] = v
				}
			}
			out[spec.Name] = append(out[spec.Name], f)
		}
		rd.Close()
	}
	return out
}

// canonicalCRM turns generated records into data every source can hold: ids
// renumbered 1, 2, … per entity (the test CRM database keys them as bigint)
// consistently with the fields that refer to them, and each message event
// once (a table cannot hold the feed's re-sent rows).
func canonicalCRM(in map[string][]contract.Fields) map[string][]contract.Fields {
	ids := map[string]map[string]string{}
	renum := func(entity, id string) string {
		m := ids[entity]
		if m == nil {
			m = map[string]string{}
			ids[entity] = m
		}
		if n, ok := m[id]; ok {
			return n
		}
		n := fmt.Sprint(len(m) + 1)
		m[id] = n
		return n
	}
	refs := map[string]string{"contact_id": "contacts", "message_id": "messages", "event_id": "message_events",
		"response_id": "survey_responses", "consent_id": "consents"}
	out := map[string][]contract.Fields{}
	seen := map[string]bool{}
	for _, spec := range contract.Specs {
		for _, r := range in[spec.Name] {
			if spec.Name == "message_events" {
				if seen[r["event_id"]] {
					continue
				}
				seen[r["event_id"]] = true
			}
			f := contract.Fields{}
			for k, v := range r {
				if ent, ok := refs[k]; ok && v != "" {
					v = renum(ent, v)
				}
				f[k] = v
			}
			out[spec.Name] = append(out[spec.Name], f)
		}
	}
	return out
}

// writeCRMFiles writes records as crm/<entity>.ndjson files.
func writeCRMFiles(t *testing.T, dir string, records map[string][]contract.Fields) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "crm"), 0o700); err != nil {
		t.Fatal(err)
	}
	for ent, rs := range records {
		var b []byte
		for _, r := range rs {
			line, _ := json.Marshal(r)
			b = append(append(b, line...), '\n')
		}
		if err := os.WriteFile(filepath.Join(dir, "crm", ent+".ndjson"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// dumpTables returns every row of the CRM tables as text, sorted, the
// source's bookkeeping (crm_sync) aside.
func dumpTables(t *testing.T, db *store.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, tbl := range crmTables[:len(crmTables)-1] {
		out[tbl] = queryStrings(t, db, fmt.Sprintf(`SELECT CAST(x AS VARCHAR) FROM %s x ORDER BY 1`, tbl))
	}
	return out
}

func copyVault(t *testing.T, from string) *deid.Vault {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "vault")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := deid.OpenEncrypted(p, testVaultKey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The same logical CRM data loaded from export files, from the REST API and
// from the CRM's PostgreSQL tables gives identical warehouse rows, and the
// same accounting per entity.
func TestCRMSourcesAgree(t *testing.T) {
	ctx := context.Background()
	gen := t.TempDir()
	if _, err := synth.Generate(ctx, synth.Options{Patients: 400, Seed: 11, OutDir: gen,
		From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	records := canonicalCRM(readCRMRecords(t, filepath.Join(gen, "crm")))
	// The files load, EHR and CRM, fills the vault: MRNs for linking and
	// every contact's surrogate, so that the copies below agree on them.
	os.RemoveAll(filepath.Join(gen, "crm"))
	writeCRMFiles(t, gen, records)
	vaultPath := filepath.Join(t.TempDir(), "vault")
	v0, _ := deid.OpenEncrypted(vaultPath, testVaultKey)
	filesDB := openTestDB(t)
	filesRes, err := NewFilesJob(FilesOptions{Dir: gen, DB: filesDB, Vault: v0, Profile: deid.ProfileLimited}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := dumpTables(t, filesDB)
	accounting := func(res *Result) string {
		var s string
		for _, c := range res.Counts {
			if c.Source == "crm" {
				s += fmt.Sprintf("%s %d=%d+%d; ", c.Entity, c.Read, c.Loaded, c.Quarantined)
			}
		}
		return s + fmt.Sprintf("linked %d unlinked %d", res.Linked, res.Unlinked)
	}
	wantAcc := accounting(filesRes)
	if len(want["outreach_messages"]) < 1000 || len(want["message_events"]) < 500 || len(want["consents"]) == 0 {
		t.Fatalf("fixture too small: %d messages, %d events, %d consents", len(want["outreach_messages"]), len(want["message_events"]), len(want["consents"]))
	}
	compare := func(name string, db *store.DB, res *Result) {
		t.Helper()
		got := dumpTables(t, db)
		for _, tbl := range crmTables[:len(crmTables)-1] {
			if fmt.Sprint(got[tbl]) != fmt.Sprint(want[tbl]) {
				t.Errorf("%s: %s differs from the files load (%d rows vs %d)", name, tbl, len(got[tbl]), len(want[tbl]))
			}
		}
		if acc := accounting(res); acc != wantAcc {
			t.Errorf("%s accounting\n got %s\nwant %s", name, acc, wantAcc)
		}
	}

	t.Run("rest", func(t *testing.T) {
		data := map[string][]map[string]any{}
		for ent, rs := range records {
			for _, r := range rs {
				m := map[string]any{}
				for k, v := range r {
					m[k] = v
				}
				data[ent] = append(data[ent], m)
			}
		}
		srv := resttest.NewServer(data, resttest.Options{Token: "s3cret", ThrottleEvery: 9, FailEvery: 13})
		defer srv.Close()
		client, err := rest.New(rest.Config{BaseURL: srv.URL, Token: "s3cret", PageSize: 250,
			Sleep: func(context.Context, time.Duration) error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
		db := openTestDB(t)
		res, err := NewRESTJob(RESTOptions{Client: client, DB: db, Vault: copyVault(t, vaultPath), Profile: deid.ProfileLimited}).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		compare("rest", db, res)
	})
	t.Run("postgres", func(t *testing.T) {
		cluster := pgtest.Start(t)
		dsn := cluster.CreateCRM(t, "crm")
		if err := pgtest.LoadContract(ctx, dsn, pgtest.CRMMapping(), records); err != nil {
			t.Fatal(err)
		}
		// Rows loaded in one transaction share updated_at = now(); a real
		// CRM's rows were written over time.
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		for _, tbl := range []string{"crm.campaign", "crm.outreach", "crm.delivery_event", "crm.survey_answer", "crm.consent_log"} {
			if _, err := conn.Exec(ctx, "UPDATE "+tbl+" SET updated_at = now() - random() * interval '300 days'"); err != nil {
				t.Fatal(err)
			}
		}
		conn.Close(ctx)
		db := openTestDB(t)
		res, err := NewPGJob(PGOptions{DSN: dsn, Mapping: pgtest.CRMMapping(), PageSize: 500, BatchSize: 700, DB: db,
			Vault: copyVault(t, vaultPath), Profile: deid.ProfileLimited}).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		compare("postgres", db, res)
		// Incremental: a second pull with nothing changed reads only the
		// rows at the watermarks and changes nothing.
		before := dumpTables(t, db)
		res2, err := NewPGJob(PGOptions{DSN: dsn, Mapping: pgtest.CRMMapping(), DB: db,
			Vault: copyVault(t, vaultPath), Profile: deid.ProfileLimited}).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res2.Read >= res.Read/10 {
			t.Errorf("the incremental pull read %d records of %d", res2.Read, res.Read)
		}
		if after := dumpTables(t, db); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Error("an incremental pull without changes changed the warehouse")
		}
	})
}
