package testkit

import (
	"bytes"
	"net"
	"os/exec"
	"sync"
	"time"
)

// Peer is a third-party server program a test runs on loopback (smtp-sink,
// Dovecot, dnsmasq, a Python script), started by StartPeer.
type Peer struct {
	Cmd  *exec.Cmd
	Done <-chan struct{} // closed when the program has exited
	out  *Buffer
}

// Output returns what the program has written to stdout and stderr so far.
func (p *Peer) Output() string { return p.out.String() }

// StartPeer starts cmd (its Stdout and Stderr are collected unless already
// set), waits until addr accepts TCP connections, and kills the program in
// t.Cleanup, waiting for it to exit. It fails the test, showing the
// program's output, if the program exits first or nothing listens on addr
// within 30 seconds: an external program gives no other readiness signal.
func StartPeer(t TB, addr string, cmd *exec.Cmd) *Peer {
	t.Helper()
	out := collectOutput(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
		return nil
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	p := &Peer{Cmd: cmd, Done: done, out: out}
	WaitListening(t, addr, 30*time.Second, done, p.Output)
	return p
}

// WaitListening waits until addr accepts TCP connections, and fails the test
// if timeout passes first or exited (when not nil) is closed, as when the
// server process ended. output (when not nil) gives text to show with the
// failure, such as the server's log.
func WaitListening(t TB, addr string, timeout time.Duration, exited <-chan struct{}, output func() string) {
	t.Helper()
	gone := false
	ok := Poll(timeout, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return true
		}
		select {
		case <-exited:
			gone = true
			return true
		default:
			return false
		}
	})
	if ok && !gone {
		return
	}
	said := ""
	if output != nil {
		said = "\n" + output()
	}
	if gone {
		t.Fatalf("the server exited before listening on %s%s", addr, said)
		return
	}
	t.Fatalf("nothing listens on %s after %v%s", addr, timeout, said)
}

// collectOutput points cmd's stdout and stderr, where not already set, at
// one Buffer and returns it.
func collectOutput(cmd *exec.Cmd) *Buffer {
	out := &Buffer{}
	if cmd.Stdout == nil {
		cmd.Stdout = out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = out
	}
	return out
}

// Buffer is an output buffer that one goroutine (a session, a program's
// output copier) may write while the test reads it. The zero value is empty
// and ready.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
