package imap

import (
	"strings"
	"testing"
)

// TestIdleThenDisconnect: a client that drops the connection during IDLE
// (a laptop lid closing) ends its session cleanly, and the server goes on.
// go-imap returns from an IDLE ended by EOF without waiting for the
// session's Idle, so Close may run while Idle still does (the race detector
// caught the two unsynchronised in server/web's browser test; session.idling
// orders them).
func TestIdleThenDisconnect(t *testing.T) {
	e := startIMAP(t, nil)
	for i := 0; i < 20; i++ {
		a := dial(t, e.addr)
		a.ok("LOGIN alice hungry")
		a.ok("SELECT INBOX")
		a.conn.Write([]byte("i1 IDLE\r\n"))
		if l := a.line(); !strings.HasPrefix(l, "+") {
			t.Fatalf("IDLE = %q", l)
		}
		a.conn.Close()
	}
	// The server still serves, and every session ends (Shutdown in the
	// cleanup waits for them and fails the test if one hangs).
	b := dial(t, e.addr)
	b.ok("LOGIN alice hungry")
	if out := b.ok("STATUS INBOX (MESSAGES)"); !has(out, "MESSAGES 2") {
		t.Errorf("STATUS = %q", out)
	}
}
