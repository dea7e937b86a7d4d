package smtp

import (
	"net/netip"
	"time"

	smtp "github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// Policy lets a teaching scenario (server/scenario) refuse what the server
// would otherwise accept: a connection, a recipient, a message. It is asked
// after the server's own checks, so it can only turn an acceptance into a
// refusal. Each method returns nil to let things be, or the reply to send
// and a sentence for the trace saying why.
type Policy interface {
	// Connect is asked before the greeting; a reply replaces the greeting,
	// and a 421 then closes the session (RFC 5321 §3.8).
	Connect(client netip.Addr) (*smtp.Reply, string)
	// Mail is asked when MAIL FROM is about to be accepted.
	Mail(from string) (*smtp.Reply, string)
	// Rcpt is asked when RCPT TO is about to be accepted.
	Rcpt(from, to string) (*smtp.Reply, string)
	// Data is asked when a complete message is about to be queued; a reply
	// answers the end of DATA instead of "250 queued".
	Data(from string, to []string) (*smtp.Reply, string)
	// Delay is how long to hold back each reply (a tarpit); 0 for none.
	Delay() time.Duration
}

// policyReply asks the configured Policy through ask, traces its reason and
// returns its reply, or nil when there is no policy or it lets things be.
func (s *session) policyReply(ask func(Policy) (*smtp.Reply, string)) *smtp.Reply {
	p := s.srv.cfg.Policy
	if p == nil {
		return nil
	}
	r, why := ask(p)
	if r != nil && why != "" {
		s.trace(transcript.Meta, why)
	}
	return r
}

// policyDelay holds back a reply for the tarpit, as long as the policy says
// and at most until the session's own idle limit.
func (s *session) policyDelay() {
	if s.srv.cfg.Policy == nil {
		return
	}
	d := s.srv.cfg.Policy.Delay()
	if d <= 0 {
		return
	}
	if max := s.srv.limits.Idle; max > 0 && d > max {
		d = max
	}
	time.Sleep(d)
}

// policyConnect is the connect hook: it returns the reply to send instead
// of the greeting, or nil.
func (s *session) policyConnect() *smtp.Reply {
	return s.policyReply(func(p Policy) (*smtp.Reply, string) { return p.Connect(s.client) })
}

// SetPolicy sets the teaching scenario of a server that is not serving
// yet (the MTA's extensions run before it starts listening).
func (s *Server) SetPolicy(p Policy) { s.cfg.Policy = p }
