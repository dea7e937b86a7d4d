package testkit

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// recorder is a TB that records failures and skips instead of stopping, so
// the tests below can check that each helper fails when it should.
type recorder struct {
	testing.TB
	failed, skipped bool
	msg             string
	cleanups        []func()
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(f string, a ...any) {
	r.failed = true
	r.msg = fmt.Sprintf(f, a...)
}
func (r *recorder) Errorf(f string, a ...any) { r.Fatalf(f, a...) }
func (r *recorder) Skipf(f string, a ...any) {
	r.skipped = true
	r.msg = fmt.Sprintf(f, a...)
}
func (r *recorder) Cleanup(f func())        { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Logf(f string, a ...any) {}
func (r *recorder) done() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func TestEventuallyPassesWhenTheConditionTurnsTrue(t *testing.T) {
	var r recorder
	n := 0
	Eventually(&r, 5*time.Second, func() bool { n++; return n == 5 }, "never")
	if r.failed || n != 5 {
		t.Errorf("failed=%v after %d polls (%s)", r.failed, n, r.msg)
	}
}

func TestEventuallyFailsOnTimeout(t *testing.T) {
	var r recorder
	start := time.Now()
	Eventually(&r, 100*time.Millisecond, func() bool { return false }, "queue has %d messages", 3)
	if !r.failed || !strings.Contains(r.msg, "queue has 3 messages") || !strings.Contains(r.msg, "100ms") {
		t.Errorf("failed=%v msg=%q", r.failed, r.msg)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("gave up after %v, before the timeout", d)
	}
}

func TestEventuallyLooksOnceMoreAtTheDeadline(t *testing.T) {
	var r recorder
	calls := 0
	Eventually(&r, 0, func() bool { calls++; return true }, "x")
	if r.failed || calls != 1 {
		t.Errorf("failed=%v calls=%d", r.failed, calls)
	}
}

func TestFreeAddrIsLoopbackAndFree(t *testing.T) {
	addr := FreeAddr(t)
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("FreeAddr = %q (%v)", addr, err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on the free address: %v", err)
	}
	l.Close()
}

func TestGolden(t *testing.T) {
	dir := t.TempDir()
	path := filepath.ToSlash(filepath.Join(dir, "sub", "x.golden"))

	var missing recorder
	Golden(&missing, path, []byte("a\n"))
	if !missing.failed || !strings.Contains(missing.msg, "-update") {
		t.Errorf("missing file: failed=%v msg=%q", missing.failed, missing.msg)
	}

	*update = true
	var write recorder
	Golden(&write, path, []byte("a\nb\n"))
	*update = false
	if write.failed {
		t.Fatalf("-update failed: %s", write.msg)
	}
	if b, _ := os.ReadFile(filepath.FromSlash(path)); string(b) != "a\nb\n" {
		t.Fatalf("-update wrote %q", b)
	}

	var same recorder
	Golden(&same, path, []byte("a\nb\n"))
	if same.failed {
		t.Errorf("equal output failed: %s", same.msg)
	}

	var differ recorder
	Golden(&differ, path, []byte("a\nc\n"))
	if !differ.failed || !strings.Contains(differ.msg, `line 2: got "c", want "b"`) {
		t.Errorf("different output: failed=%v msg=%q", differ.failed, differ.msg)
	}

	var shorter recorder
	Golden(&shorter, path, []byte("a\n"))
	if !shorter.failed || !strings.Contains(shorter.msg, "line 2") {
		t.Errorf("shorter output: failed=%v msg=%q", shorter.failed, shorter.msg)
	}
}

func TestNeedCommand(t *testing.T) {
	var r recorder
	NeedCommand(&r, "mailx-no-such-program", "mailx-peer")
	if !r.skipped || r.msg != "mailx-no-such-program not installed (apt-get install mailx-peer)" {
		t.Errorf("skipped=%v msg=%q", r.skipped, r.msg)
	}
}

// lineServer accepts one connection and writes out, then keeps it open until
// the test ends (hold) or closes it.
func lineServer(t *testing.T, out string, hold bool) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop); l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte(out))
		if hold {
			<-stop
		}
	}()
	return l.Addr().String()
}

func TestConnLines(t *testing.T) {
	c := Dial(t, lineServer(t, "220 ready\r\nbare\n", false))
	if got := c.Line(); got != "220 ready" {
		t.Errorf("Line = %q", got)
	}
	var r recorder
	c.T = &r
	c.Line()
	if !r.failed || !strings.Contains(r.msg, "CRLF") {
		t.Errorf("a bare LF line: failed=%v msg=%q", r.failed, r.msg)
	}
}

func TestDialFailsWhenNobodyListens(t *testing.T) {
	var r recorder
	defer r.done()
	Dial(&r, FreeAddr(t))
	if !r.failed {
		t.Error("Dial to a closed port did not fail")
	}
}

func TestEventuallyMessageShowsTheStateAtTimeout(t *testing.T) {
	var r recorder
	n := 0
	Eventually(&r, 20*time.Millisecond, func() bool { n++; return false }, "polled %03d times, first %d",
		Later(func() any { return n }), n)
	if want := fmt.Sprintf("polled %03d times, first 0", n); !strings.HasSuffix(r.msg, want) || n < 2 {
		t.Errorf("msg = %q, want it to end in %q", r.msg, want)
	}
}

func TestWaitListening(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var ok recorder
	WaitListening(&ok, l.Addr().String(), 5*time.Second, nil, nil)
	if ok.failed {
		t.Errorf("a listening address: %s", ok.msg)
	}

	var nobody recorder
	WaitListening(&nobody, FreeAddr(t), 100*time.Millisecond, nil, func() string { return "the log" })
	if !nobody.failed || !strings.Contains(nobody.msg, "nothing listens") || !strings.Contains(nobody.msg, "the log") {
		t.Errorf("nobody listening: failed=%v msg=%q", nobody.failed, nobody.msg)
	}

	exited := make(chan struct{})
	close(exited)
	var gone recorder
	WaitListening(&gone, FreeAddr(t), time.Minute, exited, nil)
	if !gone.failed || !strings.Contains(gone.msg, "exited before listening") {
		t.Errorf("server gone: failed=%v msg=%q", gone.failed, gone.msg)
	}
}

func TestStartPeerFailsWhenTheProgramExits(t *testing.T) {
	sh := NeedCommand(t, "sh", "dash")
	var r recorder
	defer r.done()
	StartPeer(&r, FreeAddr(t), exec.Command(sh, "-c", "echo cannot bind; exit 3"))
	if !r.failed || !strings.Contains(r.msg, "cannot bind") {
		t.Errorf("failed=%v msg=%q", r.failed, r.msg)
	}
}

func TestRun(t *testing.T) {
	sh := NeedCommand(t, "sh", "dash")
	if got := Run(t, 10*time.Second, exec.Command(sh, "-c", "echo out; echo err >&2")); got != "out\nerr\n" {
		t.Errorf("Run = %q", got)
	}
	var failing recorder
	Run(&failing, 10*time.Second, exec.Command(sh, "-c", "echo why; exit 2"))
	if !failing.failed || !strings.Contains(failing.msg, "exit status 2") || !strings.Contains(failing.msg, "why") {
		t.Errorf("a failing program: failed=%v msg=%q", failing.failed, failing.msg)
	}
	var slow recorder
	Run(&slow, 100*time.Millisecond, exec.Command(sh, "-c", "sleep 30"))
	if !slow.failed || !strings.Contains(slow.msg, "killed") {
		t.Errorf("a program past its time: failed=%v msg=%q", slow.failed, slow.msg)
	}
}

func TestRecorderWait(t *testing.T) {
	var r Recorder[string]
	go func() {
		time.Sleep(10 * time.Millisecond)
		r.Add("connected")
		r.Add("delivered to alice")
	}()
	if got := r.Wait(t, 10*time.Second, "about alice", func(s string) bool { return strings.Contains(s, "alice") }); got != "delivered to alice" {
		t.Errorf("Wait = %q", got)
	}
	if got := r.Wait(t, 10*time.Second, "connected", func(s string) bool { return s == "connected" }); got != "connected" {
		t.Errorf("Wait for a past value = %q", got)
	}
	var rec recorder
	r.Wait(&rec, 20*time.Millisecond, "about bob", func(s string) bool { return strings.Contains(s, "bob") })
	if !rec.failed || !strings.Contains(rec.msg, "nothing about bob") || !strings.Contains(rec.msg, "delivered to alice") {
		t.Errorf("waiting for what never comes: failed=%v msg=%q", rec.failed, rec.msg)
	}
	if n := len(r.All()); n != 2 {
		t.Errorf("All has %d values, want 2", n)
	}
}

// stuckServer accepts and never lets Shutdown finish in time.
type stuckServer struct{ stuck bool }

func (s *stuckServer) Serve(l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		c.Write([]byte("hello\r\n"))
		c.Close()
	}
}

func (s *stuckServer) Shutdown(ctx context.Context) error {
	if s.stuck {
		return context.DeadlineExceeded
	}
	return nil
}

func TestServe(t *testing.T) {
	var r recorder
	addr := Serve(&r, &stuckServer{})
	if got := Dial(t, addr).Line(); got != "hello" {
		t.Errorf("greeting %q", got)
	}
	r.done()
	if r.failed {
		t.Errorf("a clean shutdown failed the test: %s", r.msg)
	}
	var stuck recorder
	Serve(&stuck, &stuckServer{stuck: true})
	stuck.done()
	if !stuck.failed || !strings.Contains(stuck.msg, "shutting the server down") {
		t.Errorf("a stuck shutdown: failed=%v msg=%q", stuck.failed, stuck.msg)
	}
}

func TestConnExchange(t *testing.T) {
	c := Dial(t, lineServer(t, "220 ready\r\n250-mx.test\r\n250-SIZE\r\n250 OK\r\n550 no\r\n", true))
	c.Exchange("", "220")
	if r := c.Exchange("EHLO me", "250"); len(r) != 3 || r[2] != "250 OK" {
		t.Errorf("EHLO reply %q", r)
	}
	var rec recorder
	c.T = &rec
	c.Exchange("RCPT TO:<x@y>", "250")
	if !rec.failed || !strings.Contains(rec.msg, `"550 no"`) {
		t.Errorf("a 550 where 250 was wanted: failed=%v msg=%q", rec.failed, rec.msg)
	}
}
