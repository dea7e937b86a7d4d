//go:build unix

package access

import "syscall"

// RaiseFileLimit raises the soft limit on open files (RLIMIT_NOFILE) to
// the hard limit where the system allows it, and returns the soft limit
// now in force; 0 means unknown or unlimited.
func RaiseFileLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	if rl.Cur < rl.Max {
		want := rl
		want.Cur = rl.Max
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) == nil {
			rl = want
		} else if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
			return 0
		}
	}
	const infinity = ^uint64(0)
	if uint64(rl.Cur) == infinity || int64(rl.Cur) < 0 {
		return 0
	}
	return uint64(rl.Cur)
}
