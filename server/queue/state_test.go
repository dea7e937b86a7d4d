package queue

import (
	"testing"
	"time"
)

// TestRecipientTransitions: each administrator verb moves only the
// recipients it is for, and reports whether it moved one.
func TestRecipientTransitions(t *testing.T) {
	later := time.Date(2026, 1, 1, 0, 5, 0, 0, time.UTC)
	all := []State{Pending, Deferred, Held, Delivered, Failed, Bounced}
	for _, tc := range []struct {
		name string
		fn   func(*Recipient) bool
		want map[State]State // from → to; states not listed stay
	}{
		{"retryNow", (*Recipient).retryNow, map[State]State{Deferred: Pending}},
		{"hold", (*Recipient).hold, map[State]State{Pending: Held, Deferred: Held}},
		{"release", (*Recipient).release, map[State]State{Held: Pending}},
	} {
		for _, from := range all {
			r := &Recipient{State: from, NextAttempt: later}
			changed := tc.fn(r)
			to, moves := tc.want[from]
			if !moves {
				to = from
			}
			if r.State != to || changed != moves {
				t.Errorf("%s from %s: %s (changed %v), want %s (changed %v)", tc.name, from, r.State, changed, to, moves)
			}
			if to == Pending && !r.due(later.Add(-time.Hour)) {
				t.Errorf("%s from %s: not due at once", tc.name, from)
			}
		}
	}
	r := &Recipient{State: Pending}
	r.deferUntil(later)
	if r.State != Deferred || r.due(later.Add(-time.Second)) || !r.due(later) {
		t.Errorf("deferUntil: %s, due a second early %v, due on time %v", r.State, r.due(later.Add(-time.Second)), r.due(later))
	}
	r.fail()
	r.bounced()
	if r.State != Bounced || !r.NextAttempt.IsZero() {
		t.Errorf("fail then bounced: %s next %v, want bounced and no next attempt", r.State, r.NextAttempt)
	}
	r = &Recipient{State: Delivered}
	r.bounced()
	if r.State != Delivered {
		t.Errorf("bounced on a delivered recipient made it %s", r.State)
	}
}

// TestMessagePhases walks a message through every transition of its
// phase, and checks the moves that must be refused.
func TestMessagePhases(t *testing.T) {
	pending := func() *Message { return &Message{rcpts: []*Recipient{{State: Pending}}} }

	m := pending()
	if !m.dispatch() || m.phase != dispatched || m.dispatch() {
		t.Fatalf("dispatch: phase %s; a second dispatch must be refused", m.phase)
	}
	m.undispatch()
	if m.phase != waiting {
		t.Errorf("undispatch: phase %s, want waiting", m.phase)
	}
	if m.take(true) {
		t.Error("a worker took a message that was not dispatched to it")
	}
	m.dispatch()
	if !m.take(true) || !m.busy() || m.take(false) {
		t.Fatalf("take: phase %s; a second take (Bounce) must be refused", m.phase)
	}
	if m.endAttempt() || m.phase != waiting {
		t.Errorf("end of an attempt with a recipient left: phase %s, want waiting", m.phase)
	}
	m.take(false) // an administrator's bounce takes a waiting message
	m.rcpts[0].fail()
	if !m.endAttempt() || m.phase != gone {
		t.Errorf("end of an attempt with every recipient final: phase %s, want gone", m.phase)
	}
	if m.dispatch() || m.take(false) || !m.removed() {
		t.Errorf("a gone message came back: phase %s", m.phase)
	}

	// Deleted while waiting or dispatched: gone at once.
	for _, dispatch := range []bool{false, true} {
		m = pending()
		if dispatch {
			m.dispatch()
		}
		if !m.markDeleted() || m.phase != gone || m.take(true) {
			t.Errorf("deleted (dispatched %v): phase %s, want gone and not taken", dispatch, m.phase)
		}
	}
	// Deleted during an attempt: removed when it ends, even with
	// recipients left.
	m = pending()
	m.dispatch()
	m.take(true)
	if m.markDeleted() || m.phase != deleting || !m.removed() || !m.busy() {
		t.Fatalf("deleted during an attempt: phase %s, want deleting", m.phase)
	}
	if !m.endAttempt() || m.phase != gone {
		t.Errorf("end of the attempt of a deleted message: phase %s, want gone", m.phase)
	}
}
