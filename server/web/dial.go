package web

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailx-edu/mailx/proto/transcript"
)

// Security modes for the bridge's connections to the mail servers.
const (
	TLSAuto     = "auto"     // implicit TLS on 993/465; else STARTTLS when offered (required off loopback)
	TLSImplicit = "implicit" // TLS from the first byte (RFC 8314)
	TLSStart    = "starttls" // STARTTLS, required
	TLSNone     = "none"     // clear text (only sensible on loopback)
)

// Endpoint is a server the bridge talks to.
type Endpoint struct {
	Addr string // HOST:PORT
	TLS  string // one of the TLS* modes; "" is auto
	// AddrFunc, when set, gives the address at each connection instead of
	// Addr: mailx serve's listeners are bound after the bridge is made.
	AddrFunc func() string
}

func (e Endpoint) addr() string {
	if e.AddrFunc != nil {
		return e.AddrFunc()
	}
	return e.Addr
}

// mode resolves auto for this endpoint: implicit on the implicit-TLS ports.
func (e Endpoint) mode() string {
	m := strings.ToLower(e.TLS)
	if m == "" || m == TLSAuto {
		_, port, _ := net.SplitHostPort(e.addr())
		if port == "993" || port == "465" {
			return TLSImplicit
		}
		return TLSAuto
	}
	return m
}

func (e Endpoint) loopback() bool {
	host, _, err := net.SplitHostPort(e.addr())
	return err == nil && isLoopback(host)
}

// dialTimeout bounds connecting to the mail servers and each command.
const dialTimeout = 10 * time.Second

// dialIMAP connects the bridge to the IMAP server, with every clear-text
// line recorded by w. STARTTLS is done here rather than by imapclient, so
// that the recorder sits inside the TLS layer and still sees the commands
// after the upgrade; imapclient then starts on the encrypted connection.
func (s *Server) dialIMAP(ctx context.Context, w *wire, h *imapclient.UnilateralDataHandler) (*imapclient.Client, error) {
	ep := s.cfg.IMAP
	ep.Addr = ep.addr()
	d := net.Dialer{Timeout: dialTimeout}
	raw, err := d.DialContext(ctx, "tcp", ep.Addr)
	if err != nil {
		return nil, &UpstreamError{Service: "IMAP", Addr: ep.Addr, Err: err}
	}
	host, _, _ := net.SplitHostPort(ep.Addr)
	mode := ep.mode()
	opts := &imapclient.Options{UnilateralDataHandler: h}
	if mode == TLSImplicit {
		tc := tls.Client(raw, s.tlsConfig(host))
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, &UpstreamError{Service: "IMAP", Addr: ep.Addr, Err: fmt.Errorf("TLS: %w", err)}
		}
		w.meta("connected to " + ep.Addr + " with implicit TLS")
		return imapclient.New(newTapConn(tc, "imap", w.line), opts), nil
	}
	w.meta("connected to " + ep.Addr)
	tap := newTapConn(raw, "imap", w.line)
	br := bufio.NewReader(tap)
	raw.SetDeadline(time.Now().Add(dialTimeout))
	greeting, err := br.ReadString('\n')
	if err != nil {
		raw.Close()
		return nil, &UpstreamError{Service: "IMAP", Addr: ep.Addr, Err: fmt.Errorf("no greeting: %w", err)}
	}
	useTLS := false
	switch mode {
	case TLSStart:
		useTLS = true
	case TLSAuto:
		// Loopback traffic never leaves the machine: clear text keeps the
		// practice server's self-signed certificate out of the way.
		useTLS = !ep.loopback()
	}
	if !useTLS {
		raw.SetDeadline(time.Time{})
		return imapclient.New(&prefixConn{Conn: tap, prefix: greeting}, opts), nil
	}
	if _, err := io.WriteString(tap, "S0 STARTTLS\r\n"); err != nil {
		raw.Close()
		return nil, &UpstreamError{Service: "IMAP", Addr: ep.Addr, Err: err}
	}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			raw.Close()
			return nil, &UpstreamError{Service: "IMAP", Addr: ep.Addr, Err: fmt.Errorf("STARTTLS: %w", err)}
		}
		if strings.HasPrefix(l, "S0 ") {
			if !strings.HasPrefix(strings.ToUpper(l[3:]), "OK") {
				raw.Close()
				return nil, &UpstreamError{Service: "IMAP", Addr: ep.Addr, Err: fmt.Errorf("the server refused STARTTLS: %s", strings.TrimSpace(l))}
			}
			break
		}
	}
	tc := tls.Client(raw, s.tlsConfig(host))
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, &UpstreamError{Service: "IMAP", Addr: ep.Addr, Err: fmt.Errorf("TLS: %w", err)}
	}
	raw.SetDeadline(time.Time{})
	w.meta("TLS started: " + tlsVersion(tc))
	// No greeting follows STARTTLS; imapclient waits for one, so it gets a
	// line that is not recorded because it never crossed the wire.
	return imapclient.New(&prefixConn{Conn: newTapConn(tc, "imap", w.line), prefix: "* OK TLS is on (line made up by the bridge, not sent by the server)\r\n"}, opts), nil
}

// prefixConn returns prefix before the connection's own bytes: the greeting
// already read, for imapclient to read again.
type prefixConn struct {
	net.Conn
	prefix string
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if p.prefix != "" {
		n := copy(b, p.prefix)
		p.prefix = p.prefix[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

func tlsVersion(c *tls.Conn) string {
	st := c.ConnectionState()
	return tls.VersionName(st.Version) + ", " + tls.CipherSuiteName(st.CipherSuite)
}

// tlsConfig is the client TLS configuration for host.
func (s *Server) tlsConfig(host string) *tls.Config {
	c := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if s.cfg.ClientTLS != nil {
		c = s.cfg.ClientTLS.Clone()
		if c.ServerName == "" {
			c.ServerName = host
		}
	}
	return c
}

// UpstreamError is a mail server the bridge could not use.
type UpstreamError struct {
	Service, Addr string
	Err           error
}

func (e *UpstreamError) Error() string {
	return fmt.Sprintf("cannot reach the %s server at %s: %v", e.Service, e.Addr, e.Err)
}

func (e *UpstreamError) Unwrap() error { return e.Err }

// errLogin is a refused user name or password.
var errLogin = errors.New("the user name or password was refused")

var _ = transcript.Client
