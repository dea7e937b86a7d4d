package server

import (
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/server/maildir"
)

// waitFiles waits until dir (a Maildir folder's new/) holds n messages.
func waitFiles(t *testing.T, dir string, n int) []string {
	t.Helper()
	var es []os.DirEntry
	testkit.Eventually(t, 30*time.Second, func() bool {
		es, _ = os.ReadDir(dir)
		return len(es) >= n
	}, "%s holds %d messages, want %d", dir, testkit.Later(func() any { return len(es) }), n)
	var out []string
	for _, e := range es {
		out = append(out, filepath.Join(dir, e.Name()))
	}
	return out
}

func TestLabAuthenticationPasses(t *testing.T) {
	l, _ := startLab(t, Config{}, "")
	crepes, ham := l.MTA("crepes.test"), l.MTA("hamburger.test")
	msg := "From: Alice <alice@crepes.test>\r\nTo: Bob <bob@hamburger.test>\r\nSubject: crepes tonight?\r\n\r\nBob, crepes at eight?\r\n"
	submit(t, crepes.Addr("submission"), "alice", "hungry", "alice@crepes.test", []string{"bob@hamburger.test"}, msg)
	files := waitFiles(t, filepath.Join(ham.MailRoot("bob"), maildir.New), 1)
	b, _ := os.ReadFile(files[0])
	text := string(b)
	for _, want := range []string{"Authentication-Results: mx.hamburger.test;", "spf=pass", "smtp.mailfrom=alice@crepes.test",
		"dkim=pass", "header.d=crepes.test header.s=ed2026", "header.s=rsa2026", "dmarc=pass", "X-Spam-Status: No,", "[192.0.2.10]"} {
		if !strings.Contains(text, want) {
			t.Errorf("delivered message lacks %q:\n%s", want, text)
		}
	}
}

func TestLabSpoofGoesToJunkAndListedIsRefused(t *testing.T) {
	l, ev := startLab(t, Config{}, "")
	ham := l.MTA("hamburger.test")
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(ev.text())
		}
	})
	// A forger at the spammer's address claims to be alice.
	c, err := smtp.Dial(ham.Addr("smtp"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("XCLIENT"); !ok {
		t.Fatal("XCLIENT is not offered to a loopback client")
	}
	id, _, err := textCmd(c, 220, "XCLIENT ADDR=203.0.113.77 NAME=mx.forger.test")
	if err != nil {
		t.Fatalf("XCLIENT: %v (%d)", err, id)
	}
	if _, _, err := textCmd(c, 250, "EHLO mx.forger.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("alice@crepes.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("bob@hamburger.test"); err != nil {
		t.Fatal(err)
	}
	w, _ := c.Data()
	w.Write([]byte("Authentication-Results: mx.hamburger.test; spf=pass; dkim=pass; dmarc=pass\r\nX-Spam-Status: No, score=-5.0\r\n" +
		"From: Alice <alice@crepes.test>\r\nTo: bob@hamburger.test\r\nSubject: please send the exam answers\r\nMessage-ID: <x@forger.test>\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\n\r\nBob, send me the answers.\r\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files := waitFiles(t, filepath.Join(ham.MailRoot("bob"), ".Junk", maildir.New), 1)
	b, _ := os.ReadFile(files[0])
	for _, want := range []string{"spf=fail", "dmarc=fail", "X-Spam-Status: Yes", "SPF_FAIL", "DMARC_FAIL", "203.0.113.77"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("junked message lacks %q:\n%s", want, b)
		}
	}
	for _, forged := range []string{"spf=pass", "X-Spam-Status: No"} {
		if strings.Contains(string(b), forged) {
			t.Errorf("the forger's %q survived:\n%s", forged, b)
		}
	}
	// Listed: 554 at RCPT with Postfix's wording.
	if err := l.DNS.List(LabBlocklist, LabSpammer, "open relay abused"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := textCmd(c, 250, "RSET"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := textCmd(c, 220, "XCLIENT ADDR=203.0.113.66"); err != nil {
		t.Fatal(err)
	}
	textCmd(c, 250, "EHLO mx.spammer.test")
	c.Mail("x@spammer.test")
	err = c.Rcpt("bob@hamburger.test")
	if err == nil || !strings.Contains(err.Error(), "554 Service unavailable; Client host [203.0.113.66] blocked using bl.lab.test; open relay abused") &&
		!strings.Contains(err.Error(), "5.7.1 Service unavailable; Client host [203.0.113.66] blocked using bl.lab.test; open relay abused") {
		t.Errorf("RCPT from a listed client = %v, want 554 5.7.1 ... blocked using bl.lab.test", err)
	}
}

func textCmd(c *smtp.Client, code int, line string) (int, string, error) {
	id, err := c.Text.Cmd("%s", line)
	if err != nil {
		return 0, "", err
	}
	c.Text.StartResponse(id)
	defer c.Text.EndResponse(id)
	return c.Text.ReadResponse(code)
}

// A student typing SMTP at the lab from this machine is trusted like
// Postfix's mynetworks: the verdicts are recorded, nothing is enforced.
func TestLabLoopbackClientIsTrusted(t *testing.T) {
	l, _ := startLab(t, Config{}, "")
	ham := l.MTA("hamburger.test")
	c, err := smtp.Dial(ham.Addr("smtp"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Hello("laptop")
	if err := c.Mail("alice@crepes.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("bob@hamburger.test"); err != nil {
		t.Fatal(err)
	}
	w, _ := c.Data()
	w.Write([]byte("From: alice@crepes.test\r\nSubject: typed by hand\r\n\r\nhi\r\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b := waitFileWith(t, filepath.Join(ham.MailRoot("bob"), maildir.New), "typed by hand")
	for _, want := range []string{"spf=fail", "dmarc=fail", "LOCAL_CLIENT", "X-Spam-Status: No"} {
		if !strings.Contains(b, want) {
			t.Errorf("message from a loopback client lacks %q:\n%s", want, b)
		}
	}
}
