package queue

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/maildir"
)

// localUsers resolves alice, bob and bob+tag in mx.test.
func localUsers(addr string) (string, bool) {
	local, dom, ok := strings.Cut(strings.ToLower(addr), "@")
	if !ok || dom != "mx.test" {
		return "", false
	}
	local, _, _ = strings.Cut(local, "+")
	if local == "alice" || local == "bob" {
		return local, true
	}
	return "", false
}

func isLocal(d string) bool { return d == "mx.test" }

// events collects trace lines.
type events struct {
	mu    sync.Mutex
	lines []string
}

func (e *events) hook(ev transcript.Event) {
	e.mu.Lock()
	e.lines = append(e.lines, ev.Session+" "+ev.Line)
	e.mu.Unlock()
}

func (e *events) has(sub string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range e.lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func openQueue(t *testing.T, o Options) *Queue {
	t.Helper()
	if o.Resolve == nil {
		o.Resolve = localUsers
	}
	if o.IsLocalDomain == nil {
		o.IsLocalDomain = isLocal
	}
	q, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func commit(t *testing.T, q *Queue, from string, to ...string) string {
	t.Helper()
	w, err := q.Begin()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "Received: from client by mx.test id %s\r\nSubject: test %s\r\n\r\nHello\r\n", w.ID(), w.ID())
	id, err := w.Commit(Envelope{From: from, To: to, Received: time.Now(), SessionID: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	if id != w.ID() {
		t.Fatalf("Commit returned %s, Begin said %s", id, w.ID())
	}
	return id
}

// waitFor waits (at most 30 s) until cond holds; the queue has no other
// signal for "delivery done".
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, cond, "timed out waiting for %s", what)
}

func maildirFiles(t *testing.T, data, user string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{maildir.New, maildir.Cur} {
		es, _ := os.ReadDir(filepath.Join(maildir.Root(data, user), sub))
		for _, e := range es {
			out = append(out, filepath.Join(maildir.Root(data, user), sub, e.Name()))
		}
	}
	return out
}

// TestCommitDeliversToMaildirAndLeavesQueue takes the queued path: the
// message is committed before the queue starts delivering, so it goes into a
// slot, and Start delivers it from there.
func TestCommitDeliversToMaildirAndLeavesQueue(t *testing.T) {
	data := t.TempDir()
	ev := &events{}
	q := openQueue(t, Options{Data: data, Trace: ev.hook})
	id := commit(t, q, "carol@far.test", "bob@mx.test", "Alice@MX.test", "bob+lists@mx.test")
	if l := q.List(); len(l) != 1 {
		t.Fatalf("queue before Start: %v, want the message", l)
	}
	q.Start(context.Background())
	waitFor(t, "delivery", func() bool { return len(q.List()) == 0 })

	bob := maildirFiles(t, data, "bob")
	if len(bob) != 2 {
		t.Fatalf("bob has %d messages, want 2 (bob and bob+lists): %v", len(bob), bob)
	}
	if a := maildirFiles(t, data, "alice"); len(a) != 1 {
		t.Fatalf("alice has %d messages, want 1", len(a))
	}
	b, _ := os.ReadFile(bob[0])
	if !strings.HasPrefix(string(b), "Return-Path: <carol@far.test>\nDelivered-To: ") || !strings.Contains(string(b), "Subject: test "+id+"\n") {
		t.Errorf("delivered file:\n%s", b)
	}
	if fi, err := os.Stat(filepath.Join(data, "queue", "msg", id)); err != nil || fi.Size() != 0 {
		t.Errorf("queue slot not emptied after delivery: %v", err)
	}
	if !ev.has("s1 "+id+" stored in queue slot msg/") || !ev.has("s1 delivered to bob's Maildir as new/") {
		t.Errorf("trace lacks the queue's decisions: %q", ev.lines)
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	data := t.TempDir()
	q := openQueue(t, Options{Data: data})
	w, err := q.Begin()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("Subject: x\r\n\r\n"))
	w.Write(bytes.Repeat([]byte("more than fits in memory\r\n"), memMax/20)) // spilled into a slot
	if w.path == "" {
		t.Fatal("a message larger than memMax was not spilled into a slot")
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(Envelope{To: []string{"bob@mx.test"}}); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	// The slot stays, empty, for the next message.
	if fi, err := os.Stat(w.path); err != nil || fi.Size() != 0 {
		t.Errorf("aborted message's slot: %v %v, want it empty", fi, err)
	}
	q.Close()
	if l := openQueue(t, Options{Data: data}).List(); len(l) != 0 {
		t.Errorf("aborted message recovered: %v", l)
	}
}

// TestRecoveryDropsTornAndDeliversCommitted simulates what a crash leaves:
// a committed message, a message whose commit was cut short, and a message
// whose DATA never ended. Only the committed one may be delivered, once, and
// the other slots are reused.
func TestRecoveryDropsTornAndDeliversCommitted(t *testing.T) {
	data := t.TempDir()
	q := openQueue(t, Options{Data: data})
	good := commit(t, q, "a@far.test", "bob@mx.test")
	torn := commit(t, q, "a@far.test", "alice@mx.test")
	w, _ := q.Begin()
	w.Write([]byte("Subject: never finished\r\n"))
	if err := w.spill(); err != nil {
		t.Fatal(err)
	}
	w.bw.Flush()
	q.Close() // not started: nothing delivered

	// Cut the second file short, as a crash before its fsync might.
	p := filepath.Join(data, "queue", "msg", torn)
	fi, _ := os.Stat(p)
	if err := os.Truncate(p, fi.Size()-3); err != nil {
		t.Fatal(err)
	}
	q2 := openQueue(t, Options{Data: data})
	if l := q2.List(); len(l) != 1 || l[0].ID != good {
		t.Fatalf("after recovery the queue holds %v, want only %s", l, good)
	}
	q2.freeMu.Lock()
	if len(q2.free) != 2 {
		t.Errorf("free slots after recovery: %v, want the torn one and the unfinished one", q2.free)
	}
	q2.freeMu.Unlock()
	q2.Start(context.Background())
	waitFor(t, "delivery", func() bool { return len(q2.List()) == 0 })
	if n := len(maildirFiles(t, data, "bob")); n != 1 {
		t.Errorf("bob has %d messages, want 1", n)
	}
	if n := len(maildirFiles(t, data, "alice")); n != 0 {
		t.Errorf("alice got %d messages from a commit that never finished", n)
	}
}

// TestRecoveryDoesNotDuplicate: the process died after the Maildir rename
// but before the queue recorded it. The restarted queue must find the file
// and not deliver a second copy.
func TestRecoveryDoesNotDuplicate(t *testing.T) {
	data := t.TempDir()
	q := openQueue(t, Options{Data: data})
	id := commit(t, q, "a@far.test", "bob@mx.test", "alice@mx.test")
	q.mu.Lock()
	m := q.msgs[id]
	q.mu.Unlock()
	if res := q.deliverLocal(m, 0, "bob"); res.Code != 250 {
		t.Fatal(res.Reply)
	}
	// A reader moved it to cur/ and marked it seen meanwhile.
	files := maildirFiles(t, data, "bob")
	os.Rename(files[0], strings.Replace(files[0], "/new/", "/cur/", 1)+maildir.InfoPrefix+"S")
	q.Close()

	ev := &events{}
	q2 := openQueue(t, Options{Data: data, Trace: ev.hook})
	q2.Start(context.Background())
	waitFor(t, "delivery", func() bool { return len(q2.List()) == 0 })
	if n := len(maildirFiles(t, data, "bob")); n != 1 {
		t.Errorf("bob has %d copies after recovery, want 1", n)
	}
	if n := len(maildirFiles(t, data, "alice")); n != 1 {
		t.Errorf("alice has %d copies after recovery, want 1", n)
	}
	if !ev.has("not delivering twice") {
		t.Errorf("trace does not explain the skipped delivery: %q", ev.lines)
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	data := t.TempDir()
	openQueue(t, Options{Data: data})
	if _, err := Open(Options{Data: data}); err == nil || !strings.Contains(err.Error(), ErrLocked.Error()) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
}

// fakeRemote answers each recipient by its local part: "soft" 451, "hard"
// 550, anything else 250.
type fakeRemote struct {
	mu    sync.Mutex
	calls int
}

func (f *fakeRemote) Deliver(ctx context.Context, m *Message, rcpts []Recipient) []Result {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	out := make([]Result, len(rcpts))
	for i, r := range rcpts {
		switch {
		case strings.HasPrefix(r.Addr, "soft@"):
			out[i] = Result{Code: 451, Reply: "451 4.7.1 greylisted", Host: "mx.far.test"}
		case strings.HasPrefix(r.Addr, "hard@"):
			out[i] = Result{Code: 550, Reply: "550 5.1.1 no such user", Host: "mx.far.test"}
		default:
			out[i] = Result{Code: 250, Reply: "250 2.0.0 ok", Host: "mx.far.test"}
		}
	}
	return out
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestRemoteResultsRetriesAndBounces(t *testing.T) {
	data := t.TempDir()
	clk := &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	remote := &fakeRemote{}
	var bounced []string
	var bmu sync.Mutex
	q := openQueue(t, Options{
		Data: data, Remote: remote, Now: clk.now, ScanEvery: time.Hour,
		Policy: Schedule{Min: time.Minute, Max: 4 * time.Minute, Lifetime: 10 * time.Minute},
		Bounce: func(ctx context.Context, m *Message, failed []Recipient) error {
			bmu.Lock()
			defer bmu.Unlock()
			for _, r := range failed {
				bounced = append(bounced, r.Addr)
			}
			return nil
		},
	})
	q.Start(context.Background())
	w, _ := q.Begin()
	w.Write([]byte("Subject: x\r\n\r\nhi\r\n"))
	id, err := w.Commit(Envelope{From: "bob@mx.test", To: []string{"ok@far.test", "soft@far.test", "hard@far.test"}, Received: clk.now()})
	if err != nil {
		t.Fatal(err)
	}
	state := func(addr string) Recipient {
		s, err := q.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range s.Recipients {
			if r.Addr == addr {
				return r
			}
		}
		t.Fatalf("no recipient %s", addr)
		return Recipient{}
	}
	waitFor(t, "first attempt", func() bool { s, _ := q.Get(id); return !s.Busy && state("soft@far.test").State == Deferred })
	if r := state("ok@far.test"); r.State != Delivered {
		t.Errorf("ok@: %s, want delivered", r.State)
	}
	if r := state("hard@far.test"); r.State != Bounced || r.LastError() != "550 5.1.1 no such user" {
		t.Errorf("hard@: %s %q, want bounced with the 550", r.State, r.LastError())
	}
	if r := state("soft@far.test"); !r.NextAttempt.Equal(clk.now().Add(time.Minute)) {
		t.Errorf("soft@ next attempt %v, want in 1 minute", r.NextAttempt)
	}
	// The state survives a restart.
	if b, err := os.ReadFile(filepath.Join(data, "queue", "state", id+".json")); err != nil || !strings.Contains(string(b), "greylisted") {
		t.Errorf("state file: %v %s", err, b)
	}
	// Not due yet: a scan does nothing. The scan runs here rather than in
	// the scanner, so that what follows it is what it did.
	q.dispatchDue()
	q.mu.Lock()
	ph := q.msgs[id].phase
	q.mu.Unlock()
	if n := len(state("soft@far.test").Attempts); ph != waiting || n != 1 {
		t.Errorf("a scan before the next attempt was due dispatched the message: phase %s, %d attempts", ph, n)
	}
	// Then due: a second attempt, backoff doubles.
	clk.add(time.Minute)
	q.Kick()
	waitFor(t, "second attempt", func() bool { return len(state("soft@far.test").Attempts) == 2 })
	if r := state("soft@far.test"); !r.NextAttempt.Equal(clk.now().Add(2 * time.Minute)) {
		t.Errorf("after 2 attempts next is %v, want +2m", r.NextAttempt)
	}
	if r := state("hard@far.test"); len(r.Attempts) != 1 {
		t.Errorf("a recipient that got 5xx was tried again: %d attempts", len(r.Attempts))
	}
	// Past the lifetime the policy gives up: bounced, message gone.
	clk.add(10 * time.Minute)
	q.Kick()
	waitFor(t, "give-up", func() bool { return len(q.List()) == 0 })
	bmu.Lock()
	defer bmu.Unlock()
	if strings.Join(bounced, ",") != "hard@far.test,soft@far.test" {
		t.Errorf("bounced %v, want hard@ then soft@", bounced)
	}
}

func TestNoRemoteDefersAndUnknownLocalFails(t *testing.T) {
	data := t.TempDir()
	q := openQueue(t, Options{Data: data, ScanEvery: time.Hour})
	q.Start(context.Background())
	w, _ := q.Begin()
	w.Write([]byte("Subject: x\r\n\r\nhi\r\n"))
	id, _ := w.Commit(Envelope{From: "bob@mx.test", To: []string{"x@far.test", "gone@mx.test"}, Received: time.Now()})
	waitFor(t, "attempt", func() bool { s, _ := q.Get(id); return !s.Busy && s.Recipients[0].State == Deferred })
	s, _ := q.Get(id)
	if !strings.Contains(s.Recipients[0].LastError(), "does not relay") {
		t.Errorf("remote recipient: %q", s.Recipients[0].LastError())
	}
	if s.Recipients[1].State != Failed || !strings.HasPrefix(s.Recipients[1].LastError(), "550 5.1.1") {
		t.Errorf("unknown local: %s %q", s.Recipients[1].State, s.Recipients[1].LastError())
	}
}

func TestHoldReleaseDelete(t *testing.T) {
	data := t.TempDir()
	q := openQueue(t, Options{Data: data, ScanEvery: time.Hour})
	id := commit(t, q, "a@far.test", "bob@mx.test")
	if err := q.Hold(id); err != nil {
		t.Fatal(err)
	}
	q.Start(context.Background())
	q.Kick()
	if s, _ := q.Get(id); s.Recipients[0].State != Held {
		t.Fatalf("held recipient is %s", s.Recipients[0].State)
	}
	if err := q.Release(id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery after release", func() bool { return len(q.List()) == 0 })

	id2 := commit(t, q, "a@far.test", "x@far.test") // deferred: no remote
	waitFor(t, "deferral", func() bool { s, _ := q.Get(id2); return !s.Busy && s.Recipients[0].State == Deferred })
	if err := q.Delete(id2); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Get(id2); err == nil {
		t.Error("Get after Delete found the message")
	}
	slots, _ := os.ReadDir(filepath.Join(data, "queue", "msg"))
	for _, e := range slots {
		if fi, _ := e.Info(); fi.Size() != 0 {
			t.Errorf("slot %s still holds %d octets after Delete", e.Name(), fi.Size())
		}
	}
	if err := q.Delete("../../etc/passwd"); err == nil {
		t.Error("Delete accepted a path as an id")
	}
}

func TestHeader(t *testing.T) {
	q := openQueue(t, Options{Data: t.TempDir()})
	id := commit(t, q, "a@far.test", "bob@mx.test")
	h, raw, err := q.Header(id)
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("Subject") != "test "+id || !strings.HasPrefix(raw, "Received: ") {
		t.Errorf("Header = %v, %q", h, raw)
	}
}

func TestDirSyncerCoversEveryCaller(t *testing.T) {
	var mu sync.Mutex
	syncs := 0
	s := newDirSyncer(func(string) error {
		mu.Lock()
		syncs++
		mu.Unlock()
		time.Sleep(time.Millisecond)
		return nil
	})
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); s.Sync("d") }()
	}
	wg.Wait()
	if syncs >= 50 || syncs < 1 {
		t.Errorf("%d fsyncs for 50 concurrent callers; want grouping", syncs)
	}
}

// TestSlotReuseAndLostEmptying: a delivered message's slot is emptied and
// reused by the next message. If a crash loses the emptying, the old message
// comes back at recovery; it must find its Maildir file and not be
// delivered twice.
func TestSlotReuseAndLostEmptying(t *testing.T) {
	data := t.TempDir()
	q := openQueue(t, Options{Data: data})
	old := commit(t, q, "a@far.test", "bob@mx.test")
	slot := filepath.Join(data, "queue", "msg", old)
	saved, err := os.ReadFile(slot)
	if err != nil {
		t.Fatal(err)
	}
	q.Start(context.Background())
	waitFor(t, "delivery", func() bool { return len(q.List()) == 0 })
	if fi, err := os.Stat(slot); err != nil || fi.Size() != 0 {
		t.Fatalf("delivered message's slot not emptied for reuse: %v %v", fi, err)
	}
	w, err := q.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.spill(); err != nil {
		t.Fatal(err)
	}
	if w.path != slot {
		t.Errorf("Begin wrote to %s, want the free slot %s", w.path, slot)
	}
	w.Write([]byte("Subject: new\r\n\r\nnew\r\n"))
	if _, err := w.Commit(Envelope{From: "a@far.test", To: []string{"alice@mx.test"}, Received: time.Now()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery", func() bool { return len(q.List()) == 0 })
	q.Close()

	// Forge the crash: the slot still holds the first message.
	os.WriteFile(slot, saved, 0o600)
	ev := &events{}
	q2 := openQueue(t, Options{Data: data, Trace: ev.hook})
	if l := q2.List(); len(l) != 1 || l[0].ID != old {
		t.Fatalf("recovered %v, want %s back", l, old)
	}
	q2.Start(context.Background())
	waitFor(t, "recovery", func() bool { return len(q2.List()) == 0 })
	if n := len(maildirFiles(t, data, "bob")); n != 1 {
		t.Errorf("bob has %d copies, want 1", n)
	}
	if n := len(maildirFiles(t, data, "alice")); n != 1 {
		t.Errorf("alice has %d copies, want 1", n)
	}
	if !ev.has("not delivering twice") {
		t.Errorf("trace: %q", ev.lines)
	}
}

// TestDeletedStaysDeleted: an administrator's delete is durable (the slot is
// fsynced empty), and the slot is reused.
func TestDeletedStaysDeleted(t *testing.T) {
	data := t.TempDir()
	q := openQueue(t, Options{Data: data})
	id := commit(t, q, "a@far.test", "bob@mx.test")
	if err := q.Delete(id); err != nil {
		t.Fatal(err)
	}
	q.Close()
	q2 := openQueue(t, Options{Data: data})
	if l := q2.List(); len(l) != 0 {
		t.Errorf("deleted message came back: %v", l)
	}
	if w, _ := q2.Begin(); w == nil || w.spill() != nil || filepath.Base(w.path) != id {
		t.Errorf("the deleted message's slot was not reused")
	}
}
