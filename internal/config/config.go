package config

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Config is carelens' whole configuration. Field tags give the JSON file key;
// the environment variable is CARELENS_ + the key in upper case.
type Config struct {
	// DB is the analytics DuckDB file.
	DB string `json:"db"`
	// Vault is the identity vault file (never inside the analytics DB).
	Vault string `json:"vault"`
	// VaultKey seals the vault (64 hex characters or base64 of 32 bytes);
	// usually supplied as CARELENS_VAULT_KEY. Without it, VaultKeyFile.
	VaultKey string `json:"vault_key" secret:"true"`
	// VaultKeyFile holds the vault key when VaultKey is empty (mode 0600).
	VaultKeyFile string `json:"vault_key_file"`
	// Profile is the de-identification profile: limited (shifted and
	// safe_harbor are refused until implemented).
	Profile string `json:"deid_profile"`
	// SourceDir is the folder `etl run` loads (ehr/ and crm/ inside).
	SourceDir string `json:"source_dir"`
	// Addr is the HTTP listen address of `serve`.
	Addr string `json:"addr"`
	// SuppressBelow hides counts 1..SuppressBelow-1 in every output.
	SuppressBelow int `json:"suppress_below"`
	// LogLevel is debug, info, warn or error; LogFormat text or json.
	LogLevel  string `json:"log_level"`
	LogFormat string `json:"log_format"`
	// MemoryLimit caps DuckDB's memory (it spills to disk beyond it).
	MemoryLimit string `json:"duckdb_memory_limit"`
	// Bulk Data source (carelens etl bulk): the FHIR server base URL, the
	// export level (system, patient or group), the group id, the resource
	// types (comma-separated; empty = all), and authentication: a static
	// bearer token, or SMART Backend Services (client id, token URL, PEM key
	// file, key id, scopes).
	BulkURL      string `json:"ehr_bulk_url"`
	BulkLevel    string `json:"ehr_bulk_level"`
	BulkGroup    string `json:"ehr_bulk_group"`
	BulkTypes    string `json:"ehr_bulk_types"`
	BulkToken    string `json:"ehr_bulk_token" secret:"true"`
	BulkClientID string `json:"ehr_bulk_client_id"`
	BulkTokenURL string `json:"ehr_bulk_token_url"`
	BulkKeyFile  string `json:"ehr_bulk_key_file"`
	BulkKeyID    string `json:"ehr_bulk_key_id"`
	BulkScopes   string `json:"ehr_bulk_scopes"`
	// BulkStaging is where exports are downloaded before loading.
	BulkStaging string `json:"ehr_bulk_staging"`
	// CRM REST source (carelens etl crm-rest): the API base URL, its
	// pagination style (cursor or page_token), a static bearer token or
	// OAuth2 client credentials (token URL, client id and secret, scope),
	// and an optional JSON file of per-entity paths and field names.
	CRMRESTURL          string `json:"crm_rest_url"`
	CRMRESTPagination   string `json:"crm_rest_pagination"`
	CRMRESTToken        string `json:"crm_rest_token" secret:"true"`
	CRMRESTTokenURL     string `json:"crm_rest_token_url"`
	CRMRESTClientID     string `json:"crm_rest_client_id"`
	CRMRESTClientSecret string `json:"crm_rest_client_secret" secret:"true"`
	CRMRESTScope        string `json:"crm_rest_scope"`
	CRMRESTEntities     string `json:"crm_rest_entities"`
	// CRM PostgreSQL source (carelens etl crm-pg): a connection string
	// (a read-only role on a replica is enough) and the mapping file from
	// the CRM's tables to the contract.
	CRMPGDSN     string `json:"crm_pg_dsn" secret:"true"`
	CRMPGMapping string `json:"crm_pg_mapping"`
	// Schedule is a cron expression for loading SourceDir while serving
	// ("" = never; run `carelens etl run` by hand or from cron).
	Schedule string `json:"etl_schedule"`
	// AuditLog is the append-only, hash-chained audit trail (erasures,
	// refused queries, exports).
	AuditLog string `json:"audit_log"`
	// APIKeysFile is the JSON file of API key hashes, names and roles
	// (internal/auth, docs/access.md). "" runs the server in open mode:
	// every request is the analyst "anonymous".
	APIKeysFile string `json:"api_keys_file"`
	// QueryGuardWindow is how long the repeated-query guard remembers each
	// principal's results (a Go duration such as "24h"; at least 1h).
	QueryGuardWindow Duration `json:"query_guard_window"`
	// MeasurementYearStart is the first month (1-12) of a measurement year,
	// for results by measurement_year (metrics/doc.go); 1 makes it the
	// calendar year.
	MeasurementYearStart int `json:"measurement_year_start"`
}

// Duration is a time.Duration read and written as text ("24h", "90m").
type Duration time.Duration

// UnmarshalText parses a Go duration ("24h", "1h30m").
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 24h or 90m", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes d without zero trailing units: "24h", "1h30m".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// String is the text form of d.
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MinQueryGuardWindow is the shortest query_guard_window accepted.
const MinQueryGuardWindow = time.Hour

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		DB:            "data/carelens.duckdb",
		Vault:         "data/carelens.vault",
		VaultKeyFile:  "data/vault.key",
		AuditLog:      "data/audit.log",
		Profile:       "limited",
		SourceDir:     "data/demo",
		Addr:          "localhost:8080",
		SuppressBelow: 11,
		LogLevel:      "info",
		LogFormat:     "text",
		MemoryLimit:   "768MB",
		BulkLevel:     "system",
		BulkStaging:   "data/bulk",
		BulkScopes:    "system/*.rs",

		CRMRESTPagination: "cursor",
		QueryGuardWindow:  Duration(24 * time.Hour),

		MeasurementYearStart: 1,
	}
}

// EnvPrefix prefixes every environment variable.
const EnvPrefix = "CARELENS_"

// Load returns the defaults overlaid by the JSON file at path (if path is not
// empty) and then by CARELENS_* variables from env.
func Load(path string, env []string) (Config, error) {
	c := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config file: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	vars := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			vars[k] = v
		}
	}
	for k, v := range vars {
		if k == EnvPrefix+"CONFIG" {
			continue
		}
		key := strings.ToLower(strings.TrimPrefix(k, EnvPrefix))
		if err := c.Set(key, v); errors.Is(err, ErrUnknownKey) {
			return c, fmt.Errorf("unknown environment variable %s", k)
		} else if err != nil {
			return c, fmt.Errorf("%s: %w", k, err)
		}
	}
	return c, nil
}

// ErrUnknownKey reports a setting name that Config does not have.
var ErrUnknownKey = errors.New("unknown setting")

// Set sets the setting whose file key is key from its text form.
func (c *Config) Set(key, value string) error {
	rv := reflect.ValueOf(c).Elem()
	for i := 0; i < rv.NumField(); i++ {
		if rv.Type().Field(i).Tag.Get("json") != key {
			continue
		}
		f := rv.Field(i)
		if u, ok := f.Addr().Interface().(encoding.TextUnmarshaler); ok {
			return u.UnmarshalText([]byte(value))
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString(value)
		case reflect.Int:
			n, err := strconv.Atoi(value)
			if err != nil {
				return fmt.Errorf("%q is not a whole number", value)
			}
			f.SetInt(int64(n))
		}
		return nil
	}
	return fmt.Errorf("%w %q", ErrUnknownKey, key)
}

// Validate checks every setting and reports all problems at once.
func (c Config) Validate() error {
	var errs []error
	if c.DB == "" {
		errs = append(errs, errors.New("db (CARELENS_DB): must name the DuckDB file"))
	}
	if c.Vault == "" {
		errs = append(errs, errors.New("vault (CARELENS_VAULT): must name the vault file"))
	}
	if c.Vault != "" && c.Vault == c.DB {
		errs = append(errs, errors.New("vault (CARELENS_VAULT): must be a different file from db"))
	}
	if c.MeasurementYearStart < 1 || c.MeasurementYearStart > 12 {
		errs = append(errs, fmt.Errorf("measurement_year_start (CARELENS_MEASUREMENT_YEAR_START): %d is not a month 1-12", c.MeasurementYearStart))
	}
	if c.SuppressBelow < 11 {
		errs = append(errs, fmt.Errorf("suppress_below (CARELENS_SUPPRESS_BELOW): %d is below the minimum of 11", c.SuppressBelow))
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("log_level (CARELENS_LOG_LEVEL): %w", err))
	}
	switch c.BulkLevel {
	case "system", "patient", "group":
	default:
		errs = append(errs, fmt.Errorf("ehr_bulk_level (CARELENS_EHR_BULK_LEVEL): %q is not system, patient or group", c.BulkLevel))
	}
	if c.BulkLevel == "group" && c.BulkURL != "" && c.BulkGroup == "" {
		errs = append(errs, errors.New("ehr_bulk_group (CARELENS_EHR_BULK_GROUP): required for a group-level export"))
	}
	if c.BulkToken != "" && c.BulkClientID != "" {
		errs = append(errs, errors.New("ehr_bulk_token and ehr_bulk_client_id: choose a static token or SMART Backend Services, not both"))
	}
	if c.BulkClientID != "" && (c.BulkTokenURL == "" || c.BulkKeyFile == "") {
		errs = append(errs, errors.New("ehr_bulk_client_id (CARELENS_EHR_BULK_CLIENT_ID): SMART Backend Services also needs ehr_bulk_token_url and ehr_bulk_key_file"))
	}
	if c.CRMRESTToken != "" && c.CRMRESTClientID != "" {
		errs = append(errs, errors.New("crm_rest_token and crm_rest_client_id: choose a static token or OAuth2 client credentials, not both"))
	}
	if c.CRMRESTClientID != "" && (c.CRMRESTTokenURL == "" || c.CRMRESTClientSecret == "") {
		errs = append(errs, errors.New("crm_rest_client_id (CARELENS_CRM_REST_CLIENT_ID): client credentials also need crm_rest_token_url and crm_rest_client_secret"))
	}
	if c.CRMRESTPagination != "cursor" && c.CRMRESTPagination != "page_token" {
		errs = append(errs, fmt.Errorf("crm_rest_pagination (CARELENS_CRM_REST_PAGINATION): %q is not cursor or page_token", c.CRMRESTPagination))
	}
	if c.CRMPGDSN != "" && c.CRMPGMapping == "" {
		errs = append(errs, errors.New("crm_pg_mapping (CARELENS_CRM_PG_MAPPING): the PostgreSQL source needs its mapping file"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log_format (CARELENS_LOG_FORMAT): %q is not text or json", c.LogFormat))
	}
	if c.APIKeysFile != "" && (c.APIKeysFile == c.DB || c.APIKeysFile == c.Vault) {
		errs = append(errs, errors.New("api_keys_file (CARELENS_API_KEYS_FILE): must be a file of its own, not db or vault"))
	}
	if time.Duration(c.QueryGuardWindow) < MinQueryGuardWindow {
		errs = append(errs, fmt.Errorf("query_guard_window (CARELENS_QUERY_GUARD_WINDOW): %s is below the minimum of %s",
			c.QueryGuardWindow, Duration(MinQueryGuardWindow)))
	}
	return errors.Join(errs...)
}

// ParseLevel parses a log level name.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("%q is not debug, info, warn or error", s)
	}
	return l, nil
}

// Logger builds the process logger to w.
func (c Config) Logger(w io.Writer) *slog.Logger {
	lvl, _ := ParseLevel(c.LogLevel)
	o := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

// Redacted is what replaces a secret setting's value in Print.
const Redacted = "REDACTED"

// Print writes the configuration as JSON, secrets (fields tagged
// secret:"true") replaced by Redacted.
func (c Config) Print(w io.Writer) error {
	rv := reflect.ValueOf(&c).Elem()
	for i := 0; i < rv.NumField(); i++ {
		if rv.Type().Field(i).Tag.Get("secret") == "true" && rv.Field(i).String() != "" {
			rv.Field(i).SetString(Redacted)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}
