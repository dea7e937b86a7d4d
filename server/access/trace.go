package access

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
)

// Trace reports one session's lines to the server trace hook. A nil Hook
// makes every method a no-op, so servers call it unconditionally.
type Trace struct {
	Hook    transcript.Hook
	Session string // "s12"
	Proto   string // "pop3" or "imap"
	Now     func() time.Time
}

func (t *Trace) emit(d transcript.Dir, line string) {
	if t == nil || t.Hook == nil {
		return
	}
	now := time.Now()
	if t.Now != nil {
		now = t.Now()
	}
	t.Hook(transcript.Event{Time: now, Session: t.Session, Proto: t.Proto, Dir: d, Line: line})
}

// Client reports a line the client sent.
func (t *Trace) Client(line string) { t.emit(transcript.Client, line) }

// Server reports a line the server sent.
func (t *Trace) Server(line string) { t.emit(transcript.Server, line) }

// Meta reports a decision or an event that is not on the wire.
func (t *Trace) Meta(format string, args ...any) {
	t.emit(transcript.Meta, fmt.Sprintf(format, args...))
}

// Enabled reports whether anyone listens, so callers can skip building
// expensive trace text.
func (t *Trace) Enabled() bool { return t != nil && t.Hook != nil }

// Counter numbers sessions "s1", "s2", ... when the server is not given a
// process-wide SessionID function.
type Counter struct{ n atomic.Int64 }

// Next returns the next session id.
func (c *Counter) Next() string { return fmt.Sprintf("s%d", c.n.Add(1)) }
