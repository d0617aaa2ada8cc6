package main

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"

	"github.com/carelens/carelens/internal/auth"
)

func runKeys(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "keys", "keys add --name NAME --role admin|analyst|crm [--file FILE]")
	if len(args) == 0 || args[0] != "add" {
		fs.Usage()
		return errUsage
	}
	name := fs.String("name", "", "who uses the key (a person or a system, e.g. crm-prod)")
	role := fs.String("role", "", "admin, analyst or crm (docs/access.md)")
	fs.String("file", "", "API keys file (default: config api_keys_file)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	c, _, err := loadConfig(e, fs, *cfgPath, map[string]string{"file": "api_keys_file"})
	if err != nil {
		return err
	}
	if c.APIKeysFile == "" {
		return fmt.Errorf("api_keys_file (CARELENS_API_KEYS_FILE): name the keys file, or pass --file")
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return err
	}
	var kf auth.KeyFile
	if b, err := os.ReadFile(c.APIKeysFile); err == nil {
		if kf, err = auth.ParseKeyFile(b); err != nil {
			return fmt.Errorf("%s: %w", c.APIKeysFile, err)
		}
	} else if !errors.Is(err, iofs.ErrNotExist) {
		return err
	}
	key, entry, err := auth.NewKey(*name, r)
	if err != nil {
		return err
	}
	if err := kf.Add(entry); err != nil {
		return err
	}
	b, err := kf.Marshal()
	if err != nil {
		return err
	}
	if err := ensureDir(c.APIKeysFile); err != nil {
		return err
	}
	tmp := c.APIKeysFile + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, c.APIKeysFile); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s\n", key)
	fmt.Fprintf(e.stderr, "added a %s key for %s to %s; the key above is shown once (only its SHA-256 is stored)\n", r, *name, c.APIKeysFile)
	return nil
}
