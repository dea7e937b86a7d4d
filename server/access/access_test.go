package access

import (
	"net"
	"net/netip"
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
