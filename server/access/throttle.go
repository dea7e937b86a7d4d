package access

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Throttle slows down password guessing. Every failed login makes the next
// reply wait a little longer, and after Max failures from one client
// address within Window, or AccountMax failures for one account, no
// password is checked for that address or account until the window has
// passed.
//
// Check is the one way to check a password under the throttle. Checks from
// one address run one at a time and each failure is counted before the
// next check starts, so a hundred parallel sessions get no more guesses
// than one. A success clears that account's failures only: logging in to
// one's own account between guesses does not reset the address's count.
// Addresses in Trusted (a teacher's classroom behind one NAT address) are
// exempt from the per-address limit, so that ten typos in a room do not
// lock the whole room out; the per-account limit still holds for them.
//
// The zero value is ready to use with the defaults.
type Throttle struct {
	// Delay is added per recent failure before a failed login is answered,
	// up to 5×Delay. Default 1 s: invisible to a user who mistyped once,
	// ruinous for a script trying a dictionary.
	Delay time.Duration
	// Max failures from one address within Window block the address.
	// Default 10.
	Max int
	// AccountMax failures for one account within Window block logins to
	// that account from everywhere. Default 10.
	AccountMax int
	// Window is how long a failure counts. Default 10 minutes.
	Window time.Duration
	// Trusted networks are exempt from the per-address limit.
	Trusted []netip.Prefix
	// Now returns the time; nil means time.Now (tests pin it).
	Now func() time.Time

	mu    sync.Mutex
	m     map[netip.Addr]failures
	accts map[string]failures
	gates map[string]*gate
}

type failures struct {
	n    int
	last time.Time
}

// gate lets one check at a time through for a key (an address, or an
// account for trusted addresses).
type gate struct {
	ch    chan struct{}
	users int
}

func (t *Throttle) defaults() (time.Duration, int, int, time.Duration, time.Time) {
	d, max, amax, w := t.Delay, t.Max, t.AccountMax, t.Window
	if d == 0 {
		d = time.Second
	}
	if max <= 0 {
		max = 10
	}
	if amax <= 0 {
		amax = 10
	}
	if w <= 0 {
		w = 10 * time.Minute
	}
	now := time.Now()
	if t.Now != nil {
		now = t.Now()
	}
	return d, max, amax, w, now
}

// trusted reports whether ip is in a trusted network.
func (t *Throttle) trusted(ip netip.Addr) bool {
	for _, p := range t.Trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// blockedFor reports how long f still blocks, or 0.
func blockedFor(f failures, max int, w time.Duration, now time.Time) time.Duration {
	if f.n < max || now.Sub(f.last) > w {
		return 0
	}
	return max1s(w - now.Sub(f.last))
}

func max1s(d time.Duration) time.Duration { return max(d, time.Second) }

// Blocked reports whether ip has failed too often recently, and how long
// until it may try again. Servers ask it before an exchange starts, to
// refuse at once; Check asks again before each password check.
func (t *Throttle) Blocked(ip netip.Addr) (bool, time.Duration) {
	_, max, _, w, now := t.defaults()
	if t.trusted(ip) {
		return false, 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	wait := blockedFor(t.m[ip], max, w, now)
	return wait > 0, wait
}

// Verdict is the outcome of Check.
type Verdict struct {
	// OK: the password was right.
	OK bool
	// Blocked: no password was checked; Wait says for how long, and
	// Account whether the account (not the address) is blocked.
	Blocked bool
	Account bool
	Wait    time.Duration
	// Delay is how long to wait before answering a failure.
	Delay time.Duration
}

// Message is the refusal for a blocked verdict, saying when to try again.
func (v Verdict) Message() string {
	who := "from your address"
	if v.Account {
		who = "for this account"
	}
	return fmt.Sprintf("too many failed logins %s; try again in %s", who, v.Wait.Round(time.Second))
}

// Check runs check, the password check for account (a user name, or the
// login name as given when it names nobody) from ip, under the throttle.
func (t *Throttle) Check(ip netip.Addr, account string, check func() bool) Verdict {
	account = strings.ToLower(account)
	key := "ip:" + ip.String()
	trusted := t.trusted(ip)
	if trusted {
		key = "account:" + account
	}
	g := t.enter(key)
	defer t.leave(key, g)

	d, most, amax, w, now := t.defaults()
	t.mu.Lock()
	if !trusted {
		if wait := blockedFor(t.m[ip], most, w, now); wait > 0 {
			t.mu.Unlock()
			return Verdict{Blocked: true, Wait: wait}
		}
	}
	if wait := blockedFor(t.accts[account], amax, w, now); wait > 0 {
		t.mu.Unlock()
		return Verdict{Blocked: true, Account: true, Wait: wait}
	}
	t.mu.Unlock()

	ok := check()

	_, _, _, _, now = t.defaults()
	t.mu.Lock()
	defer t.mu.Unlock()
	if ok {
		delete(t.accts, account)
		return Verdict{OK: true}
	}
	if t.m == nil {
		t.m = map[netip.Addr]failures{}
		t.accts = map[string]failures{}
	}
	n := count(t.accts, account, now, w)
	if !trusted {
		n = max(n, count(t.m, ip, now, w))
	}
	if len(t.m) > 10000 {
		prune(t.m, now, w)
	}
	if len(t.accts) > 10000 {
		prune(t.accts, now, w)
	}
	return Verdict{Delay: d * time.Duration(min(n, 5))}
}

// count adds a failure for k and returns the recent count.
func count[K comparable](m map[K]failures, k K, now time.Time, w time.Duration) int {
	f := m[k]
	if now.Sub(f.last) > w {
		f.n = 0
	}
	f.n++
	f.last = now
	m[k] = f
	return f.n
}

func prune[K comparable](m map[K]failures, now time.Time, w time.Duration) {
	for k, v := range m {
		if now.Sub(v.last) > w {
			delete(m, k)
		}
	}
}

// enter waits for key's gate.
func (t *Throttle) enter(key string) *gate {
	t.mu.Lock()
	if t.gates == nil {
		t.gates = map[string]*gate{}
	}
	g := t.gates[key]
	if g == nil {
		g = &gate{ch: make(chan struct{}, 1)}
		t.gates[key] = g
	}
	g.users++
	t.mu.Unlock()
	g.ch <- struct{}{}
	return g
}

func (t *Throttle) leave(key string, g *gate) {
	<-g.ch
	t.mu.Lock()
	if g.users--; g.users == 0 {
		delete(t.gates, key)
	}
	t.mu.Unlock()
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

// Fail records a failed exchange from ip that checked no password (a
// malformed SASL response) and returns how long to wait before answering.
func (t *Throttle) Fail(ip netip.Addr) time.Duration {
	d, _, _, w, now := t.defaults()
	if t.trusted(ip) {
		return d
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[netip.Addr]failures{}
		t.accts = map[string]failures{}
	}
	n := count(t.m, ip, now, w)
	if len(t.m) > 10000 {
		prune(t.m, now, w)
	}
	return d * time.Duration(min(n, 5))
}

// Succeed is kept for callers written before Check; it clears nothing,
// since a success must not reset the address's count (log in to your own
// account between guesses, and guess for ever).
//
// Deprecated: use Check, which clears the account's failures on success.
func (t *Throttle) Succeed(netip.Addr) {}

// Forget clears ip's failures (a teacher unblocking a room, tests).
func (t *Throttle) Forget(ip netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, ip)
}
