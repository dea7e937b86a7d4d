package explore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mailx-edu/mailx/proto/note"
)

// DialOptions say how to reach a server.
type DialOptions struct {
	// Timeout bounds the TCP connect and the TLS handshake (each).
	Timeout time.Duration
	// TLS starts TLS at once (implicit TLS: SMTP 465, POP3 995, IMAP 993).
	TLS bool
	// Insecure skips certificate verification, for a lab server's
	// self-signed certificate. The certificate is still shown.
	Insecure bool
	// ServerName is the name the certificate must carry; the host by default.
	ServerName string
	// RootCAs replaces the system roots (tests use a generated CA).
	RootCAs *x509.CertPool
}

// Conn is a connection to a server that may be upgraded to TLS in place.
type Conn struct {
	net.Conn
	Host string // as given by the user
	Port int
	// TLSMode is "none", "implicit" or "starttls".
	TLSMode string
	// TLSState is set once TLS is up.
	TLSState *tls.ConnectionState

	opts DialOptions
}

// Dial connects to host:port, with TLS at once when o.TLS.
func Dial(ctx context.Context, host string, port int, o DialOptions) (*Conn, error) {
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	d := net.Dialer{Timeout: o.Timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &ConnError{Op: "connect", Addr: addr, Err: err}
	}
	c := &Conn{Conn: nc, Host: host, Port: port, TLSMode: "none", opts: o}
	if o.TLS {
		if err := c.handshake(ctx, "implicit"); err != nil {
			nc.Close()
			return nil, err
		}
	}
	return c, nil
}

// Addr returns "host:port" as the user would type it.
func (c *Conn) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// StartTLS upgrades the connection in place after the server's go-ahead.
func (c *Conn) StartTLS(ctx context.Context) error { return c.handshake(ctx, "starttls") }

func (c *Conn) handshake(ctx context.Context, mode string) error {
	name := c.opts.ServerName
	if name == "" {
		name = c.Host
	}
	cfg := &tls.Config{
		ServerName:         name,
		InsecureSkipVerify: c.opts.Insecure, // the student asked for it with --insecure, for a lab certificate
		RootCAs:            c.opts.RootCAs,
		MinVersion:         tls.VersionTLS12,
	}
	tc := tls.Client(c.Conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		return &ConnError{Op: "tls", Addr: c.Addr(), Err: err}
	}
	st := tc.ConnectionState()
	c.Conn = tc
	c.TLSState = &st
	c.TLSMode = mode
	return nil
}

// TLSNotes describes the TLS session: version, cipher suite and the
// certificate's subject, issuer and validity, with a warning when it was not
// verified.
func (c *Conn) TLSNotes(now time.Time) []note.Note {
	if c.TLSState == nil {
		return nil
	}
	return TLSFacts(*c.TLSState, c.opts.Insecure, now)
}

// TLSSummary is the one-line form recorded in transcripts: "TLS 1.3, TLS_AES_128_GCM_SHA256".
func TLSSummary(st tls.ConnectionState) string {
	return tls.VersionName(st.Version) + ", " + tls.CipherSuiteName(st.CipherSuite)
}

// TLSFacts explains a TLS connection state.
func TLSFacts(st tls.ConnectionState, insecure bool, now time.Time) []note.Note {
	notes := []note.Note{{
		Summary:  "TLS is up: " + TLSSummary(st),
		Detail:   "Everything from here on is encrypted; a listener on the network sees only the TLS records.",
		Ref:      "RFC 8446",
		Severity: note.Success,
	}}
	if len(st.PeerCertificates) > 0 {
		cert := st.PeerCertificates[0]
		var d strings.Builder
		fmt.Fprintf(&d, "subject:  %s\n", cert.Subject.String())
		if len(cert.DNSNames) > 0 {
			fmt.Fprintf(&d, "names:    %s\n", strings.Join(cert.DNSNames, ", "))
		}
		fmt.Fprintf(&d, "issuer:   %s\n", cert.Issuer.String())
		fmt.Fprintf(&d, "valid:    %s to %s", cert.NotBefore.UTC().Format("2006-01-02"), cert.NotAfter.UTC().Format("2006-01-02"))
		if now.After(cert.NotAfter) {
			d.WriteString(" (EXPIRED)")
		} else if days := int(cert.NotAfter.Sub(now).Hours() / 24); days < 30 {
			fmt.Fprintf(&d, " (expires in %d days)", days)
		}
		notes = append(notes, note.Note{Summary: "the server's certificate", Detail: d.String()})
	}
	if insecure {
		notes = append(notes, note.Note{
			Summary:  "certificate NOT verified (--insecure)",
			Detail:   "Fine for a lab server with a self-signed certificate; never for real mail, where it lets anyone in the middle read the session.",
			Severity: note.Warning,
		})
	} else {
		notes = append(notes, note.Note{Summary: "certificate verified: it names this host and chains to a trusted authority", Severity: note.Success})
	}
	return notes
}

// ConnError is a connection or TLS failure, with enough context to tell the
// student what happened and what to try.
type ConnError struct {
	Op   string // "connect", "tls", "read", "write"
	Addr string // host:port
	Err  error
}

func (e *ConnError) Error() string {
	switch e.Op {
	case "tls":
		return fmt.Sprintf("TLS with %s failed: %v", e.Addr, e.Err)
	case "connect":
		return fmt.Sprintf("cannot connect to %s: %v", e.Addr, e.Err)
	}
	return fmt.Sprintf("%s %s: %v", e.Op, e.Addr, e.Err)
}

// Unwrap returns the cause.
func (e *ConnError) Unwrap() error { return e.Err }

// Explain returns a one-line message and a hint for the student. It knows the
// usual ways a connection fails: nothing listening, a host that does not
// exist, a firewall that drops packets, and each kind of certificate problem.
func (e *ConnError) Explain() (msg, hint string) {
	err := e.Err
	var dnsErr *net.DNSError
	var host509 x509.HostnameError
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var rec tls.RecordHeaderError
	if errors.As(err, &verify) {
		err = verify.Err
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "connection refused"):
		return fmt.Sprintf("nothing listens on %s (connection refused)", e.Addr),
			"Check the host and port. To practise locally, run in another terminal: mailx serve"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return fmt.Sprintf("cannot connect to %s: the host name does not exist in DNS", e.Addr),
				"Check the spelling. For a mail domain, try --mx DOMAIN to connect to its mail exchanger."
		}
		return fmt.Sprintf("cannot connect to %s: DNS lookup failed: %v", e.Addr, dnsErr.Err),
			"Check your network and DNS resolver, or use an IP address."
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		if e.Op == "tls" {
			return fmt.Sprintf("TLS handshake with %s timed out", e.Addr),
				"The server accepted TCP but never answered the handshake: is this a TLS port? Without --tls, use port 25/587 and --starttls."
		}
		return fmt.Sprintf("cannot connect to %s: no answer (timed out)", e.Addr),
			"A firewall may be dropping the packets; many networks block outgoing port 25. Try --timeout 30s, another port (587), or a local server: mailx serve"
	case errors.As(err, &host509):
		return fmt.Sprintf("the certificate of %s does not name this host: %v", e.Addr, host509.Error()),
			"Connect using a name the certificate lists, or add --insecure for a lab server."
	case errors.As(err, &unknown):
		return fmt.Sprintf("the certificate of %s is signed by an unknown authority (self-signed?)", e.Addr),
			"Lab servers such as mailx serve use a self-signed certificate: add --insecure to accept it anyway."
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return fmt.Sprintf("the certificate of %s has expired or is not yet valid: %v", e.Addr, invalid.Detail),
				"Check your clock; if it is right, the server's administrator must renew the certificate. --insecure skips the check."
		}
		return fmt.Sprintf("the certificate of %s is not valid: %v", e.Addr, invalid.Error()),
			"--insecure skips the check, for a lab server only."
	case errors.As(err, &rec):
		return fmt.Sprintf("%s did not answer with TLS (it sent plain text)", e.Addr),
			"This port expects a plain session: drop --tls, and use --starttls to upgrade after the greeting."
	case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
		return fmt.Sprintf("%s closed the connection during %s", e.Addr, e.Op),
			"The server may not speak TLS on this port, or refused us: try without --tls, or check its logs."
	}
	return e.Error(), "Check the host, the port and your network."
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
