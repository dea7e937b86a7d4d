package access

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/maildir"
)

// DefaultLoginTimeout is MailboxServer.LoginTimeout's default: a client that
// never logs in should not hold a session slot for the whole idle limit.
const DefaultLoginTimeout = 60 * time.Second

// MailboxServer is the configuration the POP3 and IMAP servers share: who
// may log in, where their Maildirs are, what the server spends on whom, and
// where its lines go. Each server's Config embeds it and adds its own.
type MailboxServer struct {
	// Hostname names the server in greetings (POP3's APOP timestamp) and
	// logs; default "localhost".
	Hostname string
	// Accounts checks logins.
	Accounts Accounts
	// MailRoot returns a user's Maildir root (DATA/mail/<user>).
	MailRoot func(user string) string
	// Settler runs before a deletion (POP3's DELE at QUIT; IMAP's EXPUNGE,
	// MOVE, DELETE or RENAME) removes message files: mailx serve's queue,
	// so that a crash cannot bring a deleted message back (see
	// maildir.Settler). Nil settles nothing.
	Settler maildir.Settler
	// TLS enables STLS/STARTTLS, and is used by ServeTLS. Nil: not offered.
	TLS *tls.Config
	// LoginTimeout closes a session that has not logged in after being idle
	// this long: default DefaultLoginTimeout, or the server's idle limit
	// when that is shorter.
	LoginTimeout time.Duration
	// Budget, when set, is the session budget shared with the server's other
	// listeners, in which the server counts as its own class. Nil makes one
	// with the defaults (DefaultSessions, DefaultSessionsPerClient).
	Budget *Budget
	// Throttle slows down password guessing; nil uses the defaults.
	Throttle *Throttle
	// Trace receives every line; nil turns tracing off.
	Trace transcript.Hook
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// SessionID returns a new session id such as "s12"; nil numbers the
	// sessions of this server alone.
	SessionID func() string
}

// SetDefaults fills what is unset for a server whose budget class is class,
// whose idle limit is idle and which numbers its own sessions with ids.
func (c *MailboxServer) SetDefaults(class string, idle time.Duration, ids *Counter) {
	if c.Hostname == "" {
		c.Hostname = "localhost"
	}
	if c.LoginTimeout <= 0 {
		c.LoginTimeout = DefaultLoginTimeout
	}
	c.LoginTimeout = min(c.LoginTimeout, idle)
	if c.Budget == nil {
		c.Budget = NewBudget(0, 0)
	}
	c.Budget.Register(class)
	if c.Throttle == nil {
		c.Throttle = &Throttle{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.SessionID == nil {
		c.SessionID = ids.Next
	}
}
