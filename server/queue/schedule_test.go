package queue

import (
	"fmt"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
)

// TestScheduleCountsTemporaryFailures pins how the one retry policy counts
// attempts: the wait after a temporary failure is Min·2^(n-1), capped at
// Max, where n is the number of the recipient's attempts that failed with
// a 4xx, this one included (Postfix's defaults: 300 s doubling to 4000 s).
func TestScheduleCountsTemporaryFailures(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := &Message{Envelope: Envelope{Received: t0}}
	want := []time.Duration{300 * time.Second, 600 * time.Second, 1200 * time.Second, 2400 * time.Second, 4000 * time.Second, 4000 * time.Second}
	for _, tc := range []struct {
		name  string
		sched Schedule
	}{
		{"DefaultSchedule", DefaultSchedule},
		{"zero value", Schedule{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Recipient{Addr: "bob@far.test"}
			for n, w := range want {
				r.Attempts = append(r.Attempts, Attempt{Time: t0, Code: 451, Reply: "451 4.7.1 greylisted"})
				next, ok := tc.sched.NextAttempt(m, r, t0)
				if !ok {
					t.Fatalf("gave up after %d temporary failures", n+1)
				}
				if got := next.Sub(t0); got != w {
					t.Errorf("after %d temporary failures: wait %v, want %v", n+1, got, w)
				}
			}
		})
	}
}

// TestScheduleIgnoresOtherAttempts: only 4xx attempts count. An attempt of
// another class in the history (a recipient's record written by hand, or a
// future state that retries after a 2xx) does not make the wait double.
func TestScheduleIgnoresOtherAttempts(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := &Message{Envelope: Envelope{Received: t0}}
	r := &Recipient{Attempts: []Attempt{{Code: 250}, {Code: 550}, {Code: 0}, {Code: 452}}}
	if n := temporaryFailures(r); n != 1 {
		t.Errorf("temporaryFailures = %d, want 1 (only the 452)", n)
	}
	next, ok := DefaultSchedule.NextAttempt(m, r, t0)
	if !ok || next.Sub(t0) != 5*time.Minute {
		t.Errorf("NextAttempt = %v, %v; want 5m after one temporary failure", next.Sub(t0), ok)
	}
	if got := (Schedule{}).Wait(0); got != 5*time.Minute {
		t.Errorf("Wait(0) = %v, want Min", got)
	}
}

// TestScheduleLifetimeAndScale: the schedule gives up once the message's
// age reaches Lifetime, and Scale shrinks the waits and the lifetime alike
// (the stored next attempt is real time).
func TestScheduleLifetimeAndScale(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := &Message{Envelope: Envelope{Received: t0}}
	r := &Recipient{Attempts: []Attempt{{Code: 421}, {Code: 421}}}
	for _, tc := range []struct {
		sched Schedule
		age   time.Duration
		ok    bool
		wait  time.Duration
	}{
		{DefaultSchedule, 5*24*time.Hour - time.Second, true, 10 * time.Minute},
		{DefaultSchedule, 5 * 24 * time.Hour, false, 0},
		{Schedule{Lifetime: time.Hour}, time.Hour, false, 0},
		{Schedule{Scale: 60}, 2*time.Hour - time.Second, true, 10 * time.Second},
		{Schedule{Scale: 60}, 2 * time.Hour, false, 0},
		{Schedule{Min: time.Minute, Max: 90 * time.Second}, 0, true, 90 * time.Second},
	} {
		now := t0.Add(tc.age)
		next, ok := tc.sched.NextAttempt(m, r, now)
		if ok != tc.ok || ok && next.Sub(now) != tc.wait {
			t.Errorf("%+v at age %v: next in %v, ok %v; want %v, %v", tc.sched, tc.age, next.Sub(now), ok, tc.wait, tc.ok)
		}
	}
}

// TestScheduleTracesItsDecision: the trace line says when and why, in
// lesson time with the real time beside it.
func TestScheduleTracesItsDecision(t *testing.T) {
	var lines []string
	s := Schedule{Scale: 60, Trace: func(e transcript.Event) { lines = append(lines, e.Line) }}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := &Message{Envelope: Envelope{Received: t0}}
	r := &Recipient{Addr: "bob@far.test", Attempts: []Attempt{{Code: 451, Reply: "451 4.7.1 greylisted"}}}
	s.NextAttempt(m, r, t0)
	want := "retry <bob@far.test> in 5 min (5 s real time at time scale 60) because 451 4.7.1 greylisted"
	if fmt.Sprint(lines) != fmt.Sprint([]string{want}) {
		t.Errorf("trace %q, want %q", lines, want)
	}
}
