package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/carelens/carelens/etl"
	"github.com/carelens/carelens/etl/crm/rest"
	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/internal/config"
	"github.com/carelens/carelens/internal/store"
)

// crmSource runs one of the pulled CRM sources: flags, configuration, the
// job, its report.
func crmSource(ctx context.Context, e *env, args []string, name, usage string, flagKeys map[string]string,
	build func(c config.Config, wh *store.DB, v *deid.Vault, p deid.Profile, log *slog.Logger) (etl.Job, string, error)) error {
	fs, cfgPath := newFlags(e, "etl "+name, usage)
	for f, key := range flagKeys {
		fs.String(f, "", "overrides config "+key)
	}
	full := fs.Bool("full", false, "forget the source's watermarks and pull everything")
	asJSON := fs.Bool("json", false, "print the run result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, log, err := loadConfig(e, fs, *cfgPath, flagKeys)
	if err != nil {
		return err
	}
	wh, v, profile, err := openForLoad(ctx, c)
	if err != nil {
		return err
	}
	defer wh.Close()
	job, source, err := build(c, wh, v, profile, log)
	if err != nil {
		return err
	}
	if *full {
		if _, err := wh.ExecContext(ctx, `DELETE FROM crm_sync WHERE source = ?`, source); err != nil {
			return err
		}
	}
	res, runErr := job.Run(ctx)
	reportRun(e, res, *asJSON)
	return runErr
}

func runETLCRMREST(ctx context.Context, e *env, args []string) error {
	return crmSource(ctx, e, args, "crm-rest", "etl crm-rest [--url BASE] [--full] [--json]", map[string]string{"url": "crm_rest_url"}, newCRMRESTJob)
}

// newCRMRESTJob builds the CRM REST pull from the configuration.
func newCRMRESTJob(c config.Config, wh *store.DB, v *deid.Vault, p deid.Profile, log *slog.Logger) (etl.Job, string, error) {
	if c.CRMRESTURL == "" {
		return nil, "", fmt.Errorf("crm_rest_url (CARELENS_CRM_REST_URL): set the CRM API base URL, or pass --url")
	}
	cfg := rest.Config{BaseURL: c.CRMRESTURL, Token: c.CRMRESTToken, Pagination: c.CRMRESTPagination, Logger: log}
	if c.CRMRESTClientID != "" {
		cfg.OAuth = &rest.OAuth{TokenURL: c.CRMRESTTokenURL, ClientID: c.CRMRESTClientID,
			ClientSecret: c.CRMRESTClientSecret, Scope: c.CRMRESTScope}
	}
	if c.CRMRESTEntities != "" {
		b, err := os.ReadFile(c.CRMRESTEntities)
		if err != nil {
			return nil, "", fmt.Errorf("crm_rest_entities (CARELENS_CRM_REST_ENTITIES): %w", err)
		}
		if err := json.Unmarshal(b, &cfg.Entities); err != nil {
			return nil, "", fmt.Errorf("crm_rest_entities (CARELENS_CRM_REST_ENTITIES): %s: %w", c.CRMRESTEntities, err)
		}
	}
	client, err := rest.New(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("crm_rest_*: %w", err)
	}
	const source = "crm-rest"
	return etl.NewRESTJob(etl.RESTOptions{Source: source, Client: client, DB: wh, Vault: v, Profile: p, Logger: log}), source, nil
}

func runETLCRMPG(ctx context.Context, e *env, args []string) error {
	return crmSource(ctx, e, args, "crm-pg", "etl crm-pg [--mapping FILE] [--full] [--json]", map[string]string{"mapping": "crm_pg_mapping"}, newCRMPGJob)
}

// newCRMPGJob builds the CRM PostgreSQL pull from the configuration.
func newCRMPGJob(c config.Config, wh *store.DB, v *deid.Vault, p deid.Profile, log *slog.Logger) (etl.Job, string, error) {
	if c.CRMPGDSN == "" {
		return nil, "", fmt.Errorf("crm_pg_dsn (CARELENS_CRM_PG_DSN): set the CRM database's connection string")
	}
	if c.CRMPGMapping == "" {
		return nil, "", fmt.Errorf("crm_pg_mapping (CARELENS_CRM_PG_MAPPING): set the mapping file, or pass --mapping")
	}
	m, err := os.ReadFile(c.CRMPGMapping)
	if err != nil {
		return nil, "", fmt.Errorf("crm_pg_mapping (CARELENS_CRM_PG_MAPPING): %w", err)
	}
	const source = "crm-pg"
	return etl.NewPGJob(etl.PGOptions{Source: source, DSN: c.CRMPGDSN, Mapping: m, DB: wh, Vault: v, Profile: p, Logger: log}), source, nil
}
