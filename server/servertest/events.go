package servertest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
)

// Events records a server's trace events (pass Hook as server.Config.Trace,
// or Options.Events) and lets a test wait for one instead of sleeping.
type Events struct {
	mu   sync.Mutex
	all  []transcript.Event
	more chan struct{}
}

// NewEvents returns an empty recorder.
func NewEvents() *Events { return &Events{more: make(chan struct{}, 1)} }

// Hook records ev; it is a transcript.Hook, safe from any goroutine.
func (e *Events) Hook(ev transcript.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
	select {
	case e.more <- struct{}{}:
	default:
	}
}

// All returns a copy of the events so far.
func (e *Events) All() []transcript.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]transcript.Event(nil), e.all...)
}

// Text returns the events so far, one "SESSION DIR LINE" a line, for a
// failing test's log.
func (e *Events) Text() string {
	var b strings.Builder
	for _, ev := range e.All() {
		fmt.Fprintf(&b, "%s %s %s\n", ev.Session, ev.Dir, ev.Line)
	}
	return b.String()
}

// Wait waits (at most timeout) for an event, past or future, for which match
// is true, and returns it; otherwise it fails the test saying what it waited
// for (what) and showing the trace.
func (e *Events) Wait(t testing.TB, timeout time.Duration, what string, match func(transcript.Event) bool) transcript.Event {
	t.Helper()
	deadline := time.After(timeout)
	seen := 0
	for {
		e.mu.Lock()
		for ; seen < len(e.all); seen++ {
			if match(e.all[seen]) {
				ev := e.all[seen]
				e.mu.Unlock()
				return ev
			}
		}
		e.mu.Unlock()
		select {
		case <-e.more:
		case <-deadline:
			t.Fatalf("no trace event %s within %v; the trace:\n%s", what, timeout, e.Text())
			return transcript.Event{}
		}
	}
}

// WaitMeta waits (at most 30 s) for a Meta event of session (any when "")
// containing s. The bound is generous because every message is fsynced
// before its 250: on a disk busy with other work that alone has taken
// seconds under -race.
func (e *Events) WaitMeta(t testing.TB, session, s string) transcript.Event {
	t.Helper()
	return e.Wait(t, 30*time.Second, fmt.Sprintf("containing %q", s), func(ev transcript.Event) bool {
		return ev.Dir == transcript.Meta && strings.Contains(ev.Line, s) && (session == "" || ev.Session == session)
	})
}
