package smtp

import (
	"crypto/tls"
	"fmt"
	"time"

	smtp "github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// starttls answers STARTTLS (RFC 3207); the handshake itself happens in
// upgradeTLS once the 220 is on the wire.
func (s *session) starttls(arg string) smtp.Reply {
	switch {
	case arg != "":
		return smtp.SyntaxError("Syntax: STARTTLS (no argument)")
	case s.tls != nil:
		return smtp.AlreadyTLS()
	case s.srv.cfg.TLS == nil:
		return smtp.TLSNotAvailable("this server has no certificate")
	}
	return smtp.ReadyForTLS()
}

// upgradeTLS runs the TLS handshake after "220 Ready to start TLS". Anything
// the client sent after STARTTLS in the same packet was sent in the clear and
// could have been injected by an attacker on the path (CVE-2011-0411): it is
// discarded, never read as commands of the protected session. The session
// then starts over (RFC 3207 §4.2): no HELO, no AUTH, no transaction.
func (s *session) upgradeTLS() error {
	if err := s.w.Flush(); err != nil {
		return err
	}
	if n := s.in.discardBuffered(); n > 0 {
		s.trace(transcript.Meta, fmt.Sprintf("discarded %d octets sent after STARTTLS before the TLS handshake (command injection, CVE-2011-0411)", n))
		s.srv.log.Warn("discarded data pipelined after STARTTLS", "session", s.id, "octets", n)
	}
	tc := tls.Server(s.conn, s.srv.cfg.TLS)
	s.conn.SetDeadline(time.Now().Add(s.srv.limits.Idle))
	if err := tc.Handshake(); err != nil {
		s.trace(transcript.Meta, "TLS handshake failed: "+err.Error())
		return fmt.Errorf("tls handshake: %w", err)
	}
	s.conn.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	s.mu.Lock()
	s.conn, s.tls = tc, &st
	s.mu.Unlock()
	s.in.switchTo(tc)
	s.w.Reset(tc)
	s.helo, s.esmtp, s.authUser = "", false, ""
	s.resetTxn()
	s.state = smtp.Connected
	s.trace(transcript.Meta, "tls: "+tlsDescription(&st))
	return nil
}
