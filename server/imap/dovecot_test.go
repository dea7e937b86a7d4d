//go:build unix

package imap

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/server/servertest/dovecot"

	"github.com/mailx-edu/mailx/server/maildir"
)

// startDovecotOn starts a throwaway Dovecot (Debian's dovecot-imapd) whose
// one user alice (password hungry) has her Maildir at root; it returns the
// IMAP address and a function that stops Dovecot.
func startDovecotOn(t *testing.T, root string) (string, func()) {
	t.Helper()
	d := dovecot.Start(t, dovecot.Options{Maildir: root})
	return d.IMAP, d.Stop
}

// folderState is what both servers must agree on for a folder.
type folderState struct {
	validity string
	msgs     map[string]string // UID → sorted flags without \Recent
}

var (
	listRe  = regexp.MustCompile(`^\* LIST \(([^)]*)\) "." (.+)$`)
	uidRe   = regexp.MustCompile(`UID (\d+)`)
	flagsRe = regexp.MustCompile(`FLAGS \(([^)]*)\)`)
	validRe = regexp.MustCompile(`UIDVALIDITY (\d+)`)
)

// mailboxState logs in and reads every folder's UIDVALIDITY, UIDs and
// flags, by mailbox name as sent on the wire (modified UTF-7).
func mailboxState(t *testing.T, addr string) map[string]folderState {
	t.Helper()
	c := dial(t, addr)
	c.ok("LOGIN alice hungry")
	out := map[string]folderState{}
	for _, l := range c.ok(`LIST "" "*"`) {
		m := listRe.FindStringSubmatch(l)
		if m == nil || strings.Contains(strings.ToLower(m[1]), `\noselect`) {
			continue
		}
		name := strings.Trim(m[2], `"`)
		st := folderState{msgs: map[string]string{}}
		for _, l := range c.ok("EXAMINE %q", name) {
			if v := validRe.FindStringSubmatch(l); v != nil {
				st.validity = v[1]
			}
		}
		for _, l := range c.cmd("UID FETCH 1:* (FLAGS)") {
			u, f := uidRe.FindStringSubmatch(l), flagsRe.FindStringSubmatch(l)
			if u == nil || f == nil {
				continue
			}
			var flags []string
			for _, fl := range strings.Fields(f[1]) {
				if !strings.EqualFold(fl, `\Recent`) {
					flags = append(flags, fl)
				}
			}
			sort.Strings(flags)
			st.msgs[u[1]] = strings.Join(flags, " ")
		}
		out[name] = st
	}
	c.ok("LOGOUT")
	return out
}

func compareStates(t *testing.T, from, to string, a, b map[string]folderState, folders []string) {
	t.Helper()
	t.Logf("%s: %v", from, a)
	t.Logf("%s: %v", to, b)
	for _, f := range folders {
		sa, ok := a[f]
		if !ok {
			t.Errorf("%s does not list %q: %v", from, f, a)
			continue
		}
		sb, ok := b[f]
		if !ok {
			t.Errorf("%s does not list %q that %s has", to, f, from)
			continue
		}
		if sa.validity != sb.validity {
			t.Errorf("%q: UIDVALIDITY %s in %s, %s in %s", f, sa.validity, from, sb.validity, to)
		}
		if fmt.Sprint(sa.msgs) != fmt.Sprint(sb.msgs) {
			t.Errorf("%q: UIDs and flags differ:\n%s: %v\n%s: %v", f, from, sa.msgs, to, sb.msgs)
		}
	}
}

// TestMaildirSharedWithDovecot: a Maildir written by mailx, with folders
// "Entwürfe" and "Archive.2024", keywords and flags, opens in Dovecot with
// the same folders, flags, keywords, UIDs and UIDVALIDITY.
func TestMaildirSharedWithDovecot(t *testing.T) {
	e := startIMAP(t, func(c *Config) { c.Trace = nil })
	c := dial(t, e.addr)
	c.ok("LOGIN alice hungry")
	c.ok(`CREATE "Entw&APw-rfe"`)
	c.ok("CREATE Archive.2024")
	c.ok("APPEND \"Entw&APw-rfe\" (\\Flagged $Label1) {22}\r\nSubject: draft\r\n\r\nhi\r\n")
	c.ok("SELECT INBOX")
	c.ok("STORE 1 +FLAGS (\\Seen $Junk)")
	c.ok("STORE 2 +FLAGS (\\Answered)")
	c.ok("COPY 1:2 Archive.2024")
	// UIDs that a fresh numbering would not give: 2 and 3.
	c.ok("STORE 1 +FLAGS (\\Deleted)")
	c.ok("EXPUNGE")
	c.ok("APPEND INBOX ($Label3) {22}\r\nSubject: third\r\n\r\nhi\r\n")
	c.ok("LOGOUT")
	folders := []string{"INBOX", "Entw&APw-rfe", "Archive.2024", "Sent", "Drafts", "Trash"}
	mx := mailboxState(t, e.addr)
	root := maildir.Root(e.data, "alice")
	if _, err := os.Stat(filepath.Join(root, ".Entw&APw-rfe", "cur")); err != nil {
		t.Errorf("mailx did not name the folder directory in modified UTF-7: %v", err)
	}
	dv, _ := startDovecotOn(t, root)
	compareStates(t, "mailx", "Dovecot", mx, mailboxState(t, dv), folders)
	if !strings.Contains(mx["INBOX"].msgs["3"], "$Label3") || !strings.Contains(mx["Entw&APw-rfe"].msgs["1"], "$Label1") {
		t.Errorf("mailx lost keywords: %v", mx)
	}
}

// TestMaildirFromDovecot is the other way round: folders, flags and
// keywords set through Dovecot, then the Maildir served by mailx.
func TestMaildirFromDovecot(t *testing.T) {
	data := t.TempDir()
	root := maildir.Root(data, "alice")
	if err := maildir.Create(root); err != nil {
		t.Fatal(err)
	}
	for i, m := range []string{msg1, msg2} {
		name := fmt.Sprintf("17000000%02d.M%dP1.dovecot-test", i+1, i+1)
		if err := os.WriteFile(filepath.Join(root, "new", name), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dv, stop := startDovecotOn(t, root)
	c := dial(t, dv)
	c.ok("LOGIN alice hungry")
	c.ok(`CREATE "K&APw-che"`)
	c.ok("CREATE Archive.2024")
	c.ok("APPEND \"K&APw-che\" (\\Seen $Label2) {22}\r\nSubject: recipe\r\n\r\nhi\r\n")
	c.ok("SELECT INBOX")
	c.ok("STORE 2 +FLAGS (\\Flagged $Junk)")
	c.ok("COPY 2 Archive.2024")
	c.ok("STORE 1 +FLAGS (\\Deleted)")
	c.ok("EXPUNGE")
	c.ok("APPEND INBOX ($Label3) {22}\r\nSubject: third\r\n\r\nhi\r\n")
	c.ok("LOGOUT")
	before := mailboxState(t, dv)
	stop()

	e := startIMAP(t, func(c *Config) {
		c.Trace = nil
		c.MailRoot = func(string) string { return root }
	})
	compareStates(t, "Dovecot", "mailx", before, mailboxState(t, e.addr), []string{"INBOX", "K&APw-che", "Archive.2024"})
}
