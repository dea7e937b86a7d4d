package pop3

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// TestLoginTimeoutShorterThanAutologout: a session that has not logged in
// is closed after LoginTimeout; one that has logged in survives that long
// and more.
func TestLoginTimeoutShorterThanAutologout(t *testing.T) {
	e := startPOP3(t, func(c *Config) { c.LoginTimeout = 150 * time.Millisecond; c.Timeout = 5 * time.Second })
	idle := dial(t, e.addr)
	in := dial(t, e.addr)
	in.expect("USER alice", "+OK")
	in.expect("PASS hungry", "+OK")
	if l := idle.line(); !strings.Contains(l, "autologout: no login within 150ms") {
		t.Errorf("idle before login: %q, want the login autologout", l)
	}
	time.Sleep(300 * time.Millisecond)
	in.expect("STAT", "+OK 2 ")
}

// TestBusyAnswer: over its per-client cap, POP3 answers -ERR [SYS/TEMP]
// instead of a greeting.
func TestBusyAnswer(t *testing.T) {
	e := startPOP3(t, nil)
	for i := 0; i < 100; i++ {
		dial(t, e.addr)
	}
	nc, err := net.DialTimeout("tcp", e.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	c := &client{t: t, conn: nc, br: bufio.NewReader(nc)}
	if l := c.line(); !strings.HasPrefix(l, "-ERR [SYS/TEMP] too busy (100 sessions open from 127.0.0.1, the most allowed per client)") {
		t.Errorf("101st session from one address: %q", l)
	}
}
