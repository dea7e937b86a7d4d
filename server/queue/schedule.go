package queue

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
)

// Schedule is the queue's retry policy (Options.Policy), after Postfix:
// after a recipient's n-th temporary failure (a 4xx reply, or a local
// delivery that could not write) it waits Min·2^(n-1), capped at Max, and
// once the message has been queued for Lifetime it gives up and the
// recipient fails (and is bounced). A 5xx fails a recipient at once and
// never reaches the schedule.
//
// Attempts are counted from the recipient's history: n is the number of
// its attempts that failed temporarily, this one included, so the count
// survives a restart (the history is in queue/state) and an administrator's
// "mailx queue retry" does not reset the doubling.
//
// Durations are in lesson time. With Scale 60 a minute of lesson time
// passes in a real second: the first retry after 5 minutes comes 5 seconds
// later and the 5-day lifetime ends after 2 hours, so a class can watch a
// retry, an expiry and a bounce live. Times stored in the queue stay real
// wall-clock times; only the waits shrink. Every decision can be traced
// ("retry <bob@far.test> in 5 min because ...").
type Schedule struct {
	// Min is the wait after the first temporary failure (Postfix's
	// minimal_backoff_time, 300 s); each later wait doubles. Zero means 300 s.
	Min time.Duration
	// Max caps the wait (Postfix's maximal_backoff_time, 4000 s). Zero
	// means 4000 s.
	Max time.Duration
	// Lifetime is how long a message may stay queued before its deferred
	// recipients are given up and bounced (maximal_queue_lifetime, 5
	// days). Zero means 5 days.
	Lifetime time.Duration
	// WarnAfter, when positive, sends the sender one "delayed" notice per
	// recipient once the message has waited this long (Postfix's
	// delay_warning_time; off by default, as there).
	WarnAfter time.Duration
	// Scale divides every wait: 1 (or 0) is real time, 60 makes minutes
	// seconds.
	Scale float64
	// Trace, when set, receives the decisions as Meta events on the
	// message's session.
	Trace transcript.Hook
	// Warn, when set with WarnAfter, is called (in its own goroutine, since
	// the queue is locked here) to send a delay notice for r.
	Warn func(msg *Message, r Recipient, until time.Time)
}

// DefaultSchedule is Postfix's: 5 min doubling to 4000 s, give up after 5
// days, real time. The zero Schedule behaves the same.
var DefaultSchedule = Schedule{Min: 5 * time.Minute, Max: 4000 * time.Second, Lifetime: 5 * 24 * time.Hour, Scale: 1}

// withDefaults fills the durations left zero with Postfix's.
func (s Schedule) withDefaults() Schedule {
	if s.Min <= 0 {
		s.Min = DefaultSchedule.Min
	}
	if s.Max <= 0 {
		s.Max = DefaultSchedule.Max
	}
	if s.Lifetime <= 0 {
		s.Lifetime = DefaultSchedule.Lifetime
	}
	return s
}

// Real converts a lesson-time duration to real time under the scale.
func (s Schedule) Real(d time.Duration) time.Duration {
	if s.Scale <= 1 {
		return d
	}
	return time.Duration(float64(d) / s.Scale)
}

// Wait returns the lesson-time wait after the n-th temporary failure
// (n from 1): Min, 2·Min, 4·Min, ... capped at Max.
func (s Schedule) Wait(n int) time.Duration {
	s = s.withDefaults()
	w := s.Min
	for i := 1; i < n && w < s.Max; i++ {
		w *= 2
	}
	return min(w, s.Max)
}

// temporaryFailures counts r's attempts that failed temporarily (4xx):
// the n of Wait.
func temporaryFailures(r *Recipient) int {
	n := 0
	for _, a := range r.Attempts {
		if a.Code >= 400 && a.Code < 500 {
			n++
		}
	}
	return n
}

// NextAttempt is called by the queue after a temporary failure at now,
// already appended to r.Attempts. It returns the time of the next attempt,
// or ok false to give up once the message has been queued for Lifetime.
func (s Schedule) NextAttempt(msg *Message, r *Recipient, now time.Time) (next time.Time, ok bool) {
	s = s.withDefaults()
	age := now.Sub(msg.Envelope.Received)
	last := ""
	if n := len(r.Attempts); n > 0 {
		last = r.Attempts[n-1].Reply
	}
	if age >= s.Real(s.Lifetime) {
		s.trace(msg, fmt.Sprintf("giving up on <%s>: queued for %s, the maximum queue lifetime%s; last reply: %s",
			r.Addr, HumanDuration(s.Lifetime), s.scaleNote(s.Lifetime), last))
		return time.Time{}, false
	}
	wait := s.Wait(temporaryFailures(r))
	next = now.Add(s.Real(wait))
	s.trace(msg, fmt.Sprintf("retry <%s> in %s%s because %s", r.Addr, HumanDuration(wait), s.scaleNote(wait), last))
	s.maybeWarn(msg, r, now)
	return next, true
}

// maybeWarn sends the delay notice for r at the first attempt after the
// message's age crossed WarnAfter. It is derived from the attempt
// history, so it needs no state of its own and survives a restart.
func (s Schedule) maybeWarn(msg *Message, r *Recipient, now time.Time) {
	if s.WarnAfter <= 0 || s.Warn == nil || len(r.Attempts) == 0 {
		return
	}
	prev := msg.Envelope.Received
	if n := len(r.Attempts); n > 1 {
		prev = r.Attempts[n-2].Time
	}
	limit := msg.Envelope.Received.Add(s.Real(s.WarnAfter))
	if prev.Before(limit) && !now.Before(limit) {
		until := msg.Envelope.Received.Add(s.Real(s.Lifetime))
		s.trace(msg, fmt.Sprintf("telling the sender that <%s> is delayed (the message has waited %s)", r.Addr, HumanDuration(s.WarnAfter)))
		rc := copyRecipient(r)
		go s.Warn(msg, rc, until)
	}
}

func (s Schedule) scaleNote(d time.Duration) string {
	if s.Scale <= 1 {
		return ""
	}
	return fmt.Sprintf(" (%s real time at time scale %s)", HumanDuration(s.Real(d)), strconv.FormatFloat(s.Scale, 'f', -1, 64))
}

func (s Schedule) trace(msg *Message, line string) {
	if s.Trace != nil {
		s.Trace(transcript.Event{Time: time.Now(), Session: msg.Envelope.SessionID, Proto: "smtp", Dir: transcript.Meta, Line: line})
	}
}

// HumanDuration writes a duration the way people say it: "5 min", "1 h 6 min",
// "5 days", "1.5 s".
func HumanDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0 s"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", d.Seconds()), "0"), ".") + " s"
	case d < time.Hour:
		m, s := int(d/time.Minute), int(d%time.Minute/time.Second)
		if s == 0 {
			return fmt.Sprintf("%d min", m)
		}
		return fmt.Sprintf("%d min %d s", m, s)
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	days := float64(d) / float64(24*time.Hour)
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", days), "0"), ".") + " days"
}

// ParseTimeScale reads a --time-scale value: a number ≥ 1 ("60"), or
// "1m=1s"-style "LESSON=REAL" ("1h=1m" is 60).
func ParseTimeScale(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if l, r, ok := strings.Cut(s, "="); ok {
		a, err1 := time.ParseDuration(strings.TrimSpace(l))
		b, err2 := time.ParseDuration(strings.TrimSpace(r))
		if err1 != nil || err2 != nil || a <= 0 || b <= 0 || a < b {
			return 0, fmt.Errorf("time scale %q: write LESSON=REAL with LESSON at least REAL, e.g. 1m=1s", s)
		}
		return float64(a) / float64(b), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 1 || f > 1e6 {
		return 0, fmt.Errorf("time scale %q: give a number from 1 (real time) to 1000000, e.g. 60 to make minutes seconds", s)
	}
	return f, nil
}
