package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carelens/carelens/etl/crm/rest/resttest"
)

// `carelens etl crm-rest` pulls from the configured API with the token from
// the environment, reports the run, and never prints the token.
func TestETLCRMRESTCommand(t *testing.T) {
	srv := resttest.NewServer(map[string][]map[string]any{
		"contacts": {{"contact_id": "C-1", "preferred_channel": "sms", "updated_at": "2025-03-01T00:00:00Z"}},
		"messages": {
			{"message_id": "M-1", "contact_id": "C-1", "purpose": "refill_reminder", "channel": "sms", "sent_at": "2025-03-02T09:00:00Z"},
			{"message_id": "M-2", "contact_id": "C-9", "purpose": "refill_reminder", "channel": "sms", "sent_at": "2025-03-02T09:00:00Z"},
		},
		"campaigns": {}, "message_events": {}, "survey_responses": {}, "consents": {},
	}, resttest.Options{Token: "tok-Zq81"})
	defer srv.Close()
	dir := t.TempDir()
	var out, logs bytes.Buffer
	e := &env{stdout: &out, stderr: &logs, environ: []string{"CARELENS_CRM_REST_TOKEN=tok-Zq81", "CARELENS_VAULT_KEY=" + testVaultKeyHex,
		"CARELENS_DB=" + filepath.Join(dir, "w.duckdb"), "CARELENS_VAULT=" + filepath.Join(dir, "v.vault")}}
	if code := run(context.Background(), []string{"etl", "crm-rest", "--url", srv.URL, "--json"}, e); code != 0 {
		t.Fatalf("exit %d\n%s", code, logs.String())
	}
	var res struct {
		Status      string `json:"status"`
		Read        int64  `json:"rows_read"`
		Loaded      int64  `json:"rows_loaded"`
		Quarantined int64  `json:"rows_quarantined"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if res.Status != "succeeded" || res.Read != 3 || res.Loaded != 2 || res.Quarantined != 1 {
		t.Errorf("result %+v, want succeeded 3 = 2 + 1", res)
	}
	if strings.Contains(out.String()+logs.String(), "tok-Zq81") {
		t.Error("the token was printed")
	}
	// Without a URL the command says which setting is missing.
	logs.Reset()
	e.environ = []string{"CARELENS_DB=" + filepath.Join(dir, "w.duckdb"), "CARELENS_VAULT=" + filepath.Join(dir, "v.vault"), "CARELENS_VAULT_KEY=" + testVaultKeyHex}
	if code := run(context.Background(), []string{"etl", "crm-rest"}, e); code == 0 || !strings.Contains(logs.String(), "crm_rest_url") {
		t.Errorf("exit %d without a URL: %s", code, logs.String())
	}
}

// testVaultKeyHex seals the command tests' vaults.
const testVaultKeyHex = "8c2f4e6a1b3d5f7092a4c6e8f0123456789abcdef0123456789abcdef0123456"
