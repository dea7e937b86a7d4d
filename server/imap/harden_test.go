package imap

import (
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/server/access"
)

// TestLoginTimeoutAndBusy: a client that does not log in is logged out
// after LoginTimeout, one that did survives it; over the per-client cap a
// connection hears * BYE instead of a greeting.
func TestLoginTimeoutAndBusy(t *testing.T) {
	e := startIMAP(t, func(c *Config) {
		c.LoginTimeout = 150 * time.Millisecond
		c.Autologout = 5 * time.Second
		c.Budget = access.NewBudget(10, 3)
	})
	idle := dial(t, e.addr)
	in := dial(t, e.addr)
	in.ok("LOGIN alice hungry")
	if l := idle.line(); l != "* BYE Autologout; idle for 150ms" {
		t.Errorf("idle before login: %q", l)
	}
	time.Sleep(300 * time.Millisecond)
	in.ok("NOOP")

	dial(t, e.addr)
	dial(t, e.addr) // with "in": three from 127.0.0.1 (idle has gone)
	// The idle session may not have ended yet: try again until it has.
	var got string
	testkit.Eventually(t, 30*time.Second, func() bool {
		c := testkit.Dial(t, e.addr)
		defer c.Conn.Close()
		got = c.Line()
		return strings.HasPrefix(got, "* BYE [UNAVAILABLE] too busy (3 sessions open from 127.0.0.1, the most allowed per client)")
	}, "fourth connection from one address with a cap of 3: %q", testkit.Later(func() any { return got }))
	if tr := e.trace(); !strings.Contains(tr, "autologout after 150ms") {
		t.Errorf("trace lacks the login autologout:\n%s", tr)
	}
}
