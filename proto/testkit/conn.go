package testkit

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"time"
)

// Conn is a line-oriented loopback connection for tests that speak a
// protocol by hand and must see exactly what goes over the wire. Every read
// and write is bounded by a deadline (set at Dial, renewed with Deadline), so
// a server that never answers fails the test instead of hanging it.
type Conn struct {
	T    TB
	Conn net.Conn      // the connection; replace it (and R) after STARTTLS
	R    *bufio.Reader // reads from Conn
}

// Dial connects to addr (a loopback address) within 5 seconds and gives
// every later read and write 30 seconds, after which they fail. The
// connection is closed in t.Cleanup.
func Dial(t TB, addr string) *Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
		return nil
	}
	return Wrap(t, c)
}

// Wrap is Dial for a connection made another way (net.Pipe, TLS, a source
// address of its own choosing).
func Wrap(t TB, c net.Conn) *Conn {
	t.Helper()
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &Conn{T: t, Conn: c, R: bufio.NewReader(c)}
}

// Deadline gives the next reads and writes d from now.
func (c *Conn) Deadline(d time.Duration) { c.Conn.SetDeadline(time.Now().Add(d)) }

// Line reads one line and returns it without its line ending. It fails the
// test on an error, and when the line does not end in CRLF (the line ending
// SMTP, POP3 and IMAP require).
func (c *Conn) Line() string {
	c.T.Helper()
	l, err := c.R.ReadString('\n')
	if err != nil {
		c.T.Fatalf("read: %v (got %q)", err, l)
		return ""
	}
	if !strings.HasSuffix(l, "\r\n") {
		c.T.Fatalf("line %q does not end in CRLF", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// Raw writes s as it is.
func (c *Conn) Raw(s string) {
	c.T.Helper()
	if _, err := c.Conn.Write([]byte(s)); err != nil {
		c.T.Fatalf("write %q: %v", s, err)
	}
}

// Send writes one line, formatted, followed by CRLF.
func (c *Conn) Send(format string, args ...any) {
	c.T.Helper()
	c.Raw(fmt.Sprintf(format, args...) + "\r\n")
}

// Reply reads one reply in the SMTP shape (RFC 5321 §4.2.1: "250-..."
// lines continue, "250 ..." ends it) and returns its lines.
func (c *Conn) Reply() []string {
	c.T.Helper()
	var lines []string
	for {
		l := c.Line()
		lines = append(lines, l)
		if len(l) < 4 || l[3] != '-' {
			return lines
		}
	}
}

// Exchange sends line (nothing when it is "", to read a greeting) and reads
// a reply in the SMTP shape, failing the test unless every line of it starts
// with code (such as "250" or "5"). It returns the reply's lines.
func (c *Conn) Exchange(line, code string) []string {
	c.T.Helper()
	if line != "" {
		c.Send("%s", line)
	}
	r := c.Reply()
	for _, l := range r {
		if !strings.HasPrefix(l, code) {
			c.T.Fatalf("after %q: got %q, want %s", line, r, code)
			break
		}
	}
	return r
}
