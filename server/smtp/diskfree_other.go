//go:build !(linux || darwin || freebsd || openbsd || netbsd || windows)

package smtp

import "errors"

// DiskFree is not available on this platform; the low-disk check is skipped.
func DiskFree(dir string) (uint64, error) {
	return 0, errors.ErrUnsupported
}
