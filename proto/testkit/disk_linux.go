package testkit

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// SmallDisk mounts a tmpfs of size (as mount takes it: "2m", "48m") on a
// new t.TempDir() and returns its path, for disk-full tests; it is unmounted
// in t.Cleanup. It skips the test where mounting is not allowed (not root,
// or a container without CAP_SYS_ADMIN) and on systems other than Linux.
func SmallDisk(t TB, size string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mailx-small-disk-")
	if err != nil {
		t.Fatalf("testkit: %v", err)
		return ""
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		t.Skipf("cannot mount a small tmpfs for the disk-full test (needs root or CAP_SYS_ADMIN): %v", err)
		return ""
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// FillDisk writes the file dir/filler until the file system holding dir is
// full to the last byte, and returns its path; removing it frees the space.
func FillDisk(t TB, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatalf("testkit: %v", err)
		return ""
	}
	defer f.Close()
	for _, chunk := range []int{1 << 20, 4096, 1} {
		b := make([]byte, chunk)
		for {
			if _, err := f.Write(b); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("testkit: filling %s: %v", dir, err)
					return p
				}
				break
			}
		}
	}
	return p
}
