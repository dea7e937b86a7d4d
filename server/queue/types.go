package queue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
)

// Envelope is what the SMTP transaction said about a message, besides its
// content: who sent it, to whom, and how it arrived.
type Envelope struct {
	From       string    `json:"from"`                  // reverse-path without <>; "" for the null sender (bounces)
	To         []string  `json:"to"`                    // forward-paths in RCPT order, without <>
	Received   time.Time `json:"received"`              // when the DATA ended
	ClientAddr string    `json:"client_addr,omitempty"` // e.g. "127.0.0.1:53124"
	Helo       string    `json:"helo,omitempty"`        // EHLO/HELO argument
	AuthUser   string    `json:"auth_user,omitempty"`   // authenticated user, if any
	SessionID  string    `json:"session,omitempty"`     // "s12": links the trace and the transcript
	BodyType   string    `json:"body,omitempty"`        // "7BIT", "8BITMIME" (MAIL BODY=)
	SMTPUTF8   bool      `json:"smtputf8,omitempty"`    // MAIL ... SMTPUTF8
	// Folders names the folder of a local recipient's copy, e.g. "Junk"
	// for mail the spam checks junked; recipients not named go to INBOX.
	Folders map[string]string `json:"folders,omitempty"`
}

// Attempt is one try at delivering to a recipient.
type Attempt struct {
	Time  time.Time `json:"time"`
	Host  string    `json:"host"`  // "local" or the host that answered
	Code  int       `json:"code"`  // SMTP reply code: 2xx, 4xx or 5xx
	Reply string    `json:"reply"` // the reply as received, or what local delivery says
}

// Recipient is one envelope recipient and its delivery state.
type Recipient struct {
	Addr        string    `json:"addr"`
	State       State     `json:"state"`
	User        string    `json:"user,omitempty"` // the local account, once resolved
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	Attempts    []Attempt `json:"attempts,omitempty"`
}

// LastError returns the last attempt's reply when it was a failure.
func (r *Recipient) LastError() string {
	if n := len(r.Attempts); n > 0 && r.Attempts[n-1].Code >= 400 {
		return r.Attempts[n-1].Reply
	}
	return ""
}

// Result is a Deliverer's answer for one recipient.
type Result struct {
	Code  int    // 2xx delivered, 4xx try again later, 5xx give up
	Reply string // the reply text, e.g. "250 2.0.0 Ok: queued as 1F2E" or "451 4.7.1 greylisted"
	Host  string // who answered (MX host name and address), for the attempt history
}

// Deliverer delivers a message to some of its recipients: the relay client
// implements it for remote domains. It returns one Result per recipient, in
// the order given; it must honour ctx (shutdown). rcpts are copies: a
// Deliverer reads them (Addr, Attempts) and never changes the queue's state
// directly.
type Deliverer interface {
	Deliver(ctx context.Context, msg *Message, rcpts []Recipient) []Result
}

// Options configure a Queue.
type Options struct {
	// Data is the server's data directory: the queue lives in Data/queue and
	// Maildirs in Data/mail/<user>.
	Data string
	// Resolve maps a recipient address to a local account (ok false: not
	// local). accounts.Directory.Resolve fits.
	Resolve func(addr string) (user string, ok bool)
	// IsLocalDomain, if set, tells an address in a local domain whose account
	// no longer exists (550 5.1.1, failed) from a remote one.
	IsLocalDomain func(domain string) bool
	// Remote delivers non-local recipients; nil defers them with an
	// explanation.
	Remote Deliverer
	// Policy is the retry schedule of temporarily failed recipients; its
	// zero value is Postfix's (see Schedule).
	Policy Schedule
	// Bounce is called with recipients that just failed permanently; when it
	// returns nil they become Bounced. It typically queues an RFC 3464 DSN to
	// the sender (never to the null sender). Nil leaves them Failed.
	Bounce func(ctx context.Context, msg *Message, failed []Recipient) error
	// Now is the clock; nil means time.Now. Tests and --time-scale inject one.
	Now func() time.Time
	// ScanEvery is how often deferred recipients are checked for being due
	// (default 1s).
	ScanEvery time.Duration
	// Workers is the number of concurrent deliveries (default 16: delivery
	// waits on fsync, not CPU).
	Workers int
	// Trace receives the queue's decisions as Meta events; nil is off.
	Trace transcript.Hook
	// Logger is the structured log; nil discards.
	Logger *slog.Logger
}

// Message is a queued message as deliverers see it. Its fields do not change
// after Commit; the recipients' state lives in the Queue (see Get).
type Message struct {
	ID       string
	Envelope Envelope
	Size     int64 // size of the message data in octets (CRLF lines)

	path      string // queue/msg/<id>
	rcpts     []*Recipient
	phase     phase // where it stands in the queue (state.go); q.mu guards it
	recovered bool  // loaded at start: a local delivery may have happened already
	stateFile bool  // queue/state/<id>.json exists
	dirty     bool  // recipients changed since the state was last saved
}

// Open returns the message data (CRLF lines, Received: first) for reading.
func (m *Message) Open() (io.ReadCloser, error) {
	f, err := os.Open(m.path)
	if err != nil {
		return nil, fmt.Errorf("queue: open %s: %w", m.ID, err)
	}
	return &sectionFile{SectionReader: io.NewSectionReader(f, 0, m.Size), f: f}, nil
}

type sectionFile struct {
	*io.SectionReader
	f *os.File
}

func (s *sectionFile) Close() error { return s.f.Close() }

// Snapshot is a copy of a message's state at one moment, for listings.
type Snapshot struct {
	ID         string      `json:"id"`
	Size       int64       `json:"size"`
	Envelope   Envelope    `json:"envelope"`
	Recipients []Recipient `json:"recipients"`
	Busy       bool        `json:"delivering,omitempty"` // an attempt is under way
}

// Errors callers check with errors.Is.
var (
	// ErrNotFound: no message with that id (already delivered, or a typo).
	ErrNotFound = errors.New("no such message in the queue")
	// ErrLocked: another process (a running mailx serve) owns the queue.
	ErrLocked = errors.New("the queue is in use by another process")
	// ErrClosed: the queue was closed.
	ErrClosed = errors.New("queue closed")
	// ErrReplayPending: messages acknowledged before a crash are not yet
	// back in their mailboxes (the disk was full at the start); new mail
	// waits until they are.
	ErrReplayPending = errors.New("the queue is putting back messages from before a restart and takes no new mail until there is disk space for them")
)
