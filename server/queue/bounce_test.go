package queue

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/dsn"
	"github.com/mailx-edu/mailx/proto/dsn/dsntest"
)

func TestScheduleWaitsAndScale(t *testing.T) {
	s := Schedule{Min: 5 * time.Minute, Max: time.Hour, Scale: 60}
	want := []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 40 * time.Minute, time.Hour, time.Hour}
	for i, w := range want {
		if got := s.Wait(i + 1); got != w {
			t.Errorf("Wait(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := s.Real(5 * time.Minute); got != 5*time.Second {
		t.Errorf("Real(5m) at scale 60 = %v, want 5s", got)
	}
	if got := (Schedule{}).Real(time.Minute); got != time.Minute {
		t.Errorf("Real without scale = %v, want unchanged", got)
	}
	for in, want := range map[string]float64{"60": 60, "1": 1, "1m=1s": 60, "1h=1m": 60, "1h=1s": 3600} {
		if got, err := ParseTimeScale(in); err != nil || got != want {
			t.Errorf("ParseTimeScale(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"0", "-5", "fast", "1s=1m", "1e9"} {
		if _, err := ParseTimeScale(bad); err == nil {
			t.Errorf("ParseTimeScale(%q) accepted", bad)
		}
	}
	for d, want := range map[time.Duration]string{5 * time.Minute: "5 min", 4000 * time.Second: "1 h 6 min",
		5 * 24 * time.Hour: "5 days", 1500 * time.Millisecond: "1.5 s", 90 * time.Second: "1 min 30 s", 36 * time.Hour: "36 h"} {
		if got := HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// recordingRemote answers like fakeRemote and remembers each call's sender
// and recipients.
type recordingRemote struct {
	fakeRemote
	mu    sync.Mutex
	calls []string // "from -> to,to"
}

func (r *recordingRemote) Deliver(ctx context.Context, m *Message, rcpts []Recipient) []Result {
	var to []string
	for _, x := range rcpts {
		to = append(to, x.Addr)
	}
	r.mu.Lock()
	r.calls = append(r.calls, "<"+m.Envelope.From+"> -> "+strings.Join(to, ","))
	r.mu.Unlock()
	return r.fakeRemote.Deliver(ctx, m, rcpts)
}

func (r *recordingRemote) log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

// relayQueue opens a queue wired as mailx serve wires it: the Schedule as
// policy and the Bouncer for permanent failures.
func relayQueue(t *testing.T, clk *clock, remote Deliverer, sched Schedule, ev *events) *Queue {
	t.Helper()
	sched.Trace = ev.hook
	b := &Bouncer{ReportingMTA: "mx.test", Schedule: sched, Now: clk.now, Trace: ev.hook}
	sched.Warn = b.Warn
	q := openQueue(t, Options{Data: t.TempDir(), Remote: remote, Now: clk.now, ScanEvery: time.Hour,
		Policy: sched, Bounce: b.Bounce, Trace: ev.hook})
	b.Queue = q
	q.Start(context.Background())
	return q
}

// TestRetriesThenBounceIntoSendersMaildir runs a recipient that never
// stops failing temporarily through the whole scaled schedule, with an
// injected clock: each retry is due exactly when the schedule says, and
// after the lifetime the sender (local) finds an RFC 3464 bounce in her
// Maildir.
func TestRetriesThenBounceIntoSendersMaildir(t *testing.T) {
	start := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	clk := &clock{t: start}
	ev := &events{}
	sched := Schedule{Min: 5 * time.Minute, Max: time.Hour, Lifetime: 2 * time.Hour, WarnAfter: 30 * time.Minute, Scale: 60}
	remote := &recordingRemote{}
	q := relayQueue(t, clk, remote, sched, ev)
	w, _ := q.Begin()
	w.Write([]byte("From: alice@mx.test\r\nTo: soft@far.test\r\nSubject: crepes tonight?\r\n\r\nCome over.\r\n"))
	id, err := w.Commit(Envelope{From: "alice@mx.test", To: []string{"soft@far.test"}, Received: start, SessionID: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	soft := func() Recipient {
		s, err := q.Get(id)
		if err != nil {
			return Recipient{State: Bounced}
		}
		return s.Recipients[0]
	}
	// Lesson-time waits: 5, 10, 20, 40, 60, 60 min...; real: /60.
	var waits []time.Duration
	for attempt := 1; ; attempt++ {
		waitFor(t, "attempt", func() bool {
			s, err := q.Get(id)
			return err != nil || !s.Busy && len(s.Recipients[0].Attempts) == attempt && s.Recipients[0].State != Pending
		})
		r := soft()
		if r.State != Deferred {
			break
		}
		last := r.Attempts[len(r.Attempts)-1].Time
		waits = append(waits, r.NextAttempt.Sub(last))
		clk.add(r.NextAttempt.Sub(clk.now()))
		q.Kick()
		if attempt > 20 {
			t.Fatal("never gave up")
		}
	}
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 60 * time.Second}
	if len(waits) < len(want) {
		t.Fatalf("waits %v, want at least %v", waits, want)
	}
	for i, w := range want {
		if waits[i] != w {
			t.Errorf("wait %d = %v, want %v (lesson time %v at scale 60)", i+1, waits[i], w, w*60)
		}
	}
	if got := clk.now().Sub(start); got < 2*time.Minute || got > 3*time.Minute {
		t.Errorf("gave up after %v of real time, want just past the scaled lifetime of 2 min", got)
	}
	waitFor(t, "bounce and delay notice in alice's Maildir", func() bool { return len(maildirFiles(t, q.opts.Data, "alice")) == 2 })
	var bounce, delay *dsn.Report
	for _, p := range maildirFiles(t, q.opts.Data, "alice") {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := dsntest.Read(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s is not a DSN: %v", p, err)
		}
		switch rep.Recipients[0].Action {
		case dsn.Failed:
			bounce = rep
		case dsn.Delayed:
			delay = rep
		}
		b, _ := os.ReadFile(p)
		if !strings.HasPrefix(string(b), "Return-Path: <>") {
			t.Errorf("notification not delivered with the null sender:\n%.200s", b)
		}
	}
	if bounce == nil || delay == nil {
		t.Fatalf("want one bounce and one delay notice, got bounce=%v delay=%v", bounce != nil, delay != nil)
	}
	r := bounce.Recipients[0]
	if r.FinalRecipient != "soft@far.test" || r.Status != "4.4.7" || r.Diagnostic != "451 4.7.1 greylisted" || r.RemoteMTA != "mx.far.test" {
		t.Errorf("bounce recipient = %+v", r)
	}
	if bounce.QueueID != id || !strings.Contains(string(bounce.OriginalHeaders), "Subject: crepes tonight?") {
		t.Errorf("bounce does not identify the message: queue id %q, headers %q", bounce.QueueID, bounce.OriginalHeaders)
	}
	if !strings.Contains(bounce.Human, "kept trying for 2 h") {
		t.Errorf("human part does not explain the give-up:\n%s", bounce.Human)
	}
	for _, line := range []string{
		"retry <soft@far.test> in 5 min (5 s real time at time scale 60) because 451 4.7.1 greylisted",
		"retry <soft@far.test> in 10 min (10 s real time at time scale 60)",
		"giving up on <soft@far.test>: queued for 2 h",
		"bounced <soft@far.test>: a delivery status notification to <alice@mx.test> is queued as",
		"telling the sender that <soft@far.test> is delayed",
	} {
		if !ev.has(line) {
			t.Errorf("trace lacks %q", line)
		}
	}
	ev.mu.Lock()
	all := strings.Join(ev.lines, "\n")
	ev.mu.Unlock()
	if n := strings.Count(all, "telling the sender"); n != 1 {
		t.Errorf("%d delay notices, want exactly 1", n)
	}
}

// TestNeverRetry5xxNeverBounceABounce: a 5xx fails the recipient at once
// and it is never tried again; the bounce goes out from <>; when the bounce
// itself fails, nothing more is sent.
func TestNeverRetry5xxNeverBounceABounce(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	ev := &events{}
	remote := &recordingRemote{}
	q := relayQueue(t, clk, remote, Schedule{Min: time.Minute, Max: time.Hour, Lifetime: time.Hour}, ev)
	// The sender is remote and does not exist either, so the bounce to it
	// fails with 550 too.
	w, _ := q.Begin()
	w.Write([]byte("Subject: x\r\n\r\nhi\r\n"))
	if _, err := w.Commit(Envelope{From: "hard@far.test", To: []string{"hard@far.test"}, Received: clk.now(), SessionID: "s1"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the queue to empty", func() bool { return len(q.List()) == 0 && len(remote.log()) == 2 })
	// Days later, with every scan, nothing is tried again.
	for i := 0; i < 5; i++ {
		clk.add(24 * time.Hour)
		q.Kick()
	}
	w, _ = q.Begin()
	w.Write([]byte("Subject: marker\r\n\r\n\r\n"))
	w.Commit(Envelope{From: "alice@mx.test", To: []string{"bob@mx.test"}, Received: clk.now()})
	waitFor(t, "the marker delivery", func() bool { return len(maildirFiles(t, q.opts.Data, "bob")) == 1 })
	got := remote.log()
	want := []string{"<hard@far.test> -> hard@far.test", "<> -> hard@far.test"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("remote deliveries = %q, want %q (one try, one bounce from <>, no bounce of the bounce)", got, want)
	}
	if !ev.has("not sending a bounce: the failed message came from the null sender <>") {
		t.Errorf("trace does not explain why the bounce was not bounced")
	}
	if ev.has("retry <hard@far.test>") {
		t.Errorf("a 5xx recipient was scheduled for retry")
	}
}
