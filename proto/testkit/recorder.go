package testkit

import (
	"fmt"
	"sync"
	"time"
)

// Recorder collects values a server reports from its own goroutines (trace
// events, log records) and lets a test read them or wait for one instead of
// sleeping. The zero value is ready to use; pass its Add method as the hook.
//
//	var rec testkit.Recorder[transcript.Event]
//	cfg.Trace = rec.Add
type Recorder[T any] struct {
	mu   sync.Mutex
	all  []T
	more chan struct{} // signalled (without blocking) on every Add
}

// Add records v; it is safe from any goroutine.
func (r *Recorder[T]) Add(v T) {
	r.mu.Lock()
	r.all = append(r.all, v)
	more := r.wake()
	r.mu.Unlock()
	select {
	case more <- struct{}{}:
	default:
	}
}

// wake returns the channel Add signals; r.mu must be held.
func (r *Recorder[T]) wake() chan struct{} {
	if r.more == nil {
		r.more = make(chan struct{}, 1)
	}
	return r.more
}

// All returns a copy of what was recorded so far.
func (r *Recorder[T]) All() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]T(nil), r.all...)
}

// Wait waits (at most timeout) for a value, recorded before or after the
// call, for which match is true, and returns it. Otherwise it fails the test
// with what (such as `containing "delivered"`) and everything recorded.
func (r *Recorder[T]) Wait(t TB, timeout time.Duration, what string, match func(T) bool) T {
	t.Helper()
	deadline := time.After(timeout)
	seen := 0
	for {
		r.mu.Lock()
		for ; seen < len(r.all); seen++ {
			if match(r.all[seen]) {
				v := r.all[seen]
				r.mu.Unlock()
				return v
			}
		}
		more := r.wake()
		r.mu.Unlock()
		select {
		case <-more:
		case <-deadline:
			var zero T
			all := r.All()
			var b []byte
			for _, v := range all {
				b = fmt.Appendf(b, "%+v\n", v)
			}
			t.Fatalf("nothing %s recorded within %v; %d recorded:\n%s", what, timeout, len(all), b)
			return zero
		}
	}
}
