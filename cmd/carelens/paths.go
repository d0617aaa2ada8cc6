package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// ensureDir creates the folder that will hold file, owner-only.
func ensureDir(file string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("create folder for %s: %w", file, err)
	}
	return nil
}
