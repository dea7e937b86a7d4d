package smtp

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

// TestHeloArgumentChecked: a HELO/EHLO argument over 255 octets or not
// UTF-8 gets 501 with the reason; 255 octets pass and the Received: field
// that quotes it stays far under 998 octets a line.
func TestHeloArgumentChecked(t *testing.T) {
	env := startServer(t, nil)
	c := connect(t, env.addr)
	for _, tc := range []struct{ line, want string }{
		{"EHLO " + strings.Repeat("a", 2030), "is 2030 octets; a host name has at most 255"},
		{"HELO " + strings.Repeat("b", 256), "is 256 octets"},
		{"EHLO bad\xff\xfe.test", "is not valid UTF-8"},
		{"HELO caf\xc3", "is not valid UTF-8"},
	} {
		r := c.do(tc.line, 501)
		if !strings.Contains(r.Text(), tc.want) || r.Enhanced != "5.5.4" {
			t.Errorf("%.40q: %q, want 501 5.5.4 saying %q", tc.line, r.Error(), tc.want)
		}
	}
	host := strings.Repeat("h", 63) + "." + strings.Repeat("i", 63) + "." + strings.Repeat("j", 63) + "." + strings.Repeat("k", 63)
	c.do("EHLO "+host, 250)
	c.do("EHLO bücher.test", 250)
	c.do("EHLO "+host, 250)
	c.do("MAIL FROM:<alice@example.com>", 250)
	c.do("RCPT TO:<bob@mailx.test>", 250)
	c.do("DATA", 354)
	c.raw("Subject: long helo\r\n\r\nhi\r\n.\r\n")
	c.expect(250)
	msgs := env.q.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	for _, l := range strings.Split(msgs[0].Data, "\r\n") {
		if len(l) > 998 {
			t.Errorf("a line of %d octets in the queued message: %.80q", len(l), l)
		}
	}
	if !strings.Contains(msgs[0].Data, "Received: from "+host+" ") {
		t.Errorf("Received: does not quote the 255-octet host:\n%.300s", msgs[0].Data)
	}
}

// TestTextLineLimits: a dot-stuffed line of 998 octets after unstuffing
// is accepted (the stuffing dot does not count); one of 999 is not; a NUL
// octet, which a next hop might drop to read "\x00." as the end of data,
// is refused.
func TestTextLineLimits(t *testing.T) {
	env := startServer(t, nil)
	c := connect(t, env.addr)
	c.do("EHLO client.test", 250)
	send := func(body string) {
		t.Helper()
		c.do("MAIL FROM:<alice@example.com>", 250)
		c.do("RCPT TO:<bob@mailx.test>", 250)
		c.do("DATA", 354)
		c.raw("Subject: lines\r\n\r\n" + body + ".\r\n")
	}
	stuffed := "." + strings.Repeat("d", 997) // 998 octets after unstuffing
	send("." + stuffed + "\r\n")
	c.expect(250)
	if msgs := env.q.messages(); len(msgs) != 1 || !strings.Contains(msgs[0].Data, "\r\n"+stuffed+"\r\n") {
		t.Fatalf("the dot-stuffed 998-octet line was not queued unstuffed")
	}
	send(strings.Repeat("e", 998) + "\r\n")
	c.expect(250)
	send(strings.Repeat("f", 999) + "\r\n")
	if r := c.expect(500); !strings.Contains(r.Text(), "at most 1000 octets") {
		t.Errorf("999-octet line: %q", r.Error())
	}
	send(".." + strings.Repeat("g", 998) + "\r\n") // 999 after unstuffing
	c.expect(500)
	for _, body := range []string{"ok\r\n\x00.\r\nRCPT TO:<x@example.com>\r\n", "a\x00b\r\n", strings.Repeat("long line\r\n", 500) + "x\x00\r\n"} {
		send(body)
		if r := c.expect(554); r.Enhanced != "5.6.0" || !strings.Contains(r.Text(), "NUL octet") {
			t.Errorf("text with NUL: %q", r.Error())
		}
	}
	if n := len(env.q.messages()); n != 2 {
		t.Errorf("%d messages queued, want the two good ones", n)
	}
}

// TestAuthReplies: an unknown mechanism gets 504 whatever its initial
// response; an over-long AUTH line is told the AUTH limit.
func TestAuthReplies(t *testing.T) {
	env := startServer(t, nil)
	c := connect(t, env.addr)
	c.do("EHLO client.test", 250)
	if r := c.do("AUTH XOAUTH2 abc", 504); r.Enhanced != "5.5.4" {
		t.Errorf("AUTH XOAUTH2 abc: %q", r.Error())
	}
	r := c.do("AUTH PLAIN "+strings.Repeat("A", 13000), 500)
	if !strings.Contains(r.Text(), "AUTH command line too long: at most 12288 octets") {
		t.Errorf("over-long AUTH: %q", r.Error())
	}
	c.do("AUTH PLAIN "+strings.Repeat("A", 3000), 501) // 3000 octets pass the length check
}

// TestMailRefusedWhileQueueNotReady: while the queue cannot take mail (a
// replay waiting for disk space), MAIL gets 452 4.3.1 with the reason.
func TestMailRefusedWhileQueueNotReady(t *testing.T) {
	var ready atomic.Bool
	env := startServer(t, func(c *Config) {
		c.Ready = func() error {
			if ready.Load() {
				return nil
			}
			return errors.New("the queue is putting back messages from before a restart")
		}
	})
	c := connect(t, env.addr)
	c.do("EHLO client.test", 250)
	if r := c.do("MAIL FROM:<alice@example.com>", 452); r.Enhanced != "4.3.1" || !strings.Contains(r.Text(), "putting back messages") {
		t.Errorf("MAIL while not ready: %q", r.Error())
	}
	ready.Store(true)
	c.do("MAIL FROM:<alice@example.com>", 250)
}
