package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/carelens/carelens/etl"
	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/etl/fhir/bulk"
	"github.com/carelens/carelens/internal/config"
	"github.com/carelens/carelens/internal/store"
)

func runETLBulk(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "etl bulk", "etl bulk [--url BASE] [--full] [--json]")
	fs.String("url", "", "FHIR server base URL (default: config ehr_bulk_url)")
	full := fs.Bool("full", false, "ignore the incremental watermark and export everything")
	asJSON := fs.Bool("json", false, "print the run result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, log, err := loadConfig(e, fs, *cfgPath, map[string]string{"url": "ehr_bulk_url"})
	if err != nil {
		return err
	}
	if c.BulkURL == "" {
		return fmt.Errorf("ehr_bulk_url (CARELENS_EHR_BULK_URL): set the FHIR server base URL, or pass --url")
	}
	wh, v, profile, err := openForLoad(ctx, c)
	if err != nil {
		return err
	}
	defer wh.Close()
	job, err := newBulkJob(c, wh, v, profile, log, *full)
	if err != nil {
		return err
	}
	res, runErr := job.Run(ctx)
	reportRun(e, res, *asJSON)
	return runErr
}

// newBulkJob builds the Bulk Data job from the configuration.
func newBulkJob(c config.Config, wh *store.DB, v *deid.Vault, profile deid.Profile, log *slog.Logger, full bool) (*etl.BulkJob, error) {
	var auth bulk.TokenSource
	switch {
	case c.BulkToken != "":
		auth = bulk.StaticToken(c.BulkToken)
	case c.BulkClientID != "":
		pem, err := os.ReadFile(c.BulkKeyFile)
		if err != nil {
			return nil, fmt.Errorf("ehr_bulk_key_file (CARELENS_EHR_BULK_KEY_FILE): %w", err)
		}
		key, err := bulk.LoadKey(pem)
		if err != nil {
			return nil, fmt.Errorf("ehr_bulk_key_file (CARELENS_EHR_BULK_KEY_FILE): %w", err)
		}
		auth = &bulk.BackendServices{TokenURL: c.BulkTokenURL, ClientID: c.BulkClientID, KeyID: c.BulkKeyID,
			Key: key, Scopes: strings.Fields(strings.ReplaceAll(c.BulkScopes, ",", " "))}
	}
	client, err := bulk.New(bulk.Options{BaseURL: c.BulkURL, Auth: auth, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("ehr_bulk_url (CARELENS_EHR_BULK_URL): %w", err)
	}
	req := bulk.Request{GroupID: c.BulkGroup}
	switch c.BulkLevel {
	case "patient":
		req.Level = bulk.Patient
	case "group":
		req.Level = bulk.Group
	default:
		req.Level = bulk.System
	}
	for _, t := range strings.Split(c.BulkTypes, ",") {
		if t = strings.TrimSpace(t); t != "" {
			req.Types = append(req.Types, t)
		}
	}
	u, err := url.Parse(c.BulkURL)
	if err != nil {
		return nil, fmt.Errorf("ehr_bulk_url (CARELENS_EHR_BULK_URL): %w", err)
	}
	return etl.NewBulkJob(etl.BulkOptions{Name: u.Host, Client: client, Request: req, StagingDir: c.BulkStaging,
		Full: full, DB: wh, Vault: v, Profile: profile, Logger: log}), nil
}
