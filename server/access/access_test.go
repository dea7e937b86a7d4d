package access

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestThrottleGrowsBlocksAndForgets(t *testing.T) {
	now := time.Unix(1000, 0)
	th := &Throttle{Delay: time.Second, Max: 3, AccountMax: 100, Window: time.Minute, Now: func() time.Time { return now }}
	ip := netip.MustParseAddr("192.0.2.7")
	wrong := func() bool { return false }
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
		if blocked, _ := th.Blocked(ip); blocked {
			t.Fatalf("blocked after %d failures", i)
		}
		if v := th.Check(ip, "alice", wrong); v.OK || v.Blocked || v.Delay != want {
			t.Errorf("failure %d: %+v, want a delay of %s", i+1, v, want)
		}
	}
	if blocked, wait := th.Blocked(ip); !blocked || wait != time.Minute {
		t.Errorf("after 3 failures: blocked=%v wait=%s, want blocked for 1m", blocked, wait)
	}
	checked := false
	if v := th.Check(ip, "bob", func() bool { checked = true; return true }); !v.Blocked || v.Account || checked {
		t.Errorf("a 4th check from a blocked address: %+v (password checked: %v)", v, checked)
	}
	if v := th.Check(netip.MustParseAddr("192.0.2.8"), "alice", func() bool { return true }); !v.OK {
		t.Errorf("another address is blocked too: %+v", v)
	}
	now = now.Add(61 * time.Second)
	if blocked, _ := th.Blocked(ip); blocked {
		t.Error("still blocked after the window")
	}
	// A success clears the account's failures, never the address's.
	th.Check(ip, "alice", wrong)
	th.Check(ip, "mallory", func() bool { return true })
	if v := th.Check(ip, "alice", wrong); v.Delay != 2*time.Second {
		t.Errorf("after an own login the next failure waits %s, want 2s: the address's count goes on", v.Delay)
	}
}

// TestThrottleAccountLimitAndTrustedNets: from a trusted network the
// address is never blocked, but an account that failed too often is, from
// everywhere, until the window passes or it logs in.
func TestThrottleAccountLimitAndTrustedNets(t *testing.T) {
	now := time.Unix(1000, 0)
	th := &Throttle{Delay: time.Millisecond, Max: 3, AccountMax: 5, Window: time.Minute, Now: func() time.Time { return now },
		Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	room := netip.MustParseAddr("10.1.2.3")
	for i := 0; i < 4; i++ {
		th.Check(room, "student"+string(rune('a'+i)), func() bool { return false })
	}
	if v := th.Check(room, "teacher", func() bool { return true }); !v.OK {
		t.Errorf("a trusted room after 4 typos: %+v, want the login to work", v)
	}
	for i := 0; i < 5; i++ {
		th.Check(room, "bob", func() bool { return false })
	}
	v := th.Check(netip.MustParseAddr("192.0.2.1"), "BOB", func() bool { return true })
	if !v.Blocked || !v.Account || !strings.Contains(v.Message(), "for this account; try again in 1m0s") {
		t.Errorf("bob after 5 failures, from elsewhere: %+v %q", v, v.Message())
	}
	now = now.Add(2 * time.Minute)
	if v := th.Check(room, "bob", func() bool { return true }); !v.OK {
		t.Errorf("bob after the window: %+v", v)
	}
}

// TestThrottleParallelChecksCountEveryFailure: 60 parallel wrong checks
// from one address get at most Max password checks; the rest are refused
// without one.
func TestThrottleParallelChecksCountEveryFailure(t *testing.T) {
	th := &Throttle{Delay: time.Millisecond}
	ip := netip.MustParseAddr("192.0.2.9")
	var mu sync.Mutex
	checks, blocked := 0, 0
	var wg sync.WaitGroup
	for i := 0; i < 60; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := th.Check(ip, "alice", func() bool {
				mu.Lock()
				checks++
				mu.Unlock()
				time.Sleep(2 * time.Millisecond) // a bcrypt comparison takes time
				return false
			})
			if v.Blocked {
				mu.Lock()
				blocked++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if checks != 10 || blocked != 50 {
		t.Errorf("60 parallel wrong logins: %d password checks, %d refused; want 10 and 50", checks, blocked)
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
