package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadLayers(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.json")
	os.WriteFile(file, []byte(`{"db": "file.duckdb", "addr": ":9000"}`), 0o600)
	c, err := Load(file, []string{"CARELENS_ADDR=:9100", "CARELENS_SUPPRESS_BELOW=20", "PATH=/bin"})
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != "file.duckdb" || c.Addr != ":9100" || c.SuppressBelow != 20 || c.Vault != Default().Vault {
		t.Fatalf("got %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.json")
	os.WriteFile(file, []byte(`{"dbb": "x"}`), 0o600)
	if _, err := Load(file, nil); err == nil || !strings.Contains(err.Error(), "dbb") {
		t.Fatalf("unknown file key: %v", err)
	}
	if _, err := Load("", []string{"CARELENS_SUPPRESS_BELOW=ten"}); err == nil || !strings.Contains(err.Error(), "CARELENS_SUPPRESS_BELOW") {
		t.Fatalf("bad int: %v", err)
	}
	if _, err := Load("", []string{"CARELENS_DBB=x"}); err == nil || !strings.Contains(err.Error(), "CARELENS_DBB") {
		t.Fatalf("unknown env: %v", err)
	}
}

func TestValidateNamesEverySetting(t *testing.T) {
	c := Default()
	c.SuppressBelow = 5
	c.LogLevel = "loud"
	c.LogFormat = "xml"
	c.Vault = c.DB
	err := c.Validate()
	for _, want := range []string{"CARELENS_SUPPRESS_BELOW", "CARELENS_LOG_LEVEL", "CARELENS_LOG_FORMAT", "CARELENS_VAULT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want mention of %s", err, want)
		}
	}
}

func TestSet(t *testing.T) {
	c := Default()
	if err := c.Set("source_dir", "x"); err != nil || c.SourceDir != "x" {
		t.Fatalf("Set source_dir: %v %q", err, c.SourceDir)
	}
	if err := c.Set("suppress_below", "12"); err != nil || c.SuppressBelow != 12 {
		t.Fatalf("Set suppress_below: %v %d", err, c.SuppressBelow)
	}
	if err := c.Set("suppress_below", "x"); err == nil {
		t.Fatal("non-number accepted")
	}
	if err := c.Set("nope", "x"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestPrintRedactsSecrets(t *testing.T) {
	c := Default()
	c.BulkToken = "tok-very-secret"
	var b strings.Builder
	if err := c.Print(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "tok-very-secret") || !strings.Contains(b.String(), `"ehr_bulk_token": "REDACTED"`) {
		t.Fatalf("printed config:\n%s", b.String())
	}
	if c.BulkToken != "tok-very-secret" {
		t.Fatal("Print changed the caller's config")
	}
}

func TestAccessSettings(t *testing.T) {
	if d := Default(); d.APIKeysFile != "" || time.Duration(d.QueryGuardWindow) != 24*time.Hour {
		t.Fatalf("defaults: api_keys_file %q, query_guard_window %s", d.APIKeysFile, d.QueryGuardWindow)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "c.json")
	os.WriteFile(file, []byte(`{"api_keys_file": "keys.json", "query_guard_window": "36h"}`), 0o600)
	c, err := Load(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.APIKeysFile != "keys.json" || time.Duration(c.QueryGuardWindow) != 36*time.Hour {
		t.Fatalf("from file: %q %s", c.APIKeysFile, c.QueryGuardWindow)
	}
	c, err = Load(file, []string{"CARELENS_API_KEYS_FILE=/etc/carelens/keys.json", "CARELENS_QUERY_GUARD_WINDOW=90m"})
	if err != nil {
		t.Fatal(err)
	}
	if c.APIKeysFile != "/etc/carelens/keys.json" || time.Duration(c.QueryGuardWindow) != 90*time.Minute {
		t.Fatalf("env over file: %q %s", c.APIKeysFile, c.QueryGuardWindow)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	// Flags go through Set.
	if err := c.Set("query_guard_window", "48h"); err != nil || time.Duration(c.QueryGuardWindow) != 48*time.Hour {
		t.Fatalf("Set query_guard_window: %v %s", err, c.QueryGuardWindow)
	}
	if err := c.Set("query_guard_window", "a day"); err == nil || !strings.Contains(err.Error(), "not a duration") {
		t.Fatalf("Set of a bad duration: %v", err)
	}
	if _, err := Load("", []string{"CARELENS_QUERY_GUARD_WINDOW=24"}); err == nil || !strings.Contains(err.Error(), "CARELENS_QUERY_GUARD_WINDOW") {
		t.Fatalf("env without a unit: %v", err)
	}
	os.WriteFile(file, []byte(`{"query_guard_window": 86400}`), 0o600)
	if _, err := Load(file, nil); err == nil {
		t.Fatal("a number of seconds was accepted in the file")
	}

	bad := Default()
	bad.QueryGuardWindow = Duration(30 * time.Minute)
	bad.APIKeysFile = bad.Vault
	err = bad.Validate()
	for _, want := range []string{
		"query_guard_window (CARELENS_QUERY_GUARD_WINDOW): 30m is below the minimum of 1h",
		"api_keys_file (CARELENS_API_KEYS_FILE): must be a file of its own",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want %q", err, want)
		}
	}
	var b strings.Builder
	if err := Default().Print(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"query_guard_window": "24h"`) || !strings.Contains(b.String(), `"api_keys_file": ""`) {
		t.Errorf("printed:\n%s", b.String())
	}
}
