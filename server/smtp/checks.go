package smtp

import (
	"bufio"
	"bytes"
	"context"
	"net/netip"
	"time"

	smtp "github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/queue"
)

// Checker inspects the client and the message on the server's behalf:
// sender authentication (SPF, DKIM, DMARC), DNS blocklists, the spam score
// and DKIM signing live in server/spam and package server, which implement
// it; the SMTP server only asks at the right moments and keeps the replies.
// A Checker can only refuse or annotate what the server would accept.
type Checker interface {
	// Client is asked at each RCPT the server would accept: a DNS
	// blocklist refuses there (554 5.7.1, as Postfix's reject_rbl_client).
	// notes go to the trace.
	Client(ctx context.Context, c ClientInfo, from, to string) (reply *smtp.Reply, notes []string)
	// Message is asked with the complete message before it is queued.
	Message(ctx context.Context, m *Incoming) Verdict
}

// ClientInfo is who is connected, as far as the server knows: the TCP peer,
// or what a trusted proxy or the lab announced with XCLIENT.
type ClientInfo struct {
	Addr netip.Addr // the client's address (XCLIENT ADDR when given)
	Name string     // XCLIENT NAME, or ""
	Helo string     // the EHLO/HELO argument
	Auth string     // the authenticated user, or ""
	// Trusted: the client may relay (RelayNets) or is authenticated; its
	// mail is outgoing mail of this server's domains.
	Trusted bool
}

// Incoming is one complete message at the end of DATA.
type Incoming struct {
	Session    string
	Client     ClientInfo
	From       string   // MAIL FROM, "" for the null sender
	To         []string // RCPT TO addresses accepted
	Submission bool     // arrived on the submission port
	Hostname   string   // this server's name: the authserv-id of Authentication-Results
	// Text is the message as it will be queued: this server's Received:
	// field first, then the header section and body as received.
	Text []byte
}

// Verdict is a Checker's answer for a message.
type Verdict struct {
	// Text, when not nil, replaces the message text (fields added at the
	// top, forged Authentication-Results removed).
	Text []byte
	// Folders names the folder of a local recipient's copy ("Junk"); a
	// recipient not named goes to INBOX.
	Folders map[string]string
	// Reject refuses the message at the end of DATA instead of queueing it.
	Reject *smtp.Reply
	// Notes go to the trace, one line each.
	Notes []string
}

// checkTimeout bounds the checks of one message or client (DNS lookups
// to a slow resolver): a client waits at most this long for its reply.
const checkTimeout = 20 * time.Second

// SetChecker sets the checker of a server that is not serving yet.
func (s *Server) SetChecker(c Checker) { s.cfg.Checker = c }

func (s *session) clientInfo() ClientInfo {
	return ClientInfo{Addr: s.client, Name: s.ext.name, Helo: s.helo, Auth: s.authUser, Trusted: s.mayRelay()}
}

// checkClient asks the Checker about the client at RCPT.
func (s *session) checkClient(to string) *smtp.Reply {
	c := s.srv.cfg.Checker
	if c == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	r, notes := c.Client(ctx, s.clientInfo(), s.mail.From.Addr(), to)
	for _, n := range notes {
		s.trace(transcript.Meta, n)
	}
	return r
}

// holdForChecks makes the message text go into memory instead of the
// queue when a Checker must see it whole first; it returns the buffer, or
// nil when there is no Checker. The text is bounded by the message size
// limit, checked as it arrives.
func (s *session) holdForChecks(out *bufio.Writer) *bytes.Buffer {
	if s.srv.cfg.Checker == nil {
		return nil
	}
	held := new(bytes.Buffer)
	out.Reset(held)
	return held
}

// runChecks asks the Checker about the held message, writes the text to
// keep into the queue and records the folders in env. ok false means the
// message is refused with reply.
func (s *session) runChecks(held *bytes.Buffer, env *queue.Envelope, mw MessageWriter) (reply smtp.Reply, why string, ok bool) {
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	v := s.srv.cfg.Checker.Message(ctx, &Incoming{
		Session: s.id, Client: s.clientInfo(), From: env.From, To: env.To,
		Submission: s.srv.cfg.Submission, Hostname: s.srv.cfg.Hostname, Text: held.Bytes(),
	})
	for _, n := range v.Notes {
		s.trace(transcript.Meta, n)
	}
	if v.Reject != nil {
		return *v.Reject, "refused by the message checks", false
	}
	text := held.Bytes()
	if v.Text != nil {
		text = v.Text
	}
	if _, err := mw.Write(text); err != nil {
		s.srv.log.Error("queue: write failed", "session", s.id, "err", err)
		return smtp.LocalError(), "queue write failed", false
	}
	if len(v.Folders) > 0 {
		env.Folders = v.Folders
	}
	return smtp.Reply{}, "", true
}

// SetXClientNets sets the networks, besides loopback, that may use XCLIENT,
// on a server that is not serving yet.
func (s *Server) SetXClientNets(nets []netip.Prefix) { s.cfg.XClientNets = nets }

// IsSubmission reports whether this is a submission listener (AUTH required).
func (s *Server) IsSubmission() bool { return s.cfg.Submission }

// openRelay reports whether a teaching scenario makes this server relay
// for anyone (the Checker says so; see server/spam_scenario.go).
func (s *session) openRelay() bool {
	o, ok := s.srv.cfg.Checker.(interface{ OpenRelay() bool })
	return ok && o.OpenRelay()
}
