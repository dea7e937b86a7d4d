package imap

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pimap "github.com/mailx-edu/mailx/proto/imap"
	"github.com/mailx-edu/mailx/server/access"
)

// maxLine bounds one line in either direction. go-imap refuses commands over
// 50 KiB; a longer line is passed on in pieces and not traced.
const maxLine = 64 << 10

// conn is the front end of one client connection: it copies the client's
// lines to go-imap through an in-memory pipe and go-imap's lines back,
// reporting each to the trace, and handles what needs the real connection:
// STARTTLS, the clear-text password rule and autologout.
type conn struct {
	s     *Server
	raw   net.Conn // the accepted connection
	inner net.Conn // our end of the pipe to go-imap
	trace access.Trace
	ip    netip.Addr
	trust bool // loopback

	tlsOn  atomic.Bool // implicit TLS, or after STARTTLS
	authed atomic.Bool // LOGIN or AUTHENTICATE succeeded
	utf8   atomic.Bool // the client sent ENABLE UTF8=ACCEPT

	subs substitutes // answers the front end gives itself (frontcmd.go)
	// typos counts unknown commands before login that the front end
	// answered itself (upstream's goroutine only; frontcmd.go).
	typos int
	// loginTag is the tag of a LOGIN or AUTHENTICATE whose answer has not
	// come yet: a command pipelined behind it is go-imap's to judge.
	loginTag atomic.Value // string

	injMu    sync.Mutex
	injected []string // untagged lines to send before go-imap's next line

	wmu    sync.Mutex // guards client writes and the switch to TLS
	client net.Conn   // raw, or the TLS connection over it
	cw     *bufio.Writer
	cr     *bufio.Reader

	// A synchronizing literal {n} may only follow go-imap's "+" go-ahead;
	// if go-imap answers the command instead (too big, bad state), the
	// client sends no literal and the front end must not wait for one.
	contMu  sync.Mutex
	contTag string
	contCh  chan bool

	// saslTag is the tag of an AUTHENTICATE whose exchange is under way.
	saslMu  sync.Mutex
	saslTag string

	done      chan struct{}
	closeOnce sync.Once
	// greeted is closed once go-imap's greeting has gone to the client:
	// nothing the front end answers itself (STARTTLS) may come before it.
	greeted   chan struct{}
	greetOnce sync.Once
}

func newConn(s *Server, c, inner net.Conn) *conn {
	fc := &conn{
		s: s, raw: c, inner: inner, client: c, done: make(chan struct{}), greeted: make(chan struct{}),
		cr: bufio.NewReaderSize(c, 16<<10), cw: bufio.NewWriterSize(c, 32<<10),
		trace: access.Trace{Hook: s.cfg.Trace, Session: s.cfg.SessionID(), Proto: "imap"},
		ip:    access.AddrOf(c.RemoteAddr()), trust: access.Trusted(c.RemoteAddr()),
	}
	_, isTLS := c.(*tls.Conn)
	fc.tlsOn.Store(isTLS)
	return fc
}

// clearTextOK says whether a password may be sent in clear now.
func (c *conn) clearTextOK() bool { return c.trust || c.tlsOn.Load() }

func (c *conn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.raw.Close()
		c.inner.Close()
	})
}

// bye tells the client the server is closing, then closes.
func (c *conn) bye(why string) {
	c.wmu.Lock()
	c.client.SetWriteDeadline(time.Now().Add(2 * time.Second))
	line := "* BYE " + why
	c.trace.Server(line)
	c.cw.WriteString(line + "\r\n")
	c.cw.Flush()
	c.wmu.Unlock()
	c.close()
}

// run starts both copy directions and waits for them; register hands the
// pipe's other end to go-imap.
func (c *conn) run(register func()) {
	name := "imap"
	if c.tlsOn.Load() {
		name = "imaps"
	}
	// The first and last events follow the server trace convention:
	// "connect from …" opens the session's transcript, "closed" ends it.
	c.trace.Meta("connect from %s to %s (%s)", c.raw.RemoteAddr(), c.raw.LocalAddr(), name)
	defer c.trace.Meta("closed")
	c.s.log.Debug("imap session start", "session", c.trace.Session, "client", c.raw.RemoteAddr().String())
	go register()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.downstream()
	}()
	if c.upstream() {
		// The client stopped sending (EOF) after whole commands: they
		// were passed to go-imap, followed by a LOGOUT, so their answers
		// still go out before the connection closes, as a student piping
		// commands into nc expects. Config.DrainTimeout bounds the wait (a
		// client that ended inside IDLE never sends DONE).
		select {
		case <-done:
		case <-time.After(c.s.cfg.DrainTimeout):
			c.trace.Meta("no end of the session %s after the client stopped sending; closing", c.s.cfg.DrainTimeout)
		}
	}
	c.close()
	<-done
}

// idleTimeout is how long the client may stay silent: Autologout once
// logged in, the shorter LoginTimeout before.
func (c *conn) idleTimeout() time.Duration {
	if c.authed.Load() {
		return c.s.cfg.Autologout
	}
	return c.s.cfg.LoginTimeout
}

// eofTag tags the LOGOUT the front end sends go-imap on the client's behalf
// when the client stops sending.
const eofTag = "eof"

// upstream copies client → go-imap. It returns true when the client ended
// its side cleanly between commands and go-imap was asked to log out, so
// the answers still due should be waited for.
func (c *conn) upstream() (drain bool) {
	tag := ""       // tag of the command being read
	verb := ""      // its name
	inCmd := false  // the next line continues a command after a literal
	secret := false // the command being read carries a password
	select {
	case <-c.greeted:
	case <-c.done:
		return false
	}
	for {
		idle := c.idleTimeout()
		c.raw.SetReadDeadline(time.Now().Add(idle))
		line, complete, err := readLine(c.cr)
		if err != nil {
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout() && len(line) == 0 && idle < c.idleTimeout():
				// The login completed after the shorter deadline was set
				// (go-imap answers LOGIN after upstream reads on): wait on
				// with the logged-in client's autologout.
				continue
			case errors.As(err, &ne) && ne.Timeout():
				c.trace.Meta("autologout after %s without a command", idle)
				c.bye(fmt.Sprintf("Autologout; idle for %s", idle))
			case len(line) > 0:
				c.trace.Meta("connection lost in the middle of a line")
			case errors.Is(err, io.EOF) && !inCmd:
				c.trace.Meta("the client stopped sending (end of input): answering what it sent, then logging out")
				_, werr := io.WriteString(c.inner, eofTag+" LOGOUT\r\n")
				return werr == nil
			}
			return false
		}
		if !complete {
			if _, err := c.inner.Write(line); err != nil {
				return false
			}
			continue
		}
		text := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
		// Passwords never reach the trace: LOGIN and AUTHENTICATE are
		// shown without them, with their literals and SASL responses.
		switch {
		case !inCmd && c.inSASL() && text != "*":
			c.trace.Client(access.Hidden)
		case !inCmd:
			shown, sec := access.RedactIMAP(text)
			secret = sec
			c.trace.Client(shown)
			t, rest, _ := strings.Cut(text, " ")
			if verb, _, _ := strings.Cut(rest, " "); strings.EqualFold(verb, "AUTHENTICATE") {
				c.setSASL(t)
			}
		case secret:
			c.trace.Client(access.Hidden)
		default:
			c.trace.Client(text)
		}
		n, nonSync := pimap.TrailingLiteral(text)
		if !inCmd {
			var rest string
			tag, rest, _ = strings.Cut(text, " ")
			verb, _, _ = strings.Cut(rest, " ")
			verb = strings.ToUpper(verb)
			if c.startTLS(text) {
				continue
			}
		}
		if n > maxCommandLiteral && verb != "APPEND" {
			if nonSync {
				// go-imap would refuse it and then read the literal as
				// commands: a client that sends 4 KiB unasked is not
				// following RFC 7888 §4, and the session ends.
				c.trace.Meta("a non-synchronizing literal of %d octets outside APPEND: closing", n)
				c.bye("Literals outside APPEND are limited to 4096 octets (RFC 7888)")
				return false
			}
			if inCmd {
				// Refused without "+": the command ends here for the
				// client, so it ends for go-imap too, which answers BAD.
				line = []byte(text[:strings.LastIndexByte(text, '{')] + "\r\n")
				n = -1
			}
		}
		if !inCmd {
			if repl := c.frontCommand(tag, text); repl != nil {
				if _, err := c.inner.Write(repl); err != nil {
					return false
				}
				continue
			}
		}
		var goAhead chan bool
		if n >= 0 && !nonSync {
			goAhead = make(chan bool, 1)
			c.contMu.Lock()
			c.contTag, c.contCh = tag, goAhead
			c.contMu.Unlock()
		}
		if _, err := c.inner.Write(line); err != nil {
			return false
		}
		inCmd = n >= 0
		if n < 0 {
			continue
		}
		if goAhead != nil {
			// go-imap may never answer: a quoted string left open on an
			// earlier line swallows this one. Waiting is then bounded like
			// any other idleness, or the session would hang for ever.
			wait := time.NewTimer(c.s.cfg.Autologout)
			select {
			case ok := <-goAhead:
				wait.Stop()
				if !ok {
					inCmd = false // refused: the client sends no literal
					continue
				}
			case <-c.done:
				wait.Stop()
				return false
			case <-wait.C:
				c.trace.Meta("no answer to the literal announced by %s within %s", tag, c.s.cfg.Autologout)
				c.bye(fmt.Sprintf("Autologout; no answer to the literal of %s", tag))
				return false
			}
		}
		emit := c.trace.Client
		if secret {
			emit = func(string) { c.trace.Client(access.Hidden) }
		}
		if err := c.copyLiteral(c.inner, c.cr, n, emit); err != nil {
			return false
		}
	}
}

// setSASL notes that the client's next lines, until the tagged answer to
// AUTHENTICATE, are SASL responses: credentials, hidden from the trace.
func (c *conn) setSASL(tag string) {
	c.saslMu.Lock()
	c.saslTag = tag
	c.saslMu.Unlock()
}

func (c *conn) inSASL() bool {
	c.saslMu.Lock()
	defer c.saslMu.Unlock()
	return c.saslTag != ""
}

// endSASL ends the exchange at the tagged answer go-imap sends, before the
// client can read it and send its next command.
func (c *conn) endSASL(text string) {
	c.saslMu.Lock()
	if c.saslTag != "" && strings.HasPrefix(text, c.saslTag+" ") {
		c.saslTag = ""
	}
	c.saslMu.Unlock()
}

// continuation tells a waiting upstream whether go-imap said "+" (send the
// literal) or completed the command (no literal will come).
func (c *conn) continuation(text string) {
	c.contMu.Lock()
	defer c.contMu.Unlock()
	if c.contCh == nil {
		return
	}
	switch {
	case strings.HasPrefix(text, "+"):
		c.contCh <- true
	case strings.HasPrefix(text, c.contTag+" "):
		c.contCh <- false
	default:
		return
	}
	c.contCh = nil
}

// downstream copies go-imap → client, adjusting the capability lists for
// what only the front end knows (STARTTLS, LOGINDISABLED).
func (c *conn) downstream() {
	br := bufio.NewReaderSize(c.inner, 32<<10)
	for {
		line, complete, err := readLine(br)
		if err != nil {
			c.close()
			return
		}
		c.wmu.Lock()
		// A tagged line ends a command and "+" asks for the client's next
		// line: nothing follows until the client sends more, so either
		// goes out at once instead of after coalesce.
		final := false
		if complete {
			text := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
			final = len(text) > 0 && text[0] != '*'
			if t, _ := c.loginTag.Load().(string); t != "" && strings.HasPrefix(text, t+" ") {
				c.loginTag.Store("")
			}
			for _, l := range c.takeInjected() {
				c.trace.Server(l)
				c.cw.WriteString(l + "\r\n")
			}
			if lines, ok := c.subs.take(text); ok {
				// The completion of a NOOP standing in for a command the
				// front end answers itself (frontcmd.go).
				c.continuation(lines[len(lines)-1])
				for _, l := range lines {
					c.trace.Server(l)
					c.cw.WriteString(l + "\r\n")
				}
				c.wmu.Unlock()
				if br.Buffered() == 0 {
					c.wmu.Lock()
					werr := c.cw.Flush()
					c.wmu.Unlock()
					if werr != nil {
						c.close()
						return
					}
				}
				continue
			}
			if strings.Contains(text, routeMarker) {
				text = restoreRoutes(text)
				line = []byte(text + "\r\n")
			}
			if fixed := c.fixCaps(text); fixed != text {
				text, line = fixed, []byte(fixed+"\r\n")
			}
			c.trace.Server(text)
			c.continuation(text)
			c.endSASL(text)
			if strings.HasPrefix(text, "* BYE") {
				c.trace.Meta("server ends the session")
			}
			c.client.SetWriteDeadline(time.Now().Add(2 * time.Minute))
			c.cw.Write(line)
			c.greetOnce.Do(func() { c.cw.Flush(); close(c.greeted) })
			if n, _ := pimap.TrailingLiteral(text); n >= 0 {
				if err := c.copyLiteral(c.cw, br, n, c.trace.Server); err != nil {
					c.wmu.Unlock()
					c.close()
					return
				}
			}
		} else {
			c.cw.Write(line)
		}
		c.wmu.Unlock()
		if br.Buffered() == 0 && (final || !c.more(br)) {
			c.wmu.Lock()
			werr := c.cw.Flush()
			c.wmu.Unlock()
			if werr != nil {
				c.close()
				return
			}
		}
	}
}

// coalesce is how long downstream waits for go-imap's next response before
// sending what it has. go-imap flushes after every response; without this,
// FETCH 1:* on 10,000 messages would cost 10,000 TCP writes.
const coalesce = 200 * time.Microsecond

// more reports whether go-imap sends more data within coalesce.
func (c *conn) more(br *bufio.Reader) bool {
	c.inner.SetReadDeadline(time.Now().Add(coalesce))
	_, err := br.Peek(1)
	c.inner.SetReadDeadline(time.Time{})
	return err == nil
}

// readLine reads up to and including LF, at most maxLine octets; complete is
// false for a piece of a longer line.
func readLine(br *bufio.Reader) (line []byte, complete bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if err == bufio.ErrBufferFull {
			if len(line) >= maxLine {
				return line, false, nil
			}
			continue
		}
		if err != nil {
			return line, false, err
		}
		return line, true, nil
	}
}

// copyLiteral passes n octets of a literal on, tracing them line by line
// when short and summarising them when long.
func (c *conn) copyLiteral(dst io.Writer, src *bufio.Reader, n int64, emit func(string)) error {
	if !c.trace.Enabled() || n > int64(c.s.cfg.TraceLiteral) {
		if c.trace.Enabled() {
			c.trace.Meta("(%d octets of literal data not shown)", n)
		}
		_, err := io.CopyN(dst, src, n)
		return err
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(src, buf); err != nil {
		return err
	}
	if len(buf) > 0 {
		for _, l := range strings.Split(strings.TrimSuffix(string(buf), "\r\n"), "\r\n") {
			emit(l)
		}
	}
	_, err := dst.Write(buf)
	return err
}

// startTLS handles a STARTTLS command itself (go-imap, behind the pipe,
// cannot): it answers, discards anything the client pipelined in clear (the
// STARTTLS command injection attack), and switches the connection to TLS.
// It returns false for lines that are not STARTTLS.
func (c *conn) startTLS(line string) bool {
	tag, rest, _ := strings.Cut(line, " ")
	if !strings.EqualFold(strings.TrimSpace(rest), "STARTTLS") || tag == "" {
		return false
	}
	reply := func(s string) {
		c.wmu.Lock()
		c.trace.Server(s)
		c.cw.WriteString(s + "\r\n")
		c.cw.Flush()
		c.wmu.Unlock()
	}
	switch {
	case c.s.cfg.TLS == nil:
		reply(tag + " NO STARTTLS is not available on this server")
		return true
	case c.tlsOn.Load():
		reply(tag + " BAD the connection is already encrypted")
		return true
	case c.authed.Load():
		reply(tag + " BAD STARTTLS is only allowed before login")
		return true
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ok := tag + " OK Begin TLS negotiation now"
	c.trace.Server(ok)
	c.cw.WriteString(ok + "\r\n")
	if err := c.cw.Flush(); err != nil {
		c.close()
		return true
	}
	if n := c.cr.Buffered(); n > 0 {
		c.cr.Discard(n)
		c.trace.Meta("discarded %d octets sent in clear after STARTTLS (possible command injection)", n)
	}
	tc := tls.Server(c.raw, c.s.cfg.TLS)
	tc.SetDeadline(time.Now().Add(30 * time.Second))
	if err := tc.Handshake(); err != nil {
		c.trace.Meta("TLS handshake failed: %v", err)
		c.close()
		return true
	}
	tc.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	c.client = tc
	c.cr.Reset(tc)
	c.cw.Reset(tc)
	c.tlsOn.Store(true)
	c.trace.Meta("tls: %s, %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	return true
}

// fixCaps adjusts a capability list (in "* CAPABILITY …" or a "[CAPABILITY
// …]" response code) for the real connection: STARTTLS is offered when it
// is possible, and before TLS off loopback AUTH=PLAIN gives way to
// LOGINDISABLED (RFC 9051 §6.2.3).
func (c *conn) fixCaps(line string) string {
	start := -1
	end := len(line)
	if strings.HasPrefix(line, "* CAPABILITY ") {
		start = len("* CAPABILITY ")
	} else if i := strings.Index(line, "[CAPABILITY "); i >= 0 && strings.IndexByte(line, ' ') < i {
		start = i + len("[CAPABILITY ")
		j := strings.IndexByte(line[start:], ']')
		if j < 0 {
			return line
		}
		end = start + j
	}
	if start < 0 {
		return line
	}
	caps := strings.Fields(line[start:end])
	authed := c.authed.Load()
	var out []string
	seen := map[string]bool{}
	for _, cp := range caps {
		if strings.HasPrefix(strings.ToUpper(cp), "AUTH=") && !c.clearTextOK() {
			continue
		}
		if strings.EqualFold(cp, "LITERAL-") {
			// go-imap takes non-synchronizing literals of any size (up to
			// the command's own limit), which is LITERAL+ (RFC 7888 §3).
			cp = "LITERAL+"
		}
		if seen[strings.ToUpper(cp)] {
			continue
		}
		seen[strings.ToUpper(cp)] = true
		out = append(out, cp)
		if strings.EqualFold(cp, "IMAP4rev1") {
			out = append(out, "ID") // answered by the front end (frontcmd.go)
			if c.s.cfg.TLS != nil && !c.tlsOn.Load() && !authed {
				out = append(out, "STARTTLS")
			}
			if !c.clearTextOK() && !authed {
				out = append(out, "LOGINDISABLED")
			}
		}
	}
	return line[:start] + strings.Join(out, " ") + line[end:]
}
