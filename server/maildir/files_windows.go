//go:build windows

package maildir

import "os"

// createFile opens a message file for writing.
func createFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(path, flag, perm)
}

// renameFile renames a message file.
func renameFile(from, to string) error { return os.Rename(from, to) }
