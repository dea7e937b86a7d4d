package imap

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/server/maildir"
)

// expectNo fails unless the command completes with the given status.
func (c *client) expect(status, format string, args ...any) []string {
	c.t.Helper()
	out := c.cmd(format, args...)
	last := out[len(out)-1]
	if _, rest, _ := strings.Cut(last, " "); !strings.HasPrefix(rest, status) {
		c.t.Fatalf("C: %s\nS: %s\nwant %s", fmt.Sprintf(format, args...), strings.Join(out, "\nS: "), status)
	}
	return out
}

func TestIDAndCapabilities(t *testing.T) {
	e := startIMAP(t, nil)
	c := dial(t, e.addr)
	caps := c.ok("CAPABILITY")
	if !has(caps, " ID") || !has(caps, "LITERAL+") || has(caps, "LITERAL-") {
		t.Errorf("CAPABILITY = %q: want ID and LITERAL+ only (RFC 7888)", caps)
	}
	id := c.ok(`ID ("name" "test" "version" NIL)`)
	if !has(id, `* ID ("name" "mailx"`) {
		t.Errorf("ID = %q", id)
	}
	c.expect("BAD", `ID ("name")`)
	// The same tag twice, pipelined: each gets its own answer.
	fmt.Fprintf(c.conn, "t CAPABILITY\r\nt ID NIL\r\n")
	first := c.until("t")
	second := c.until("t")
	if !strings.HasPrefix(first[len(first)-1], "t OK CAPABILITY") || !has(second, "* ID (") || !strings.HasPrefix(second[len(second)-1], "t OK ID") {
		t.Errorf("pipelined CAPABILITY and ID with one tag = %q then %q", first, second)
	}
	c.ok("LOGIN alice hungry")
	caps = c.ok("CAPABILITY")
	if has(caps, "LITERAL-") || !has(caps, "LITERAL+") {
		t.Errorf("CAPABILITY after login = %q", caps)
	}
	if !strings.Contains(e.trace(), "client id: name=test") {
		t.Errorf("the trace does not note the client's ID:\n%s", e.trace())
	}
}

func TestBadNamesAndBigLiterals(t *testing.T) {
	e := startIMAP(t, nil)
	c := dial(t, e.addr)
	c.ok("LOGIN alice hungry")
	out := c.expect("NO", "CREATE \"a\x01b\"")
	if has(out, "SERVERBUG") || !has(out, "modified UTF-7") {
		t.Errorf("CREATE with a control character = %q", out)
	}
	c.expect("NO", "SELECT \"caf\xc3\xa9\"")
	// An invalid modified UTF-7 pattern matches nothing (as in Dovecot).
	out = c.ok(`LIST "" "!#$&'+,-.0"`)
	if len(out) != 1 {
		t.Errorf("LIST with a bad pattern = %q", out)
	}
	// A synchronising literal over 4 KiB outside APPEND: refused at once,
	// without "+", and the session goes on.
	c.conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c.conn, "b1 SELECT {4097}\r\n")
	if l := c.line(); !strings.HasPrefix(l, "b1 BAD [TOOBIG]") {
		t.Errorf("SELECT {4097} = %q", l)
	}
	c.ok("NOOP")
	// A small literal is still fine.
	fmt.Fprintf(c.conn, "b2 SELECT {5}\r\n")
	if l := c.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("SELECT {5} = %q", l)
	}
	fmt.Fprintf(c.conn, "INBOX\r\n")
	if out := c.until("b2"); !has(out, "b2 OK") {
		t.Errorf("SELECT by literal = %q", out)
	}
}

func TestFolderCommands(t *testing.T) {
	e := startIMAP(t, nil)
	c := dial(t, e.addr)
	c.ok("LOGIN alice hungry")
	c.ok("CREATE a.")
	c.ok("CREATE a.") // exists already: still fine
	c.ok("CREATE a.b.")
	c.ok("CREATE x.y.z")
	c.ok("SUBSCRIBE x.y.z")
	c.ok("UNSUBSCRIBE x")
	lsub := c.ok("%s", `LSUB "" "x.%"`)
	if !has(lsub, `* LSUB (\Noselect) "." "x.y"`) {
		t.Errorf(`LSUB "" "x.%%" = %q: want x.y as \Noselect`, lsub)
	}
	lsub = c.ok(`LSUB "" "*"`)
	if !has(lsub, `"." "x.y.z"`) || has(lsub, `"x.y"`) {
		t.Errorf(`LSUB "" "*" = %q`, lsub)
	}
	// CLOSE after EXAMINE removes nothing and succeeds (RFC 9051 §6.4.1).
	c.ok("SELECT INBOX")
	c.ok("STORE 1 +FLAGS (\\Deleted)")
	c.ok("EXAMINE INBOX")
	c.ok("CLOSE")
	c.expect("BAD", "FETCH 1 FLAGS") // no mailbox selected any more
	st := c.ok("STATUS INBOX (MESSAGES)")
	if !has(st, "MESSAGES 2") {
		t.Errorf("CLOSE after EXAMINE expunged: %q", st)
	}
	// MOVE into the selected mailbox: new UIDs, old ones expunged.
	c.ok("SELECT INBOX")
	mv := c.ok("UID MOVE 1 INBOX")
	if !has(mv, "COPYUID") || !has(mv, "* 1 EXPUNGE") {
		t.Errorf("MOVE within INBOX = %q", mv)
	}
	f := c.ok("UID FETCH 1:* (UID FLAGS)")
	if !has(f, "UID 3 FLAGS (\\Deleted") || has(f, "UID 1 ") {
		t.Errorf("after MOVE within INBOX: %q", f)
	}
}

func TestKeywordsAndRecent(t *testing.T) {
	e := startIMAP(t, nil)
	c := dial(t, e.addr)
	c.ok("LOGIN alice hungry")
	sel := c.ok("SELECT INBOX")
	if !has(sel, "* 2 RECENT") || !has(sel, `\*)]`) {
		t.Errorf("SELECT = %q", sel)
	}
	// A second session sees no \Recent: the first one claimed them.
	c2 := dial(t, e.addr)
	c2.ok("LOGIN alice hungry")
	if sel2 := c2.ok("SELECT INBOX"); !has(sel2, "* 0 RECENT") {
		t.Errorf("second SELECT = %q", sel2)
	}
	if s := c.ok("SEARCH RECENT"); !has(s, "* SEARCH 1 2") {
		t.Errorf("SEARCH RECENT = %q", s)
	}
	if s := c2.ok("SEARCH NEW"); !has(s, "* SEARCH") || has(s, "* SEARCH 1") {
		t.Errorf("SEARCH NEW in the second session = %q", s)
	}
	st := c.ok("STORE 1 +FLAGS ($Junk $Label1)")
	if !has(st, "* FLAGS (") || !has(st, "$Junk $Label1)") {
		t.Errorf("STORE +FLAGS ($Junk $Label1) = %q", st)
	}
	c.ok("APPEND INBOX (\\Flagged $Label1) {12}\r\nSubject: x\r\n")
	if s := c.ok("SEARCH KEYWORD $label1"); !has(s, "* SEARCH 1 3") {
		t.Errorf("SEARCH KEYWORD $label1 = %q", s)
	}
	if s := c.ok("SEARCH UNKEYWORD $Junk"); !has(s, "* SEARCH 2 3") {
		t.Errorf("SEARCH UNKEYWORD $Junk = %q", s)
	}
	c.ok("COPY 1 Trash")
	c.ok("SELECT Trash")
	if f := c.ok("FETCH 1 FLAGS"); !has(f, "$Junk $Label1") || !has(f, `\Recent`) {
		t.Errorf("COPY lost the keywords or \\Recent: %q", f)
	}
	// On disk: Dovecot's letters and dovecot-keywords file.
	root := maildir.Root(e.data, "alice")
	kw, err := os.ReadFile(filepath.Join(root, maildir.KeywordsName))
	if err != nil || string(kw) != "0 $Junk\n1 $Label1\n" {
		t.Errorf("INBOX dovecot-keywords = %q, %v", kw, err)
	}
	names, _ := filepath.Glob(filepath.Join(root, "cur", "*"))
	var withLetters int
	for _, n := range names {
		if strings.HasSuffix(n, ":2,ab") || strings.HasSuffix(n, ":2,Fb") || strings.HasSuffix(n, ";2,ab") || strings.HasSuffix(n, ";2,Fb") {
			withLetters++
		}
	}
	if withLetters != 2 {
		t.Errorf("file names in cur/ = %q: want keyword letters", names)
	}
	// The other session is told of the new keywords and flags.
	n := c2.ok("NOOP")
	if !has(n, "$Junk") {
		t.Errorf("NOOP in the other session = %q", n)
	}
}

func TestEnvelopeGroupsAndSearchFrom(t *testing.T) {
	e := startIMAP(t, nil)
	e.deliver(t, "alice", "From: <bob (the boss)@ (home) mx.test>\r\nTo: undisclosed-recipients:;\r\nCc: team: a@x.test, b@y.test;\r\nSubject: =?iso-8859-1?q?caf=E9?=\r\n\r\nhi\r\n")
	c := dial(t, e.addr)
	c.ok("LOGIN alice hungry")
	c.ok("SELECT INBOX")
	f := c.ok("FETCH 3 ENVELOPE")
	for _, want := range []string{
		`"=?iso-8859-1?q?caf=E9?="`,
		`((NIL NIL "undisclosed-recipients" NIL) (NIL NIL NIL NIL))`,
		`((NIL NIL "team" NIL) (NIL NIL "a" "x.test") (NIL NIL "b" "y.test") (NIL NIL NIL NIL))`,
	} {
		if !has(f, want) {
			t.Errorf("ENVELOPE lacks %s: %q", want, f)
		}
	}
	// A raw Latin-1 subject (no encoded-word) is read as Latin-1 and sent
	// as valid UTF-8, not as an invalid UTF-8 encoded-word.
	e.deliver(t, "alice", "From: x@mx.test\r\nSubject: caf\xe9\r\n\r\nhi\r\n")
	c.ok("NOOP")
	if f := c.ok("FETCH 4 ENVELOPE"); !has(f, `"=?utf-8?q?caf=C3=A9?="`) {
		t.Errorf("ENVELOPE of a raw Latin-1 subject = %q", f)
	}
	if s := c.ok("SEARCH FROM bob@mx.test"); !has(s, "* SEARCH 1 3") {
		t.Errorf("SEARCH FROM bob@mx.test = %q", s)
	}
}

// TestImaptestCompliance runs Dovecot's imaptest compliance scripts
// against the server when the mailx team's tools are next to the
// repository (../shared/tools/imaptest); people who clone mailx do not have
// them, and the test then skips.
func TestImaptestCompliance(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: imaptest takes about 40 s")
	}
	script := sharedTool(t, "imaptest", "compliance.sh")
	if _, err := os.Stat(script); err != nil {
		t.Skipf("imaptest tools not found at %s (only the mailx team has them)", script)
	}
	if _, err := os.Stat("/usr/lib/dovecot/libdovecot.so.0"); err != nil {
		t.Skip("imaptest needs Dovecot's library: apt-get install dovecot-dev (Debian package)")
	}
	e := startIMAP(t, func(c *Config) { c.Trace = nil })
	os.RemoveAll(maildir.Root(e.data, "bob"))
	cmd := exec.Command(script, e.addr, "bob", "burger")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatal("imaptest did not finish within 5 minutes")
	}
	if err != nil {
		t.Fatalf("compliance.sh: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "71 test groups: 0 failed") || !strings.Contains(string(out), "base protocol: 0/") || !strings.Contains(string(out), "extensions: 0/") {
		t.Errorf("imaptest compliance:\n%s", out)
	}
}

// TestAppendMinFreeDisk: APPEND honours min_free_disk (issue 21 item 7)
// with NO [LIMIT], and the session goes on.
func TestAppendMinFreeDisk(t *testing.T) {
	var free atomic.Uint64
	free.Store(1 << 20)
	e := startIMAP(t, func(c *Config) {
		c.MinFreeDisk = 1 << 20
		c.DiskFree = func() (uint64, error) { return free.Load(), nil }
	})
	c := dial(t, e.addr)
	c.ok("LOGIN alice hungry")
	out := c.expect("NO", "APPEND INBOX {12+}\r\nSubject: x\r\n")
	if !has(out, "[LIMIT]") || has(out, "SERVERBUG") {
		t.Errorf("APPEND on a full disk = %q", out)
	}
	free.Store(10 << 20)
	c.ok("APPEND INBOX {12+}\r\nSubject: x\r\n")
	if st := c.ok("STATUS INBOX (MESSAGES)"); !has(st, "MESSAGES 3") {
		t.Errorf("STATUS = %q", st)
	}
}

// sharedTool is the path of a tool in the mailx team's shared/tools, which
// sits beside the repository (its go.mod's directory), wherever the checkout
// is: a clone, a git worktree, or CI's copy.
func sharedTool(t *testing.T, parts ...string) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	return filepath.Join(append([]string{filepath.Dir(dir), "shared", "tools"}, parts...)...)
}
