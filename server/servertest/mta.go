package servertest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mailx-edu/mailx/server"
	"github.com/mailx-edu/mailx/server/accounts"
)

// Services mailx serve can listen on, by the names MTA.Addr takes.
const (
	SMTP       = "smtp"
	Submission = "submission"
	POP3       = "pop3"
	IMAP       = "imap"
	Web        = "web"
)

// Options says what to start. The zero value starts SMTP, submission, POP3
// and IMAP with the practice accounts (alice/hungry, bob/burger) and no
// transcripts.
type Options struct {
	// Services lists the services to listen on (SMTP, Submission, POP3,
	// IMAP, Web); nil means SMTP, Submission, POP3 and IMAP. The others are
	// off.
	Services []string
	// Users replaces the practice accounts when not nil.
	Users []accounts.Credential
	// Data is the data directory; "" means a new t.TempDir(). Give one to
	// start a second server on the same data, or to look at its files.
	Data string
	// Transcripts keeps the per-session transcript files (off by default:
	// most tests read the trace instead).
	Transcripts bool
	// Events, when not nil, receives every trace event.
	Events *Events
	// Config, when not nil, edits the configuration last: limits, spam,
	// routes, lab settings, anything the fields above do not cover.
	Config func(*server.Config)
}

// MTA is a running mailx serve. Its methods are server.MTA's: Addr("smtp")
// gives the bound address of a service, MailRoot(user) a user's Maildir.
type MTA struct {
	*server.MTA
	Data string // the data directory
}

// lowCost makes bcrypt cheap for every server a test starts: the default
// cost makes each login take ~50 ms, and the tests log in thousands of times.
var lowCost sync.Once

// Start starts an MTA as Options says, waits until every service listens,
// and shuts it down in t.Cleanup, waiting (at most 10 s) for the shutdown to
// finish. A server that cannot start fails the test.
func Start(t testing.TB, o Options) *MTA {
	t.Helper()
	lowCost.Do(func() { accounts.HashCost = bcrypt.MinCost })
	m, err := server.New(config(t, o))
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatalf("servertest: start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Shutdown(ctx); err != nil {
			t.Errorf("servertest: shutdown: %v", err)
		}
	})
	return &MTA{MTA: m, Data: m.Config().Data}
}

// config is the configuration Start uses.
func config(t testing.TB, o Options) server.Config {
	t.Helper()
	data := o.Data
	if data == "" {
		data = t.TempDir()
	}
	services := o.Services
	if services == nil {
		services = []string{SMTP, Submission, POP3, IMAP}
	}
	addr := func(name string) string {
		if slices.Contains(services, name) {
			return "127.0.0.1:0"
		}
		return "off"
	}
	cfg := server.Config{
		Data:           data,
		SMTPAddr:       addr(SMTP),
		SubmissionAddr: addr(Submission),
		POP3Addr:       addr(POP3),
		IMAPAddr:       addr(IMAP),
		WebAddr:        addr(Web),
		Users:          o.Users,
		NoTranscripts:  !o.Transcripts,
	}
	if o.Events != nil {
		cfg.Trace = o.Events.Hook
	}
	if o.Config != nil {
		o.Config(&cfg)
	}
	return cfg
}
