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
	"strconv"
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

func (c *Client) sessionTLS(ctx context.Context, sess string, tr func(transcript.Dir, string), t target, msg *queue.Message, rcpts []string, useTLS bool) ([]queue.Result, bool) {
	host := t.addr
	if t.host != "" && !isIP(t.host) {
		host = t.host + "[" + t.addr + "]"
	}
	all := func(r queue.Result) []queue.Result { return repeat(r, len(rcpts)) }
	tr(transcript.Meta, "connecting to "+host)
	dctx, cancel := context.WithTimeout(ctx, c.to.Connect)
	conn, err := c.cfg.Dial(dctx, "tcp", t.addr)
	cancel()
	if err != nil {
		tr(transcript.Meta, "cannot connect: "+err.Error())
		return all(failure(host, 451, "4.4.1", "cannot connect to %s: %s", host, netError(err))), true
	}
	local := conn.LocalAddr().String()
	hop := c.cfg.Hops.register(local, sess, c.cfg.Hostname)
	defer c.cfg.Hops.forget(local)
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

	greeting, err := cv.read("", c.to.Greeting)
	if err != nil {
		return all(lost("before the greeting", err)), true
	}
	if greeting.Code != 220 {
		tr(transcript.Meta, "the server does not want to talk: trying the next exchanger, if any")
		cv.quit()
		return all(fromReply(host, greeting)), true
	}

	ext, res, ok := c.hello(cv, host, lost)
	if !ok {
		return all(res), true
	}
	if _, offered := ext["STARTTLS"]; offered && useTLS {
		r, err := cv.cmd("STARTTLS", c.to.Command)
		switch {
		case err != nil:
			return all(lost("after STARTTLS", err)), true
		case r.Code == 220:
			tconn, verr, herr := c.handshake(conn, t)
			if herr != nil {
				tr(transcript.Meta, "TLS handshake failed ("+herr.Error()+"): connecting again without TLS")
				conn.Close()
				return c.sessionTLS(ctx, sess, tr, t, msg, rcpts, false)
			}
			st := tconn.ConnectionState()
			desc := fmt.Sprintf("tls: %s, %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
			if verr != nil {
				desc += "; certificate NOT verified (" + verr.Error() + "), accepted anyway: opportunistic TLS encrypts but does not authenticate (RFC 7435)"
			} else {
				desc += "; certificate verified for " + t.host
			}
			tr(transcript.Meta, desc)
			conn = tconn
			cv.attach(tconn)
			if ext, res, ok = c.hello(cv, host, lost); !ok {
				return all(res), true
			}
		default:
			tr(transcript.Meta, "the server declined STARTTLS: continuing without encryption")
		}
	}
	if ext, res, ok = c.announce(cv, host, ext, lost); !ok {
		return all(res), true
	}
	return c.transaction(cv, host, ext, msg, rcpts, lost)
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

// transaction sends one message: MAIL, the RCPTs, DATA and the text.
func (c *Client) transaction(cv *conv, host string, ext map[string][]string, msg *queue.Message, rcpts []string, lost func(string, error) queue.Result) ([]queue.Result, bool) {
	results := make([]queue.Result, len(rcpts))
	decided := make([]bool, len(rcpts))
	env := msg.Envelope
	_, utf8OK := ext["SMTPUTF8"]

	// SIZE (RFC 1870): do not send what the server said it will refuse.
	if p := ext["SIZE"]; len(p) > 0 {
		if max, err := strconv.ParseInt(p[0], 10, 64); err == nil && max > 0 && msg.Size > max {
			cv.tr(transcript.Meta, fmt.Sprintf("the message (%d octets) is larger than the %d the server accepts (SIZE): not sending it", msg.Size, max))
			cv.quit()
			return repeat(failure(host, 552, "5.3.4", "message of %d octets exceeds the %d octets %s accepts (its EHLO SIZE)", msg.Size, max, host), len(rcpts)), false
		}
	}
	from, ok := wireAddr(env.From, utf8OK)
	if !ok {
		cv.tr(transcript.Meta, "the sender address needs SMTPUTF8 and the server does not offer it")
		cv.quit()
		return repeat(failure(host, 553, "5.6.7", "<%s>: the sender address is not ASCII and %s does not offer SMTPUTF8 (RFC 6531)", env.From, host), len(rcpts)), false
	}
	mail := "MAIL FROM:<" + from + ">"
	if _, ok := ext["SIZE"]; ok {
		mail += " SIZE=" + strconv.FormatInt(msg.Size, 10)
	}
	if _, ok := ext["8BITMIME"]; ok && strings.EqualFold(env.BodyType, "8BITMIME") {
		mail += " BODY=8BITMIME"
	}
	if env.SMTPUTF8 && utf8OK {
		mail += " SMTPUTF8"
	}
	var lines []string // RCPT lines, and the recipients they are for
	var who []int
	for i, a := range rcpts {
		w, ok := wireAddr(a, utf8OK)
		if !ok {
			results[i], decided[i] = failure(host, 553, "5.6.7", "<%s>: the address is not ASCII and %s does not offer SMTPUTF8 (RFC 6531)", a, host), true
			continue
		}
		lines = append(lines, "RCPT TO:<"+w+">")
		who = append(who, i)
	}
	if len(lines) == 0 {
		cv.quit()
		return results, false
	}
	_, pipelining := ext["PIPELINING"]
	accepted := 0
	fillRest := func(r queue.Result) {
		for i := range results {
			if !decided[i] {
				results[i], decided[i] = r, true
			}
		}
	}
	if pipelining {
		// RFC 2920 §3.1: MAIL, every RCPT and DATA may go in one group;
		// the replies come back in the same order.
		cv.tr(transcript.Meta, fmt.Sprintf("PIPELINING: sending MAIL, %d RCPT and DATA at once", len(lines)))
		expect := cv.state
		group := append(append([]string{mail}, lines...), "DATA")
		for _, l := range group {
			if err := cv.send(l, expect); err != nil {
				fillRest(lost("while sending commands", err))
				return results, true
			}
			verb, _ := smtp.Verb(l)
			expect = smtp.Next(expect, verb, successCode(verb))
		}
		if err := cv.w.Flush(); err != nil {
			fillRest(lost("while sending commands", err))
			return results, true
		}
	}
	// MAIL
	if !pipelining {
		err := cv.send(mail, cv.state)
		if err == nil {
			err = cv.w.Flush()
		}
		if err != nil {
			fillRest(lost("while sending MAIL FROM", err))
			return results, true
		}
	}
	r, err := cv.read("MAIL", c.to.Command)
	if err != nil {
		fillRest(lost("after MAIL FROM", err))
		return results, true
	}
	if r.Code/100 != 2 {
		fillRest(fromReply(host, r))
		if r.Code == 421 {
			return results, true
		}
		if pipelining {
			// The pipelined RCPTs and DATA get replies too (503s): read them
			// so the session stays in step, then say goodbye.
			for range lines {
				if _, err := cv.read("RCPT", c.to.Command); err != nil {
					return results, false
				}
			}
			if r, err := cv.read("DATA", c.to.DataInit); err != nil || r.Code == 354 {
				return results, false
			}
		}
		cv.quit()
		return results, false
	}
	// RCPT
	for k, l := range lines {
		if !pipelining {
			if err := cv.send(l, cv.state); err != nil {
				fillRest(lost("after RCPT TO", err))
				return results, accepted == 0
			}
			cv.w.Flush()
		}
		r, err := cv.read("RCPT", c.to.Command)
		if err != nil {
			fillRest(lost("after RCPT TO", err))
			return results, accepted == 0
		}
		i := who[k]
		if r.Code/100 == 2 {
			accepted++
			continue
		}
		results[i], decided[i] = fromReply(host, r), true
		if r.Code == 421 {
			fillRest(fromReply(host, r))
			return results, accepted == 0
		}
	}
	// DATA
	if !pipelining {
		if accepted == 0 {
			cv.quit()
			return results, false
		}
		if err := cv.send("DATA", cv.state); err != nil {
			fillRest(lost("after DATA", err))
			return results, true
		}
		cv.w.Flush()
	}
	r, err = cv.read("DATA", c.to.DataInit)
	if err != nil {
		fillRest(lost("after DATA", err))
		return results, true
	}
	if r.Code != 354 {
		if accepted > 0 {
			fillRest(fromReply(host, r))
		}
		cv.quit()
		return results, r.Code == 421
	}
	if accepted == 0 {
		// RFC 2920 §3.1: the server said 354 although no recipient was
		// accepted; end the empty message so the session stays in step.
		cv.tr(transcript.Meta, "no recipient was accepted: ending DATA at once with an empty message")
		cv.send(".", cv.state)
		cv.w.Flush()
		cv.read(".", c.to.DataEnd)
		cv.quit()
		return results, false
	}
	if err := c.sendText(cv, msg); err != nil {
		fillRest(lost("while sending the message", err))
		return results, true
	}
	r, err = cv.read(".", c.to.DataEnd)
	if err != nil {
		// The server may have taken the message: RFC 5321 §4.1.1.4 and
		// §6.1 accept the risk of a duplicate over the risk of a loss.
		fillRest(lost("after the end of the message (it may arrive twice)", err))
		return results, false
	}
	if r.Code/100 == 2 {
		if id := smtp.QueueID(r); id != "" {
			cv.tr(transcript.Meta, fmt.Sprintf("%s accepted the message for %d recipient(s) as queue id %s", host, accepted, id))
		}
	}
	fillRest(fromReply(host, r))
	cv.quit()
	return results, false
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
