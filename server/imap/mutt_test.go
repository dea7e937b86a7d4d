package imap

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/server/maildir"
)

// muttCopyAll opens the Maildir dir in mutt, read-only, and copies every
// message to an mbox file, which it returns. mutt needs a terminal even in
// batch use, so it runs under script(1) with a pseudo-terminal; keys are
// given with push. folder is set so that mutt does not stop to ask whether
// to create ~/Mail, which would swallow the pushed keys.
func muttCopyAll(t *testing.T, dir string) string {
	t.Helper()
	for _, p := range [][2]string{{"mutt", "mutt"}, {"script", "bsdutils"}} {
		testkit.NeedCommand(t, p[0], p[1])
	}
	tmp := t.TempDir()
	rc := filepath.Join(tmp, "muttrc")
	out := filepath.Join(tmp, "out.mbox")
	os.WriteFile(rc, []byte("set folder="+tmp+"\nset spoolfile="+dir+"\nset mbox_type=mbox\nset confirmappend=no\nset confirmcreate=no\nset quit=yes\nset read_only=yes\nset auto_tag=yes\n"), 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := "mutt -n -F " + rc + " -R -f " + dir + " -e 'push <tag-pattern>~A<enter><copy-message>" + out + "<enter><quit>'"
	c := exec.CommandContext(ctx, "script", "-qec", cmd, "/dev/null")
	c.Env = append(os.Environ(), "TERM=vt100", "HOME="+tmp)
	if b, err := c.CombinedOutput(); err != nil {
		t.Fatalf("mutt: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("mutt wrote no copy of %s: %v", dir, err)
	}
	return string(b)
}

// TestMaildirOpensInMutt: a Maildir written by serve (delivered, moved to
// cur/ and flagged over IMAP, a draft appended) opens in mutt, with the
// flags mutt reads from the file names.
func TestMaildirOpensInMutt(t *testing.T) {
	e := startIMAP(t, nil)
	c := dial(t, e.addr)
	c.ok("LOGIN alice hungry")
	c.ok("SELECT INBOX")
	c.ok(`STORE 1 +FLAGS (\Seen \Answered)`)
	c.ok("APPEND Drafts (\\Draft) {%d+}\r\n%s", len(msg1), msg1)
	c.ok("LOGOUT")
	root := maildir.Root(e.data, "alice")
	inbox := muttCopyAll(t, root)
	if n := strings.Count(inbox, "\nSubject: "); n != 2 {
		t.Errorf("mutt saw %d messages in INBOX, want 2:\n%s", n, inbox)
	}
	if !strings.Contains(inbox, "Status: RO") || !strings.Contains(inbox, "X-Status: A") {
		t.Errorf("mutt did not read the Seen and Answered flags from the file name:\n%s", inbox)
	}
	drafts := muttCopyAll(t, filepath.Join(root, ".Drafts"))
	if !strings.Contains(drafts, "Subject: lunch") {
		t.Errorf("mutt did not find the appended draft:\n%s", drafts)
	}
	// Read-only: mutt left the files as they were.
	if names, _ := os.ReadDir(filepath.Join(root, "cur")); len(names) != 2 {
		t.Errorf("cur/ now holds %d files", len(names))
	}
}
