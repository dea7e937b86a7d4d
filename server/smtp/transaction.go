package smtp

import (
	"errors"
	"fmt"
	"strings"

	smtp "github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// mailCmd handles MAIL FROM: it checks the sender's syntax, the declared
// size against the limit and the free disk space, so that no 250 is given
// for a message the server could not keep.
func (s *session) mailCmd(arg string) smtp.Reply {
	if s.srv.cfg.Submission && s.authUser == "" {
		return smtp.AuthRequired()
	}
	m, err := smtp.ParseMail(arg)
	if err != nil {
		return pathReply(err, smtp.BadSenderSyntax)
	}
	lim := s.srv.limits
	if m.Size > lim.MessageSize {
		return smtp.MessageTooBig(lim.MessageSize)
	}
	if s.srv.cfg.Ready != nil {
		if err := s.srv.cfg.Ready(); err != nil {
			s.trace(transcript.Meta, "refused: "+err.Error())
			return smtp.QueueNotReady(err.Error())
		}
	}
	if s.srv.cfg.DiskFree != nil {
		if free, err := s.srv.cfg.DiskFree(); err == nil && free < lim.MinFreeDisk+uint64(m.Size) {
			s.trace(transcript.Meta, fmt.Sprintf("refused: only %d octets free on disk", free))
			s.srv.log.Warn("low disk space: refusing mail", "session", s.id, "free", free)
			return smtp.InsufficientStorage()
		}
	}
	if r := s.policyReply(func(p Policy) (*smtp.Reply, string) { return p.Mail(m.From.Addr()) }); r != nil {
		return *r
	}
	s.resetTxn()
	s.mail = m
	return smtp.SenderOK(m.From.Addr())
}

// pathReply turns a parse error into 555 (unsupported parameter) or the
// given 501 reply.
func pathReply(err error, bad func(string) smtp.Reply) smtp.Reply {
	var pe *smtp.PathError
	if errors.As(err, &pe) && pe.Param != "" {
		if pe.Param == "SMTPUTF8" {
			return smtp.UTF8NotAnnounced()
		}
		return smtp.ParamNotSupported(pe.Param)
	}
	return bad(err.Error())
}

// rcptCmd handles RCPT TO. Local domains: the user must exist (550 5.1.1).
// Other domains: only for authenticated sessions or trusted networks (554
// 5.7.1), so the server is never an open relay. A source route is ignored
// (RFC 5321 §3.6.1) and the mailbox alone decides.
func (s *session) rcptCmd(arg string) smtp.Reply {
	r, err := smtp.ParseRcpt(arg)
	if err != nil {
		return pathReply(err, smtp.BadRecipientSyntax)
	}
	if r.To.UTF8() && !s.mail.SMTPUTF8 {
		return smtp.UTF8NotAnnounced()
	}
	if len(s.rcpts) >= s.srv.limits.Recipients {
		return smtp.TooManyRecipients(s.srv.limits.Recipients)
	}
	dir := s.srv.cfg.Directory
	addr := r.To.Addr()
	if r.To.Postmaster && r.To.Domain == "" {
		addr = "postmaster@" + dir.Primary()
	}
	if len(r.To.Route) > 0 {
		s.trace(transcript.Meta, fmt.Sprintf("source route @%s ignored (RFC 5321 §3.6.1): the mailbox is %s", strings.Join(r.To.Route, ",@"), addr))
	}
	domain := addr[strings.LastIndexByte(addr, '@')+1:]
	switch {
	case dir.IsLocalDomain(domain):
		user, ok := dir.Resolve(addr)
		if !ok {
			return smtp.MailboxUnavailable(addr)
		}
		s.trace(transcript.Meta, fmt.Sprintf("%s is local: mailbox of %s", addr, user))
	case s.mayRelay():
		s.trace(transcript.Meta, fmt.Sprintf("%s is remote: accepted for relay (%s)", addr, s.relayReason()))
	default:
		return smtp.RelayDenied(addr)
	}
	if r := s.checkClient(addr); r != nil {
		return *r
	}
	if r := s.policyReply(func(p Policy) (*smtp.Reply, string) { return p.Rcpt(s.mail.From.Addr(), addr) }); r != nil {
		return *r
	}
	s.rcpts = append(s.rcpts, addr)
	return smtp.RecipientOK(addr)
}

// mayRelay reports whether this client may send to other domains.
func (s *session) mayRelay() bool {
	if s.authUser != "" || s.openRelay() {
		return true
	}
	for _, p := range s.srv.cfg.RelayNets {
		if p.Contains(s.client) {
			return true
		}
	}
	return false
}

func (s *session) relayReason() string {
	if s.authUser != "" {
		return "authenticated as " + s.authUser
	}
	if s.openRelay() {
		return "OPEN RELAY: the lab scenario open-relay relays for anyone"
	}
	return "client network is trusted for relay"
}

// dataCmd answers DATA with 354; the loop then reads the text with
// receiveData.
func (s *session) dataCmd(arg string) smtp.Reply {
	if arg != "" {
		return smtp.SyntaxError("Syntax: DATA (no argument); the message follows after the 354 reply")
	}
	return smtp.StartData()
}
