package imap

import (
	"fmt"
	"testing"
)

// TestTyposBeforeLogin: go-imap ends a session at its first unknown
// command before login (against cross-protocol attacks); the front end
// forgives a student's first two typos with BAD, and the session goes on to
// log in. The third, or an HTTP request line, still ends the session.
func TestTyposBeforeLogin(t *testing.T) {
	e := startIMAP(t, nil)
	c := dial(t, e.addr)
	if out := c.expect("BAD", "LOGN alice hungry"); !has(out, `unknown command "LOGN"`) || !has(out, "1 more") || has(out, "BYE") {
		t.Errorf("first typo = %q", out)
	}
	if out := c.expect("BAD", "SELCT INBOX"); !has(out, "0 more") || has(out, "BYE") {
		t.Errorf("second typo = %q", out)
	}
	c.ok("LOGIN alice hungry")
	c.expect("BAD", "FOO") // after login go-imap answers BAD and goes on
	c.ok("NOOP")

	c2 := dial(t, e.addr)
	c2.expect("BAD", "FOO")
	c2.expect("BAD", "FOO")
	fmt.Fprintf(c2.conn, "x FOO\r\n")
	if bye := c2.line(); !has([]string{bye, c2.line()}, "* BYE") {
		t.Errorf("third typo: no BYE")
	}

	c3 := dial(t, e.addr)
	fmt.Fprintf(c3.conn, "GET / HTTP/1.1\r\n")
	if out := []string{c3.line(), c3.line()}; !has(out, "* BYE") || has(out, "unknown command") {
		t.Errorf("an HTTP request line = %q", out)
	}
}
