package queue

import "time"

// The queue keeps two kinds of state, each one explicit type with its
// transitions in this file:
//
//   - State: where one recipient of a message stands (pending, deferred,
//     held, delivered, failed, bounced). It is saved in queue/state/<id>.json
//     and shown by mailx queue list.
//   - phase: where a message stands in the queue's machinery (waiting for
//     a due recipient, handed to a worker, being delivered, being deleted,
//     gone). It lives in memory only: after a restart every message is
//     waiting again.
//
// A recipient's life:
//
//	Pending ──2xx──▶ Delivered
//	   │  ──5xx, or 4xx past the lifetime──▶ Failed ──Options.Bounce──▶ Bounced
//	   └──4xx──▶ Deferred ──NextAttempt due, or mailx queue retry──▶ Pending
//	Pending, Deferred ──mailx queue hold──▶ Held ──mailx queue release──▶ Pending
//
// A message's:
//
//	waiting ──a recipient is due──▶ dispatched ──a worker takes it──▶ delivering
//	delivering ──a recipient is still not final──▶ waiting
//	delivering ──every recipient final──▶ gone
//	waiting, dispatched ──mailx queue delete──▶ gone
//	delivering ──mailx queue delete──▶ deleting ──the attempt ends──▶ gone
//	waiting ──mailx queue bounce──▶ delivering (the attempt is the bounce)

// State is where one recipient of a message stands.
type State string

// The recipient states. Delivered, Failed and Bounced are final.
const (
	Pending   State = "pending"   // not tried yet, or released: due now
	Deferred  State = "deferred"  // a temporary failure; tried again at NextAttempt
	Held      State = "held"      // put aside by an administrator (mailx queue hold)
	Delivered State = "delivered" // in the recipient's Maildir or accepted by the next hop
	Failed    State = "failed"    // permanent failure, no bounce sent (null sender or no bouncer)
	Bounced   State = "bounced"   // permanent failure and the sender was notified
)

// Final reports whether nothing more will happen to a recipient in state s.
func (s State) Final() bool { return s == Delivered || s == Failed || s == Bounced }

// due reports whether r should be attempted at now.
func (r *Recipient) due(now time.Time) bool {
	return r.State == Pending || r.State == Deferred && !r.NextAttempt.After(now)
}

// The recipients' transitions. The queue holds q.mu around each.

// delivered: the destination took the message (2xx).
func (r *Recipient) delivered() { r.State, r.NextAttempt = Delivered, time.Time{} }

// deferUntil: a temporary failure; the schedule says when to try again.
func (r *Recipient) deferUntil(next time.Time) { r.State, r.NextAttempt = Deferred, next }

// fail: a permanent failure, or a temporary one that lasted too long.
func (r *Recipient) fail() { r.State, r.NextAttempt = Failed, time.Time{} }

// bounced: the sender of a failed recipient was sent a notification.
func (r *Recipient) bounced() {
	if r.State == Failed {
		r.State = Bounced
	}
}

// retryNow makes a deferred recipient due at once (mailx queue retry). It
// reports whether r changed.
func (r *Recipient) retryNow() bool {
	if r.State != Deferred {
		return false
	}
	r.State, r.NextAttempt = Pending, time.Time{}
	return true
}

// hold puts a recipient that is not final aside (mailx queue hold).
func (r *Recipient) hold() bool {
	if r.State.Final() || r.State == Held {
		return false
	}
	r.State = Held
	return true
}

// release makes a held recipient due at once (mailx queue release).
func (r *Recipient) release() bool {
	if r.State != Held {
		return false
	}
	r.State, r.NextAttempt = Pending, time.Time{}
	return true
}

// phase is where a message stands in the queue's machinery (see the top of
// this file). It is read and changed with q.mu held, through the methods
// below.
type phase uint8

const (
	waiting    phase = iota // in the queue; the scanner dispatches it when a recipient is due
	dispatched              // in the work channel; a worker takes it next
	delivering              // a worker, or an administrator's Bounce, is attempting it
	deleting                // deleted during an attempt: removed when the attempt ends
	gone                    // out of the queue: every recipient final, or deleted
)

var phaseNames = [...]string{"waiting", "dispatched", "delivering", "deleting", "gone"}

func (p phase) String() string { return phaseNames[p] }

// dispatch moves a waiting message to the work channel's side; false if
// it is anywhere else (a worker has it, or it is gone).
func (m *Message) dispatch() bool {
	if m.phase != waiting {
		return false
	}
	m.phase = dispatched
	return true
}

// undispatch takes back a dispatch whose send failed (the channel was
// full); the scanner finds the message again later.
func (m *Message) undispatch() {
	if m.phase == dispatched {
		m.phase = waiting
	}
}

// take starts an attempt: a worker takes a dispatched message, or an
// administrator's Bounce a waiting or dispatched one (the worker then
// finds it no longer dispatched and leaves it). false: the message is
// being delivered already, or gone.
func (m *Message) take(byWorker bool) bool {
	switch {
	case m.phase == dispatched, !byWorker && m.phase == waiting:
		m.phase = delivering
		return true
	}
	return false
}

// busy reports whether an attempt is under way.
func (m *Message) busy() bool { return m.phase == delivering || m.phase == deleting }

// removed reports whether the message was deleted or has left the queue.
func (m *Message) removed() bool { return m.phase == deleting || m.phase == gone }

// markDeleted records an administrator's deletion. It returns true when
// the message can be removed now, false when an attempt is under way
// (the attempt's end removes it).
func (m *Message) markDeleted() (removeNow bool) {
	if m.busy() {
		m.phase = deleting
		return false
	}
	m.phase = gone
	return true
}

// endAttempt ends an attempt: the message leaves the queue (gone) when
// every recipient is final or it was deleted meanwhile, and waits again
// otherwise. It returns whether it left.
func (m *Message) endAttempt() (left bool) {
	if m.phase == deleting || m.allFinal() {
		m.phase = gone
		return true
	}
	m.phase = waiting
	return false
}

// allFinal reports whether every recipient is final.
func (m *Message) allFinal() bool {
	for _, r := range m.rcpts {
		if !r.State.Final() {
			return false
		}
	}
	return true
}

// hasDue reports whether a recipient of m is due at now.
func (m *Message) hasDue(now time.Time) bool {
	for _, r := range m.rcpts {
		if r.due(now) {
			return true
		}
	}
	return false
}
