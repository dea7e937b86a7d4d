//go:build !linux

package testkit

// SmallDisk skips the test: mounting a small tmpfs is Linux only.
func SmallDisk(t TB, size string) string {
	t.Helper()
	t.Skipf("the disk-full tests mount a tmpfs, which needs Linux")
	return ""
}

// FillDisk is not reached on systems other than Linux (SmallDisk skips).
func FillDisk(t TB, dir string) string {
	t.Helper()
	t.Fatalf("testkit: FillDisk needs Linux")
	return ""
}
