//go:build windows

package maildir

// SyncDir makes a directory's entries durable. On Windows a directory cannot
// be opened for FlushFileBuffers; NTFS journals its metadata (renames
// included) itself, so there is nothing to do after the file's own flush.
func SyncDir(dir string) error { return nil }
