package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"log/slog"
	"path/filepath"
	"sort"

	"github.com/carelens/carelens/etl"
	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/internal/config"
	"github.com/carelens/carelens/internal/privacy"
	"github.com/carelens/carelens/internal/store"
)

func runPrivacy(ctx context.Context, e *env, args []string) error {
	const usage = "Usage: carelens privacy new-key [--out FILE]           create a vault key file (mode 0600)\n" +
		"       carelens privacy rotate-key --new-key-file FILE  re-seal the vault with a new key\n" +
		"       carelens privacy vault-info                      what the vault holds (counts, key id)\n" +
		"       carelens privacy erase --ns NS --id ID           erase a person (GDPR art. 17) from vault and warehouse\n" +
		"       carelens privacy check [--json]                  scan the warehouse for identifiers; non-zero exit on a finding"
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "new-key":
		return runNewKey(ctx, e, args[1:])
	case "rotate-key":
		return runRotateKey(ctx, e, args[1:])
	case "vault-info":
		return runVaultInfo(ctx, e, args[1:])
	case "erase":
		return runErase(ctx, e, args[1:])
	case "check":
		return runPrivacyCheck(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, usage)
		return nil
	}
	fmt.Fprintf(e.stderr, "carelens privacy: unknown subcommand %q\n%s\n", args[0], usage)
	return errUsage
}

// openVault opens the configured vault with the configured key, refusing
// to go on without one.
func openVault(c config.Config) (*deid.Vault, error) {
	key, err := deid.LoadKey([]string{deid.KeyEnv + "=" + c.VaultKey}, c.VaultKeyFile)
	if err != nil {
		return nil, fmt.Errorf("vault key (vault_key / CARELENS_VAULT_KEY, or vault_key_file %s): %w", c.VaultKeyFile, err)
	}
	v, err := deid.OpenEncrypted(c.Vault, key)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// withVault parses a vault subcommand's flags (declared by flags), checks
// its required ones, and opens the configuration and the vault.
func withVault(e *env, name, synopsis string, args []string, flags func(fs *flag.FlagSet) (required []*string)) (config.Config, *slog.Logger, *deid.Vault, error) {
	fs, cfgPath := newFlags(e, name, synopsis)
	required := flags(fs)
	if err := parse(fs, args); err != nil {
		return config.Config{}, nil, nil, err
	}
	for _, r := range required {
		if *r == "" {
			fmt.Fprintf(e.stderr, "carelens %s: missing a required flag\n", name)
			fs.Usage()
			return config.Config{}, nil, nil, errUsage
		}
	}
	c, log, err := loadConfig(e, fs, *cfgPath, nil)
	if err != nil {
		return c, nil, nil, err
	}
	v, err := openVault(c)
	return c, log, v, err
}

func runNewKey(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "privacy new-key", "privacy new-key [--out FILE]")
	fs.String("out", "", "key file to create (default: config vault_key_file)")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, _, err := loadConfig(e, fs, *cfgPath, map[string]string{"out": "vault_key_file"})
	if err != nil {
		return err
	}
	k, err := deid.NewKey()
	if err != nil {
		return err
	}
	if err := ensureDir(c.VaultKeyFile); err != nil {
		return err
	}
	if err := deid.WriteKeyFile(c.VaultKeyFile, k); err != nil {
		if errors.Is(err, iofs.ErrExist) {
			return fmt.Errorf("%s exists: a vault key is never overwritten (rotate with 'carelens privacy rotate-key')", c.VaultKeyFile)
		}
		return err
	}
	fmt.Fprintf(e.stdout, "created vault key %s (id %s, mode 0600): keep it apart from vault backups; without it the vault cannot be opened\n",
		c.VaultKeyFile, k.ID())
	return nil
}

func runRotateKey(ctx context.Context, e *env, args []string) error {
	var newFile *string
	c, log, v, err := withVault(e, "privacy rotate-key", "privacy rotate-key --new-key-file FILE", args, func(fs *flag.FlagSet) []*string {
		newFile = fs.String("new-key-file", "", "file holding the new key (create it with 'carelens privacy new-key --out FILE')")
		return []*string{newFile}
	})
	if err != nil {
		return err
	}
	nk, err := deid.LoadKey(nil, *newFile)
	if err != nil {
		return fmt.Errorf("new key: %w", err)
	}
	old := v.Info().KeyID
	if err := v.Rotate(nk); err != nil {
		return err
	}
	log.Info("vault key rotated", "old_key_id", old, "new_key_id", nk.ID())
	fmt.Fprintf(e.stdout, "vault %s re-sealed: key %s -> %s; point vault_key_file (or CARELENS_VAULT_KEY) at the new key, keep the old one until a backup sealed with the new key exists\n",
		c.Vault, old, nk.ID())
	return nil
}

func runVaultInfo(ctx context.Context, e *env, args []string) error {
	_, _, v, err := withVault(e, "privacy vault-info", "privacy vault-info", args, func(*flag.FlagSet) []*string { return nil })
	if err != nil {
		return err
	}
	i := v.Info()
	fmt.Fprintf(e.stdout, "vault %s: format %s, key %s, created %s\n%d keys, %d patients, %d date shifts, %d tombstones\n",
		filepath.Clean(i.Path), i.Format, i.KeyID, i.Created.Format("2006-01-02"), i.Keys, i.Patients, i.Shifts, i.Tombstones)
	return nil
}

func runErase(ctx context.Context, e *env, args []string) error {
	var ns, id, actor *string
	c, log, v, err := withVault(e, "privacy erase", "privacy erase --ns NAMESPACE --id SOURCE-ID --actor NAME", args, func(fs *flag.FlagSet) []*string {
		ns = fs.String("ns", "", "namespace of the id: "+deid.NSPatient+" (FHIR Patient.id), "+deid.NSContact+" (CRM contact_id), "+deid.NSMRNValue+" (MRN)")
		id = fs.String("id", "", "the person's id in that namespace")
		actor = fs.String("actor", "", "who asks (recorded in the audit trail)")
		return []*string{ns, id, actor}
	})
	if err != nil {
		return err
	}
	if v.IsErased(*ns, *id) {
		return fmt.Errorf("that person was erased already")
	}
	surrogate, ok := v.Lookup(*ns, *id)
	if !ok {
		return fmt.Errorf("no person with that id in namespace %s", *ns)
	}
	wh, err := openWarehouse(ctx, c)
	if err != nil {
		return err
	}
	defer wh.Close()
	// Warehouse first: if the vault step fails, the erasure can be run
	// again, since the vault still knows the id.
	deleted, err := etl.ErasePatient(ctx, wh, surrogate, nil)
	if err != nil {
		return err
	}
	er, err := v.Erase(surrogate)
	if err != nil {
		return err
	}
	if err := v.Save(); err != nil {
		return fmt.Errorf("warehouse rows deleted, but the vault could not be saved (run the erasure again): %w", err)
	}
	var total int64
	tables := make([]string, 0, len(deleted))
	for t, n := range deleted {
		total += n
		tables = append(tables, t)
	}
	sort.Strings(tables)
	details := map[string]any{"rows_deleted": deleted, "vault_keys_removed": er.Keys, "date_shift_removed": er.DateShift}
	if err := recordAudit(c, *actor, "privacy.erase", details); err != nil {
		return fmt.Errorf("erased, but the audit trail could not be written: %w", err)
	}
	log.Info("person erased", "rows_deleted", total, "tables", len(tables), "vault_keys", er.Total())
	fmt.Fprintf(e.stdout, "erased: %d warehouse rows (%v), %d vault keys; later loads skip this person\n", total, tables, er.Total())
	return nil
}

// errFindings makes privacy check exit non-zero when it found identifiers.
var errFindings = errors.New("identifiers found in the warehouse")

func runPrivacyCheck(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "privacy check", "privacy check [--db FILE] [--json] [--allow TABLE.COLUMN:KIND]...")
	fs.String("db", "", "analytics DuckDB file (default: config db)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	var allow multiFlag
	fs.Var(&allow, "allow", "allow a kind of finding in a column, e.g. campaigns.name:url (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, log, err := loadConfig(e, fs, *cfgPath, map[string]string{"db": "db"})
	if err != nil {
		return err
	}
	v, err := openVault(c)
	if err != nil {
		return err
	}
	opt := privacy.ScanOptions{
		SourceIDs:   func(yield func(ns, id string) bool) { v.EachSourceID(yield) },
		ServerHosts: nonEmpty(c.BulkURL, c.CRMRESTURL, c.CRMRESTTokenURL, c.BulkTokenURL),
	}
	for _, a := range allow {
		r, err := privacy.ParseAllowRule(a)
		if err != nil {
			return fmt.Errorf("--allow %q: %w", a, err)
		}
		opt.Allow = append(opt.Allow, r)
	}
	wh, err := store.OpenReadOnly(ctx, c.DB)
	if err != nil {
		return err
	}
	defer wh.Close()
	rep, err := privacy.Scan(ctx, wh, opt)
	if err != nil {
		return err
	}
	if *asJSON {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, string(b))
	} else if err := rep.WriteText(e.stdout); err != nil {
		return err
	}
	if !rep.Clean() {
		log.Error("privacy check found identifiers", "findings", len(rep.Failures()))
		return errFindings
	}
	return nil
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }
