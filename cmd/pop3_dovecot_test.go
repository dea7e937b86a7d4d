//go:build unix

package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	dovecotpkg "github.com/mailx-edu/mailx/server/servertest/dovecot"
)

// seedMessages are the two messages of the course's POP3 session; the first
// has a line starting with "." so the server must byte-stuff it.
var seedMessages = []string{
	"From: bob@hamburger.test\r\nTo: alice@crepes.test\r\nSubject: lunch\r\n\r\nCrepes at noon?\r\n.dot line\r\n",
	"From: carol@hamburger.test\r\nTo: alice@crepes.test\r\nSubject: second\r\n\r\nHello again.\r\n",
}

// dovecot is a throwaway Dovecot serving POP3 and IMAP, whose one user
// alice (password hungry) has the seed messages in her Maildir.
type dovecot struct{ *dovecotpkg.Dovecot }

// startDovecot starts Dovecot with the seed messages, or skips the test
// when it is not installed.
func startDovecot(t *testing.T) dovecot {
	t.Helper()
	maildir := filepath.Join(t.TempDir(), "alice", "Maildir")
	if err := os.MkdirAll(filepath.Join(maildir, "new"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i, m := range seedMessages {
		name := fmt.Sprintf("17000000%02d.M%dP1.mailx-test", i+1, i+1)
		if err := os.WriteFile(filepath.Join(maildir, "new", name), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dovecot{dovecotpkg.Start(t, dovecotpkg.Options{Maildir: maildir, POP3: true})}
}

// messages counts the messages in the Maildir.
func (d dovecot) messages(t *testing.T) int {
	t.Helper()
	n := 0
	for _, sub := range []string{"new", "cur"} {
		es, err := os.ReadDir(filepath.Join(d.Maildir, sub))
		if err != nil {
			t.Fatal(err)
		}
		n += len(es)
	}
	return n
}

func TestPOP3TalkSeedSessionAgainstDovecot(t *testing.T) {
	d := startDovecot(t)
	rec := filepath.Join(t.TempDir(), "seed.txt")
	script := "user alice\npass hungry\nlist\nretr 1\ndele 1\nretr 2\ndele 2\nquit\n"
	out, errOut, code := runBinary(t, script, "pop3", "talk", d.POP3, "--record", rec)
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s\nstdout:\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"C: user alice", "S: +OK Logged in.", "Logged in: TRANSACTION state",
		"S: 1 " + strconv.Itoa(len(seedMessages[0])), "S: 2 " + strconv.Itoa(len(seedMessages[1])),
		"S: ..dot line", `byte-stuffed: the message line is ".dot line"`,
		"Message 1 is only marked as deleted", "UPDATE state: the server has now removed the messages",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := d.messages(t); n != 0 {
		t.Errorf("after QUIT the Maildir holds %d messages, want 0", n)
	}

	// The recording replays with the same explanations, offline.
	replay, errOut, code := runBinary(t, "", "pop3", "replay", rec)
	if code != 0 || !strings.Contains(replay, "UPDATE state: the server has now removed") || !strings.Contains(replay, "S: ..dot line") {
		t.Errorf("replay exit %d, stderr %s\n%s", code, errOut, replay)
	}
}

func TestPOP3DroppedBeforeQuitDeletesNothingOnDovecot(t *testing.T) {
	d := startDovecot(t)
	out, errOut, code := runBinary(t, "user alice\npass hungry\ndele 1\ndele 2\n", "pop3", "talk", d.POP3)
	if code != 1 || !strings.Contains(errOut, "the input ended before QUIT") {
		t.Errorf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	if n := d.messages(t); n != 2 {
		t.Errorf("without QUIT the Maildir holds %d messages, want both", n)
	}
}

func TestIMAPTalkAgainstDovecot(t *testing.T) {
	d := startDovecot(t)
	script := "CAPABILITY\nLOGIN alice hungry\nSELECT INBOX\nFETCH 1 (FLAGS BODY.PEEK[])\nSEARCH ALL\nAPPEND INBOX {21}\nSubject: x\n\nhello\n\nLOGOUT\n"
	out, errOut, code := runBinary(t, script, "imap", "talk", d.IMAP)
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s\nstdout:\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"C: a002 LOGIN alice hungry", "logged in: Authenticated state",
		"S: * 2 EXISTS", "[UIDVALIDITY]", "the mailbox is open: Selected state",
		"BODY[] {" + strconv.Itoa(len(seedMessages[0])) + "}", "S: Crepes at noon?",
		"* SEARCH: 2 message(s) match", "S: * BYE",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Dovecot offers LITERAL+, so the APPEND went without waiting.
	if !strings.Contains(out, "C: a006 APPEND INBOX {21+}") || !strings.Contains(out, "Append completed") {
		t.Errorf("APPEND with LITERAL+ did not complete:\n%s", out)
	}
	if n := d.messages(t); n != 3 {
		t.Errorf("after APPEND the Maildir holds %d messages, want 3", n)
	}
}
