//go:build unix

package cmd

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dovecot is a throwaway Dovecot instance started by a test: POP3 and IMAP on
// free loopback ports, one user alice (password hungry) with a Maildir.
type dovecot struct {
	pop3, imap int
	maildir    string // alice's Maildir
	log        string
}

// seedMessages are the two messages of the course's POP3 session; the first
// has a line starting with "." so the server must byte-stuff it.
var seedMessages = []string{
	"From: bob@hamburger.test\r\nTo: alice@crepes.test\r\nSubject: lunch\r\n\r\nCrepes at noon?\r\n.dot line\r\n",
	"From: carol@hamburger.test\r\nTo: alice@crepes.test\r\nSubject: second\r\n\r\nHello again.\r\n",
}

func dovecotPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startDovecot starts Dovecot as `dovecot -F -c CONF` with everything in
// t.TempDir(), or skips the test when Dovecot is not installed.
func startDovecot(t *testing.T) *dovecot {
	t.Helper()
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/dovecot"); serr != nil {
			t.Skip("dovecot is not installed (Debian packages dovecot-pop3d and dovecot-imapd)")
		}
		bin = "/usr/sbin/dovecot"
	}
	dir := t.TempDir()
	d := &dovecot{pop3: dovecotPort(t), imap: dovecotPort(t), maildir: filepath.Join(dir, "alice", "Maildir"), log: filepath.Join(dir, "dovecot.log")}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(d.maildir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range seedMessages {
		name := fmt.Sprintf("17000000%02d.M%dP1.mailx-test", i+1, i+1)
		if err := os.WriteFile(filepath.Join(d.maildir, "new", name), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Dovecot will not run mail processes as root: as root, mail belongs to
	// nobody and Dovecot's own users run the login and internal processes;
	// as anyone else, everything runs as that user.
	uid, gid := os.Getuid(), os.Getgid()
	internal, login := "", ""
	if uid == 0 {
		nobody, err := user.Lookup("nobody")
		if err != nil {
			t.Skip("running as root needs the user nobody for Dovecot's mail processes")
		}
		uid, _ = strconv.Atoi(nobody.Uid)
		gid, _ = strconv.Atoi(nobody.Gid)
		internal, login = "dovecot", "dovenull"
		for _, p := range []string{filepath.Dir(dir), dir} {
			os.Chmod(p, 0o755)
		}
		filepath.Walk(filepath.Join(dir, "alice"), func(p string, _ os.FileInfo, _ error) error { return os.Chown(p, uid, gid) })
	} else {
		me, err := user.Current()
		if err != nil {
			t.Skip("cannot tell the current user for Dovecot's settings")
		}
		internal, login = me.Username, me.Username
	}
	passwd := filepath.Join(dir, "passwd")
	os.WriteFile(passwd, []byte(fmt.Sprintf("alice:{PLAIN}hungry:%d:%d::%s\n", uid, gid, filepath.Join(dir, "alice"))), 0o644)
	conf := filepath.Join(dir, "dovecot.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`protocols = pop3 imap
listen = 127.0.0.1
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[2]s
info_log_path = %[2]s
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = %[3]s
default_login_user = %[4]s
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = %[5]s
}
userdb {
  driver = passwd-file
  args = %[5]s
}
service pop3-login {
  inet_listener pop3 {
    port = %[6]d
  }
}
service imap-login {
  inet_listener imap {
    port = %[7]d
  }
}
`, dir, d.log, internal, login, passwd, d.pop3, d.imap)), 0o644)
	os.MkdirAll(filepath.Join(dir, "state"), 0o755)

	cmd := exec.Command(bin, "-F", "-c", conf)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dovecot: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	// Dovecot has no readiness signal: wait until both ports accept.
	deadline := time.Now().Add(15 * time.Second)
	for _, port := range []int{d.pop3, d.imap} {
		for {
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-exited:
				log, _ := os.ReadFile(d.log)
				t.Fatalf("dovecot exited: %s\n%s", stderr.String(), log)
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("dovecot did not listen on port %d within 15 s: %s", port, stderr.String())
			}
		}
	}
	return d
}

// messages counts the messages in the Maildir.
func (d *dovecot) messages(t *testing.T) int {
	t.Helper()
	n := 0
	for _, sub := range []string{"new", "cur"} {
		es, err := os.ReadDir(filepath.Join(d.maildir, sub))
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
	out, errOut, code := runBinary(t, script, "pop3", "talk", "127.0.0.1:"+strconv.Itoa(d.pop3), "--record", rec)
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
	out, errOut, code := runBinary(t, "user alice\npass hungry\ndele 1\ndele 2\n", "pop3", "talk", "127.0.0.1:"+strconv.Itoa(d.pop3))
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
	out, errOut, code := runBinary(t, script, "imap", "talk", "127.0.0.1:"+strconv.Itoa(d.imap))
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
