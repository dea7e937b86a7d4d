package access

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestThrottleGrowsBlocksAndForgets(t *testing.T) {
	now := time.Unix(1000, 0)
	th := &Throttle{Delay: time.Second, Max: 3, Window: time.Minute, Now: func() time.Time { return now }}
	ip := netip.MustParseAddr("192.0.2.7")
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
		if blocked, _ := th.Blocked(ip); blocked {
			t.Fatalf("blocked after %d failures", i)
		}
		if got := th.Fail(ip); got != want {
			t.Errorf("failure %d: delay %s, want %s", i+1, got, want)
		}
	}
	if blocked, wait := th.Blocked(ip); !blocked || wait != time.Minute {
		t.Errorf("after 3 failures: blocked=%v wait=%s, want blocked for 1m", blocked, wait)
	}
	if blocked, _ := th.Blocked(netip.MustParseAddr("192.0.2.8")); blocked {
		t.Error("another address is blocked too")
	}
	now = now.Add(61 * time.Second)
	if blocked, _ := th.Blocked(ip); blocked {
		t.Error("still blocked after the window")
	}
	th.Fail(ip)
	th.Succeed(ip)
	if got := th.Fail(ip); got != time.Second {
		t.Errorf("after a success the next failure waits %s, want 1s", got)
	}
}

func TestTrustedOnlyLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:5": true, "[::1]:5": true, "192.0.2.1:5": false, "[::ffff:127.0.0.1]:5": true} {
		ta, _ := net.ResolveTCPAddr("tcp", addr)
		if got := Trusted(ta); got != want {
			t.Errorf("Trusted(%s) = %v, want %v", addr, got, want)
		}
	}
	if Trusted(pipeAddr{}) {
		t.Error("a pipe is trusted")
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

type fakeAccounts map[string]string

func (a fakeAccounts) Authenticate(string, string) bool { return false }
func (a fakeAccounts) Resolve(addr string) (string, bool) {
	u, ok := a[addr]
	return u, ok
}

func TestUserOf(t *testing.T) {
	a := fakeAccounts{"postmaster@mx.test": "alice"}
	for in, want := range map[string]string{"Alice": "alice", "postmaster@mx.test": "alice", "nobody@mx.test": ""} {
		if got := UserOf(a, in); got != want {
			t.Errorf("UserOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// fakeListener hands out the errors and connections queued in it, then
// blocks until closed.
type fakeListener struct {
	mu     sync.Mutex
	queue  []any // error or net.Conn
	closed chan struct{}
}

func (f *fakeListener) Accept() (net.Conn, error) {
	f.mu.Lock()
	if len(f.queue) > 0 {
		x := f.queue[0]
		f.queue = f.queue[1:]
		f.mu.Unlock()
		if err, ok := x.(error); ok {
			return nil, err
		}
		return x.(net.Conn), nil
	}
	f.mu.Unlock()
	<-f.closed
	return nil, net.ErrClosed
}
func (f *fakeListener) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.closed:
	default:
		close(f.closed)
	}
	return nil
}
func (f *fakeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2525} }

// TestAcceptorBacksOffWhenOutOfFiles: EMFILE from accept is waited out with
// a growing delay, the loop goes on, and a connection that comes after is
// served; a real failure ends the loop with its error.
func TestAcceptorBacksOffWhenOutOfFiles(t *testing.T) {
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	l := &fakeListener{queue: []any{emfile, emfile, emfile, c1}, closed: make(chan struct{})}
	var slept []time.Duration
	a := &Acceptor{sleep: func(d time.Duration) { slept = append(slept, d) }}
	handled := make(chan net.Conn, 1)
	done := make(chan error, 1)
	go func() { done <- a.Serve(l, func(c net.Conn) { handled <- c }) }()
	select {
	case c := <-handled:
		if c != c1 {
			t.Errorf("handled %v, want the queued connection", c)
		}
	case err := <-done:
		t.Fatalf("Serve ended on EMFILE: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the connection after EMFILE was not served")
	}
	if want := []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}; !slices.Equal(slept, want) {
		t.Errorf("backed off %v, want %v", slept, want)
	}
	a.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("Serve after Close = %v, want ErrClosed", err)
	}
	late := &fakeListener{closed: make(chan struct{})}
	if err := a.Serve(late, func(net.Conn) {}); !errors.Is(err, ErrClosed) {
		t.Errorf("Serve on a closed Acceptor = %v", err)
	}
	select {
	case <-late.closed:
	default:
		t.Error("a listener given to a closed Acceptor is left open")
	}

	boom := errors.New("listener broken")
	b := &Acceptor{}
	if err := b.Serve(&fakeListener{queue: []any{boom}, closed: make(chan struct{})}, func(net.Conn) {}); err != boom {
		t.Errorf("Serve on a broken listener = %v, want %v", err, boom)
	}
}
