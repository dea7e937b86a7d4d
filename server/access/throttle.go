package access

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Throttle slows down password guessing: every failed login from an address
// makes the next reply to that address wait a little longer, and after Max
// failures within Window the address may not try again until the window has
// passed. A successful login clears the address's record. The zero value is
// ready to use with the defaults.
type Throttle struct {
	// Delay is added per recent failure before a failed login is answered,
	// up to 5×Delay. Default 1 s: invisible to a user who mistyped once,
	// ruinous for a script trying a dictionary.
	Delay time.Duration
	// Max failures within Window block the address. Default 10.
	Max int
	// Window is how long a failure counts. Default 10 minutes.
	Window time.Duration
	// Now returns the time; nil means time.Now (tests pin it).
	Now func() time.Time

	mu sync.Mutex
	m  map[netip.Addr]failures
}

type failures struct {
	n    int
	last time.Time
}

func (t *Throttle) defaults() (time.Duration, int, time.Duration, time.Time) {
	d, max, w := t.Delay, t.Max, t.Window
	if d == 0 {
		d = time.Second
	}
	if max <= 0 {
		max = 10
	}
	if w <= 0 {
		w = 10 * time.Minute
	}
	now := time.Now()
	if t.Now != nil {
		now = t.Now()
	}
	return d, max, w, now
}

// Blocked reports whether ip has failed too often recently, and how long
// until it may try again.
func (t *Throttle) Blocked(ip netip.Addr) (bool, time.Duration) {
	_, max, w, now := t.defaults()
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.m[ip]
	if f.n < max || now.Sub(f.last) > w {
		return false, 0
	}
	return true, w - now.Sub(f.last)
}

// Fail records a failed login from ip and returns how long to wait before
// answering it.
func (t *Throttle) Fail(ip netip.Addr) time.Duration {
	d, _, w, now := t.defaults()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[netip.Addr]failures{}
	}
	f := t.m[ip]
	if now.Sub(f.last) > w {
		f.n = 0
	}
	f.n++
	f.last = now
	t.m[ip] = f
	if len(t.m) > 10000 {
		for k, v := range t.m {
			if now.Sub(v.last) > w {
				delete(t.m, k)
			}
		}
	}
	return d * time.Duration(min(f.n, 5))
}

// Succeed clears ip's failures after a successful login.
func (t *Throttle) Succeed(ip netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, ip)
}

// AddrOf returns the IP address of a connection's remote end (unmapped from
// IPv4-in-IPv6), or the zero Addr for non-IP connections such as pipes.
func AddrOf(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(ta.IP)
		return ip.Unmap()
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// Trusted reports whether a password may be sent in clear on this
// connection: only over loopback, where nobody else can listen, which is
// what the classic "telnet localhost 110" lab needs. Everything else must use
// TLS first (STLS, STARTTLS or an implicit-TLS port).
func Trusted(a net.Addr) bool {
	return AddrOf(a).IsLoopback()
}

// Accounts checks passwords and maps login names to users, for both access
// servers; *accounts.Directory implements it.
type Accounts interface {
	// Authenticate checks a password; name may be a user or an address.
	Authenticate(name, password string) bool
	// Resolve maps an address (alice@example.test, postmaster@…) to a user.
	Resolve(addr string) (user string, ok bool)
}

// UserOf maps a login name (alice, Alice, alice@example.test) to a user
// name, or "" when an address does not resolve to a local user.
func UserOf(a Accounts, name string) string {
	if strings.Contains(name, "@") {
		u, ok := a.Resolve(name)
		if !ok {
			return ""
		}
		return u
	}
	return strings.ToLower(name)
}
