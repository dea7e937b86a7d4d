package testkit

import (
	"fmt"
	"time"
)

// Eventually polls cond until it returns true, and fails the test with the
// message format, args... if timeout passes first. It starts polling every
// millisecond and backs off to every 50 ms, so a condition that becomes true
// quickly costs little and a slow one does not burn a CPU the other tests
// need.
//
// Use it in place of hand-written loops around time.Sleep, and in place of
// wall-clock bounds: give a generous timeout (seconds, not milliseconds) that
// only says the effect happens, and move speed goals into benchmarks.
//
// cond runs on the test's goroutine; it may call t.Error but not t.Fatal from
// another goroutine.
func Eventually(t TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	if Poll(timeout, cond) {
		return
	}
	t.Fatalf("after %v: %s", timeout, fmt.Sprintf(format, args...))
}

// Poll is Eventually without the test, for code that has no testing.TB at
// hand (a fake's goroutine, an input reader): it reports whether cond became
// true within timeout, polling with the same backoff. The caller must act on
// false. cond is always tried at least once, and once more at
// the deadline, so a slow machine that misses every poll still gets a last
// look.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	for {
		if cond() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		if pause > left {
			pause = left
		}
		time.Sleep(pause)
		if pause < 50*time.Millisecond {
			pause *= 2
		}
	}
}

// TB is the part of testing.TB the helpers use. *testing.T, *testing.B and
// *testing.F satisfy it; tests of the helpers pass a recorder to check that
// they fail when they should.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(func())
	Logf(format string, args ...any)
}

// Later is an argument of Eventually's message evaluated when the message
// is written, on timeout, instead of when Eventually is called: the state the
// test gave up on, not the state it started from.
//
//	testkit.Eventually(t, 30*time.Second, func() bool { return q.Len() == 0 },
//		"%d messages still queued", testkit.Later(func() any { return q.Len() }))
type Later func() any

// Format formats the value Later returns now, with the verb and flags it was
// given.
func (l Later) Format(f fmt.State, verb rune) { fmt.Fprintf(f, fmt.FormatString(f, verb), l()) }
