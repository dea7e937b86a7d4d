package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailx-edu/mailx/server/maildir"
)

// Queue is a durable mail queue in one data directory. Open it, Start it to
// deliver, Close it to stop. All methods are safe for concurrent use.
type Queue struct {
	opts    Options
	dir     string // Data/queue
	lock    *os.File
	ids     idGen
	syncer  *dirSyncer
	log     *slog.Logger
	now     func() time.Time
	policy  Schedule
	work    chan *Message
	wake    chan struct{}
	mailbox sync.Map   // user → struct{}: Maildir created this run
	journal *journal   // the intake journal of the local fast path
	fast    fastIntake // the journal's side of the seam (durable.go)

	memUsed atomic.Int64 // octets of message data held in memory by Writers

	freeMu sync.Mutex
	free   []string // recycled files in tmp/, for Begin

	idxMu sync.Mutex
	idx   map[string]map[string]string // Maildir root → unique → path, for recovered messages

	mu      sync.Mutex
	msgs    map[string]*Message
	closed  bool
	started bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	// stopped is closed when the queue stops (Start's context).
	stopped <-chan struct{}

	// replayPending: the journal's replay at Open failed (a full disk);
	// Begin refuses and retryReplays tries again. replayed holds the
	// records a try put back whole; replayMu makes tries one at a time.
	replayPending atomic.Bool
	replayMu      sync.Mutex
	replayed      map[uint64]bool
}

// Open takes the queue in opts.Data/queue (creating it), locks it against
// other processes (ErrLocked if a server already runs there) and recovers it:
// files of messages that were never acknowledged are removed, all others are
// loaded with their recipients' state. Open does not deliver; Start does.
func Open(opts Options) (*Queue, error) {
	if opts.Data == "" {
		return nil, errors.New("queue: no data directory")
	}
	q := &Queue{
		opts:   opts,
		dir:    filepath.Join(opts.Data, queueDir),
		syncer: newDirSyncer(maildir.SyncDir),
		log:    opts.Logger,
		now:    opts.Now,
		policy: opts.Policy,
		msgs:   map[string]*Message{},
		wake:   make(chan struct{}, 1),
		work:   make(chan *Message, 1<<16),
	}
	q.fast = journalIntake{q}
	if q.log == nil {
		q.log = slog.New(slog.DiscardHandler)
	}
	if q.now == nil {
		q.now = time.Now
	}
	if q.opts.ScanEvery <= 0 {
		q.opts.ScanEvery = time.Second
	}
	if q.opts.Workers <= 0 {
		q.opts.Workers = 16
	}
	for _, d := range []string{q.dir, q.path(tmpDir), q.path(msgDir), q.path(stateDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("queue: %w", err)
		}
	}
	lf, err := os.OpenFile(q.path(lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	if err := lockFile(lf); err != nil {
		lf.Close()
		if errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("queue: %s: %w", q.dir, ErrLocked)
		}
		return nil, fmt.Errorf("queue: lock %s: %w", q.dir, err)
	}
	q.lock = lf
	if err := q.recover(); err != nil {
		lf.Close()
		return nil, err
	}
	q.cleanMaildirTmp()
	if err := q.openJournal(); err != nil {
		lf.Close()
		return nil, err
	}
	return q, nil
}

func (q *Queue) path(parts ...string) string {
	return filepath.Join(append([]string{q.dir}, parts...)...)
}

// Dir returns the queue directory (Data/queue).
func (q *Queue) Dir() string { return q.dir }

// recover empties tmp/ (left by older versions), loads every slot in msg/
// that holds a complete message, and keeps the others (empty, or torn by a
// crash during a commit that was therefore never acknowledged) as free
// slots.
func (q *Queue) recover() error {
	tmps, err := os.ReadDir(q.path(tmpDir))
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	for _, e := range tmps {
		os.Remove(q.path(tmpDir, e.Name()))
	}
	entries, err := os.ReadDir(q.path(msgDir))
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		p := q.path(msgDir, name)
		if !validID(name) {
			q.log.Warn("queue: ignoring a file that is not a queue slot", "path", p)
			continue
		}
		q.ids.atLeast(name)
		rec, size, err := readMessageFile(p, true)
		var inc incompleteError
		if errors.As(err, &inc) || err == nil && q.msgs[rec.ID] != nil {
			if fi, serr := os.Stat(p); serr == nil && fi.Size() > 0 {
				q.log.Warn("queue: discarding a message whose commit never finished (it was not acknowledged)", "slot", name, "why", err)
			}
			q.freeSlot(p)
			continue
		}
		if err != nil {
			return fmt.Errorf("queue: read %s: %w", p, err)
		}
		id := rec.ID
		q.ids.atLeast(id)
		m := &Message{ID: id, Envelope: rec.Envelope, Size: size, path: p, recovered: true}
		m.rcpts = make([]*Recipient, len(rec.To))
		for i, to := range rec.To {
			m.rcpts[i] = &Recipient{Addr: to, State: Pending}
		}
		if b, err := os.ReadFile(q.path(stateDir, id+".json")); err == nil {
			var st stateRecord
			if err := json.Unmarshal(b, &st); err == nil && len(st.Recipients) == len(m.rcpts) {
				m.rcpts = st.Recipients
				m.stateFile = true
			} else {
				q.log.Warn("queue: unreadable state file; retrying every recipient", "id", id)
			}
		}
		q.msgs[id] = m
	}
	// State files whose message is gone (removed just before a crash).
	states, _ := os.ReadDir(q.path(stateDir))
	for _, e := range states {
		id := strings.TrimSuffix(strings.TrimSuffix(e.Name(), ".tmp"), ".json")
		if _, ok := q.msgs[id]; !ok || strings.HasSuffix(e.Name(), ".tmp") {
			os.Remove(q.path(stateDir, e.Name()))
		}
	}
	return nil
}

// Start begins delivering: recovered messages first, then each new one as it
// is committed, and deferred ones when due. It returns at once; Close stops
// the workers.
func (q *Queue) Start(ctx context.Context) {
	q.mu.Lock()
	if q.started || q.closed {
		q.mu.Unlock()
		return
	}
	q.started = true
	ctx, q.cancel = context.WithCancel(ctx)
	q.stopped = ctx.Done()
	q.mu.Unlock()
	for i := 0; i < q.opts.Workers; i++ {
		q.wg.Add(1)
		go q.worker(ctx)
	}
	q.wg.Add(1)
	go q.scanner(ctx)
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		q.journal.run(ctx.Done())
	}()
	if q.replayPending.Load() {
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			q.retryReplays(ctx.Done())
		}()
	}
	q.Kick()
}

// Close stops delivering, waits for attempts under way to finish and releases
// the queue's lock. Committed messages stay on disk for the next Open.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	cancel := q.cancel
	q.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	q.wg.Wait()
	q.journal.close()
	return q.lock.Close()
}

// Settle is the queue's maildir.Settler: POP3 and IMAP call it (through
// the Mailbox server/mta.go's Settler reaches) before they remove message
// files. A message the fast path wrote into a Maildir without an fsync
// stays in the intake journal until a checkpoint has flushed it; a
// deletion before that checkpoint would come back after a crash, when the
// journal is replayed. So Settle makes the checkpoint now if one is due
// (see journal.settle); it costs nothing when none is, as a second after
// the last delivery, and nothing on a queue that is closed.
func (q *Queue) Settle() { q.journal.settle() }

// Kick makes the queue look for due recipients now rather than at its next
// scan (after mailx queue retry, or a clock change in tests).
func (q *Queue) Kick() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// scanner dispatches messages with due recipients every ScanEvery and when
// kicked.
func (q *Queue) scanner(ctx context.Context) {
	defer q.wg.Done()
	t := time.NewTicker(q.opts.ScanEvery)
	defer t.Stop()
	for {
		q.dispatchDue()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-q.wake:
		}
	}
}

func (q *Queue) dispatchDue() {
	now := q.now()
	q.mu.Lock()
	ids := make([]string, 0, len(q.msgs))
	for id, m := range q.msgs {
		if m.phase == waiting && m.hasDue(now) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids) // oldest first
	for _, id := range ids {
		q.dispatchLocked(q.msgs[id])
	}
	q.mu.Unlock()
}

// dispatchLocked hands a waiting m to a worker, unless the channel is full
// (the scanner then finds it later). q.mu is held.
func (q *Queue) dispatchLocked(m *Message) {
	if !q.started || q.closed || !m.dispatch() {
		return
	}
	select {
	case q.work <- m:
	default:
		m.undispatch()
	}
}

func (q *Queue) worker(ctx context.Context) {
	defer q.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-q.work:
			q.attempt(ctx, m)
		}
	}
}

// attempt delivers m to its due recipients and records the results.
func (q *Queue) attempt(ctx context.Context, m *Message) {
	now := q.now()
	q.mu.Lock()
	if !m.take(true) {
		// Deleted, or bounced by the administrator, since it was dispatched.
		q.mu.Unlock()
		return
	}
	var local, remote []int
	users := map[int]string{}
	for i, r := range m.rcpts {
		if !r.due(now) {
			continue
		}
		if user, ok := q.resolve(r.Addr); ok {
			local = append(local, i)
			users[i] = user
		} else {
			remote = append(remote, i)
		}
	}
	q.mu.Unlock()

	results := make(map[int]Result, len(local)+len(remote))
	for _, i := range local {
		results[i] = q.deliverLocal(m, i, users[i])
	}
	if len(remote) > 0 {
		q.deliverRemote(ctx, m, remote, results)
	}
	if ctx.Err() != nil {
		// Shutting down: an attempt cut short by it is not the
		// destination's fault; leave those recipients as they were.
		for i, res := range results {
			if res.Code >= 400 && res.Code < 500 {
				delete(results, i)
			}
		}
	}
	q.finish(ctx, m, results, users)
}

func (q *Queue) resolve(addr string) (string, bool) {
	if q.opts.Resolve == nil {
		return "", false
	}
	return q.opts.Resolve(addr)
}

// deliverRemote asks the remote Deliverer about rcpts, or defers them with
// an explanation when there is none.
func (q *Queue) deliverRemote(ctx context.Context, m *Message, idx []int, results map[int]Result) {
	if q.opts.Remote == nil {
		for _, i := range idx {
			addr := m.rcpts[i].Addr
			if dom := domainOf(addr); dom != "" && q.opts.IsLocalDomain != nil && q.opts.IsLocalDomain(dom) {
				results[i] = Result{Code: 550, Host: "local",
					Reply: fmt.Sprintf("550 5.1.1 <%s>: no such user here (the account is gone)", addr)}
				continue
			}
			results[i] = Result{Code: 451, Host: "local",
				Reply: "451 4.4.0 this server does not relay to other domains (no remote delivery is configured)"}
		}
		return
	}
	q.mu.Lock()
	rcpts := make([]Recipient, len(idx))
	for k, i := range idx {
		rcpts[k] = copyRecipient(m.rcpts[i])
	}
	q.mu.Unlock()
	res := q.opts.Remote.Deliver(ctx, m, rcpts)
	for k, i := range idx {
		if k < len(res) {
			results[i] = res[k]
		} else {
			results[i] = Result{Code: 451, Host: "relay", Reply: "451 4.3.0 the remote deliverer gave no answer for this recipient"}
		}
	}
}

// finish records the results, bounces what failed, and either removes the
// message (every recipient final) or saves its state durably.
func (q *Queue) finish(ctx context.Context, m *Message, results map[int]Result, users map[int]string) {
	now := q.now()
	q.mu.Lock()
	var failed []Recipient
	var failedIdx []int
	if len(results) > 0 {
		m.dirty = true
	}
	for i, res := range results {
		r := m.rcpts[i]
		if u, ok := users[i]; ok {
			r.User = u
		}
		r.Attempts = append(r.Attempts, Attempt{Time: now, Host: res.Host, Code: res.Code, Reply: res.Reply})
		switch {
		case res.Code >= 200 && res.Code < 300:
			r.delivered()
		case res.Code >= 400 && res.Code < 500:
			if next, ok := q.policy.NextAttempt(m, r, now); ok {
				r.deferUntil(next)
				q.trace(m, fmt.Sprintf("deferred %s until %s: %s", r.Addr, next.Format(time.RFC3339), res.Reply))
				break
			}
			r.fail()
			failed, failedIdx = append(failed, copyRecipient(r)), append(failedIdx, i)
			q.trace(m, fmt.Sprintf("gave up on %s after %d attempts: %s", r.Addr, len(r.Attempts), res.Reply))
		default:
			r.fail()
			failed, failedIdx = append(failed, copyRecipient(r)), append(failedIdx, i)
			q.trace(m, fmt.Sprintf("failed %s: %s", r.Addr, res.Reply))
		}
	}
	q.mu.Unlock()

	if len(failed) > 0 && q.opts.Bounce != nil && ctx.Err() == nil {
		if err := q.opts.Bounce(ctx, m, failed); err != nil {
			q.log.Error("queue: bounce failed", "id", m.ID, "err", err)
		} else {
			q.mu.Lock()
			for _, i := range failedIdx {
				m.rcpts[i].bounced()
			}
			q.mu.Unlock()
		}
	}
	q.settle(m)
}

// settle ends an attempt: it saves the recipients' state if it changed,
// then removes a message whose recipients are all final (or that was
// deleted meanwhile), or lets it be dispatched again.
func (q *Queue) settle(m *Message) {
	q.mu.Lock()
	var state []byte
	if m.dirty && !m.allFinal() && m.phase != deleting {
		state = mustState(m)
		m.dirty = false
	}
	q.mu.Unlock()
	if state != nil {
		// Saved while the attempt is still under way: nothing dispatches
		// the message meanwhile, so a later attempt's state is never
		// overwritten by this one's.
		if err := q.saveState(m, state); err != nil {
			q.log.Error("queue: save state", "id", m.ID, "err", err)
		}
	}
	// A message that leaves has its slot emptied before it leaves q.msgs:
	// once List no longer shows it, its slot is free for the next Begin.
	q.mu.Lock()
	leaving := m.phase == deleting || m.allFinal()
	durable := needsDurableRemoval(m)
	q.mu.Unlock()
	if leaving {
		q.removeLogged(m, durable)
	}
	q.mu.Lock()
	left := m.endAttempt()
	if left {
		delete(q.msgs, m.ID)
	} else {
		q.dispatchDueLocked(m)
	}
	q.mu.Unlock()
	if left && !leaving {
		q.removeLogged(m, true) // deleted by the administrator meanwhile
	}
}

// removeLogged is remove, logging a failure: the message has left the
// queue either way.
func (q *Queue) removeLogged(m *Message, durable bool) {
	if err := q.remove(m, durable); err != nil {
		q.log.Error("queue: remove a message that left the queue", "id", m.ID, "err", err)
	}
}

// dispatchDueLocked dispatches m if a recipient is due now. q.mu is held.
func (q *Queue) dispatchDueLocked(m *Message) {
	if m.hasDue(q.now()) {
		q.dispatchLocked(m)
	}
}

func (q *Queue) saveState(m *Message, state []byte) error {
	if err := writeFileDurably(q.path(stateDir, m.ID+".json"), state); err != nil {
		return err
	}
	q.mu.Lock()
	m.stateFile = true
	q.mu.Unlock()
	return q.syncer.Sync(q.path(stateDir))
}

// remove takes a message out of the queue: its slot is emptied and kept for
// a later Begin (creating a file costs far more than truncating one, and
// emptying changes no directory, so no directory fsync is needed).
//
// The emptying is made durable (fsync) unless every recipient was delivered
// into a local Maildir: if a crash then brought the message back, the
// recovered delivery would find its Maildir file and not deliver twice. A
// deleted, bounced or relayed message must not come back, so for those the
// slot is fsynced.
func (q *Queue) remove(m *Message, durable bool) error {
	if m.stateFile {
		os.Remove(q.path(stateDir, m.ID+".json"))
	}
	if err := os.Truncate(m.path, 0); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	if durable {
		f, err := os.OpenFile(m.path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	q.freeSlot(m.path)
	return nil
}

// freeSlot keeps an empty (or torn) slot for reuse, or deletes it when enough
// are kept already (after a burst, the queue shrinks back).
func (q *Queue) freeSlot(p string) {
	q.freeMu.Lock()
	keep := len(q.free) < maxFree
	if keep {
		q.free = append(q.free, p)
	}
	q.freeMu.Unlock()
	if !keep {
		os.Remove(p)
	}
}

// needsDurableRemoval reports whether a finished message must not come back
// after a crash: anything but "every recipient delivered to a local Maildir"
// (see remove).
func needsDurableRemoval(m *Message) bool {
	if m.removed() {
		return true
	}
	for _, r := range m.rcpts {
		n := len(r.Attempts)
		if r.State != Delivered || n == 0 || r.Attempts[n-1].Host != "local" {
			return true
		}
	}
	return false
}

// trace reports a decision about m on its SMTP session's trace. Callers
// may hold q.mu: the hook must not call back into the queue.
func (q *Queue) trace(m *Message, line string) { q.traceSession(m.Envelope.SessionID, line) }

func copyRecipient(r *Recipient) Recipient {
	c := *r
	c.Attempts = append([]Attempt(nil), r.Attempts...)
	return c
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}
