package access

import (
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"
)

// Budget is the one limit on concurrent sessions that every listener of a
// server shares (SMTP, submission, POP3, IMAP and their TLS ports), so that
// a flood on one protocol cannot take the file descriptors and memory the
// others need: 20,000 idle POP3 connections used to leave SMTP unable to
// greet anyone.
//
// Each class of service ("smtp", "pop3", "imap") may also hold at most
// PerClient sessions from one client address, and keeps Reserve slots that
// the other classes may not take: with the whole budget held by idle POP3
// and IMAP connections, SMTP still has Reserve slots to receive mail.
//
// The zero value admits nobody; use NewBudget.
type Budget struct {
	total     int
	perClient int
	reserve   int

	mu      sync.Mutex
	used    int
	classes map[string]int // open sessions per class (registered classes only)
	clients map[clientKey]int

	refusedAt   time.Time // when a refusal was last logged
	refusedMore int       // refusals since, not logged one by one
}

type clientKey struct {
	class string
	ip    netip.Addr
}

// DefaultSessions is the default budget for all sessions together.
const DefaultSessions = 1000

// DefaultSessionsPerClient is the default per-address cap of each class:
// a classroom of 30 behind one NAT address with a mail program each (an
// IMAP client opens two or three connections) fits.
const DefaultSessionsPerClient = 100

// NewBudget returns a budget of total sessions, at most perClient of one
// class from one address; zero takes the defaults. Classes register with
// Register so that each keeps its reserve, a tenth of the total (none for
// a budget under ten, where it would leave a class nothing).
func NewBudget(total, perClient int) *Budget {
	if total <= 0 {
		total = DefaultSessions
	}
	if perClient <= 0 {
		perClient = DefaultSessionsPerClient
	}
	return &Budget{
		total: total, perClient: perClient, reserve: total / 10,
		classes: map[string]int{}, clients: map[clientKey]int{},
	}
}

// Total is the number of sessions the budget admits in all.
func (b *Budget) Total() int { return b.total }

// PerClient is the per-address cap of each class.
func (b *Budget) PerClient() int { return b.perClient }

// Register declares a class of service, so that the others leave it its
// reserve. Registering twice is harmless.
func (b *Budget) Register(class string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.classes[class]; !ok {
		b.classes[class] = 0
	}
}

// Open returns the number of sessions open in all.
func (b *Budget) Open() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Acquire takes a slot for a session of class from ip. It returns a
// release function to call once when the session ends, or why the session
// is refused, in words for the protocol's busy answer.
func (b *Budget) Acquire(class string, ip netip.Addr) (release func(), why string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.classes[class]; !ok {
		b.classes[class] = 0
	}
	// What the other classes are still owed of their reserve.
	owed := 0
	for c, n := range b.classes {
		if c != class && n < b.reserve {
			owed += b.reserve - n
		}
	}
	k := clientKey{class, ip}
	switch {
	case b.used >= b.total:
		return nil, fmt.Sprintf("%d sessions open, the most allowed", b.used)
	case b.used+owed >= b.total:
		return nil, fmt.Sprintf("%d sessions open, and the rest is kept for the other services", b.used)
	case b.clients[k] >= b.perClient:
		return nil, fmt.Sprintf("%d sessions open from %s, the most allowed per client", b.clients[k], ip)
	}
	b.used++
	b.classes[class]++
	b.clients[k]++
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.used--
			b.classes[class]--
			if b.clients[k]--; b.clients[k] <= 0 {
				delete(b.clients, k)
			}
		})
	}, ""
}

// FilesPerSession is how many descriptors one session may hold at a time:
// its socket, and the file it reads or writes (a queue file during DATA, a
// message during RETR or FETCH).
const FilesPerSession = 2

// FileReserve is kept out of the session budget for what must always get
// a descriptor: the listeners, the log, the queue's journal and its
// delivery, the control socket, DNS lookups and the transcripts.
const FileReserve = 128

// SessionsForFiles is the most sessions a process whose soft descriptor
// limit is limit can hold while leaving FileReserve for everything else;
// 0 for an unknown limit means no bound.
func SessionsForFiles(limit uint64) int {
	if limit == 0 {
		return 0
	}
	if limit <= FileReserve+FilesPerSession*16 {
		return 16
	}
	return int((limit - FileReserve) / FilesPerSession)
}

// Refused logs a connection turned away. A flood of them would fill the
// log as fast as it used to fill the transcripts: the first refusal of
// each minute is logged in full, the others are counted and summed up in
// one line with the next.
func (b *Budget) Refused(log *slog.Logger, listener, client, why string) {
	if log == nil {
		return
	}
	b.mu.Lock()
	now := time.Now()
	if !b.refusedAt.IsZero() && now.Sub(b.refusedAt) < time.Minute {
		b.refusedMore++
		b.mu.Unlock()
		return
	}
	more := b.refusedMore
	b.refusedAt, b.refusedMore = now, 0
	b.mu.Unlock()
	log.Warn("connection turned away", "listener", listener, "client", client, "reason", why, "more_in_the_last_minute", more)
}
