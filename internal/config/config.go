package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"strconv"
	"strings"
)

// Config is carelens' whole configuration. Field tags give the JSON file key;
// the environment variable is CARELENS_ + the key in upper case.
type Config struct {
	// DB is the analytics DuckDB file.
	DB string `json:"db"`
	// Vault is the identity vault file (never inside the analytics DB).
	Vault string `json:"vault"`
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
	// Schedule is a cron expression for loading SourceDir while serving
	// ("" = never; run `carelens etl run` by hand or from cron).
	Schedule string `json:"etl_schedule"`
}

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		DB:            "data/carelens.duckdb",
		Vault:         "data/carelens.vault",
		Profile:       "limited",
		SourceDir:     "data/demo",
		Addr:          "localhost:8080",
		SuppressBelow: 11,
		LogLevel:      "info",
		LogFormat:     "text",
		MemoryLimit:   "768MB",
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
	known := map[string]bool{EnvPrefix + "CONFIG": true}
	rv := reflect.ValueOf(&c).Elem()
	for i := 0; i < rv.NumField(); i++ {
		key := EnvPrefix + strings.ToUpper(rv.Type().Field(i).Tag.Get("json"))
		known[key] = true
		v, ok := vars[key]
		if !ok {
			continue
		}
		f := rv.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(v)
		case reflect.Int:
			n, err := strconv.Atoi(v)
			if err != nil {
				return c, fmt.Errorf("%s: %q is not a whole number", key, v)
			}
			f.SetInt(int64(n))
		}
	}
	for k := range vars {
		if !known[k] {
			return c, fmt.Errorf("unknown environment variable %s", k)
		}
	}
	return c, nil
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
	if c.SuppressBelow < 11 {
		errs = append(errs, fmt.Errorf("suppress_below (CARELENS_SUPPRESS_BELOW): %d is below the minimum of 11", c.SuppressBelow))
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("log_level (CARELENS_LOG_LEVEL): %w", err))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log_format (CARELENS_LOG_FORMAT): %q is not text or json", c.LogFormat))
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

// Print writes the configuration as JSON. No setting is a secret yet; when
// one is added it must be redacted here.
func (c Config) Print(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}
