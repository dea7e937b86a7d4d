package smtp

import (
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
)

// bigBody is a message text larger than the large DATA buffer, so a
// session reads it through that buffer and refills it several times.
func bigBody(tag string) string {
	return "Subject: " + tag + "\r\n\r\n" + strings.Repeat(tag+" line of the body, well under 1000 octets\r\n", 4000)
}

// TestBulkDataThenPipelinedCommands: commands pipelined right after the end
// of a large message sit in the large DATA buffer; the session must read
// them from there before going back to its own buffer, and store both
// messages whole.
func TestBulkDataThenPipelinedCommands(t *testing.T) {
	env := startServer(t, nil)
	c := connect(t, env.addr)
	c.do("EHLO client.test", 250)
	c.do("MAIL FROM:<a@example.com>", 250)
	c.do("RCPT TO:<bob@mailx.test>", 250)
	c.do("DATA", 354)
	c.raw(bigBody("first") + ".\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<bob@mailx.test>\r\nDATA\r\n")
	for _, code := range []int{250, 250, 250, 354} {
		c.expect(code)
	}
	c.raw(bigBody("second") + ".\r\nQUIT\r\n")
	c.expect(250)
	c.expect(221)
	msgs := env.q.messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages stored, want 2", len(msgs))
	}
	for i, tag := range []string{"first", "second"} {
		if !strings.HasSuffix(msgs[i].Data, strings.TrimPrefix(bigBody(tag), "Subject: "+tag+"\r\n")) || !strings.Contains(msgs[i].Data, "Subject: "+tag+"\r\n") {
			t.Errorf("message %d (%s) damaged: %d octets", i, tag, len(msgs[i].Data))
		}
	}
	// The session gives its large buffer back as it ends, just after the 221.
	testkit.Eventually(t, 30*time.Second, func() bool { return bulkInUse.Load() == 0 },
		"large buffers still in use after the session")
}

// TestBulkDataThenSTARTTLSInjection: a STARTTLS pipelined after a large
// message, with a command injected behind it, still has that command
// discarded (CVE-2011-0411), wherever the buffered octets sit.
func TestBulkDataThenSTARTTLSInjection(t *testing.T) {
	env := startServer(t, nil)
	c := connect(t, env.addr)
	c.do("EHLO client.test", 250)
	c.do("MAIL FROM:<a@example.com>", 250)
	c.do("RCPT TO:<bob@mailx.test>", 250)
	c.do("DATA", 354)
	c.raw(bigBody("first") + ".\r\nSTARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n")
	c.expect(250)
	c.expect(220)
	c.startTLS()
	c.do("MAIL FROM:<alice@example.com>", 503)
	if !env.hasMeta("discarded 32 octets sent after STARTTLS") {
		t.Errorf("trace lacks the discard: %v", env.trace())
	}
}
