package smtp

import (
	"runtime"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
)

// TestPollingInput: a session alone may poll for its client's next line,
// not while a second session is open; the dialogue is the same through a
// pollingInput; and the bookkeeping (sessions open, the one poller) is
// back to zero once the sessions end.
func TestPollingInput(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one CPU: sessions never poll")
	}
	env := startServer(t, nil)
	c := connect(t, env.addr)
	var sess *session
	env.srv.mu.Lock()
	for s := range env.srv.sessions {
		sess = s
	}
	env.srv.mu.Unlock()
	in, ok := sess.in.src.(*pollingInput)
	if !ok {
		t.Fatalf("a TCP session reads from %T, want a *pollingInput", sess.in.src)
	}
	c.do("EHLO client.test", 250)
	c.do("NOOP", 250)
	if !in.mayPoll() {
		t.Error("the only session open may not poll")
	}
	c2 := connect(t, env.addr)
	testkit.Eventually(t, 30*time.Second, func() bool { return env.srv.open.Load() == 2 }, "%d sessions open, want 2", testkit.Later(func() any { return env.srv.open.Load() }))
	if in.mayPoll() {
		t.Error("a session polls while another is open")
	}
	c.do("NOOP", 250)
	c2.do("QUIT", 221)
	c.do("QUIT", 221)
	testkit.Eventually(t, 30*time.Second, func() bool { return env.srv.Sessions() == 0 }, "the sessions did not end")
	if n, p := env.srv.open.Load(), env.srv.polling.Load(); n != 0 || p {
		t.Errorf("after the sessions ended: %d open, polling %v; want 0, false", n, p)
	}
}
