package pop3

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	p3 "github.com/mailx-edu/mailx/proto/pop3"
	"github.com/mailx-edu/mailx/server/access"
)

// Accounts checks passwords and maps login names to users;
// *accounts.Directory implements it.
type Accounts = access.Accounts

// Config describes the server.
type Config struct {
	// MailboxServer is what POP3 and IMAP share: accounts, Maildirs,
	// TLS, the login timeout, budget and throttle, trace and log.
	access.MailboxServer
	// APOPSecret returns the shared secret APOP needs for a user. Nil (the
	// default) means APOP is not offered: the greeting carries no timestamp.
	APOPSecret func(user string) (secret string, ok bool)
	// Timeout closes a session idle this long. Default 10 minutes, the
	// minimum RFC 1939 §3 allows for the autologout timer.
	Timeout time.Duration
	// TraceBodyLines is how many lines of each RETR/TOP body go to the
	// trace before the rest is summarised; default 200.
	TraceBodyLines int
}

// Server is a POP3 server. Serve may be called for several listeners.
type Server struct {
	cfg Config
	log *slog.Logger
	ids access.Counter

	acc      access.Acceptor
	mu       sync.Mutex
	sessions map[*session]struct{}
	locked   map[string]string // user → session id holding the maildrop
	wg       sync.WaitGroup
}

// New returns a server for cfg.
func New(cfg Config) *Server {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if cfg.TraceBodyLines <= 0 {
		cfg.TraceBodyLines = 200
	}
	s := &Server{sessions: map[*session]struct{}{}, locked: map[string]string{}}
	cfg.SetDefaults(BudgetClass, cfg.Timeout, &s.ids)
	s.cfg, s.log = cfg, cfg.Logger
	s.acc.Logger = s.log
	return s
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = access.ErrClosed

// Serve accepts connections on l until Shutdown. Connections accepted from a
// tls.Listener (see ServeTLS) are implicit TLS: POP3S on port 995, RFC 8314.
func (s *Server) Serve(l net.Listener) error { return s.acc.Serve(l, s.start) }

// ServeTLS serves implicit-TLS POP3 (POP3S) on l with Config.TLS.
func (s *Server) ServeTLS(l net.Listener) error {
	return s.acc.ServeTLS(l, s.cfg.TLS, s.start)
}

// BudgetClass is POP3's class in a shared access.Budget.
const BudgetClass = "pop3"

// DefaultLoginTimeout is Config.LoginTimeout's default.
const DefaultLoginTimeout = access.DefaultLoginTimeout

func (s *Server) start(c net.Conn) {
	release, why := s.cfg.Budget.Acquire(BudgetClass, access.AddrOf(c.RemoteAddr()))
	if why != "" {
		s.cfg.Budget.Refused(s.log, "pop3", c.RemoteAddr().String(), why)
		go busy(c, why)
		return
	}
	sess := newSession(s, c)
	s.mu.Lock()
	if s.acc.Closing() {
		s.mu.Unlock()
		release()
		c.Close()
		return
	}
	s.sessions[sess] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer release()
		defer func() {
			s.mu.Lock()
			delete(s.sessions, sess)
			s.mu.Unlock()
		}()
		sess.run()
	}()
}

// Shutdown stops accepting connections and closes every session. A session
// still in TRANSACTION is cut off like a dropped connection: nothing it
// marked with DELE is deleted. Shutdown waits for the sessions to end or
// for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.acc.Close()
	s.mu.Lock()
	for sess := range s.sessions {
		sess.shutdown()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lock takes user's maildrop for session id; it fails when another session
// holds it.
func (s *Server) lock(user, id string) (holder string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, busy := s.locked[user]; busy {
		return h, false
	}
	s.locked[user] = id
	return "", true
}

func (s *Server) unlock(user, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locked[user] == id {
		delete(s.locked, user)
	}
}

// busy answers a connection over the session budget with RFC 3206's
// [SYS/TEMP] (a temporary problem: try again later) instead of a greeting,
// and closes it.
func busy(c net.Conn, why string) {
	defer c.Close()
	c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	for _, l := range p3.ErrCode("SYS/TEMP", "too busy ("+why+"); try again later").Wire() {
		if _, err := io.WriteString(c, l+"\r\n"); err != nil {
			return
		}
	}
}
