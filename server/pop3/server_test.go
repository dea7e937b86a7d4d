package pop3

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	p3 "github.com/mailx-edu/mailx/proto/pop3"
	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/access"
	"github.com/mailx-edu/mailx/server/maildir"
	"github.com/mailx-edu/mailx/server/tlscert"
)

// fakeAccounts is a password table standing in for server/accounts.
type fakeAccounts map[string]string

func (a fakeAccounts) Authenticate(name, pass string) bool {
	u, ok := a.Resolve(name)
	if !strings.Contains(name, "@") {
		u, ok = strings.ToLower(name), true
	}
	p, found := a[u]
	return ok && found && p == pass
}

func (a fakeAccounts) Resolve(addr string) (string, bool) {
	local, _, _ := strings.Cut(addr, "@")
	local = strings.ToLower(local)
	_, ok := a[local]
	return local, ok
}

var practice = fakeAccounts{"alice": "hungry", "bob": "burger"}

type env struct {
	data   string
	addr   string
	srv    *Server
	events testkit.Recorder[transcript.Event]
}

// the two messages of the seeds' POP3 session; the second has a line that
// must be byte-stuffed.
const (
	msg1 = "From: bob@mx.test\r\nTo: alice@mx.test\r\nSubject: lunch\r\n\r\nAre you hungry?\r\n"
	msg2 = "From: bob@mx.test\r\nTo: alice@mx.test\r\nSubject: dots\r\n\r\n.hidden line\r\n..two\r\nend\r\n"
)

func startPOP3(t *testing.T, mod func(*Config)) *env {
	t.Helper()
	e := &env{data: t.TempDir()}
	for _, m := range []string{msg1, msg2} {
		if _, err := maildir.Deliver(maildir.Root(e.data, "alice"), strings.NewReader(m), maildir.DeliverOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{MailboxServer: access.MailboxServer{
		Hostname: "mx.test",
		Accounts: practice,
		MailRoot: func(u string) string { return maildir.Root(e.data, u) },
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

// client is a minimal scripted POP3 client for the tests.
type client struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	cl := &client{t: t, conn: c, br: bufio.NewReader(c)}
	if g := cl.line(); !strings.HasPrefix(g, "+OK") {
		t.Fatalf("greeting = %q", g)
	}
	return cl
}

func (c *client) line() string {
	c.t.Helper()
	l, err := c.br.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (got %q)", err, l)
	}
	if !strings.HasSuffix(l, "\r\n") {
		c.t.Fatalf("line %q does not end in CRLF", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// cmd sends a command and returns the status line.
func (c *client) cmd(line string) string {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(line + "\r\n")); err != nil {
		c.t.Fatal(err)
	}
	return c.line()
}

// multi sends a command expecting a multi-line answer and returns the raw
// body lines (still stuffed) without the final ".".
func (c *client) multi(line string) (string, []string) {
	c.t.Helper()
	status := c.cmd(line)
	if !strings.HasPrefix(status, "+OK") {
		return status, nil
	}
	var body []string
	for {
		l := c.line()
		if l == "." {
			return status, body
		}
		body = append(body, l)
	}
}

func (c *client) expect(line, prefix string) string {
	c.t.Helper()
	got := c.cmd(line)
	if !strings.HasPrefix(got, prefix) {
		c.t.Fatalf("C: %s\nS: %s\nwant a reply starting with %q", line, got, prefix)
	}
	return got
}

func inbox(t *testing.T, data string) []maildir.Message {
	t.Helper()
	mb, err := maildir.OpenMailbox(maildir.Root(data, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := mb.Folder(maildir.Inbox)
	msgs, err := f.Messages()
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// TestSeedSession runs the course notes' session: user alice / pass hungry /
// list / retr 1 / dele 1 / retr 2 / dele 2 / quit, and checks the maildrop
// is empty afterwards.
func TestSeedSession(t *testing.T) {
	e := startPOP3(t, nil)
	c := dial(t, e.addr)
	c.expect("user alice", "+OK")
	c.expect("pass hungry", "+OK")
	status, list := c.multi("list")
	if !strings.HasPrefix(status, "+OK") || len(list) != 2 {
		t.Fatalf("LIST = %q %q", status, list)
	}
	if want := []string{"1 " + itoa(len(msg1)), "2 " + itoa(len(msg2))}; strings.Join(list, ",") != strings.Join(want, ",") {
		t.Errorf("LIST = %q, want exact CRLF sizes %q", list, want)
	}
	status, body := c.multi("retr 1")
	if got := strings.Join(body, "\r\n") + "\r\n"; got != msg1 || status != "+OK "+itoa(len(msg1))+" octets" {
		t.Errorf("RETR 1 = %q / %q", status, got)
	}
	c.expect("dele 1", "+OK")
	_, body = c.multi("retr 2")
	if body[4] != "..hidden line" || body[5] != "...two" {
		t.Errorf("RETR 2 body = %q, want lines starting with '.' byte-stuffed", body)
	}
	c.expect("dele 2", "+OK")
	c.expect("quit", "+OK")
	if msgs := inbox(t, e.data); len(msgs) != 0 {
		t.Errorf("after QUIT the maildrop holds %d messages, want 0", len(msgs))
	}
}

// TestDropBeforeQuitKeepsMessages: no UPDATE state, no deletion.
func TestDropBeforeQuitKeepsMessages(t *testing.T) {
	e := startPOP3(t, nil)
	c := dial(t, e.addr)
	c.expect("USER alice", "+OK")
	c.expect("PASS hungry", "+OK")
	c.multi("RETR 1")
	c.expect("DELE 1", "+OK")
	c.expect("DELE 2", "+OK")
	c.conn.Close()
	// The server releases the lock once it notices; a new session gets in.
	var r string
	testkit.Eventually(t, 30*time.Second, func() bool {
		c2 := dial(t, e.addr)
		defer c2.conn.Close()
		c2.expect("USER alice", "+OK")
		if r = c2.cmd("PASS hungry"); !strings.HasPrefix(r, "+OK") {
			return false
		}
		c2.expect("QUIT", "+OK")
		return true
	}, "maildrop still locked: %s", testkit.Later(func() any { return r }))
	msgs := inbox(t, e.data)
	if len(msgs) != 2 {
		t.Fatalf("after a dropped connection the maildrop holds %d messages, want 2", len(msgs))
	}
	if msgs[0].Flags&maildir.Seen == 0 {
		t.Errorf("RETR did not mark message 1 seen")
	}
}

func TestInUseAndRset(t *testing.T) {
	e := startPOP3(t, nil)
	a := dial(t, e.addr)
	a.expect("USER alice", "+OK")
	a.expect("PASS hungry", "+OK")
	b := dial(t, e.addr)
	b.expect("USER alice", "+OK")
	b.expect("PASS hungry", "-ERR [IN-USE]")
	b.expect("USER bob", "+OK")
	b.expect("PASS burger", "+OK bob's maildrop has 0 messages")
	a.expect("DELE 1", "+OK")
	a.expect("RETR 1", "-ERR message 1 is marked deleted")
	a.expect("STAT", "+OK 1 "+itoa(len(msg2)))
	a.expect("RSET", "+OK")
	a.expect("STAT", "+OK 2 "+itoa(len(msg1)+len(msg2)))
	a.expect("LIST 3", "-ERR no such message")
	a.expect("LIST x", "-ERR")
	a.expect("USER alice", "-ERR Already logged in")
	_, top := a.multi("TOP 1 0")
	if len(top) != 4 || top[3] != "" {
		t.Errorf("TOP 1 0 = %q, want the 3 header lines and the blank line", top)
	}
	_, uidl := a.multi("UIDL")
	a.expect("QUIT", "+OK")
	// UIDLs are the same in the next session.
	c := dial(t, e.addr)
	c.expect("USER alice", "+OK")
	c.expect("PASS hungry", "+OK")
	_, uidl2 := c.multi("UIDL")
	if strings.Join(uidl, ",") != strings.Join(uidl2, ",") || len(uidl) != 2 {
		t.Errorf("UIDL changed across sessions: %q then %q", uidl, uidl2)
	}
}

func TestAuthPlainAndBadLogins(t *testing.T) {
	e := startPOP3(t, nil)
	c := dial(t, e.addr)
	c.expect("RETR 1", "-ERR Log in first")
	c.expect("HELO", "-ERR unknown command")
	c.expect("APOP alice 0123", "-ERR APOP is not offered")
	c.expect("USER alice", "+OK")
	c.expect("PASS wrong", "-ERR [AUTH]")
	_, mechs := c.multi("AUTH")
	if len(mechs) != 1 || mechs[0] != "PLAIN" {
		t.Errorf("AUTH mechanisms = %q", mechs)
	}
	c.expect("AUTH PLAIN", "+ ")
	c.expect(base64.StdEncoding.EncodeToString([]byte("\x00alice\x00hungry")), "+OK alice's maildrop has 2")
	c.expect("QUIT", "+OK")
}

func TestThrottleBlocksGuessing(t *testing.T) {
	e := startPOP3(t, func(c *Config) { c.Throttle = &access.Throttle{Delay: time.Millisecond, Max: 3} })
	c := dial(t, e.addr)
	for i := 0; i < 3; i++ {
		c.expect("USER alice", "+OK")
		c.expect("PASS guess", "-ERR [AUTH]")
	}
	c.expect("USER alice", "+OK")
	c.expect("PASS hungry", "-ERR [SYS/TEMP] too many failed logins")
}

func TestAPOPWithSecret(t *testing.T) {
	e := startPOP3(t, func(c *Config) {
		c.APOPSecret = func(u string) (string, bool) { return "tanstaaf", u == "alice" }
	})
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	greeting, _ := br.ReadString('\n')
	ts := greeting[strings.IndexByte(greeting, '<') : strings.IndexByte(greeting, '>')+1]
	c := &client{t: t, conn: conn, br: br}
	c.expect("APOP alice "+p3.APOPDigest(ts, "wrong"), "-ERR [AUTH]")
	c.expect("APOP alice "+p3.APOPDigest(ts, "tanstaaf"), "+OK")
}

// TestClearTextRefusedOffLoopback drives a session over an in-memory pipe,
// whose peer is not loopback: USER and AUTH are refused until STLS.
func TestClearTextRefusedOffLoopback(t *testing.T) {
	cert, err := tlscert.LoadOrCreate(t.TempDir(), []string{"mx.test"})
	if err != nil {
		t.Fatal(err)
	}
	e := startPOP3(t, func(c *Config) { c.TLS = cert.ServerConfig() })
	srvEnd, cliEnd := net.Pipe()
	e.srv.start(srvEnd)
	defer cliEnd.Close()
	cliEnd.SetDeadline(time.Now().Add(20 * time.Second))
	c := &client{t: t, conn: cliEnd, br: bufio.NewReader(cliEnd)}
	c.line()
	_, caps := c.multi("CAPA")
	if strings.Contains(strings.Join(caps, ","), "USER") || !strings.Contains(strings.Join(caps, ","), "STLS") {
		t.Errorf("CAPA off loopback = %q, want STLS and no USER", caps)
	}
	c.expect("USER alice", "-ERR [AUTH]")
	c.expect("AUTH PLAIN", "-ERR [AUTH]")
	c.expect("STLS", "+OK")
	tc := tls.Client(cliEnd, &tls.Config{RootCAs: cert.ClientPool(), ServerName: "mx.test"})
	c = &client{t: t, conn: tc, br: bufio.NewReader(tc)}
	c.expect("USER alice", "+OK")
	c.expect("PASS hungry", "+OK")
	c.expect("QUIT", "+OK")
}

func TestTraceAndTimeout(t *testing.T) {
	e := startPOP3(t, func(c *Config) { c.Timeout = 200 * time.Millisecond })
	c := dial(t, e.addr)
	c.expect("USER alice", "+OK")
	if l := c.line(); !strings.Contains(l, "autologout") {
		t.Errorf("after the timeout: %q", l)
	}
	var seen []string
	for _, ev := range e.events.All() {
		if ev.Proto != "pop3" || ev.Session == "" {
			t.Errorf("event %+v lacks proto or session", ev)
		}
		seen = append(seen, ev.Dir.String()+" "+ev.Line)
	}
	joined := strings.Join(seen, "\n")
	for _, want := range []string{"C USER alice", "S +OK mailx POP3 server ready", "# autologout"} {
		if !strings.Contains(joined, want) {
			t.Errorf("trace lacks %q:\n%s", want, joined)
		}
	}
}

func TestLongLineRefused(t *testing.T) {
	e := startPOP3(t, nil)
	c := dial(t, e.addr)
	c.expect("USER "+strings.Repeat("a", 5000), "-ERR command line too long")
	c.expect("NOOP", "-ERR Log in first")
}

func itoa(n int) string { return strconv.Itoa(n) }
