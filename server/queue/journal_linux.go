package queue

import (
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// fdatasync flushes a file's data and the metadata needed to read it back
// (its size), not its times: the one device flush a journal append needs.
func fdatasync(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}

// writeRecord writes a record's head and data at off with one pwritev(2).
func writeRecord(f *os.File, head, data []byte, off int64) error {
	iov := [][]byte{head, data}
	fd := int(f.Fd())
	for len(iov) > 0 {
		n, err := unix.Pwritev(fd, iov, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "pwritev", Path: f.Name(), Err: err}
		}
		if n == 0 {
			return &os.PathError{Op: "pwritev", Path: f.Name(), Err: io.ErrShortWrite}
		}
		off += int64(n)
		for n > 0 && len(iov) > 0 {
			k := min(n, len(iov[0]))
			iov[0] = iov[0][k:]
			n -= k
			if len(iov[0]) == 0 {
				iov = iov[1:]
			}
		}
	}
	return nil
}

// preallocate reserves a fresh segment's blocks (when no spare is ready), so appends write into space
// the file already has; it is only an optimisation, so errors are ignored
// (file systems without fallocate simply grow the file).
func preallocate(f *os.File, size int64) {
	unix.Fallocate(int(f.Fd()), 0, 0, size)
}

// syncMaildirFiles makes the Maildir files written since the last
// checkpoint durable, with their directories: one syncfs per file system
// they are on writes them all out with a single device flush, where an
// fsync each would cost a flush each.
func syncMaildirFiles(files []string) error {
	seen := map[uint64]bool{}
	dirs := map[string]bool{}
	for _, p := range files {
		dirs[filepath.Dir(filepath.Dir(p))] = true // the Maildir root
	}
	for d := range dirs {
		fd, err := unix.Open(d, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == unix.ENOENT {
			continue // the Maildir was deleted: nothing of it to keep
		}
		if err != nil {
			return &os.PathError{Op: "open", Path: d, Err: err}
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil || seen[st.Dev] {
			unix.Close(fd)
			continue
		}
		err = unix.Syncfs(fd)
		unix.Close(fd)
		if err != nil {
			return &os.PathError{Op: "syncfs", Path: d, Err: err}
		}
		seen[st.Dev] = true
	}
	return nil
}
