//go:build !windows

package maildir

import (
	"os"
	"syscall"
)

// createFile opens a message file for writing. A regular file cannot use
// the runtime's poller, but os.OpenFile tries (and undoes) that, at five
// system calls per message; os.NewFile on a blocking descriptor does not.
func createFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	for {
		fd, err := syscall.Open(path, flag|syscall.O_CLOEXEC, uint32(perm))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}

// renameFile renames a message file. os.Rename first checks that the
// target is not a directory, an lstat that a name made unique here needs
// not.
func renameFile(from, to string) error {
	if err := syscall.Rename(from, to); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}
