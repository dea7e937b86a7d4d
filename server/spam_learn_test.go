package server

import (
	"bufio"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/server/accounts"
	"github.com/mailx-edu/mailx/server/maildir"
)

// sendAs delivers msg to hamburger.test's SMTP port as a client announced
// with XCLIENT at addr.
func sendAs(t *testing.T, smtpAddr, addr, from, to, msg string) {
	t.Helper()
	c, err := smtp.Dial(smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := textCmd(c, 220, "XCLIENT ADDR="+addr); err != nil {
		t.Fatal(err)
	}
	if _, _, err := textCmd(c, 250, "EHLO mail.example.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail(from); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(to); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, msg)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.Quit()
}

func spamLike(i int) string {
	return fmt.Sprintf("From: Prize Office <claims@prize-office.test>\r\nTo: bob@hamburger.test\r\nSubject: You have WON a prize %d!!!\r\n"+
		"Message-ID: <p%d@prize-office.test>\r\nDate: %s\r\n\r\n"+
		"Congratulations!!! You have won a cash prize. Claim your prize now:\r\n"+
		"send your bank account details and a processing fee today. Act now,\r\n"+
		"this offer expires in 24 hours. http://prize-office.test/claim\r\n", i, i, time.Now().Format(time.RFC1123Z))
}

// imapSession is a raw IMAP conversation for the test.
type imapSession struct {
	t   *testing.T
	c   net.Conn
	r   *bufio.Reader
	tag int
}

func (s *imapSession) cmd(line string) string {
	s.t.Helper()
	s.tag++
	tag := fmt.Sprintf("a%d", s.tag)
	fmt.Fprintf(s.c, "%s %s\r\n", tag, line)
	var out strings.Builder
	s.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		l, err := s.r.ReadString('\n')
		if err != nil {
			s.t.Fatalf("IMAP %s: %v (so far %q)", line, err, out.String())
		}
		out.WriteString(l)
		if strings.HasPrefix(l, tag+" ") {
			if !strings.HasPrefix(l, tag+" OK") {
				s.t.Fatalf("IMAP %s: %s", line, l)
			}
			return out.String()
		}
	}
}

func TestMovingIntoJunkTeachesTheFilter(t *testing.T) {
	ev := newEvents()
	cfg := LabConfig{
		Data: t.TempDir(), DNSAddr: "127.0.0.1:0",
		Base: Config{Trace: ev.hook, Limits: smtpLimitsForTests, NoTranscripts: true},
		Domains: []LabDomain{
			{Domain: "crepes.test", Users: []accounts.Credential{{Name: "alice", Password: "hungry"}}, SMTPAddr: "127.0.0.1:0"},
			{Domain: "hamburger.test", Users: []accounts.Credential{{Name: "bob", Password: "burger"}}, SMTPAddr: "127.0.0.1:0", IMAPAddr: "127.0.0.1:0"},
		},
	}
	l := runLab(t, cfg)
	ham := l.MTA("hamburger.test")
	inbox := filepath.Join(ham.MailRoot("bob"), maildir.New)
	junk := filepath.Join(ham.MailRoot("bob"), ".Junk", maildir.New)

	// Five prize mails from a domain with no SPF, DKIM or DMARC: nothing
	// marks them, so they land in the INBOX.
	for i := 1; i <= 5; i++ {
		sendAs(t, ham.Addr("smtp"), "198.51.100.99", "claims@prize-office.test", "bob@hamburger.test", spamLike(i))
	}
	waitFiles(t, inbox, 5)

	// Bob moves them into Junk over IMAP.
	conn, err := net.Dial("tcp", ham.Addr("imap"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s := &imapSession{t: t, c: conn, r: bufio.NewReader(conn)}
	s.r.ReadString('\n')
	s.cmd("LOGIN bob burger")
	s.cmd("SELECT INBOX")
	s.cmd("MOVE 1:5 Junk")
	s.cmd("LOGOUT")

	// The next one goes to Junk, on the filter's word.
	sendAs(t, ham.Addr("smtp"), "198.51.100.99", "claims@prize-office.test", "bob@hamburger.test", spamLike(6))
	b := waitFileWith(t, junk, "prize 6!!!")
	if !strings.Contains(b, "BAYES_99") || !strings.Contains(b, "X-Spam-Status: Yes") {
		t.Errorf("the sixth message went to Junk without BAYES_99:\n%s", b)
	}
	// An ordinary message still reaches the INBOX.
	sendAs(t, ham.Addr("smtp"), "198.51.100.99", "carol@example.test", "bob@hamburger.test",
		"From: carol@example.test\r\nTo: bob@hamburger.test\r\nSubject: Lab notes\r\nMessage-ID: <n1@example.test>\r\nDate: "+time.Now().Format(time.RFC1123Z)+"\r\n\r\nHi Bob, the notes from the lab are in the shared folder. See you at the seminar.\r\n")
	waitFileWith(t, inbox, "Subject: Lab notes")
}

// waitFileWith waits until a file in dir contains s, and returns its text.
func waitFileWith(t *testing.T, dir, s string) string {
	t.Helper()
	var text string
	testkit.Eventually(t, 30*time.Second, func() bool {
		es, _ := os.ReadDir(dir)
		for _, e := range es {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			if strings.Contains(string(b), s) {
				text = string(b)
				return true
			}
		}
		return false
	}, "no message in %s contains %q", dir, s)
	return text
}
