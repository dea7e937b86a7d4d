package smtp

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/proto/transcript"
)

func plainAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

func TestTransaction(t *testing.T) {
	env := startServer(t, nil)
	c := connect(t, env.addr)
	r := c.do("EHLO client.test", 250)
	for _, kw := range []string{"PIPELINING", "SIZE 10485760", "8BITMIME", "ENHANCEDSTATUSCODES", "STARTTLS", "AUTH PLAIN LOGIN", "SMTPUTF8", "HELP"} {
		if !strings.Contains(r.Text(), kw) {
			t.Errorf("EHLO reply lacks %s:\n%s", kw, r.Text())
		}
	}
	c.do("MAIL FROM:<alice@example.com>", 250)
	c.do("RCPT TO:<bob@mailx.test>", 250)
	c.do("DATA", 354)
	c.raw("Subject: hi\r\n\r\n..leading dot\r\nbody\r\n.\r\n")
	r = c.expectEnh(250, "2.0.0")
	if !strings.Contains(r.Text(), "queued as Q1") {
		t.Errorf("final reply %q does not give the queue id", r.Error())
	}
	c.do("QUIT", 221)
	msgs := env.q.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages queued, want 1", len(msgs))
	}
	m := msgs[0]
	want := "Received: from client.test ([127.0.0.1])\r\n\tby mx.mailx.test (mailx) with ESMTP id Q1\r\n\tfor <bob@mailx.test>;\r\n\tSun, 22 Nov 2026 10:00:00 +0000\r\nSubject: hi\r\n\r\n.leading dot\r\nbody\r\n"
	if m.Data != want {
		t.Errorf("queued data:\n%q\nwant\n%q", m.Data, want)
	}
	if m.Env.From != "alice@example.com" || strings.Join(m.Env.To, ",") != "bob@mailx.test" || m.Env.Helo != "client.test" || m.Env.SessionID != "s1" {
		t.Errorf("envelope = %+v", m.Env)
	}
	if !env.hasMeta("queued as Q1") {
		t.Error("trace lacks the queued decision")
	}
}

// TestGoldenTrace pins one session's trace as a transcript file, the form
// written to DATA/transcripts and replayed by `mailx smtp replay`.
func TestGoldenTrace(t *testing.T) {
	env := startServer(t, nil)
	c := connect(t, env.addr)
	c.do("HELO client.test", 250)
	c.do("RCPT TO:<bob@mailx.test>", 503)
	c.do("MAIL FROM:<alice@example.com>", 250)
	c.do("RCPT TO:<carol@mailx.test>", 550)
	c.do("RCPT TO:<bob@example.com>", 554)
	c.do("RCPT TO:<bob+news@mailx.test>", 250)
	c.do("DATA", 354)
	c.raw("Subject: golden\r\n\r\nHello Bob.\r\n.\r\n")
	c.expect(250)
	c.do("QUIT", 221)
	c.closed()
	var b strings.Builder
	tw, _ := transcript.NewWriter(&b, transcript.Header{Protocol: "smtp", Session: "s1"})
	for _, ev := range env.trace() {
		if ev.Dir == transcript.Meta && strings.HasPrefix(ev.Line, "connect from") {
			continue // holds the client's random port
		}
		tw.Write(ev.Dir, ev.Line)
	}
	testkit.Golden(t, "testdata/session.golden", []byte(b.String()))
}

// TestRepliesFlushedWhenTheClientShutsDown: replies held back because
// more pipelined input was buffered still reach a client that shut down its
// sending side after an unfinished last line (found by FuzzSession).
func TestRepliesFlushedWhenTheClientShutsDown(t *testing.T) {
	env := startServer(t, nil)
	c := connect(t, env.addr)
	c.raw("EHLO client.test\r\nNOOP\r\nNOO")
	c.conn.(*net.TCPConn).CloseWrite()
	var got []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			break
		}
		got = append(got, strings.TrimSuffix(line, "\r\n"))
	}
	if len(got) < 2 || !strings.HasPrefix(got[len(got)-1], "250 ") || !strings.Contains(strings.Join(got, "\n"), "250 2.0.0") {
		t.Errorf("after shutting down its side the client got %q; want the EHLO reply and the NOOP's 250", got)
	}
}

// TestTraceOfLongSessions: a session's first fullTextMessages messages are
// traced up to maxTracedLines lines of text, later ones by their header
// section only, each with a count of what was left out before the final
// "."; every message is still queued whole.
func TestTraceOfLongSessions(t *testing.T) {
	env := startServer(t, nil)
	c := connect(t, env.addr)
	c.do("EHLO client.test", 250)
	body := strings.Repeat("body line\r\n", 150)
	for i := 1; i <= fullTextMessages+2; i++ {
		c.do("MAIL FROM:<alice@example.com>", 250)
		c.do("RCPT TO:<bob@mailx.test>", 250)
		c.do("DATA", 354)
		if i == fullTextMessages+2 {
			c.raw(fmt.Sprintf("Subject: %d\r\n.\r\n", i)) // a header and nothing else
		} else {
			c.raw(fmt.Sprintf("Subject: %d\r\nX-Extra: y\r\n\r\n%s.\r\n", i, body))
		}
		c.expect(250)
	}
	c.do("QUIT", 221)
	if n := len(env.q.messages()); n != fullTextMessages+2 {
		t.Fatalf("%d messages queued, want %d", n, fullTextMessages+2)
	}
	if m := env.q.messages()[fullTextMessages]; !strings.HasSuffix(m.Data, "\r\n\r\n"+body) {
		t.Errorf("message %d is not queued whole", fullTextMessages+1)
	}
	// Split the trace into each message's text: the lines between 354 and 250.
	var texts [][]transcript.Event
	var cur []transcript.Event
	inText := false
	for _, ev := range env.trace() {
		switch {
		case ev.Dir == transcript.Server && strings.HasPrefix(ev.Line, "354"):
			inText, cur = true, nil
		case ev.Dir == transcript.Server && strings.HasPrefix(ev.Line, "250") && inText:
			inText = false
			texts = append(texts, cur)
		case inText:
			cur = append(cur, ev)
		}
	}
	if len(texts) != fullTextMessages+2 {
		t.Fatalf("found the text of %d messages in the trace, want %d", len(texts), fullTextMessages+2)
	}
	clientLines := func(evs []transcript.Event) (n int, meta []string) {
		for _, ev := range evs {
			if ev.Dir == transcript.Client {
				n++
			} else if ev.Dir == transcript.Meta && strings.Contains(ev.Line, "not shown") {
				meta = append(meta, ev.Line)
			}
		}
		return n, meta
	}
	// 3 header lines (with the blank one) + 150 body lines + "." = 154 lines.
	for i, want := range map[int]string{0: "53 more lines of message text not shown", fullTextMessages - 1: "53 more lines of message text not shown",
		fullTextMessages: "150 lines of message body not shown (after a session's first 10 messages"} {
		n, meta := clientLines(texts[i])
		wantLines := maxTracedLines + 1
		if i == fullTextMessages {
			wantLines = 4 // Subject:, X-Extra:, the blank line, "."
		}
		if n != wantLines || len(meta) != 1 || !strings.HasPrefix(meta[0], want) {
			t.Errorf("message %d: %d client lines traced (want %d), notes %q (want %q)", i+1, n, wantLines, meta, want)
		}
		var last transcript.Event
		for _, ev := range texts[i] {
			if ev.Dir == transcript.Client {
				last = ev
			}
		}
		if last.Line != "." {
			t.Errorf("message %d: the traced text ends with %q, want the final \".\"", i+1, last.Line)
		}
	}
	if n, meta := clientLines(texts[fullTextMessages+1]); n != 2 || len(meta) != 0 {
		t.Errorf("header-only message: %d client lines traced (want 2), notes %q (want none)", n, meta)
	}
}

func TestSequenceAndSyntax(t *testing.T) {
	env := startServer(t, nil)
	c := connect(t, env.addr)
	tests := []struct {
		line string
		code int
		enh  string
		hint string
	}{
		{"MAIL FROM:<a@b.test>", 503, "5.5.1", "EHLO"},
		{"EHLO", 501, "5.5.4", "EHLO <your host name>"},
		{"EHLO client.test", 250, "", ""},
		{"RCPT TO:<bob@mailx.test>", 503, "5.5.1", "MAIL FROM"},
		{"DATA", 503, "5.5.1", "MAIL FROM"},
		{"HELLO", 500, "5.5.2", "HELP"},
		{"MAIL FROM:alice@example.com", 501, "5.1.7", "angle brackets"},
		{"MAIL FROM:<a@b.test> RET=HDRS", 555, "5.5.4", "RET"},
		{"MAIL FROM:<a@b.test>", 250, "2.1.0", ""},
		{"MAIL FROM:<a@b.test>", 503, "5.5.1", "RSET"},
		{"DATA", 503, "5.5.1", "RCPT TO"},
		{"RCPT TO:bob@mailx.test", 501, "5.1.3", "angle brackets"},
		{"RCPT TO:<jörg@mailx.test>", 553, "5.6.7", "SMTPUTF8"},
		{"STARTTLS", 503, "5.5.1", "RSET"},
		{"RSET", 250, "2.0.0", ""},
		{"VRFY bob", 252, "2.5.0", ""},
		{"EXPN staff", 502, "5.5.1", ""},
		{"HELP MAIL", 214, "2.0.0", "RFC 5321"},
		{"NOOP", 250, "2.0.0", ""},
	}
	for _, tc := range tests {
		r := c.do(tc.line, tc.code)
		if r.Enhanced != tc.enh || !strings.Contains(r.Text(), tc.hint) {
			t.Errorf("%s: got %q, want %d %s with %q", tc.line, r.Error(), tc.code, tc.enh, tc.hint)
		}
	}
}

// TestRelayAttempts checks that tricky addresses never make the server relay.
func TestRelayAttempts(t *testing.T) {
	env := startServer(t, nil)
	c := connect(t, env.addr)
	c.do("EHLO attacker.test", 250)
	c.do("MAIL FROM:<spammer@example.net>", 250)
	tests := []struct {
		rcpt string
		code int
		enh  string
	}{
		{`<"a@b"@mailx.test>`, 550, "5.1.1"},
		{`<"bob@example.com"@mailx.test>`, 550, "5.1.1"},
		{"<a%b@mailx.test>", 550, "5.1.1"},
		{"<bob%example.com@mailx.test>", 550, "5.1.1"},
		{"<@mailx.test:bob@example.com>", 554, "5.7.1"},
		{"<@mailx.test,@mx.mailx.test:victim@example.org>", 554, "5.7.1"},
		{"<bob@example.com>", 554, "5.7.1"},
		{"<bob@mailx.test.example.com>", 554, "5.7.1"},
		{"<bob@[192.0.2.1]>", 554, "5.7.1"},
		{"<bob@MAILX.TEST>", 250, "2.1.5"},
		{"<@relay.example:bob@mailx.test>", 250, "2.1.5"},
		{"<Postmaster>", 250, "2.1.5"},
	}
	for _, tc := range tests {
		c.cmd("RCPT TO:" + tc.rcpt)
		r := c.reply()
		if r.Code != tc.code || r.Enhanced != tc.enh {
			t.Errorf("RCPT TO:%s = %q, want %d %s", tc.rcpt, r.Error(), tc.code, tc.enh)
		}
	}
	if !env.hasMeta("source route @relay.example ignored") {
		t.Error("trace does not explain the ignored source route")
	}
}

func TestRelayAllowedAfterAuthOrTrustedNet(t *testing.T) {
	env := startServer(t, nil)
	c := connect(t, env.addr)
	c.do("EHLO client.test", 250)
	c.do("AUTH PLAIN "+plainAuth("alice", "hungry"), 235)
	c.do("MAIL FROM:<alice@mailx.test>", 250)
	c.do("RCPT TO:<friend@example.com>", 250)

	trusted := startServer(t, func(cfg *Config) { cfg.RelayNets = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
	c = connect(t, trusted.addr)
	c.do("EHLO client.test", 250)
	c.do("MAIL FROM:<alice@mailx.test>", 250)
	c.do("RCPT TO:<friend@example.com>", 250)
}

// TestSmuggling sends the SMTP smuggling variants: each must be refused
// with 550 5.5.2 after the real end of DATA, nothing may be queued (neither
// the message nor the one hidden in it), and the session must stay in step.
func TestSmuggling(t *testing.T) {
	hidden := "MAIL FROM:<ceo@mailx.test>\r\nRCPT TO:<bob@mailx.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nPay now.\r\n"
	tests := []struct{ name, text string }{
		{"LF dot LF", "Subject: a\r\n\r\nhello\n.\n" + hidden + ".\r\n"},
		{"CR dot CR LF", "Subject: a\r\n\r\nhello\r.\r\n" + hidden + ".\r\n"},
		{"LF dot CR LF", "Subject: a\r\n\r\nhello\n.\r\n" + hidden + ".\r\n"},
		{"CR LF dot LF", "Subject: a\r\n\r\nhello\r\n.\n" + hidden + ".\r\n"},
		{"CR dot LF", "Subject: a\r\n\r\nhello\r.\n" + hidden + ".\r\n"},
		{"bare CR", "Subject: a\r\n\r\nhel\rlo\r\n.\r\n"},
		{"bare LF in header", "Subject: a\nX: b\r\n\r\nhello\r\n.\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := startServer(t, nil)
			c := connect(t, env.addr)
			c.do("EHLO client.test", 250)
			c.do("MAIL FROM:<alice@example.com>", 250)
			c.do("RCPT TO:<bob@mailx.test>", 250)
			c.do("DATA", 354)
			c.raw(tc.text)
			c.expectEnh(550, "5.5.2")
			c.do("NOOP", 250) // still in step: nothing left over is read as a command
			if n := len(env.q.messages()); n != 0 {
				t.Errorf("%d messages queued, want none", n)
			}
		})
	}
}

func TestLFOnlyMode(t *testing.T) {
	env := startServer(t, nil)
	c := connect(t, env.addr)
	c.raw("HELO nc.test\n")
	r := c.expect(250)
	if !strings.Contains(r.Text(), "LF-only mode") {
		t.Errorf("first reply does not announce LF-only mode: %q", r.Error())
	}
	c.raw("MAIL FROM:<alice@example.com>\n")
	c.expect(250)
	c.raw("RCPT TO:<bob@mailx.test>\r\n")
	c.expectEnh(500, "5.5.2") // mixing line endings is refused
	c.raw("RCPT TO:<bob@mailx.test>\n")
	c.expect(250)
	c.raw("DATA\n")
	c.expect(354)
	c.raw("Subject: typed\n\nhi\n..\n.\n")
	c.expect(250)
	m := env.q.messages()
	if len(m) != 1 || !strings.HasSuffix(m[0].Data, "Subject: typed\r\n\r\nhi\r\n.\r\n") {
		t.Fatalf("LF-only message not stored with CRLF: %+v", m)
	}
	// A CR inside DATA of an LF-only session is refused.
	c.raw("MAIL FROM:<alice@example.com>\nRCPT TO:<bob@mailx.test>\nDATA\n")
	c.expect(250)
	c.expect(250)
	c.expect(354)
	c.raw("Subject: x\r\n\n.\n")
	c.expectEnh(550, "5.5.2")
}

func TestCRLFSessionRefusesBareLFCommand(t *testing.T) {
	env := startServer(t, nil)
	c := connect(t, env.addr)
	c.do("EHLO client.test", 250)
	c.raw("NOOP\n")
	r := c.expectEnh(500, "5.5.2")
	if !strings.Contains(r.Text(), "bare LF") {
		t.Errorf("reply does not explain the bare LF: %q", r.Error())
	}
	c.raw("NO\rOP\r\n")
	c.expectEnh(500, "5.5.2")
}

// TestSTARTTLSInjection pipelines a command after STARTTLS in the same
// packet: it must be discarded, not run inside the TLS session.
func TestSTARTTLSInjection(t *testing.T) {
	env := startServer(t, nil)
	c := connect(t, env.addr)
	c.do("EHLO client.test", 250)
	c.raw("STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n")
	c.expect(220)
	c.startTLS()
	// If the injected MAIL had run, this would be 503 (session over EHLO) or
	// a reply to MAIL would come first.
	c.do("MAIL FROM:<alice@example.com>", 503)
	r := c.do("EHLO client.test", 250)
	if strings.Contains(r.Text(), "STARTTLS") {
		t.Error("STARTTLS still advertised inside TLS")
	}
	if !env.hasMeta("discarded 32 octets sent after STARTTLS") {
		t.Errorf("trace lacks the discard: %v", env.trace())
	}
	c.do("STARTTLS", 503)
}

// TestAuthFromRemoteNeedsTLS makes the client look remote (192.0.2.10):
// AUTH must not be offered or accepted until STARTTLS.
func TestAuthFromRemoteNeedsTLS(t *testing.T) {
	env := startServer(t, nil, "192.0.2.10")
	c := connect(t, env.addr)
	r := c.do("EHLO client.test", 250)
	if strings.Contains(r.Text(), "AUTH") {
		t.Errorf("AUTH advertised to a remote client without TLS:\n%s", r.Text())
	}
	c.do("AUTH PLAIN "+plainAuth("alice", "hungry"), 538)
	c.do("STARTTLS", 220)
	c.startTLS()
	r = c.do("EHLO client.test", 250)
	if !strings.Contains(r.Text(), "AUTH PLAIN LOGIN") {
		t.Errorf("AUTH not advertised after STARTTLS:\n%s", r.Text())
	}
	c.do("AUTH PLAIN "+plainAuth("alice", "wrong"), 535)
	c.do("AUTH PLAIN "+plainAuth("alice", "hungry"), 235)
	c.do("AUTH PLAIN "+plainAuth("alice", "hungry"), 503)
	c.do("MAIL FROM:<alice@mailx.test>", 250)
	c.do("RCPT TO:<friend@example.com>", 250)
	c.do("DATA", 354)
	c.raw("Subject: x\r\n\r\nhi\r\n.\r\n")
	c.expect(250)
	m := env.q.messages()[0]
	if !strings.Contains(m.Data, "with ESMTPSA id") || !strings.Contains(m.Data, "authenticated as alice") || !strings.Contains(m.Data, "using TLS 1.3") {
		t.Errorf("Received: lacks TLS/AUTH facts:\n%s", m.Data)
	}
	if m.Env.AuthUser != "alice" {
		t.Errorf("envelope AuthUser = %q", m.Env.AuthUser)
	}
}

func TestAuthMechanisms(t *testing.T) {
	env := startServer(t, nil)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name  string
		steps []string // client lines; the server answers 334 before each but the last reply
		code  int
	}{
		{"plain initial", []string{"AUTH PLAIN " + plainAuth("bob", "burger")}, 235},
		{"plain prompt", []string{"AUTH PLAIN", plainAuth("bob", "burger")}, 235},
		{"plain address login", []string{"AUTH PLAIN " + plainAuth("bob@mailx.test", "burger")}, 235},
		{"plain wrong identity", []string{"AUTH PLAIN " + b64("alice\x00bob\x00burger")}, 535},
		{"login", []string{"AUTH LOGIN", b64("bob"), b64("burger")}, 235},
		{"login initial", []string{"AUTH LOGIN " + b64("bob"), b64("burger")}, 235},
		{"login wrong", []string{"AUTH LOGIN", b64("bob"), b64("hungry")}, 535},
		{"unknown user", []string{"AUTH LOGIN", b64("mallory"), b64("x")}, 535},
		{"cancel", []string{"AUTH LOGIN", "*"}, 501},
		{"bad base64", []string{"AUTH PLAIN !!!"}, 501},
		{"cram", []string{"AUTH CRAM-MD5"}, 504},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := connect(t, env.addr)
			c.do("EHLO client.test", 250)
			for i, s := range tc.steps {
				c.cmd(s)
				if i < len(tc.steps)-1 {
					c.expect(334)
				}
			}
			c.expect(tc.code)
		})
	}
	for _, ev := range env.trace() {
		if strings.Contains(ev.Line, plainAuth("bob", "burger")) || strings.Contains(ev.Line, b64("burger")) {
			t.Errorf("a password reached the trace: %q", ev.Line)
		}
	}
}

func TestAuthFailuresThrottled(t *testing.T) {
	env := startServer(t, func(c *Config) { c.Limits.AuthFailDelay = 40 * time.Millisecond })
	c := connect(t, env.addr)
	c.do("EHLO client.test", 250)
	start := time.Now()
	for range 3 {
		c.do("AUTH PLAIN "+plainAuth("alice", "guess"), 535)
	}
	// 1+2+3 delays: the third failure alone waits 120 ms.
	if d := time.Since(start); d < 240*time.Millisecond {
		t.Errorf("three failures took %v; want at least 240ms of throttling", d)
	}
}

func TestSubmission(t *testing.T) {
	env := startServer(t, func(c *Config) { c.Submission = true })
	c := connect(t, env.addr)
	c.do("EHLO client.test", 250)
	c.do("MAIL FROM:<alice@mailx.test>", 530)
	c.do("AUTH PLAIN "+plainAuth("alice", "hungry"), 235)
	c.do("MAIL FROM:<alice@mailx.test>", 250)
	c.do("RCPT TO:<bob@mailx.test>", 250)
	c.do("RCPT TO:<carol@example.com>", 250)
	c.do("DATA", 354)
	c.raw("From: alice@mailx.test\r\nSubject: no id\r\n\r\nhi\r\n.\r\n")
	c.expect(250)
	c.do("MAIL FROM:<alice@mailx.test>", 250)
	c.do("RCPT TO:<bob@mailx.test>", 250)
	c.do("DATA", 354)
	c.raw("Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <x@y>\r\n\r\nhi\r\n.\r\n")
	c.expect(250)
	m := env.q.messages()
	if !strings.Contains(m[0].Data, "\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n") || !strings.Contains(m[0].Data, "\r\nMessage-ID: <") {
		t.Errorf("submission did not add Date and Message-ID:\n%s", m[0].Data)
	}
	if strings.Count(m[1].Data, "Date:") != 1 || strings.Count(m[1].Data, "Message-ID:") != 1 {
		t.Errorf("submission added fields that were present:\n%s", m[1].Data)
	}
}

func TestLimits(t *testing.T) {
	env := startServer(t, func(c *Config) {
		c.Limits.MessageSize = 200
		c.Limits.Recipients = 2
	})
	c := connect(t, env.addr)
	c.do("EHLO client.test", 250)
	c.do("MAIL FROM:<a@example.com> SIZE=201", 552)
	c.do("MAIL FROM:<a@example.com> SIZE=100", 250)
	c.do("RCPT TO:<bob@mailx.test>", 250)
	c.do("RCPT TO:<alice@mailx.test>", 250)
	c.cmd("RCPT TO:<postmaster@mailx.test>")
	c.expectEnh(452, "4.5.3")
	c.do("DATA", 354)
	c.raw("Subject: big\r\n\r\n" + strings.Repeat("0123456789\r\n", 30) + ".\r\n")
	c.expectEnh(552, "5.3.4")
	c.do("MAIL FROM:<a@example.com>", 250)
	c.do("RCPT TO:<bob@mailx.test>", 250)
	c.do("DATA", 354)
	c.raw("Subject: long\r\n\r\n" + strings.Repeat("x", 1200) + "\r\n.\r\n")
	c.expectEnh(500, "5.5.2")
	c.cmd("NOOP " + strings.Repeat("x", 3000))
	c.expectEnh(500, "5.5.2")
	c.do("NOOP", 250)
	if n := len(env.q.messages()); n != 0 {
		t.Errorf("%d messages queued, want none", n)
	}
}

func TestTooManyErrors(t *testing.T) {
	env := startServer(t, func(c *Config) { c.Limits.Errors = 3 })
	c := connect(t, env.addr)
	c.do("FOO", 500)
	c.do("BAR", 500)
	c.cmd("BAZ")
	c.expect(500)
	c.expectEnh(421, "4.7.0")
	if !c.closed() {
		t.Error("connection still open after 421")
	}
}

func TestIdleTimeout(t *testing.T) {
	env := startServer(t, func(c *Config) { c.Limits.Idle = 150 * time.Millisecond })
	c := connect(t, env.addr)
	c.expectEnh(421, "4.4.2")
}

func TestSessionLimits(t *testing.T) {
	env := startServer(t, func(c *Config) { c.Limits.SessionsPerClient = 1 })
	first := connect(t, env.addr)
	second := dial(t, env.addr)
	r := second.expectEnh(421, "4.7.0")
	if !strings.Contains(r.Text(), "per client") {
		t.Errorf("421 does not say why: %q", r.Error())
	}
	first.do("QUIT", 221)
	if !first.closed() {
		t.Fatal("the server did not close the session after QUIT")
	}
	// The slot is free again once the first session is gone; a server that
	// never frees it fails here rather than later with a confusing 421.
	testkit.Eventually(t, 30*time.Second, func() bool { return env.srv.Sessions() == 0 },
		"%d sessions still counted after the first one quit", testkit.Later(func() any { return env.srv.Sessions() }))
	connect(t, env.addr).do("QUIT", 221)
}

func TestLowDisk(t *testing.T) {
	env := startServer(t, func(c *Config) { c.DiskFree = func() (uint64, error) { return 1 << 20, nil } })
	c := connect(t, env.addr)
	c.do("EHLO client.test", 250)
	c.cmd("MAIL FROM:<a@example.com>")
	c.expectEnh(452, "4.3.1")
}

func TestQueueFailureIs451(t *testing.T) {
	env := startServer(t, nil)
	env.q.fail = errors.New("disk on fire")
	c := connect(t, env.addr)
	c.do("EHLO client.test", 250)
	c.do("MAIL FROM:<a@example.com>", 250)
	c.do("RCPT TO:<bob@mailx.test>", 250)
	c.do("DATA", 354)
	c.raw("\r\nhi\r\n.\r\n")
	r := c.expectEnh(451, "4.3.0")
	if strings.Contains(r.Text(), "fire") {
		t.Error("internal error detail leaked to the client")
	}
}

func TestPipelining(t *testing.T) {
	env := startServer(t, nil)
	c := connect(t, env.addr)
	c.raw("EHLO client.test\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<bob@mailx.test>\r\nRCPT TO:<nobody@mailx.test>\r\nDATA\r\n")
	for _, code := range []int{250, 250, 250, 550, 354} {
		c.expect(code)
	}
	c.raw("\r\nhi\r\n.\r\nQUIT\r\n")
	c.expect(250)
	c.expect(221)
}

type panicDir struct{ Directory }

func (panicDir) IsLocalDomain(string) bool { panic("boom") }

func TestPanicRecovered(t *testing.T) {
	env := startServer(t, func(c *Config) { c.Directory = panicDir{testDirVal} })
	c := connect(t, env.addr)
	c.do("EHLO client.test", 250)
	c.do("MAIL FROM:<a@example.com>", 250)
	c.cmd("RCPT TO:<bob@mailx.test>")
	c.expectEnh(421, "4.3.0")
	connect(t, env.addr).do("NOOP", 250) // the server lives on
}

func TestShutdownTellsIdleSessions(t *testing.T) {
	env := startServer(t, nil)
	c := connect(t, env.addr)
	c.do("EHLO client.test", 250)
	go env.srv.Shutdown(t.Context())
	c.expectEnh(421, "4.3.2")
}

func TestImplicitTLSListener(t *testing.T) {
	env := startServer(t, nil)
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := tls.NewListener(&remoteListener{Listener: tcp, remote: "192.0.2.7"}, testCert.ServerConfig())
	go env.srv.Serve(l)
	conn, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: testCert.ClientPool(), ServerName: "mailx.test"})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, conn: conn, r: bufio.NewReader(conn)}
	t.Cleanup(func() { conn.Close() })
	c.expect(220)
	r := c.do("EHLO client.test", 250)
	if strings.Contains(r.Text(), "STARTTLS") || !strings.Contains(r.Text(), "AUTH PLAIN") {
		t.Errorf("implicit TLS EHLO reply:\n%s", r.Text())
	}
	c.do("AUTH PLAIN "+plainAuth("alice", "hungry"), 235)
}

func TestTotalSessionLimit(t *testing.T) {
	env := startServer(t, func(c *Config) { c.Limits.Sessions = 2 })
	connect(t, env.addr)
	connect(t, env.addr)
	r := dial(t, env.addr).expectEnh(421, "4.7.0")
	if !strings.Contains(r.Text(), "2 sessions open, the most allowed") {
		t.Errorf("421 does not say why: %q", r.Error())
	}
}

func TestLimitsDefaults(t *testing.T) {
	l := Limits{Recipients: 7}.WithDefaults()
	d := DefaultLimits()
	if l.Recipients != 7 || l.CommandLine != d.CommandLine || l.AuthLine != 12288 || l.TextLine != 1000 || l.MessageSize != 10<<20 || l.Idle != 5*time.Minute {
		t.Errorf("WithDefaults = %+v", l)
	}
	if l := (Limits{CommandLine: 20000}).WithDefaults(); l.AuthLine < l.CommandLine {
		t.Errorf("AuthLine %d below CommandLine %d", l.AuthLine, l.CommandLine)
	}
}

// TestWorkAfterTheReply: the queue's work left for after the 250 (writing
// the Maildir copies) runs before the next command is read for a small
// message; for a large one it overlaps the next MAIL and RCPT, but nothing
// else is answered, and no other message committed, until it is done.
func TestWorkAfterTheReply(t *testing.T) {
	var mu sync.Mutex
	var finished []string
	gates := map[string]chan struct{}{"Q1": make(chan struct{}), "Q2": make(chan struct{}), "Q3": make(chan struct{})}
	env := startServer(t, func(c *Config) {
		c.Queue.(*fakeQueue).finish = func(id string) func() {
			return func() {
				if g, ok := gates[id]; ok {
					<-g // these copies take their time
				}
				mu.Lock()
				finished = append(finished, id)
				mu.Unlock()
			}
		}
	})
	var opened sync.Map
	release := func(id string) {
		if _, was := opened.LoadOrStore(id, true); !was {
			close(gates[id])
		}
	}
	t.Cleanup(func() { // before the server's shutdown, which waits for them
		for id := range gates {
			release(id)
		}
	})
	done := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(finished, ",")
	}
	c := connect(t, env.addr)
	// silent checks that the server sends nothing for a while.
	silent := func(what string) {
		t.Helper()
		c.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if line, err := c.r.ReadString('\n'); err == nil {
			t.Fatalf("%s: got %q", what, line)
		}
		c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	}
	c.do("EHLO client.test", 250)
	message := func(text string) {
		c.do("DATA", 354)
		c.raw(text + ".\r\n")
	}
	small, large := "Subject: small\r\n\r\nsmall\r\n", bigBody("large")
	if len(large) < backgroundFinishAt {
		t.Fatalf("bigBody is %d octets, under backgroundFinishAt (%d)", len(large), backgroundFinishAt)
	}

	// A small message: its copies are written before the next command is
	// even read.
	c.do("MAIL FROM:<alice@example.com>", 250)
	c.do("RCPT TO:<bob@mailx.test>", 250)
	message(small)
	c.expect(250)
	c.cmd("MAIL FROM:<alice@example.com>")
	silent("MAIL answered while a small message's copies were still being written")
	release("Q1")
	c.expect(250)
	c.do("RSET", 250)

	// A large one: the next MAIL and RCPT are answered meanwhile, a NOOP
	// is not.
	c.do("MAIL FROM:<alice@example.com>", 250)
	c.do("RCPT TO:<bob@mailx.test>", 250)
	message(large)
	c.expect(250)
	c.do("MAIL FROM:<alice@example.com>", 250)
	c.do("RCPT TO:<bob@mailx.test>", 250)
	c.cmd("NOOP")
	silent("NOOP answered while a large message's copies were still being written")
	release("Q2")
	c.expect(250)
	if got := done(); got != "Q1,Q2" {
		t.Fatalf("after the NOOP, finished %q, want Q1,Q2", got)
	}

	// Another large one, then a small one: the small one is not committed
	// before the large one's copies are written.
	message(large)
	c.expect(250)
	c.do("MAIL FROM:<alice@example.com>", 250)
	c.do("RCPT TO:<bob@mailx.test>", 250)
	message(small)
	silent("a message committed while the one before it was still being written")
	release("Q3")
	c.expect(250)
	c.do("QUIT", 221)
	if got := done(); got != "Q1,Q2,Q3,Q4" {
		t.Errorf("finished %q, want Q1,Q2,Q3,Q4 (in order)", got)
	}
}

// TestPanicInWorkAfterTheReply: a panic in a large message's background work
// is logged; the server and the session carry on.
func TestPanicInWorkAfterTheReply(t *testing.T) {
	env := startServer(t, func(c *Config) {
		c.Queue.(*fakeQueue).finish = func(id string) func() {
			return func() { panic("copies: " + id) }
		}
	})
	c := connect(t, env.addr)
	c.do("EHLO client.test", 250)
	c.do("MAIL FROM:<alice@example.com>", 250)
	c.do("RCPT TO:<bob@mailx.test>", 250)
	c.do("DATA", 354)
	c.raw(bigBody("big") + ".\r\n")
	c.expect(250)
	c.do("NOOP", 250)
	c.do("QUIT", 221)
	connect(t, env.addr).do("QUIT", 221)
}
