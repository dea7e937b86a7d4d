package smtp

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	smtp "github.com/mailx-edu/mailx/proto/smtp"
)

func TestXCLIENTFromLoopback(t *testing.T) {
	env := startServer(t, nil)
	c := connect(t, env.addr)
	c.cmd("EHLO me")
	if r := c.expect(250); !strings.Contains(strings.Join(r.Lines, "\n"), "XCLIENT ADDR NAME") {
		t.Errorf("EHLO to a loopback client lacks XCLIENT: %v", r.Lines)
	}
	c.cmd("MAIL FROM:<a@b.test>")
	c.expect(250)
	c.cmd("XCLIENT ADDR=203.0.113.66")
	c.expectEnh(503, "5.5.1") // not inside a transaction
	c.cmd("RSET")
	c.expect(250)
	c.cmd("XCLIENT LOGIN=alice")
	c.expectEnh(501, "5.5.4")
	c.cmd("XCLIENT ADDR=not-an-address")
	c.expectEnh(501, "5.5.4")
	c.cmd("XCLIENT ADDR=203.0.113.66 NAME=mx.spammer.test")
	c.expect(220)
	c.cmd("MAIL FROM:<a@b.test>") // the session started over: EHLO first
	c.expectEnh(503, "5.5.1")
	c.cmd("EHLO mx.spammer.test")
	c.expect(250)
	// Relaying is judged on the announced address: still refused.
	c.cmd("MAIL FROM:<a@b.test>")
	c.expect(250)
	c.cmd("RCPT TO:<someone@elsewhere.test>")
	c.expectEnh(554, "5.7.1")
	c.cmd("RCPT TO:<alice@mailx.test>")
	c.expect(250)
	c.cmd("DATA")
	c.expect(354)
	c.raw("Subject: hi\r\n\r\nhello\r\n.\r\n")
	c.expect(250)
	msgs := env.q.messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Data, "from mx.spammer.test ([203.0.113.66])") {
		t.Errorf("Received: does not name the announced client: %q", msgs[0].Data)
	}
	if !env.hasMeta("now counts as coming from 203.0.113.66 (mx.spammer.test)") {
		t.Error("the trace does not explain XCLIENT")
	}
}

func TestXCLIENTRefusedFromOtherNetworks(t *testing.T) {
	env := startServer(t, nil, "198.51.100.9")
	c := connect(t, env.addr)
	c.cmd("EHLO me")
	if r := c.expect(250); strings.Contains(strings.Join(r.Lines, "\n"), "XCLIENT") {
		t.Errorf("XCLIENT offered to 198.51.100.9: %v", r.Lines)
	}
	c.cmd("XCLIENT ADDR=192.0.2.1")
	c.expectEnh(550, "5.7.0")

	trusted := startServer(t, func(c *Config) { c.XClientNets = []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")} }, "198.51.100.9")
	c = connect(t, trusted.addr)
	c.cmd("EHLO me")
	c.expect(250)
	c.cmd("XCLIENT ADDR=192.0.2.1")
	c.expect(220)
}

// stubChecker refuses one client at RCPT and rewrites messages.
type stubChecker struct{ seen *Incoming }

func (s *stubChecker) Client(ctx context.Context, c ClientInfo, from, to string) (*smtp.Reply, []string) {
	if c.Addr == netip.MustParseAddr("203.0.113.66") {
		r := smtp.NewReply(554, "5.7.1", "Service unavailable; Client host [203.0.113.66] blocked using bl.test")
		return &r, []string{"listed"}
	}
	return nil, nil
}

func (s *stubChecker) Message(ctx context.Context, m *Incoming) Verdict {
	s.seen = m
	if strings.Contains(string(m.Text), "REFUSE") {
		r := smtp.NewReply(550, "5.7.1", "message refused as spam")
		return Verdict{Reject: &r}
	}
	return Verdict{Text: append([]byte("X-Checked: yes\r\n"), m.Text...), Folders: map[string]string{m.To[0]: "Junk"}}
}

func TestCheckerHooks(t *testing.T) {
	ck := &stubChecker{}
	env := startServer(t, func(c *Config) { c.Checker = ck })
	c := connect(t, env.addr)
	c.cmd("EHLO me")
	c.expect(250)
	c.cmd("MAIL FROM:<a@b.test>")
	c.expect(250)
	c.cmd("RCPT TO:<alice@mailx.test>")
	c.expect(250)
	c.cmd("DATA")
	c.expect(354)
	c.raw("Subject: REFUSE me\r\n\r\nspam\r\n.\r\n")
	c.expectEnh(550, "5.7.1")
	c.cmd("MAIL FROM:<a@b.test>")
	c.expect(250)
	c.cmd("RCPT TO:<alice@mailx.test>")
	c.expect(250)
	c.cmd("DATA")
	c.expect(354)
	c.raw("Subject: fine\r\n\r\nhello\r\n.\r\n")
	c.expect(250)
	msgs := env.q.messages()
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0].Data, "X-Checked: yes\r\nReceived: ") || msgs[0].Env.Folders["alice@mailx.test"] != "Junk" {
		t.Fatalf("queued %d messages; first %q, folders %v", len(msgs), msgs[0].Data, msgs[0].Env.Folders)
	}
	if ck.seen == nil || !strings.Contains(string(ck.seen.Text), "Subject: fine") {
		t.Error("the checker did not see the message")
	}
	c.cmd("XCLIENT ADDR=203.0.113.66")
	c.expect(220)
	c.cmd("EHLO spammer")
	c.expect(250)
	c.cmd("MAIL FROM:<a@b.test>")
	c.expect(250)
	c.cmd("RCPT TO:<alice@mailx.test>")
	if r := c.expectEnh(554, "5.7.1"); !strings.Contains(r.Lines[0], "blocked using bl.test") {
		t.Errorf("RCPT from a listed client = %v", r)
	}
}
