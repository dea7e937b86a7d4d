package testkit

import (
	"os/exec"
	"strings"
	"sync/atomic"
	"time"
)

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

// Run runs cmd to completion, killing it after timeout, and returns what it
// wrote to stdout and stderr together (unless cmd already has a Stdout or
// Stderr). It fails the test, showing the command line and that output,
// when the program exits non-zero, cannot start or runs out of time.
func Run(t TB, timeout time.Duration, cmd *exec.Cmd) string {
	t.Helper()
	out := collectOutput(cmd)
	if cmd.WaitDelay == 0 {
		// A killed program's children may hold its output open: stop
		// waiting for them a little after it exits.
		cmd.WaitDelay = 2 * time.Second
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", strings.Join(cmd.Args, " "), err)
		return ""
	}
	var timedOut atomic.Bool
	timer := time.AfterFunc(timeout, func() { timedOut.Store(true); cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	switch {
	case timedOut.Load():
		t.Fatalf("%s: still running after %v, killed\n%s", strings.Join(cmd.Args, " "), timeout, out.String())
	case err != nil:
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out.String())
	}
	return out.String()
}
