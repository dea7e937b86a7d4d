package imap

import (
	"strings"
	"testing"
)

// TestHeaderSectionsFromCache: header sections are answered from the
// header kept with ENVELOPE and BODYSTRUCTURE once a message has been
// read; the answers must be exactly those cut from the file, for ordinary
// messages, a message without a body, one without header fields, and one
// whose header is too long to keep.
func TestHeaderSectionsFromCache(t *testing.T) {
	e := startIMAP(t, nil)
	long := "From: a@mx.test\r\nX-Long: " + strings.Repeat("y", 10000) + "\r\nSubject: long\r\n\r\nbody\r\n"
	for _, m := range []string{"Subject: only a header\r\nFrom: b@mx.test\r\n", "\r\nno header at all\r\n", long} {
		e.deliver(t, "alice", m)
	}
	c := dial(t, e.addr)
	c.ok("LOGIN alice hungry")
	c.ok("SELECT INBOX")
	items := []string{
		"BODY.PEEK[HEADER]",
		"RFC822.HEADER",
		"BODY.PEEK[HEADER.FIELDS (Subject From)]",
		"BODY.PEEK[HEADER.FIELDS.NOT (Subject)]",
		"BODY.PEEK[HEADER]<5.20>",
	}
	for _, item := range items {
		first := c.ok("FETCH 1:5 (%s)", item)
		second := c.ok("FETCH 1:5 (%s)", item)
		if strings.Join(first[:len(first)-1], "\n") != strings.Join(second[:len(second)-1], "\n") {
			t.Errorf("FETCH %s from the file:\n%s\nfrom the cache:\n%s", item, strings.Join(first, "\n"), strings.Join(second, "\n"))
		}
	}
	// The cache's answer is the header as stored, blank line included.
	out := c.ok("FETCH 1 (BODY.PEEK[HEADER])")
	want := msg1[:strings.Index(msg1, "\r\n\r\n")+4]
	if !strings.Contains(out[0], want) {
		t.Errorf("BODY[HEADER] of message 1 = %q, want it to contain %q", out[0], want)
	}
	// BODY[HEADER] without PEEK still sets \Seen.
	c.ok("STORE 1 -FLAGS (\\Seen)")
	c.ok("FETCH 1 (BODY[HEADER])")
	if out := c.ok("FETCH 1 (FLAGS)"); !has(out, `\Seen`) {
		t.Errorf("BODY[HEADER] did not set \\Seen: %q", out)
	}
}
