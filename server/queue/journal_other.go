//go:build !linux

package queue

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/mailx-edu/mailx/server/maildir"
)

// fdatasync flushes a file; without fdatasync(2) that is a full fsync.
func fdatasync(f *os.File) error { return f.Sync() }

// writeRecord writes a record's head and then its data at off.
func writeRecord(f *os.File, head, data []byte, off int64) error {
	if _, err := f.WriteAt(head, off); err != nil {
		return err
	}
	_, err := f.WriteAt(data, off+int64(len(head)))
	return err
}

// preallocate does nothing where fallocate(2) is missing: the segment grows.
func preallocate(f *os.File, size int64) {}

// syncMaildirFiles makes the Maildir files written since the last
// checkpoint durable: an fsync of each (found in cur/ if a reader has moved
// it there), then of each directory, at once for the whole batch.
func syncMaildirFiles(files []string) error {
	dirs := map[string]bool{}
	for _, p := range files {
		err := syncFile(p)
		if errors.Is(err, os.ErrNotExist) {
			// Moved to cur/ by a reader, or deleted: look for it by its
			// unique part.
			root := filepath.Dir(filepath.Dir(p))
			var found bool
			if p, found, err = maildir.Find(root, maildir.UniquePart(filepath.Base(p))); err == nil {
				if !found {
					continue // deleted: nothing to keep
				}
				err = syncFile(p)
			}
		}
		if err != nil {
			return err
		}
		dirs[filepath.Dir(p)] = true
	}
	for d := range dirs {
		if err := maildir.SyncDir(d); err != nil {
			return err
		}
	}
	return nil
}

func syncFile(p string) error {
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
