//go:build !unix

package access

// RaiseFileLimit has nothing to raise on systems without RLIMIT_NOFILE
// (Windows counts sockets by memory, not by a descriptor table); 0 means
// unknown.
func RaiseFileLimit() uint64 { return 0 }
