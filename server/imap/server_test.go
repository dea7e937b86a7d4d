package imap

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/access"
	"github.com/mailx-edu/mailx/server/maildir"
	"github.com/mailx-edu/mailx/server/tlscert"
)

type fakeAccounts map[string]string

func (a fakeAccounts) Authenticate(name, pass string) bool {
	u := access.UserOf(a, name)
	p, ok := a[u]
	return ok && p == pass
}

func (a fakeAccounts) Resolve(addr string) (string, bool) {
	local, _, _ := strings.Cut(strings.ToLower(addr), "@")
	_, ok := a[local]
	return local, ok
}

var practice = fakeAccounts{"alice": "hungry", "bob": "burger"}

type env struct {
	data   string
	addr   string
	srv    *Server
	tls    *tlscert.Result
	events testkit.Recorder[transcript.Event]
}

const (
	msg1 = "From: Bob <bob@mx.test>\r\nTo: alice@mx.test\r\nSubject: lunch\r\nDate: Mon, 02 Jan 2006 15:04:05 +0000\r\nMessage-ID: <1@mx.test>\r\n\r\nAre you hungry?\r\n"
	msg2 = "From: carol@mx.test\r\nTo: alice@mx.test\r\nSubject: report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nquarterly numbers\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b--\r\n"
)

func (e *env) deliver(t testing.TB, user, msg string) {
	t.Helper()
	root := maildir.Root(e.data, user)
	if _, err := maildir.Deliver(root, strings.NewReader(msg), maildir.DeliverOptions{}); err != nil {
		t.Fatal(err)
	}
	maildir.Notify(root)
}

func startIMAP(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	e := &env{data: t.TempDir()}
	e.deliver(t, "alice", msg1)
	e.deliver(t, "alice", msg2)
	cert, err := tlscert.LoadOrCreate(t.TempDir(), []string{"mx.test"})
	if err != nil {
		t.Fatal(err)
	}
	e.tls = cert
	cfg := Config{MailboxServer: access.MailboxServer{
		Hostname: "mx.test",
		Accounts: practice,
		MailRoot: func(u string) string { return maildir.Root(e.data, u) },
		TLS:      cert.ServerConfig(),
		Throttle: &access.Throttle{Delay: time.Millisecond},
		Trace:    e.events.Add,
	}}
	if mod != nil {
		mod(&cfg)
	}
	e.srv = New(cfg)
	e.addr = testkit.Serve(t, e.srv)
	return e
}

func (e *env) trace() string {
	var b strings.Builder
	for _, ev := range e.events.All() {
		fmt.Fprintf(&b, "%s %s %s\n", ev.Session, ev.Dir, ev.Line)
	}
	return b.String()
}

// client is a scripted IMAP client speaking raw lines, so tests see exactly
// what goes over the wire.
type client struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	n    int
}

func dialConn(t *testing.T, c net.Conn) *client {
	t.Helper()
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	cl := &client{t: t, conn: c, br: bufio.NewReader(c)}
	if g := cl.line(); !strings.HasPrefix(g, "* OK") {
		t.Fatalf("greeting = %q", g)
	}
	return cl
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return dialConn(t, c)
}

func (c *client) line() string {
	c.t.Helper()
	l, err := c.br.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (got %q)", err, l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// cmd sends a tagged command and returns all lines up to and including the
// tagged completion; literals are read in full and appended to their line.
func (c *client) cmd(format string, args ...any) []string {
	c.t.Helper()
	c.n++
	tag := fmt.Sprintf("a%d", c.n)
	fmt.Fprintf(c.conn, "%s %s\r\n", tag, fmt.Sprintf(format, args...))
	return c.until(tag)
}

func (c *client) until(tag string) []string {
	c.t.Helper()
	var out []string
	for {
		l := c.line()
		if n := literalSize(l); n >= 0 {
			buf := make([]byte, n)
			if _, err := ioReadFull(c.br, buf); err != nil {
				c.t.Fatal(err)
			}
			l += string(buf) + c.line()
		}
		out = append(out, l)
		if strings.HasPrefix(l, tag+" ") {
			return out
		}
	}
}

// ok runs a command and fails unless it completes with OK.
func (c *client) ok(format string, args ...any) []string {
	c.t.Helper()
	out := c.cmd(format, args...)
	if last := out[len(out)-1]; !strings.Contains(last, " OK") {
		c.t.Fatalf("C: %s\nS: %s", fmt.Sprintf(format, args...), strings.Join(out, "\nS: "))
	}
	return out
}

func literalSize(l string) int {
	if !strings.HasSuffix(l, "}") {
		return -1
	}
	i := strings.LastIndexByte(l, '{')
	var n int
	if _, err := fmt.Sscanf(l[i:], "{%d}", &n); err != nil {
		return -1
	}
	return n
}

func ioReadFull(br *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := br.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func has(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func TestSelectFetchStoreExpunge(t *testing.T) {
	e := startIMAP(t, nil)
	c := dial(t, e.addr)
	caps := c.ok("CAPABILITY")
	if !has(caps, "STARTTLS") || !has(caps, "AUTH=PLAIN") || has(caps, "LOGINDISABLED") {
		t.Errorf("CAPABILITY on loopback = %q", caps)
	}
	c.ok("LOGIN alice hungry")
	list := c.ok(`LIST "" "*"`)
	for _, want := range []string{`" INBOX`, `\Sent`, `\Drafts`, `\Trash`} {
		if !has(list, want) {
			t.Errorf("LIST lacks %s: %q", want, list)
		}
	}
	sel := c.ok("SELECT INBOX")
	for _, want := range []string{"* 2 EXISTS", "* 2 RECENT", "UIDVALIDITY", "UIDNEXT 3", "[READ-WRITE]", `\*`} {
		if !has(sel, want) {
			t.Errorf("SELECT lacks %q: %q", want, sel)
		}
	}
	f := c.ok("FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)")
	if !has(f, fmt.Sprintf("RFC822.SIZE %d", len(msg1))) || !has(f, `"lunch"`) || !has(f, `FLAGS (\Recent)`) {
		t.Errorf("FETCH = %q", f)
	}
	f = c.ok("FETCH 2 (BODYSTRUCTURE BODY.PEEK[1] BODY[HEADER.FIELDS (SUBJECT)] BODY[]<0.10>)")
	if !has(f, `"mixed"`) || !has(f, "quarterly numbers") || !has(f, "Subject: report") || !has(f, "BODY[]<0> {10}From: caro") {
		t.Errorf("FETCH sections = %q", f)
	}
	if !has(f, `\Seen`) {
		t.Errorf("FETCH BODY[] (not PEEK) did not set \\Seen: %q", f)
	}
	s := c.ok("SEARCH UNSEEN")
	if !has(s, "* SEARCH 1") {
		t.Errorf("SEARCH UNSEEN = %q", s)
	}
	s = c.ok(`UID SEARCH TEXT "quarterly"`)
	if !has(s, "* SEARCH 2") {
		t.Errorf("SEARCH TEXT = %q", s)
	}
	st := c.ok(`STORE 1 +FLAGS (\Deleted \Flagged)`)
	if !has(st, `\Deleted`) {
		t.Errorf("STORE = %q", st)
	}
	cp := c.ok("COPY 1 Trash")
	if !has(cp, "COPYUID") {
		t.Errorf("COPY = %q", cp)
	}
	c.cmd("COPY 1 Nowhere")
	ex := c.ok("EXPUNGE")
	if !has(ex, "* 1 EXPUNGE") {
		t.Errorf("EXPUNGE = %q", ex)
	}
	st2 := c.ok("STATUS Trash (MESSAGES UNSEEN UIDNEXT)")
	if !has(st2, "MESSAGES 1") {
		t.Errorf("STATUS Trash = %q", st2)
	}
	ap := c.ok("APPEND Drafts (\\Draft) {%d+}\r\n%s", len(msg1), msg1)
	if !has(ap, "APPENDUID") {
		t.Errorf("APPEND = %q", ap)
	}
	mv := c.ok("MOVE 1 Drafts")
	if !has(mv, "* 1 EXPUNGE") {
		t.Errorf("MOVE = %q", mv)
	}
	c.ok("LOGOUT")

	// On disk: INBOX is empty, Drafts holds two messages, Trash one.
	for name, want := range map[string]int{"INBOX": 0, "Drafts": 2, "Trash": 1} {
		mb, _ := maildir.OpenMailbox(maildir.Root(e.data, "alice"))
		f, _ := mb.Folder(name)
		msgs, _ := f.Messages()
		if len(msgs) != want {
			t.Errorf("%s holds %d messages, want %d", name, len(msgs), want)
		}
	}
	tr := e.trace()
	for _, want := range []string{"C a2 LOGIN alice ********", "S * 2 EXISTS", "# alice logged in"} {
		if !strings.Contains(tr, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
}

func TestIdleSeesDelivery(t *testing.T) {
	e := startIMAP(t, nil)
	a := dial(t, e.addr)
	a.ok("LOGIN alice hungry")
	a.ok("SELECT INBOX")
	fmt.Fprintf(a.conn, "i1 IDLE\r\n")
	if l := a.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("IDLE = %q", l)
	}
	e.deliver(t, "alice", "Subject: new\r\n\r\nhello\r\n")
	// Only that the push arrives, without a command: how fast it arrives is
	// BenchmarkIdlePush's to measure, not a loaded test machine's to judge.
	a.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if l := a.line(); l != "* 3 EXISTS" {
		t.Fatalf("in IDLE after a delivery: %q", l)
	}
	a.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(a.conn, "DONE\r\n")
	a.until("i1")

	// A second session's flag change reaches the first one.
	b := dial(t, e.addr)
	b.ok("LOGIN alice hungry")
	b.ok("SELECT INBOX")
	b.ok(`STORE 3 +FLAGS.SILENT (\Seen)`)
	n := a.ok("NOOP")
	if !has(n, `* 3 FETCH (UID 3 FLAGS (\Seen))`) {
		t.Errorf("NOOP in the other session = %q", n)
	}
	b.ok(`STORE 2 +FLAGS.SILENT (\Deleted)`)
	b.ok("EXPUNGE")
	n = a.ok("NOOP")
	if !has(n, "* 2 EXPUNGE") {
		t.Errorf("NOOP after the other session's EXPUNGE = %q", n)
	}
}

func TestStartTLSAndLoginRules(t *testing.T) {
	e := startIMAP(t, nil)
	// Over an in-memory pipe the peer is not loopback: no clear-text login.
	srvEnd, cliEnd := net.Pipe()
	e.srv.start(srvEnd)
	c := dialConn(t, cliEnd)
	caps := c.ok("CAPABILITY")
	if !has(caps, "LOGINDISABLED") || has(caps, "AUTH=PLAIN") || !has(caps, "STARTTLS") {
		t.Errorf("CAPABILITY off loopback = %q", caps)
	}
	if out := c.cmd("LOGIN alice hungry"); !has(out, "PRIVACYREQUIRED") {
		t.Errorf("LOGIN in clear = %q", out)
	}
	c.ok("STARTTLS")
	tc := tls.Client(cliEnd, &tls.Config{RootCAs: e.tls.ClientPool(), ServerName: "mx.test"})
	c = &client{t: t, conn: tc, br: bufio.NewReader(tc), n: 10}
	caps = c.ok("CAPABILITY")
	if has(caps, "STARTTLS") || has(caps, "LOGINDISABLED") || !has(caps, "AUTH=PLAIN") {
		t.Errorf("CAPABILITY after STARTTLS = %q", caps)
	}
	c.ok("AUTHENTICATE PLAIN AGFsaWNlAGh1bmdyeQ==")
	c.ok("SELECT INBOX")
	if !strings.Contains(e.trace(), "# tls: TLS 1.3") {
		t.Errorf("trace lacks the TLS upgrade:\n%s", e.trace())
	}
}

func TestBadLoginsAndNames(t *testing.T) {
	e := startIMAP(t, func(c *Config) { c.Throttle = &access.Throttle{Delay: time.Millisecond, Max: 3} })
	c := dial(t, e.addr)
	for i := 0; i < 3; i++ {
		if out := c.cmd("LOGIN alice wrong"); !has(out, "NO") {
			t.Fatalf("bad LOGIN = %q", out)
		}
	}
	if out := c.cmd("LOGIN alice hungry"); !has(out, "UNAVAILABLE") {
		t.Fatalf("LOGIN after 3 failures = %q", out)
	}
	e.srv.cfg.Throttle.Forget(access.AddrOf(c.conn.LocalAddr()))
	c.ok("LOGIN alice hungry")
	for _, bad := range []string{`"../../etc"`, `"a/b"`, `".hidden"`, `"x..y"`} {
		if out := c.cmd("CREATE %s", bad); !has(out, " NO ") {
			t.Errorf("CREATE %s = %q", bad, out)
		}
	}
	c.ok("CREATE Archive.2024")
	c.ok("RENAME Archive.2024 Archive.2025")
	if out := c.ok(`LIST "" "Archive*"`); !has(out, "Archive.2025") || has(out, "Archive.2024") {
		t.Errorf("LIST after RENAME = %q", out)
	}
	root := maildir.Root(e.data, "alice")
	if _, err := os.Stat(filepath.Join(root, ".Archive.2025", "cur")); err != nil {
		t.Errorf("the renamed folder is not on disk: %v", err)
	}
	c.ok("DELETE Archive.2025")
	if out := c.ok(`LIST "" "Archive*"`); has(out, "Archive.2025") {
		t.Errorf("LIST after DELETE = %q", out)
	}
	if _, err := os.Stat(filepath.Join(root, ".Archive.2025")); !os.IsNotExist(err) {
		t.Errorf("the deleted folder's directory is still on disk: %v", err)
	}
	// None of the refused names made a directory, inside the Maildir or
	// (through "..") outside it.
	for _, dir := range []string{root, filepath.Dir(root), e.data} {
		es, _ := os.ReadDir(dir)
		for _, en := range es {
			if n := en.Name(); strings.Contains(n, "etc") || strings.Contains(n, "hidden") || strings.Contains(n, "x..y") || n == "a" || strings.HasPrefix(n, ".a") {
				t.Errorf("a refused CREATE left %s in %s", n, dir)
			}
		}
	}
	if out := c.cmd("DELETE INBOX"); !has(out, " NO ") {
		t.Errorf("DELETE INBOX = %q", out)
	}
	c.ok("EXAMINE INBOX")
	if out := c.cmd(`STORE 1 +FLAGS (\Seen)`); !has(out, "READ-ONLY") {
		t.Errorf("STORE after EXAMINE = %q", out)
	}
	if out := c.ok("FETCH 1 BODY[]"); has(out, `\Seen`) {
		t.Errorf("FETCH BODY[] after EXAMINE set \\Seen: %q", out)
	}
}

func TestAutologout(t *testing.T) {
	e := startIMAP(t, func(c *Config) { c.Autologout = 300 * time.Millisecond })
	c := dial(t, e.addr)
	c.ok("LOGIN alice hungry")
	if l := c.line(); !strings.HasPrefix(l, "* BYE Autologout") {
		t.Errorf("after the idle time: %q", l)
	}
}
