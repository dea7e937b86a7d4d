//go:build !windows

package maildir

import "os"

// SyncDir fsyncs a directory, making the names created, renamed or removed in
// it durable: without it, a file fsynced and renamed into new/ can vanish in
// a power cut because its directory entry was still only in memory.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
