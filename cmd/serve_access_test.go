package cmd

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/server/servertest"
)

// startAccessServe runs mailx serve's MTA in the test process on loopback
// port 0 and delivers the two messages of the seeds' POP3 session to alice.
func startAccessServe(t *testing.T) (*servertest.MTA, string) {
	t.Helper()
	m := servertest.Start(t, servertest.Options{Services: []string{servertest.SMTP, servertest.POP3}})
	data := m.Data
	c := testkit.Dial(t, m.Addr("smtp"))
	defer c.Conn.Close()
	c.Exchange("", "220")
	for _, s := range [][2]string{{"EHLO client.test", "250"}, {"MAIL FROM:<bob@example.com>", "250"}, {"RCPT TO:<alice@mailx.test>", "250"},
		{"DATA", "354"}, {"Subject: lunch\r\n\r\nAre you hungry?\r\n.", "250"},
		{"MAIL FROM:<bob@example.com>", "250"}, {"RCPT TO:<alice@mailx.test>", "250"},
		{"DATA", "354"}, {"Subject: dinner\r\n\r\n..Still hungry? (SMTP stuffs this dot too)\r\n.", "250"}, {"QUIT", "221"}} {
		c.Exchange(s[0], s[1])
	}
	root := filepath.Join(data, "mail", "alice")
	testkit.Eventually(t, 30*time.Second, func() bool { return len(maildirFiles(root)) >= 2 },
		"the two messages did not reach alice's Maildir")
	return m, root
}

func maildirFiles(root string) []string {
	a, _ := filepath.Glob(filepath.Join(root, "new", "*"))
	b, _ := filepath.Glob(filepath.Join(root, "cur", "*"))
	return append(a, b...)
}

func runTalk(t *testing.T, addr, script string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, buildBinary(t), "pop3", "talk", addr, "--no-color")
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestSeedPOP3SessionAgainstServe runs the course notes' session with
// `mailx pop3 talk` in scripted mode against `mailx serve`: afterwards the
// mailbox is empty.
func TestSeedPOP3SessionAgainstServe(t *testing.T) {
	m, root := startAccessServe(t)
	out, err := runTalk(t, m.Addr("pop3"), "user alice\npass hungry\nlist\nretr 1\ndele 1\nretr 2\ndele 2\nquit\n")
	if err != nil {
		t.Fatalf("mailx pop3 talk: %v\n%s", err, out)
	}
	for _, want := range []string{"S: +OK alice's maildrop has 2 messages", "S: ..Still hungry?", "S: +OK mailx POP3 server signing off (0 messages left)"} {
		if !strings.Contains(out, want) {
			t.Errorf("session output lacks %q:\n%s", want, out)
		}
	}
	if files := maildirFiles(root); len(files) != 0 {
		t.Errorf("after QUIT alice's Maildir still holds %v", files)
	}
}

// TestDroppedPOP3SessionKeepsMail: the same session without QUIT (the
// input ends, the connection drops) deletes nothing.
func TestDroppedPOP3SessionKeepsMail(t *testing.T) {
	m, root := startAccessServe(t)
	out, err := runTalk(t, m.Addr("pop3"), "user alice\npass hungry\nlist\nretr 1\ndele 1\nretr 2\ndele 2\n")
	if err == nil {
		t.Errorf("mailx pop3 talk exited 0 although the input ended before QUIT:\n%s", out)
	}
	// The server notices the drop and releases the maildrop; mail stays.
	testkit.Eventually(t, 30*time.Second, func() bool {
		out, err = runTalk(t, m.Addr("pop3"), "user alice\npass hungry\nstat\nquit\n")
		return err == nil && strings.Contains(out, "S: +OK 2 ")
	}, "after a dropped session: %v\n%s", testkit.Later(func() any { return err }), testkit.Later(func() any { return out }))
	if files := maildirFiles(root); len(files) != 2 {
		t.Errorf("after a dropped session alice's Maildir holds %d messages, want 2", len(files))
	}
}
