package servertest

import (
	"fmt"
	"strings"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// Events records a server's trace events (pass Hook as server.Config.Trace,
// or Options.Events) and lets a test wait for one instead of sleeping. All
// and Wait come from testkit.Recorder.
type Events struct {
	testkit.Recorder[transcript.Event]
}

// NewEvents returns an empty recorder.
func NewEvents() *Events { return &Events{} }

// Hook records ev; it is a transcript.Hook, safe from any goroutine.
func (e *Events) Hook(ev transcript.Event) { e.Add(ev) }

// Text returns the events so far, one "SESSION DIR LINE" a line, for a
// failing test's log.
func (e *Events) Text() string {
	var b strings.Builder
	for _, ev := range e.All() {
		fmt.Fprintf(&b, "%s %s %s\n", ev.Session, ev.Dir, ev.Line)
	}
	return b.String()
}

// WaitMeta waits (at most 30 s) for a Meta event of session (any when "")
// containing s. The bound is generous because every message is fsynced
// before its 250: on a disk busy with other work that alone has taken
// seconds under -race.
func (e *Events) WaitMeta(t testkit.TB, session, s string) transcript.Event {
	t.Helper()
	return e.Wait(t, 30*time.Second, fmt.Sprintf("containing %q", s), func(ev transcript.Event) bool {
		return ev.Dir == transcript.Meta && strings.Contains(ev.Line, s) && (session == "" || ev.Session == session)
	})
}
