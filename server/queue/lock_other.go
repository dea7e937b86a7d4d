//go:build !unix && !windows

package queue

import "os"

// lockFile cannot lock on this platform (no flock or LockFileEx): it allows
// the open, and keeping one server per data directory is up to the user.
func lockFile(f *os.File) error { return nil }
