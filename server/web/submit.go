package web

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/mailx-edu/mailx/proto/smtp"
)

// smtpClient is the bridge's submission client (RFC 6409): EHLO, STARTTLS,
// AUTH PLAIN, MAIL, RCPT, DATA, QUIT, each line recorded. It is written
// here rather than taken from net/smtp because the recorder must sit inside
// the TLS layer after STARTTLS, and net/smtp wraps its connection itself.
type smtpClient struct {
	conn net.Conn
	r    *bufio.Reader
	w    *wire
	ext  map[string]string
	tls  bool
	addr string
}

// SendError is a refusal from the submission server, with its reply.
type SendError struct {
	Step  string
	Reply smtp.Reply
}

func (e *SendError) Error() string {
	return fmt.Sprintf("the submission server refused %s: %d %s", e.Step, e.Reply.Code, strings.Join(e.Reply.Lines, " "))
}

// submit sends msg from user's address to rcpts through the submission
// server, authenticating as user with pass.
func (s *Server) submit(ctx context.Context, w *wire, user, pass, from string, rcpts []string, msg []byte) error {
	ep := s.cfg.Submission
	ep.Addr = ep.addr()
	host, _, _ := net.SplitHostPort(ep.Addr)
	d := net.Dialer{Timeout: dialTimeout}
	raw, err := d.DialContext(ctx, "tcp", ep.Addr)
	if err != nil {
		return &UpstreamError{Service: "submission", Addr: ep.Addr, Err: err}
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(2 * time.Minute))
	mode := ep.mode()
	c := &smtpClient{w: w, addr: ep.Addr}
	if mode == TLSImplicit {
		tc := tls.Client(raw, s.tlsConfig(host))
		if err := tc.HandshakeContext(ctx); err != nil {
			return &UpstreamError{Service: "submission", Addr: ep.Addr, Err: fmt.Errorf("TLS: %w", err)}
		}
		w.meta("connected to " + ep.Addr + " with implicit TLS")
		w.tlsStarted()
		c.setConn(tc)
		c.tls = true
	} else {
		w.meta("connected to " + ep.Addr)
		c.setConn(raw)
	}
	if r, err := c.read(); err != nil {
		return err
	} else if r.Code != 220 {
		return &SendError{"the connection", r}
	}
	if err := c.ehlo(); err != nil {
		return err
	}
	_, offered := c.ext["STARTTLS"]
	wantTLS := !c.tls && (mode == TLSStart || mode == TLSAuto && !ep.loopback())
	if wantTLS {
		if !offered {
			return &UpstreamError{Service: "submission", Addr: ep.Addr, Err: fmt.Errorf("the server does not offer STARTTLS, and the password must not travel in clear")}
		}
		if _, err := c.cmd("STARTTLS", 220); err != nil {
			return err
		}
		tc := tls.Client(raw, s.tlsConfig(host))
		if err := tc.HandshakeContext(ctx); err != nil {
			return &UpstreamError{Service: "submission", Addr: ep.Addr, Err: fmt.Errorf("TLS: %w", err)}
		}
		w.meta("TLS started: " + tlsVersion(tc))
		w.tlsStarted()
		c.setConn(tc)
		c.tls = true
		if err := c.ehlo(); err != nil {
			return err
		}
	}
	ir := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
	if _, err := c.cmd("AUTH PLAIN "+ir, 235); err != nil {
		if se, ok := err.(*SendError); ok && se.Reply.Code == 535 {
			return errLogin
		}
		return err
	}
	if _, err := c.cmd("MAIL FROM:<"+from+">", 250); err != nil {
		return err
	}
	for _, r := range rcpts {
		if _, err := c.cmd("RCPT TO:<"+r+">", 250, 251); err != nil {
			return err
		}
	}
	if _, err := c.cmd("DATA", 354); err != nil {
		return err
	}
	if err := c.data(msg); err != nil {
		return err
	}
	if r, err := c.read(); err != nil {
		return err
	} else if r.Code != 250 {
		return &SendError{"the message", r}
	}
	c.cmd("QUIT", 221)
	return nil
}

func (c *smtpClient) setConn(conn net.Conn) {
	c.conn = newTapConn(conn, "smtp", c.w.line)
	c.r = bufio.NewReader(c.conn)
}

// read reads one reply, multi-line or not.
func (c *smtpClient) read() (smtp.Reply, error) {
	var b smtp.ReplyBuilder
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return smtp.Reply{}, &UpstreamError{Service: "submission", Addr: c.addr, Err: fmt.Errorf("connection lost: %w", err)}
		}
		done, err := b.Add(strings.TrimRight(line, "\r\n"))
		if err != nil {
			return smtp.Reply{}, &UpstreamError{Service: "submission", Addr: c.addr, Err: fmt.Errorf("not an SMTP reply: %w", err)}
		}
		if done {
			return b.Reply(), nil
		}
	}
}

// cmd sends a command and checks the reply code.
func (c *smtpClient) cmd(line string, want ...int) (smtp.Reply, error) {
	if _, err := io.WriteString(c.conn, line+"\r\n"); err != nil {
		return smtp.Reply{}, &UpstreamError{Service: "submission", Addr: c.addr, Err: err}
	}
	r, err := c.read()
	if err != nil {
		return r, err
	}
	for _, code := range want {
		if r.Code == code {
			return r, nil
		}
	}
	verb, _ := smtp.Verb(line)
	return r, &SendError{verb, r}
}

func (c *smtpClient) ehlo() error {
	r, err := c.cmd("EHLO mailx-web", 250)
	if err != nil {
		return err
	}
	c.ext = map[string]string{}
	for _, l := range r.Lines[1:] {
		k, v, _ := strings.Cut(l, " ")
		c.ext[strings.ToUpper(k)] = v
	}
	return nil
}

// data writes the message dot-stuffed with CRLF line ends, then ".".
func (c *smtpClient) data(msg []byte) error {
	var b bytes.Buffer
	for len(msg) > 0 {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line, msg = msg[:i], msg[i+1:]
		} else {
			msg = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > 0 && line[0] == '.' {
			b.WriteByte('.')
		}
		b.Write(line)
		b.WriteString("\r\n")
	}
	b.WriteString(".\r\n")
	if _, err := c.conn.Write(b.Bytes()); err != nil {
		return &UpstreamError{Service: "submission", Addr: c.addr, Err: err}
	}
	return nil
}
