package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
