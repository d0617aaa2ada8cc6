package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carelens/carelens/internal/audit"
	"github.com/carelens/carelens/internal/store"
)

// readCanaries returns the canary identifiers the generator listed.
func readCanaries(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "canaries.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// A population whose patients and contacts carry canary identifiers loads
// under each profile; privacy check is clean on every warehouse, no canary
// is in the database file or the logs, a planted leak is found, and an
// erasure removes a person for good (audited, skipped by later loads).
func TestPrivacyCanaries(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	var logs bytes.Buffer
	base := []string{"CARELENS_LOG_LEVEL=debug", "CARELENS_VAULT_KEY=" + testVaultKeyHex, "CARELENS_AUDIT_LOG=" + filepath.Join(dir, "audit.log")}
	e := &env{stdout: &bytes.Buffer{}, stderr: &logs, environ: base}
	if code := run(ctx, []string{"gen", "--patients", "400", "--seed", "21", "--canaries", "--from", "2025-01-01", "--to", "2025-06-30", "--out", src}, e); code != 0 {
		t.Fatalf("gen: %s", logs.String())
	}
	canaries := readCanaries(t, src)
	if len(canaries) < 400 {
		t.Fatalf("%d canaries", len(canaries))
	}
	for _, profile := range []string{"limited", "shifted", "safe_harbor"} {
		t.Run(profile, func(t *testing.T) {
			db, vault := filepath.Join(dir, profile+".duckdb"), filepath.Join(dir, profile+".vault")
			e.environ = append(append([]string{}, base...), "CARELENS_DEID_PROFILE="+profile, "CARELENS_DB="+db, "CARELENS_VAULT="+vault)
			logs.Reset()
			if code := run(ctx, []string{"etl", "run", "--dir", src}, e); code != 0 {
				t.Fatalf("etl run: %s", logs.String())
			}
			var out bytes.Buffer
			e.stdout = &out
			if code := run(ctx, []string{"privacy", "check"}, e); code != 0 {
				t.Fatalf("privacy check found identifiers:\n%s\n%s", out.String(), logs.String())
			}
			raw, err := os.ReadFile(db)
			if err != nil {
				t.Fatal(err)
			}
			all := append(append(raw, logs.Bytes()...), out.Bytes()...)
			for _, c := range canaries {
				if bytes.Contains(all, []byte(c)) {
					t.Fatalf("canary %q found in the database file, the logs or the report", c)
				}
			}
		})
	}

	// A planted leak is found: a canary e-mail in a campaign's name.
	db := filepath.Join(dir, "limited.duckdb")
	e.environ = append(append([]string{}, base...), "CARELENS_DB="+db, "CARELENS_VAULT="+filepath.Join(dir, "limited.vault"))
	var email string
	for _, c := range canaries {
		if strings.Contains(c, "@") {
			email = c
			break
		}
	}
	wh, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wh.ExecContext(ctx, `UPDATE campaigns SET name = name || ' (ask ' || ? || ')' WHERE campaign_id = (SELECT min(campaign_id) FROM campaigns)`, email); err != nil {
		t.Fatal(err)
	}
	wh.Close()
	var out bytes.Buffer
	e.stdout = &out
	if code := run(ctx, []string{"privacy", "check"}, e); code == 0 || !strings.Contains(out.String(), "campaigns") || !strings.Contains(out.String(), "email") {
		t.Fatalf("planted leak not reported (exit %d):\n%s", code, out.String())
	}
	if strings.Contains(out.String(), email) {
		t.Error("the report shows the leaked value")
	}

	// Erasure: a linked contact (and so their EHR patient) goes from the
	// vault and every table, the audit trail records it, and a reload of the
	// same export loads nothing of them.
	limitedEnv := append(append([]string{}, base...), "CARELENS_DB="+db, "CARELENS_VAULT="+filepath.Join(dir, "limited.vault"))
	e.environ = limitedEnv
	contacts, err := os.ReadFile(filepath.Join(src, "crm", "contacts.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(contacts), "\n")
	contactID := strings.Split(lines[1], ",")[0]
	count := func(q string) int {
		t.Helper()
		wh, err := store.OpenReadOnly(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		defer wh.Close()
		var n int
		if err := wh.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	patients, contactsN := count(`SELECT count(*) FROM patients`), count(`SELECT count(*) FROM contacts`)
	logs.Reset()
	out.Reset()
	if code := run(ctx, []string{"privacy", "erase", "--ns", "crm:contact", "--id", contactID, "--actor", "dpo:test"}, e); code != 0 {
		t.Fatalf("erase: %s", logs.String())
	}
	if got := count(`SELECT count(*) FROM contacts`); got != contactsN-1 {
		t.Errorf("contacts after erasure: %d, want %d", got, contactsN-1)
	}
	if got := count(`SELECT count(*) FROM patients`); got != patients-1 {
		t.Errorf("patients after erasure: %d, want %d (the contact is linked to an EHR patient)", got, patients-1)
	}
	if n, err := audit.Verify(filepath.Join(dir, "audit.log")); err != nil || n != 1 {
		t.Errorf("audit trail: %d entries, %v", n, err)
	}
	trail, _ := os.ReadFile(filepath.Join(dir, "audit.log"))
	if !strings.Contains(string(trail), `"privacy.erase"`) || strings.Contains(string(trail), contactID) {
		t.Errorf("audit trail: %s", trail)
	}
	logs.Reset()
	if code := run(ctx, []string{"etl", "run", "--dir", src}, e); code != 0 {
		t.Fatalf("reload: %s", logs.String())
	}
	if got := count(`SELECT count(*) FROM contacts`); got != contactsN-1 {
		t.Errorf("contacts after a reload: %d, want %d", got, contactsN-1)
	}
	if got := count(`SELECT count(*) FROM patients`); got != patients-1 {
		t.Errorf("patients after a reload: %d, want %d", got, patients-1)
	}
	if got := count(`SELECT count(*) FROM quarantine WHERE reason LIKE '%erased%'`); got == 0 {
		t.Error("the reload quarantined nothing as erased")
	}
	if code := run(ctx, []string{"privacy", "erase", "--ns", "crm:contact", "--id", contactID, "--actor", "dpo:test"}, e); code == 0 {
		t.Error("a second erasure of the same person succeeded")
	}
}
