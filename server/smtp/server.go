package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	smtp "github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/access"
	"github.com/mailx-edu/mailx/server/queue"
)

// Directory is what the server asks about users and domains;
// *accounts.Directory implements it.
type Directory interface {
	Primary() string
	IsLocalDomain(domain string) bool
	Resolve(addr string) (user string, ok bool)
	ResolveLocal(local string) (user string, ok bool)
	Authenticate(user, password string) bool
}

// Queue takes accepted messages; server/queue implements it through a small
// adapter in package server.
type Queue interface {
	Begin() (MessageWriter, error)
}

// MessageWriter streams one message into the queue. Commit returns only
// when the message is on stable storage; only then does the server say 250.
type MessageWriter interface {
	io.Writer
	// ID is the queue id, known before Commit, for the Received: header.
	ID() string
	// Commit makes the message durable. finish, when not nil, is work the
	// queue leaves for after the reply (writing local copies): the session
	// calls it once the 250 is sent, before it reads the next command for
	// messages under backgroundFinishAt, and for larger ones on another
	// goroutine, waiting for it before it answers anything but the next
	// transaction's MAIL, RCPT and DATA, before it commits another message
	// and before the session ends.
	Commit(env queue.Envelope) (id string, finish func(), err error)
	Abort()
}

// Config describes one SMTP listener's behaviour.
type Config struct {
	// Hostname names this server in the banner, EHLO and Received:.
	Hostname string
	// Directory answers which recipients are local and checks passwords.
	Directory Directory
	// Queue takes messages.
	Queue Queue
	// TLS enables STARTTLS (nil: not offered).
	TLS *tls.Config
	// Submission makes this the message submission port (RFC 6409): AUTH is
	// required before MAIL, and Message-ID and Date are added when missing.
	Submission bool
	// Name labels this listener in the trace and logs ("smtp", "submission",
	// "smtps").
	Name string
	// Limits bound each session; zero fields take their defaults.
	Limits Limits
	// RelayNets are client networks allowed to relay without AUTH. Empty by
	// default: not even loopback, so the refusal can be seen.
	RelayNets []netip.Prefix
	// VRFY answers VRFY truthfully (250/550) instead of 252.
	VRFY bool
	// XClientNets may use XCLIENT besides loopback (see xclient.go).
	XClientNets []netip.Prefix
	// Checker, when set, checks clients and messages (see checks.go).
	Checker Checker
	// Trace receives every line; nil turns tracing off.
	Trace transcript.Hook
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// SessionID returns a new session id such as "s12"; nil numbers the
	// sessions of this server alone.
	SessionID func() string
	// Throttle slows down password guessing per client address; share one
	// with POP3 and IMAP so guesses count across protocols. Nil makes one
	// with Limits.AuthFailDelay.
	Throttle *access.Throttle
	// Budget, when set, is the session budget shared with the server's other
	// listeners (POP3, IMAP): SMTP counts as the class "smtp" in it. Nil makes
	// one of Limits.Sessions and Limits.SessionsPerClient for this server.
	Budget *access.Budget
	// Ready, when set, reports whether the queue takes mail now; an error
	// answers MAIL with 452 4.3.1 and says why (the queue is still putting
	// back messages from before a restart on a full disk).
	Ready func() error
	// DiskFree reports free space where the queue lives; nil skips the check.
	DiskFree func() (uint64, error)
	// Now returns the time (tests pin it); nil means time.Now.
	Now func() time.Time
	// Policy, when set, is a teaching scenario that may refuse what the
	// server would accept (see policy.go); nil is normal service.
	Policy Policy
}

// Server is an SMTP server. Serve may be called for several listeners.
type Server struct {
	cfg    Config
	limits Limits
	log    *slog.Logger

	acc access.Acceptor

	budget *access.Budget

	mu       sync.Mutex
	sessions map[*session]struct{}
	closing  bool
	wg       sync.WaitGroup

	ids access.Counter

	// For waiting on input by polling (input_linux.go): sessions open,
	// and whether one of them polls now.
	open    atomic.Int32
	polling atomic.Bool
}

// New returns a server for cfg.
func New(cfg Config) *Server {
	s := &Server{
		cfg:      cfg,
		limits:   cfg.Limits.WithDefaults(),
		log:      cfg.Logger,
		sessions: map[*session]struct{}{},
		budget:   cfg.Budget,
	}
	if s.budget == nil {
		s.budget = access.NewBudget(s.limits.Sessions, s.limits.SessionsPerClient)
	}
	s.budget.Register(BudgetClass)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.acc.Logger = s.log
	if s.cfg.Name == "" {
		s.cfg.Name = "smtp"
		if cfg.Submission {
			s.cfg.Name = "submission"
		}
	}
	if s.cfg.Now == nil {
		s.cfg.Now = time.Now
	}
	if s.cfg.SessionID == nil {
		s.cfg.SessionID = s.ids.Next
	}
	if s.cfg.Throttle == nil {
		s.cfg.Throttle = &access.Throttle{Delay: s.limits.AuthFailDelay}
	}
	return s
}

// Limits returns the limits in force, defaults filled in.
func (s *Server) Limits() Limits { return s.limits }

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("smtp: server closed")

// Serve accepts connections on l until Shutdown. Connections from a
// tls.Listener are treated as implicit TLS (SMTPS, RFC 8314).
func (s *Server) Serve(l net.Listener) error {
	// The Acceptor (shared with POP3 and IMAP) backs off when the process
	// is out of file descriptors instead of spinning or giving up.
	err := s.acc.Serve(l, s.admit)
	if errors.Is(err, access.ErrClosed) {
		return ErrServerClosed
	}
	return err
}

// BudgetClass is SMTP's class in a shared access.Budget.
const BudgetClass = "smtp"

// admit starts a session for c, or turns it away with 421 when the server
// or this client has too many sessions.
func (s *Server) admit(c net.Conn) {
	ip := access.AddrOf(c.RemoteAddr())
	s.mu.Lock()
	why := ""
	var release func()
	if s.closing {
		why = "shutting down"
	} else {
		release, why = s.budget.Acquire(BudgetClass, ip)
	}
	if why != "" {
		s.mu.Unlock()
		s.budget.Refused(s.log, s.cfg.Name, c.RemoteAddr().String(), why)
		go func() {
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			for _, l := range smtp.Busy(s.cfg.Hostname, why).Wire() {
				io.WriteString(c, l+"\r\n")
			}
			c.Close()
		}()
		return
	}
	sess := newSession(s, c, ip)
	s.sessions[sess] = struct{}{}
	s.open.Add(1)
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.sessions, sess)
			s.open.Add(-1)
			s.mu.Unlock()
			release()
		}()
		sess.run()
	}()
}

// Sessions returns the number of open sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Shutdown stops accepting, tells idle sessions 421 and closes them, lets
// sessions that are receiving a message finish until ctx is done, then closes
// whatever is left. A message is either acknowledged and queued, or not
// acknowledged: never half.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.acc.Close()
	for sess := range s.sessions {
		sess.interrupt(false)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for sess := range s.sessions {
		sess.interrupt(true)
	}
	s.mu.Unlock()
	<-done
	return ctx.Err()
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}
