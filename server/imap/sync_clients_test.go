package imap

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
)

// openToOthers makes dir and the directories above it that tests created
// (below the system's temporary directory, never that one itself)
// traversable, for a server that runs as nobody.
func openToOthers(dir string) {
	tmp := filepath.Clean(os.TempDir())
	for p := filepath.Clean(dir); strings.HasPrefix(p, tmp+string(filepath.Separator)); p = filepath.Dir(p) {
		os.Chmod(p, 0o755)
	}
}

// runIn runs a client program (skipping when the Debian package pkg is not
// installed) with a time limit, in dir, with HOME set to dir.
func runIn(t *testing.T, dir, pkg, name string, args ...string) string {
	t.Helper()
	c := exec.Command(testkit.NeedCommand(t, name, pkg), args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "HOME="+dir)
	return testkit.Run(t, 60*time.Second, c)
}

// TestMbsyncTwoWay: mbsync (Debian isync) mirrors the account into a local
// Maildir, then pushes back a flag change, a new message and a new folder.
func TestMbsyncTwoWay(t *testing.T) {
	testkit.NeedCommand(t, "mbsync", "isync")
	e := startIMAP(t, func(c *Config) { c.Trace = nil })
	_, port, _ := net.SplitHostPort(e.addr)
	home := t.TempDir()
	local := filepath.Join(home, "Mail")
	os.MkdirAll(local, 0o700)
	conf := filepath.Join(home, "mbsyncrc")
	os.WriteFile(conf, []byte(fmt.Sprintf(`IMAPAccount mailx
Host 127.0.0.1
Port %s
User alice
Pass hungry
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account mailx

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel mailx
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
`, port, local, local)), 0o600)
	runIn(t, home, "isync", "mbsync", "-c", conf, "-a")
	inbox := filepath.Join(local, "INBOX")
	files, _ := filepath.Glob(filepath.Join(inbox, "*", "*"))
	if len(files) != 2 {
		t.Fatalf("mbsync pulled %d messages into INBOX: %v", len(files), files)
	}
	// Locally: flag the first message, add a message, add a folder.
	first := files[0]
	dest := first
	if i := strings.LastIndex(first, ":2,"); i >= 0 {
		dest = first[:i] + ":2,FS"
	} else {
		dest = first + ":2,FS"
	}
	dest = strings.Replace(dest, string(filepath.Separator)+"new"+string(filepath.Separator), string(filepath.Separator)+"cur"+string(filepath.Separator), 1)
	if err := os.Rename(first, dest); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(inbox, "new", "1800000000.M1P1.local"), []byte("From: alice@mx.test\nSubject: written offline\n\nhello\n"), 0o600)
	proj := filepath.Join(local, "Projekte")
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(proj, sub), 0o700)
	}
	os.WriteFile(filepath.Join(proj, "new", "1800000001.M2P1.local"), []byte("Subject: plan\n\nx\n"), 0o600)
	runIn(t, home, "isync", "mbsync", "-c", conf, "-a")

	if n := folderCount(t, e.data, "INBOX"); n != 3 {
		t.Errorf("INBOX on the server has %d messages after the push, want 3", n)
	}
	if n := folderCount(t, e.data, "Projekte"); n != 1 {
		t.Errorf("Projekte on the server has %d messages, want 1", n)
	}
	c := dial(t, e.addr)
	c.ok("LOGIN alice hungry")
	c.ok("SELECT INBOX")
	if s := c.ok(`SEARCH FLAGGED SEEN`); len(s) != 2 || len(strings.Fields(s[0])) != 3 {
		t.Errorf("the flag change did not reach the server: %q", s)
	}
	if s := c.ok(`SEARCH SUBJECT "written offline"`); !has(s, "* SEARCH 3") {
		t.Errorf("the offline message is not on the server: %q", s)
	}
	// And a third run changes nothing.
	runIn(t, home, "isync", "mbsync", "-c", conf, "-a")
	if n := folderCount(t, e.data, "INBOX"); n != 3 {
		t.Errorf("INBOX has %d messages after a no-op sync", n)
	}
}

// TestFetchmail: fetchmail (Debian fetchmail) downloads both messages over
// IMAP, keeping them on the server, and marks them \Seen.
func TestFetchmail(t *testing.T) {
	e := startIMAP(t, func(c *Config) { c.Trace = nil })
	_, port, _ := net.SplitHostPort(e.addr)
	home := t.TempDir()
	out := filepath.Join(home, "out.mbox")
	rc := filepath.Join(home, "fetchmailrc")
	os.WriteFile(rc, []byte(fmt.Sprintf("set no syslog\npoll 127.0.0.1 protocol IMAP port %s user \"alice\" password \"hungry\" sslproto '' keep fetchall mda \"/bin/sh -c 'cat >> %s'\"\n", port, out)), 0o600)
	runIn(t, home, "fetchmail", "fetchmail", "-f", rc, "--nodetach", "-s")
	b, _ := os.ReadFile(out)
	if n := strings.Count(string(b), "Subject: "); n != 2 || !strings.Contains(string(b), "quarterly numbers") {
		t.Errorf("fetchmail delivered %d messages:\n%s", n, b)
	}
	if n := folderCount(t, e.data, "INBOX"); n != 2 {
		t.Errorf("INBOX has %d messages after fetchmail with keep, want 2", n)
	}
}

// TestOfflineimap: offlineimap (Debian offlineimap3) mirrors every folder
// into a local Maildir.
func TestOfflineimap(t *testing.T) {
	e := startIMAP(t, func(c *Config) { c.Trace = nil })
	c := dial(t, e.addr)
	c.ok("LOGIN alice hungry")
	c.ok(`CREATE "Entw&APw-rfe"`)
	c.ok("SELECT INBOX")
	c.ok("COPY 1 \"Entw&APw-rfe\"")
	_, port, _ := net.SplitHostPort(e.addr)
	home := t.TempDir()
	local := filepath.Join(home, "Mail")
	os.MkdirAll(local, 0o700)
	conf := filepath.Join(home, "offlineimaprc")
	os.WriteFile(conf, []byte(fmt.Sprintf(`[general]
accounts = mailx
metadata = %s/meta

[Account mailx]
localrepository = local
remoterepository = remote

[Repository local]
type = Maildir
localfolders = %s

[Repository remote]
type = IMAP
remotehost = 127.0.0.1
remoteport = %s
remoteuser = alice
remotepass = hungry
ssl = no
starttls = no
`, home, local, port)), 0o600)
	runIn(t, home, "offlineimap3", "offlineimap", "-c", conf, "-o", "-u", "quiet")
	files, _ := filepath.Glob(filepath.Join(local, "INBOX", "*", "*"))
	if len(files) != 2 {
		t.Errorf("offlineimap pulled %d messages into INBOX", len(files))
	}
	dirs, _ := filepath.Glob(filepath.Join(local, "*"))
	found := false
	for _, d := range dirs {
		if strings.Contains(filepath.Base(d), "Entw") {
			found = true
		}
	}
	if !found {
		t.Errorf("offlineimap made no folder for Entwürfe: %v", dirs)
	}
}

// TestGetmail: getmail (Debian getmail6) retrieves both messages over IMAP
// into an mbox, leaving them on the server.
func TestGetmail(t *testing.T) {
	e := startIMAP(t, func(c *Config) { c.Trace = nil })
	_, port, _ := net.SplitHostPort(e.addr)
	home := t.TempDir()
	out := filepath.Join(home, "out.mbox")
	os.WriteFile(out, nil, 0o600)
	user := ""
	if os.Getuid() == 0 {
		// getmail refuses to deliver as root: it delivers as nobody, who
		// must reach the mbox.
		user = "user = nobody\n"
		openToOthers(home)
		os.Chmod(out, 0o666)
	}
	rc := filepath.Join(home, "getmailrc")
	os.WriteFile(rc, []byte(fmt.Sprintf(`[retriever]
type = SimpleIMAPRetriever
server = 127.0.0.1
port = %s
username = alice
password = hungry
mailboxes = ("INBOX",)

[destination]
type = Mboxrd
path = %s
%s
[options]
read_all = true
delete = false
verbose = 0
`, port, out, user)), 0o600)
	runIn(t, home, "getmail6", "getmail", "--rcfile="+rc, "--getmaildir="+home)
	b, _ := os.ReadFile(out)
	if n := strings.Count(string(b), "\nSubject: "); n != 2 {
		t.Errorf("getmail retrieved %d messages:\n%s", n, b)
	}
	if n := folderCount(t, e.data, "INBOX"); n != 2 {
		t.Errorf("INBOX has %d messages after getmail with delete = false", n)
	}
}

// TestNeomuttIMAP: neomutt (Debian neomutt) opens INBOX over IMAP
// read-only (-R: it leaves with CLOSE after EXAMINE, which must succeed)
// and copies every message to an mbox.
func TestNeomuttIMAP(t *testing.T) {
	for _, p := range [][2]string{{"neomutt", "neomutt"}, {"script", "bsdutils"}} {
		testkit.NeedCommand(t, p[0], p[1])
	}
	e := startIMAP(t, nil)
	_, port, _ := net.SplitHostPort(e.addr)
	tmp := t.TempDir()
	rc := filepath.Join(tmp, "neomuttrc")
	out := filepath.Join(tmp, "out.mbox")
	os.WriteFile(rc, []byte("set folder="+tmp+"\nset mbox_type=mbox\nset confirmappend=no\nset confirmcreate=no\nset quit=yes\nset imap_pass=hungry\nset ssl_starttls=no\nset ssl_force_tls=no\nset imap_passive=no\nset mail_check=0\n"), 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := "imap://alice@127.0.0.1:" + port + "/INBOX"
	cmd := "neomutt -n -F " + rc + " -R -f " + url + " -e 'push <tag-pattern>~A<enter><tag-prefix><copy-message>" + out + "<enter><quit>'"
	c := exec.CommandContext(ctx, "script", "-qec", cmd, "/dev/null")
	c.Env = append(os.Environ(), "TERM=vt100", "HOME="+tmp)
	if b, err := c.CombinedOutput(); err != nil {
		t.Fatalf("neomutt: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("neomutt wrote no copy: %v\n%s", err, e.trace())
	}
	if n := strings.Count(string(b), "\nSubject: "); n != 2 {
		t.Errorf("neomutt copied %d messages:\n%s", n, b)
	}
	if tr := e.trace(); strings.Contains(tr, "CLOSE") && strings.Contains(tr, "READ-ONLY] the mailbox is open read-only") {
		t.Errorf("CLOSE after EXAMINE was refused:\n%s", tr)
	}
}
