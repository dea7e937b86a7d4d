package imap

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// deepMessage nests depth multiparts, about 70 octets a level: the shape
// of issue 21's 1.1 MB, 16,000-deep message that anyone can send to port 25.
func deepMessage(depth int) string {
	var b strings.Builder
	b.WriteString("From: x@mx.test\r\nSubject: deep\r\nMIME-Version: 1.0\r\n")
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nneedle\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.String()
}

// TestDeepMessage checks that nesting far beyond maxDepth costs linear
// time: BODYSTRUCTURE, a deep BODY[] section and SEARCH TEXT each answer
// before a 30 s connection deadline (the old code took minutes), and
// BODYSTRUCTURE shows maxDepth levels.
func TestDeepMessage(t *testing.T) {
	e := startIMAP(t, func(c *Config) { c.Trace = nil })
	e.deliver(t, "alice", deepMessage(16000))
	c := dial(t, e.addr)
	c.ok("LOGIN alice hungry")
	c.ok("SELECT INBOX")
	for _, cmd := range []string{"FETCH 3 BODYSTRUCTURE", "FETCH 3 BODYSTRUCTURE", "FETCH 3 BODY.PEEK[" + strings.Repeat("1.", 5000) + "1]", "SEARCH TEXT needle", "FETCH 3 ENVELOPE"} {
		// Each command must answer before the connection's deadline: the
		// quadratic code took minutes, linear code takes milliseconds, and
		// 30 s tells them apart on any machine without timing a unit test.
		c.conn.SetDeadline(time.Now().Add(30 * time.Second))
		out := c.ok("%s", cmd)
		if cmd == "FETCH 3 BODYSTRUCTURE" {
			if n := strings.Count(out[0], `"mixed"`); n < maxDepth-2 || n > maxDepth+1 {
				t.Errorf("BODYSTRUCTURE shows %d levels of multipart/mixed, want about %d", n, maxDepth)
			}
		}
		if cmd == "SEARCH TEXT needle" && !has(out, "* SEARCH 3") {
			t.Errorf("SEARCH TEXT needle = %q", out)
		}
	}
}

func TestBodyStructureFilenameRFC2231(t *testing.T) {
	e := startIMAP(t, nil)
	e.deliver(t, "alice", "From: x@mx.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/pdf; name=\"=?utf-8?q?Entw=C3=BCrfe.pdf?=\"\r\nContent-Disposition: attachment; filename*=utf-8''Entw%C3%BCrfe.pdf\r\n\r\nx\r\n--b--\r\n")
	c := dial(t, e.addr)
	c.ok("LOGIN alice hungry")
	c.ok("SELECT INBOX")
	out := c.ok("FETCH 3 BODYSTRUCTURE")
	if !has(out, `"filename*" "utf-8''Entw%C3%BCrfe.pdf"`) || has(out, "{") {
		t.Errorf("BODYSTRUCTURE = %q: want filename* in RFC 2231 form, no raw UTF-8 literal", out)
	}
}

// TestMultipartWithoutBoundary: go-imap's parser gives a multipart with
// no parts, on which its writer panics and drops the connection; anyone
// could send such a message to make a mailbox unreadable.
func TestMultipartWithoutBoundary(t *testing.T) {
	e := startIMAP(t, nil)
	e.deliver(t, "alice", "From: x@mx.test\r\nContent-Type: multipart/mixed\r\n\r\nno boundary\r\n")
	c := dial(t, e.addr)
	c.ok("LOGIN alice hungry")
	c.ok("SELECT INBOX")
	out := c.ok("FETCH 3 (BODY BODYSTRUCTURE)")
	if !has(out, `("text" "plain"`) {
		t.Errorf("FETCH BODYSTRUCTURE = %q", out)
	}
	c.ok("NOOP")
}
