//go:build !unix

package audit

import "os"

// lockFile is a no-op where flock is unavailable: one process must own the
// log.
func lockFile(*os.File) error { return nil }
