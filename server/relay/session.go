package relay

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"golang.org/x/net/idna"

	smtp "github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/queue"
)

// maxTracedDataLines is how many lines of message text the trace shows
// before summarising the rest: enough for the header and the start of the
// body, which is what a student looks at.
const maxTracedDataLines = 60

// conv is one SMTP conversation from the client's side.
type conv struct {
	conn  net.Conn
	r     *bufio.Reader
	w     *bufio.Writer
	state smtp.State
	tr    func(transcript.Dir, string)
	to    Timeouts
}

func newConv(conn net.Conn, tr func(transcript.Dir, string), to Timeouts) *conv {
	cv := &conv{state: smtp.Connected, tr: tr, to: to}
	cv.attach(conn)
	return cv
}

// attach (re)binds the conversation to conn, after STARTTLS.
func (cv *conv) attach(conn net.Conn) {
	cv.conn = conn
	cv.r = bufio.NewReaderSize(conn, 4096)
	cv.w = bufio.NewWriter(deadlineWriter{conn, cv.to.Block})
}

// send writes one command line without flushing (PIPELINING groups several).
// It refuses what the state table says the server would refuse: that would
// be a bug in this client, not the server's fault.
func (cv *conv) send(line string, expect smtp.State) error {
	verb, _ := smtp.Verb(line)
	if !smtp.Allowed(verb, expect) {
		return fmt.Errorf("relay: internal error: %s is not allowed in state %s", verb, expect)
	}
	cv.tr(transcript.Client, line)
	_, err := cv.w.WriteString(line + "\r\n")
	return err
}

// read reads one reply within timeout and moves the state for verb.
func (cv *conv) read(verb string, timeout time.Duration) (smtp.Reply, error) {
	cv.conn.SetReadDeadline(time.Now().Add(timeout))
	r, err := readReply(cv.r, func(l string) { cv.tr(transcript.Server, l) })
	if err != nil {
		return r, err
	}
	cv.state = smtp.Next(cv.state, verb, r.Code)
	return r, nil
}

// cmd sends one command and reads its reply.
func (cv *conv) cmd(line string, timeout time.Duration) (smtp.Reply, error) {
	if err := cv.send(line, cv.state); err != nil {
		return smtp.Reply{}, err
	}
	if err := cv.w.Flush(); err != nil {
		return smtp.Reply{}, err
	}
	verb, _ := smtp.Verb(line)
	return cv.read(verb, timeout)
}

// quit ends the session politely; its answer does not matter any more.
func (cv *conv) quit() {
	if cv.state == smtp.Closed || cv.state == smtp.InData {
		return
	}
	t := cv.to.Command
	if t > 10*time.Second {
		// The message is already decided; do not hold a worker for minutes
		// waiting for a goodbye.
		t = 10 * time.Second
	}
	cv.cmd("QUIT", t)
}

// deadlineWriter sets a write deadline before each write, so a server that
// stops reading cannot hold the client for more than one block timeout.
type deadlineWriter struct {
	c net.Conn
	d time.Duration
}

func (w deadlineWriter) Write(p []byte) (int, error) {
	w.c.SetWriteDeadline(time.Now().Add(w.d))
	return w.c.Write(p)
}

// failure builds a Result written by the client (not a server reply).
func failure(host string, code int, enhanced, format string, args ...any) queue.Result {
	return queue.Result{Code: code, Host: host, Reply: fmt.Sprintf("%d %s %s", code, enhanced, fmt.Sprintf(format, args...))}
}

// fromReply turns a server reply into a Result.
func fromReply(host string, r smtp.Reply) queue.Result {
	return queue.Result{Code: r.Code, Host: host, Reply: r.Error()}
}

// session holds one conversation with target t. It returns one Result per
// recipient, and next true when the caller should try the next exchanger
// instead (the first Result then says why this one failed).
func (c *Client) session(ctx context.Context, sess string, tr func(transcript.Dir, string), t target, msg *queue.Message, rcpts []string) ([]queue.Result, bool) {
	return c.sessionTLS(ctx, sess, tr, t, msg, rcpts, !c.cfg.NoTLS)
}

// sessionTLS is session with STARTTLS on or off: the steps of an SMTP
// client session in order. Connect; read the greeting and say EHLO (greet);
// upgrade to TLS if offered (startTLS), saying EHLO again; check what the
// message needs of the server (announce); then the mail transaction.
func (c *Client) sessionTLS(ctx context.Context, sess string, tr func(transcript.Dir, string), t target, msg *queue.Message, rcpts []string, useTLS bool) ([]queue.Result, bool) {
	host := t.addr
	if t.host != "" && !isIP(t.host) {
		host = t.host + "[" + t.addr + "]"
	}
	all := func(r queue.Result) []queue.Result { return repeat(r, len(rcpts)) }
	conn, res, ok := c.connect(ctx, tr, t.addr, host)
	if !ok {
		return all(res), true
	}
	local := conn.LocalAddr().String()
	hop := c.cfg.Hops.register(local, sess, c.cfg.Hostname)
	defer c.cfg.Hops.forget(local)
	// Both close whichever connection is current: the TCP one, or the TLS
	// one on top of it after STARTTLS.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer func() { conn.Close() }()
	if hop != "" {
		tr(transcript.Meta, fmt.Sprintf("connected from %s to %s: %s", local, conn.RemoteAddr(), HopLine(hop)))
	} else {
		tr(transcript.Meta, fmt.Sprintf("connected from %s to %s", local, conn.RemoteAddr()))
	}

	cv := newConv(conn, tr, c.to)
	lost := func(when string, err error) queue.Result {
		tr(transcript.Meta, "connection lost "+when+": "+err.Error())
		return failure(host, 451, "4.4.2", "connection to %s lost %s: %s", host, when, netError(err))
	}
	ext, res, ok := c.greet(cv, host, lost)
	if !ok {
		return all(res), true
	}
	if _, offered := ext["STARTTLS"]; offered && useTLS {
		tconn, tlsExt, res, outcome := c.startTLS(cv, conn, t, host, lost)
		switch outcome {
		case tlsFailed:
			return all(res), true
		case tlsAgainPlain:
			conn.Close()
			return c.sessionTLS(ctx, sess, tr, t, msg, rcpts, false)
		case tlsOn:
			conn, ext = tconn, tlsExt
		}
	}
	if ext, res, ok = c.announce(cv, host, ext, lost); !ok {
		return all(res), true
	}
	return c.transaction(cv, host, ext, msg, rcpts, lost)
}

// connect dials addr within the connect timeout. A failure is a temporary
// one for every recipient (451 4.4.1): the next exchanger may answer.
func (c *Client) connect(ctx context.Context, tr func(transcript.Dir, string), addr, host string) (net.Conn, queue.Result, bool) {
	tr(transcript.Meta, "connecting to "+host)
	dctx, cancel := context.WithTimeout(ctx, c.to.Connect)
	conn, err := c.cfg.Dial(dctx, "tcp", addr)
	cancel()
	if err != nil {
		tr(transcript.Meta, "cannot connect: "+err.Error())
		return nil, failure(host, 451, "4.4.1", "cannot connect to %s: %s", host, netError(err)), false
	}
	return conn, queue.Result{}, true
}

// greet reads the server's greeting and says EHLO (or HELO). A greeting
// other than 220 (RFC 5321 §4.2: 554 means "no service here") ends the
// session politely; the caller tries the next exchanger.
func (c *Client) greet(cv *conv, host string, lost func(string, error) queue.Result) (map[string][]string, queue.Result, bool) {
	greeting, err := cv.read("", c.to.Greeting)
	if err != nil {
		return nil, lost("before the greeting", err), false
	}
	if greeting.Code != 220 {
		cv.tr(transcript.Meta, "the server does not want to talk: trying the next exchanger, if any")
		cv.quit()
		return nil, fromReply(host, greeting), false
	}
	return c.hello(cv, host, lost)
}

// tlsOutcome is how a STARTTLS attempt ended.
type tlsOutcome int

const (
	tlsOn         tlsOutcome = iota // encrypted, and EHLO said again over TLS
	tlsDeclined                     // the server refused STARTTLS: go on in clear text
	tlsAgainPlain                   // the handshake failed: connect again without TLS
	tlsFailed                       // the connection was lost or EHLO failed: the Result says why
)

// startTLS asks for TLS (RFC 3207) and, once the handshake is done, says
// EHLO again, as the extensions may differ over TLS. Opportunistic TLS
// (RFC 7435): a certificate that does not verify is recorded in the trace
// and accepted, and a failed handshake means trying again in clear text.
func (c *Client) startTLS(cv *conv, conn net.Conn, t target, host string, lost func(string, error) queue.Result) (*tls.Conn, map[string][]string, queue.Result, tlsOutcome) {
	r, err := cv.cmd("STARTTLS", c.to.Command)
	if err != nil {
		return nil, nil, lost("after STARTTLS", err), tlsFailed
	}
	if r.Code != 220 {
		cv.tr(transcript.Meta, "the server declined STARTTLS: continuing without encryption")
		return nil, nil, queue.Result{}, tlsDeclined
	}
	tconn, verr, herr := c.handshake(conn, t)
	if herr != nil {
		cv.tr(transcript.Meta, "TLS handshake failed ("+herr.Error()+"): connecting again without TLS")
		return nil, nil, queue.Result{}, tlsAgainPlain
	}
	st := tconn.ConnectionState()
	desc := fmt.Sprintf("tls: %s, %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	if verr != nil {
		desc += "; certificate NOT verified (" + verr.Error() + "), accepted anyway: opportunistic TLS encrypts but does not authenticate (RFC 7435)"
	} else {
		desc += "; certificate verified for " + t.host
	}
	cv.tr(transcript.Meta, desc)
	cv.attach(tconn)
	ext, res, ok := c.hello(cv, host, lost)
	if !ok {
		return tconn, nil, res, tlsFailed
	}
	return tconn, ext, queue.Result{}, tlsOn
}

// hello sends EHLO, falling back to HELO when the server does not know EHLO
// (RFC 5321 §3.2), and returns the offered extensions.
func (c *Client) hello(cv *conv, host string, lost func(string, error) queue.Result) (map[string][]string, queue.Result, bool) {
	r, err := cv.cmd("EHLO "+c.cfg.Hostname, c.to.Command)
	if err != nil {
		return nil, lost("after EHLO", err), false
	}
	if r.Code >= 500 && r.Code != 554 {
		cv.tr(transcript.Meta, "EHLO refused: falling back to HELO (no extensions)")
		r, err = cv.cmd("HELO "+c.cfg.Hostname, c.to.Command)
		if err != nil {
			return nil, lost("after HELO", err), false
		}
		if r.Code/100 == 2 {
			return map[string][]string{}, queue.Result{}, true
		}
	}
	if r.Code/100 != 2 {
		cv.quit()
		return nil, fromReply(host, r), false
	}
	return smtp.Extensions(r), queue.Result{}, true
}

// handshake runs the TLS client handshake. It never fails on the
// certificate: verification is done afterwards and its error returned
// separately, to be recorded (opportunistic TLS).
func (c *Client) handshake(conn net.Conn, t target) (*tls.Conn, error, error) {
	var cfg *tls.Config
	if c.cfg.TLS != nil {
		cfg = c.cfg.TLS.Clone()
	} else {
		cfg = &tls.Config{}
	}
	name := t.host
	if isIP(name) {
		name = ""
	}
	cfg.ServerName = name
	cfg.InsecureSkipVerify = true
	tconn := tls.Client(conn, cfg)
	conn.SetDeadline(time.Now().Add(c.to.Command))
	if err := tconn.Handshake(); err != nil {
		return nil, nil, err
	}
	conn.SetDeadline(time.Time{})
	st := tconn.ConnectionState()
	var verr error
	if len(st.PeerCertificates) == 0 {
		verr = errors.New("no certificate")
	} else if name == "" {
		verr = errors.New("connected by IP address: no host name to check the certificate against")
	} else {
		inter := x509.NewCertPool()
		for _, ct := range st.PeerCertificates[1:] {
			inter.AddCert(ct)
		}
		_, verr = st.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: name, Roots: cfg.RootCAs, Intermediates: inter})
	}
	return tconn, verr, nil
}

// successCode is the reply a command gets when all goes well: what a
// pipelining client assumes when it sends the next command unanswered.
func successCode(verb string) int {
	if verb == "DATA" {
		return 354
	}
	return 250
}

// sendText streams the message, dot-stuffed (RFC 5321 §4.5.2), and the
// final ".". The queue stores CRLF lines; a missing final CRLF is added.
func (c *Client) sendText(cv *conv, msg *queue.Message) error {
	rc, err := msg.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 64<<10)
	n, stuffed := 0, 0
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			text := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
			if strings.HasPrefix(text, ".") {
				text = "." + text
				stuffed++
			}
			n++
			if n <= maxTracedDataLines {
				cv.tr(transcript.Client, text)
			} else if n == maxTracedDataLines+1 {
				cv.tr(transcript.Meta, "(more message text follows; the trace does not show it)")
			}
			if _, werr := cv.w.WriteString(text + "\r\n"); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	cv.tr(transcript.Meta, fmt.Sprintf("sent %d lines of message text (%d dot-stuffed)", n, stuffed))
	cv.tr(transcript.Client, ".")
	if _, err := cv.w.WriteString(".\r\n"); err != nil {
		return err
	}
	return cv.w.Flush()
}

// wireAddr returns addr as it may go on the wire: unchanged when ASCII or
// when the server offers SMTPUTF8; otherwise with its domain in A-labels
// (IDNA), which any server accepts. ok is false when the local part is not
// ASCII and the server lacks SMTPUTF8: such an address cannot be sent.
func wireAddr(addr string, utf8OK bool) (string, bool) {
	if utf8OK || isASCII(addr) {
		return addr, true
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || !isASCII(addr[:at]) {
		return "", false
	}
	d, err := idna.Lookup.ToASCII(addr[at+1:])
	if err != nil {
		return "", false
	}
	return addr[:at+1] + d, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// netError shortens a network error to its useful end ("connection
// refused", "i/o timeout").
func netError(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out"
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}
