package servertest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/accounts"
	"github.com/mailx-edu/mailx/server/maildir"
	"github.com/mailx-edu/mailx/server/servertest"
)

// TestStartDeliversAndStops starts a server with one user, delivers a
// message over SMTP and finds it in the Maildir and the trace; after the
// test's cleanup the port no longer answers.
func TestStartDeliversAndStops(t *testing.T) {
	var smtpAddr string
	t.Run("serve", func(t *testing.T) {
		ev := servertest.NewEvents()
		m := servertest.Start(t, servertest.Options{Services: []string{servertest.SMTP, servertest.IMAP},
			Users: []accounts.Credential{{Name: "carol", Password: "chalk"}}, Events: ev})
		smtpAddr = m.Addr(servertest.SMTP)
		if m.Addr(servertest.POP3) != "" || m.Addr(servertest.Submission) != "" || m.Addr(servertest.IMAP) == "" {
			t.Fatalf("services: %v", m.Addrs())
		}
		if !strings.HasPrefix(smtpAddr, "127.0.0.1:") {
			t.Fatalf("smtp at %q", smtpAddr)
		}
		c := testkit.Dial(t, smtpAddr)
		for _, step := range [][2]string{
			{"", "220"}, {"EHLO sender.test", "250"}, {"MAIL FROM:<a@sender.test>", "250"},
			{"RCPT TO:<carol@mailx.test>", "250"}, {"DATA", "354"}, {"Subject: hi\r\n\r\nhello\r\n.", "250"},
			{"QUIT", "221"},
		} {
			c.Exchange(step[0], step[1])
		}
		ev.WaitMeta(t, "", "carol")
		dir := filepath.Join(m.MailRoot("carol"), maildir.New)
		testkit.Eventually(t, 15*time.Second, func() bool {
			es, _ := os.ReadDir(dir)
			return len(es) == 1
		}, "no message in %s", dir)
		if !strings.HasPrefix(dir, m.Data) {
			t.Errorf("Maildir %s outside the data directory %s", dir, m.Data)
		}
	})
	c := testkit.Dial(&failRecorder{TB: t}, smtpAddr)
	if c != nil {
		t.Errorf("%s still accepts connections after the test ended", smtpAddr)
	}
}

// TestEventsWaitFails checks the recorder fails a test when the event never
// comes.
func TestEventsWaitFails(t *testing.T) {
	ev := servertest.NewEvents()
	ev.Hook(transcript.Event{Session: "s1", Dir: transcript.Meta, Line: "delivered to alice"})
	if got := ev.WaitMeta(t, "s1", "alice"); got.Line != "delivered to alice" {
		t.Errorf("WaitMeta = %+v", got)
	}
	r := &failRecorder{TB: t}
	ev.Wait(r, 50*time.Millisecond, "for bob", func(e transcript.Event) bool { return strings.Contains(e.Line, "bob") })
	if !r.failed || !strings.Contains(r.msg, "delivered to alice") || !strings.Contains(r.msg, "for bob") {
		t.Errorf("Wait for a missing event: failed=%v msg=%q", r.failed, r.msg)
	}
}

type failRecorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *failRecorder) Helper() {}
func (r *failRecorder) Fatalf(f string, a ...any) {
	r.failed = true
	r.msg = fmt.Sprintf(f, a...)
}
func (r *failRecorder) Cleanup(func()) {}
