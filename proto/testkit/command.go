package testkit

import "os/exec"

// NeedCommand returns the full path of the program name, or skips the test
// saying which Debian package installs it, as in
//
//	dovecot not installed (apt-get install dovecot-imapd)
//
// A test whose third-party peer is missing skips rather than fails, so the
// suite runs everywhere, and the message tells the reader how to run it.
func NeedCommand(t TB, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (apt-get install %s)", name, debianPackage)
		return ""
	}
	return path
}
