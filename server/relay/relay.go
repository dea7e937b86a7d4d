package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailx-edu/mailx/proto/mx"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/queue"
)

// Timeouts bound each wait of a client session. The defaults are RFC 5321
// §4.5.3.2's minimums, which a real MTA must honour: a busy server may take
// minutes to answer, and giving up early turns a slow server into a
// duplicate message (it delivered, we retry).
type Timeouts struct {
	Connect  time.Duration // TCP connect; not in the RFC: 30 s as Postfix
	Greeting time.Duration // the 220 greeting: 5 min (§4.5.3.2.1)
	Command  time.Duration // EHLO, STARTTLS, MAIL, RCPT, RSET, QUIT: 5 min (§4.5.3.2.2, .3)
	DataInit time.Duration // the 354 after DATA: 2 min (§4.5.3.2.4)
	Block    time.Duration // each write of message text: 3 min (§4.5.3.2.5)
	DataEnd  time.Duration // the reply after ".": 10 min (§4.5.3.2.6)
}

// DefaultTimeouts are the RFC 5321 values.
var DefaultTimeouts = Timeouts{
	Connect:  30 * time.Second,
	Greeting: 5 * time.Minute,
	Command:  5 * time.Minute,
	DataInit: 2 * time.Minute,
	Block:    3 * time.Minute,
	DataEnd:  10 * time.Minute,
}

func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts
	for _, f := range []struct{ v, def *time.Duration }{
		{&t.Connect, &d.Connect}, {&t.Greeting, &d.Greeting}, {&t.Command, &d.Command},
		{&t.DataInit, &d.DataInit}, {&t.Block, &d.Block}, {&t.DataEnd, &d.DataEnd},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return t
}

// Resolver looks up where mail for a domain goes; *mx.Resolver implements it.
type Resolver interface {
	Lookup(ctx context.Context, domain string) (*mx.Result, error)
}

// Config configures a Client.
type Config struct {
	// Hostname is this MTA's name, sent in EHLO (RFC 5321 §4.1.1.1 wants the
	// client's fully qualified domain name).
	Hostname string
	// Resolver looks up MX records; nil uses the system resolver.
	Resolver Resolver
	// Routes map a recipient domain to "host:port", overriding DNS.
	Routes map[string]string
	// Smarthost, "host:port", receives all remote mail not covered by a
	// route, overriding DNS.
	Smarthost string
	// Port is the port of exchangers found by MX; "" means 25.
	Port string
	// Ports maps an exchanger host name to its port, for the lab, where
	// every exchanger is at 127.0.0.1 on its own port.
	Ports map[string]string
	// PortFor, when set, is asked before Ports (the lab learns its ports
	// only once its servers are listening).
	PortFor func(host string) (port string, ok bool)
	// TLS is the base configuration for STARTTLS; nil means the system roots.
	// Certificates are verified against it, and a failure is recorded, not
	// fatal (opportunistic TLS, RFC 7435).
	TLS *tls.Config
	// NoTLS disables STARTTLS.
	NoTLS bool
	// Timeouts bound each wait; zero fields take DefaultTimeouts.
	Timeouts Timeouts
	// Trace receives every line sent and read and each decision.
	Trace transcript.Hook
	// SessionID returns a new session id ("s7"), shared with the MTA's SMTP
	// server so ids are unique in the process; nil numbers them here.
	SessionID func() string
	// Hops, when set, records each connection so a receiving lab MTA can
	// name the hop (see Hops).
	Hops *Hops
	// Dial opens connections; nil uses net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Rand orders equal-preference exchangers; nil is random. Tests seed it.
	Rand *rand.Rand
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
}

// Client delivers queued messages to remote servers. It implements
// queue.Deliverer and is safe for concurrent use.
type Client struct {
	cfg     Config
	to      Timeouts
	log     *slog.Logger
	counter atomic.Int64
	randMu  sync.Mutex
	xc      xclientID // the lab address announced with XCLIENT (xclient.go)
}

// New returns a Client for cfg.
func New(cfg Config) *Client {
	c := &Client{cfg: cfg, to: cfg.Timeouts.withDefaults(), log: cfg.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.cfg.Hostname == "" {
		c.cfg.Hostname = "localhost"
	}
	if c.cfg.Port == "" {
		c.cfg.Port = "25"
	}
	if c.cfg.Resolver == nil {
		c.cfg.Resolver = &mx.Resolver{}
	}
	if c.cfg.Dial == nil {
		d := &net.Dialer{}
		c.cfg.Dial = d.DialContext
	}
	if c.cfg.SessionID == nil {
		c.cfg.SessionID = func() string { return fmt.Sprintf("r%d", c.counter.Add(1)) }
	}
	return c
}

var _ queue.Deliverer = (*Client)(nil)

// target is one place to connect to.
type target struct {
	host string // name for the trace and the TLS ServerName
	addr string // host:port to dial
}

// Deliver implements queue.Deliverer: it delivers msg to rcpts, one session
// per recipient domain, and returns one Result per recipient in order.
func (c *Client) Deliver(ctx context.Context, msg *queue.Message, rcpts []queue.Recipient) []queue.Result {
	results := make([]queue.Result, len(rcpts))
	byDomain := map[string][]int{}
	var domains []string
	for i, r := range rcpts {
		d := domainOf(r.Addr)
		if d == "" {
			results[i] = queue.Result{Code: 550, Host: "relay", Reply: fmt.Sprintf("550 5.1.3 <%s>: address has no domain, so there is nowhere to relay it", r.Addr)}
			continue
		}
		if _, ok := byDomain[d]; !ok {
			domains = append(domains, d)
		}
		byDomain[d] = append(byDomain[d], i)
	}
	for _, d := range domains {
		idx := byDomain[d]
		addrs := make([]string, len(idx))
		for k, i := range idx {
			addrs[k] = rcpts[i].Addr
		}
		res := c.deliverDomain(ctx, msg, d, addrs)
		for k, i := range idx {
			results[i] = res[k]
		}
	}
	return results
}

// deliverDomain delivers to the recipients of one domain.
func (c *Client) deliverDomain(ctx context.Context, msg *queue.Message, domain string, rcpts []string) []queue.Result {
	sess := c.cfg.SessionID()
	tr := func(d transcript.Dir, line string) {
		if c.cfg.Trace != nil {
			c.cfg.Trace(transcript.Event{Time: time.Now(), Session: sess, Proto: "smtp", Dir: d, Line: line})
		}
	}
	tr(transcript.Meta, fmt.Sprintf("relay session %s: message %s from <%s> to %s at %s",
		sess, msg.ID, msg.Envelope.From, strings.Join(bracket(rcpts), ", "), domain))
	targets, fail := c.route(ctx, domain, tr)
	if fail != nil {
		tr(transcript.Meta, "closed: "+fail.Reply)
		return repeat(*fail, len(rcpts))
	}
	var last *queue.Result
	for _, t := range targets {
		if ctx.Err() != nil {
			break
		}
		res, next := c.session(ctx, sess, tr, t, msg, rcpts)
		if !next {
			tr(transcript.Meta, "closed")
			return res
		}
		last = &res[0]
	}
	if last == nil {
		last = &queue.Result{Code: 451, Host: domain, Reply: "451 4.4.1 no mail server of " + domain + " could be tried"}
	} else if len(targets) > 1 {
		last.Reply += fmt.Sprintf(" (and %d other exchangers failed too)", len(targets)-1)
	}
	tr(transcript.Meta, "closed: every exchanger failed; last: "+last.Reply)
	return repeat(*last, len(rcpts))
}

func repeat(r queue.Result, n int) []queue.Result {
	out := make([]queue.Result, n)
	for i := range out {
		out[i] = r
	}
	return out
}

func bracket(addrs []string) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = "<" + a + ">"
	}
	return out
}

// route decides where mail for domain goes: a static route, the smarthost,
// or the domain's exchangers from DNS. A non-nil Result means every
// recipient gets it (no such domain, null MX, DNS failure).
func (c *Client) route(ctx context.Context, domain string, tr func(transcript.Dir, string)) ([]target, *queue.Result) {
	if r, ok := lookupRoute(c.cfg.Routes, domain); ok {
		tr(transcript.Meta, fmt.Sprintf("static route: mail for %s goes to %s (no DNS lookup)", domain, r))
		return []target{{host: hostOf(r), addr: r}}, nil
	}
	if c.cfg.Smarthost != "" {
		tr(transcript.Meta, fmt.Sprintf("smarthost: all remote mail goes to %s (no DNS lookup)", c.cfg.Smarthost))
		return []target{{host: hostOf(c.cfg.Smarthost), addr: c.cfg.Smarthost}}, nil
	}
	res, err := c.cfg.Resolver.Lookup(ctx, domain)
	if err != nil {
		var me *mx.Error
		switch {
		case errors.Is(err, mx.ErrNXDomain):
			tr(transcript.Meta, "MX lookup: "+err.Error())
			return nil, &queue.Result{Code: 550, Host: "dns", Reply: fmt.Sprintf("550 5.1.2 %s does not exist (NXDOMAIN), so no mail can be delivered there", domain)}
		case errors.Is(err, mx.ErrNoMailHost), errors.Is(err, mx.ErrMalformed):
			tr(transcript.Meta, "MX lookup: "+err.Error())
			return nil, &queue.Result{Code: 550, Host: "dns", Reply: fmt.Sprintf("550 5.4.4 %s has no mail server: %v", domain, err)}
		case errors.As(err, &me):
			tr(transcript.Meta, "MX lookup failed, will retry: "+err.Error())
		default:
			tr(transcript.Meta, "MX lookup failed, will retry: "+err.Error())
		}
		return nil, &queue.Result{Code: 451, Host: "dns", Reply: fmt.Sprintf("451 4.4.3 cannot look up the mail servers of %s now: %v", domain, err)}
	}
	if !res.AcceptsMail() {
		tr(transcript.Meta, fmt.Sprintf("MX lookup via %s: %s publishes a null MX (0 .): it accepts no mail (RFC 7505)", res.Server, domain))
		return nil, &queue.Result{Code: 556, Host: "dns", Reply: fmt.Sprintf("556 5.1.10 %s does not accept mail (null MX, RFC 7505)", domain)}
	}
	c.randMu.Lock()
	order := res.Order(c.cfg.Rand)
	c.randMu.Unlock()
	var ts []target
	var desc []string
	for _, x := range order {
		port := c.cfg.Port
		h := strings.ToLower(strings.TrimSuffix(x.Host, "."))
		if p, ok := c.cfg.Ports[h]; ok {
			port = p
		}
		if c.cfg.PortFor != nil {
			if p, ok := c.cfg.PortFor(h); ok {
				port = p
			}
		}
		var ips []string
		for _, a := range x.Addresses {
			ips = append(ips, a.IP.String())
			ts = append(ts, target{host: x.Host, addr: net.JoinHostPort(a.IP.String(), port)})
		}
		d := fmt.Sprintf("%d %s", x.Preference, x.Host)
		if x.Implicit {
			d += " (implicit MX: the domain itself)"
		}
		if len(ips) == 0 {
			d += " (no address: skipped)"
		} else {
			d += " [" + strings.Join(ips, ", ") + "]:" + port
		}
		desc = append(desc, d)
	}
	tr(transcript.Meta, fmt.Sprintf("MX lookup via %s: %s; trying in this order: %s", res.Server, domain, strings.Join(desc, "; ")))
	if len(ts) == 0 {
		return nil, &queue.Result{Code: 451, Host: "dns", Reply: fmt.Sprintf("451 4.4.3 no mail server of %s has an address right now", domain)}
	}
	return ts, nil
}

// lookupRoute finds a static route for domain, case-insensitively.
func lookupRoute(routes map[string]string, domain string) (string, bool) {
	if r, ok := routes[domain]; ok {
		return r, true
	}
	keys := make([]string, 0, len(routes))
	for k := range routes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.EqualFold(strings.TrimSuffix(k, "."), domain) {
			return routes[k], true
		}
	}
	return "", false
}

func hostOf(hostport string) string {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	return h
}

func domainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 || i == len(addr)-1 {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(addr[i+1:], "."))
}

// isIP reports whether host is an address literal rather than a name.
func isIP(host string) bool {
	_, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil
}
