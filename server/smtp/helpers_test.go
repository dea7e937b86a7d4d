package smtp

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	smtp "github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/accounts"
	"github.com/mailx-edu/mailx/server/queue"
	"github.com/mailx-edu/mailx/server/tlscert"
)

// fakeQueue keeps committed messages in memory.
type fakeQueue struct {
	mu      sync.Mutex
	n       int
	msgs    []fakeMsg
	aborted int
	fail    error // Commit returns it when set
	// finish, when set, makes the work Commit leaves for after the reply.
	finish func(id string) func()
}

type fakeMsg struct {
	ID   string
	Env  queue.Envelope
	Data string
}

type fakeWriter struct {
	q   *fakeQueue
	id  string
	buf bytes.Buffer
}

func (q *fakeQueue) Begin() (MessageWriter, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.n++
	return &fakeWriter{q: q, id: fmt.Sprintf("Q%d", q.n)}, nil
}

func (w *fakeWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }
func (w *fakeWriter) ID() string                  { return w.id }
func (w *fakeWriter) Abort() {
	w.q.mu.Lock()
	w.q.aborted++
	w.q.mu.Unlock()
}
func (w *fakeWriter) Commit(env queue.Envelope) (string, func(), error) {
	w.q.mu.Lock()
	defer w.q.mu.Unlock()
	if w.q.fail != nil {
		return "", nil, w.q.fail
	}
	w.q.msgs = append(w.q.msgs, fakeMsg{ID: w.id, Env: env, Data: w.buf.String()})
	if w.q.finish != nil {
		return w.id, w.q.finish(w.id), nil
	}
	return w.id, nil, nil
}

func (q *fakeQueue) messages() []fakeMsg {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]fakeMsg(nil), q.msgs...)
}

var (
	testDirVal *accounts.Directory
	testCert   *tlscert.Result
)

func TestMain(m *testing.M) {
	accounts.HashCost = bcrypt.MinCost
	users := map[string][]byte{}
	for _, c := range accounts.Practice {
		h, _ := accounts.Hash(c.Password)
		users[c.Name] = h
	}
	d, err := accounts.New(accounts.Config{Domains: []string{"mailx.test"}, Users: users})
	if err != nil {
		panic(err)
	}
	testDirVal = d
	dir, err := os.MkdirTemp("", "mailx-smtp-test-")
	if err != nil {
		panic(err)
	}
	testCert, err = tlscert.LoadOrCreate(dir, []string{"mailx.test"})
	if err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func testDirectory(t *testing.T) *accounts.Directory { return testDirVal }

// testEnv is one in-process server on 127.0.0.1:0.
type testEnv struct {
	srv    *Server
	q      *fakeQueue
	addr   string
	events testkit.Recorder[transcript.Event]
}

func (e *testEnv) trace() []transcript.Event { return e.events.All() }

// hasMeta reports whether a Meta event contains s.
func (e *testEnv) hasMeta(s string) bool {
	for _, ev := range e.trace() {
		if ev.Dir == transcript.Meta && strings.Contains(ev.Line, s) {
			return true
		}
	}
	return false
}

// startServer starts a server; mutate adjusts its config. remote, when
// set, makes every connection look as if it came from that address: the
// listener reports it as RemoteAddr, exactly what the server consults to
// decide whether a client is on loopback.
func startServer(t *testing.T, mutate func(*Config), remote ...string) *testEnv {
	t.Helper()
	env := &testEnv{q: &fakeQueue{}}
	cfg := Config{
		Hostname:  "mx.mailx.test",
		Directory: testDirectory(t),
		Queue:     env.q,
		TLS:       testCert.ServerConfig(),
		Limits:    Limits{AuthFailDelay: time.Millisecond},
		Now:       func() time.Time { return time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC) },
		Trace:     env.events.Add,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	env.srv = New(cfg)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env.addr = l.Addr().String()
	if len(remote) > 0 {
		l = &remoteListener{Listener: l, remote: remote[0]}
	}
	testkit.ServeOn(t, env.srv, l)
	return env
}

type remoteListener struct {
	net.Listener
	remote string
}

func (l *remoteListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &remoteConn{Conn: c, addr: &net.TCPAddr{IP: net.ParseIP(l.remote), Port: 40000}}, nil
}

type remoteConn struct {
	net.Conn
	addr net.Addr
}

func (c *remoteConn) RemoteAddr() net.Addr { return c.addr }

// client is a raw SMTP client for tests: it sends exact bytes.
type client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	cl := &client{t: t, conn: c, r: bufio.NewReader(c)}
	return cl
}

// connect dials and reads the banner.
func connect(t *testing.T, addr string) *client {
	t.Helper()
	c := dial(t, addr)
	c.expect(220)
	return c
}

func (c *client) raw(s string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.t.Fatalf("write %q: %v", s, err)
	}
}

// cmd sends one CRLF line.
func (c *client) cmd(s string) { c.t.Helper(); c.raw(s + "\r\n") }

// reply reads one whole reply.
func (c *client) reply() smtp.Reply {
	c.t.Helper()
	var b smtp.ReplyBuilder
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading reply: %v (so far %v)", err, b.Reply())
		}
		done, err := b.Add(strings.TrimRight(line, "\r\n"))
		if err != nil {
			c.t.Fatalf("bad reply line %q: %v", line, err)
		}
		if done {
			return b.Reply()
		}
	}
}

// expect reads a reply and checks its code; it returns the reply.
func (c *client) expect(code int) smtp.Reply {
	c.t.Helper()
	r := c.reply()
	if r.Code != code {
		c.t.Fatalf("got %q, want code %d", r.Error(), code)
	}
	return r
}

// expectEnh checks code and enhanced code.
func (c *client) expectEnh(code int, enh string) smtp.Reply {
	c.t.Helper()
	r := c.expect(code)
	if r.Enhanced != enh {
		c.t.Fatalf("got %q, want enhanced code %s", r.Error(), enh)
	}
	return r
}

// do sends a command and expects a code.
func (c *client) do(line string, code int) smtp.Reply {
	c.t.Helper()
	c.cmd(line)
	return c.expect(code)
}

// startTLS upgrades the connection after a 220 to STARTTLS.
func (c *client) startTLS() {
	c.t.Helper()
	tc := tls.Client(c.conn, &tls.Config{RootCAs: testCert.ClientPool(), ServerName: "mailx.test"})
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	c.conn = tc
	c.r = bufio.NewReader(tc)
}

// closed reports whether the server closes the connection within 10
// seconds; a server that keeps it open and silent, or sends more, makes it
// false.
func (c *client) closed() bool {
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := c.r.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}
