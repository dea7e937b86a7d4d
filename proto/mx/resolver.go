package mx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Defaults for a zero Resolver.
const (
	// DefaultTimeout is how long one attempt waits for an answer. Resolvers
	// in libc wait 5 s; 3 s keeps a student's failed lookup short while still
	// far above any real round trip.
	DefaultTimeout = 3 * time.Second
	// DefaultAttempts: each question is sent twice before giving up, because
	// UDP may lose a datagram and DNS over UDP has no retransmission of its
	// own (RFC 1035 §4.2.1).
	DefaultAttempts = 2
	// DefaultPort is the DNS port (RFC 1035 §4.2).
	DefaultPort = "53"
	// DefaultResolvConf is where Unix systems name their resolvers.
	DefaultResolvConf = "/etc/resolv.conf"
	// ednsSize is the UDP payload size offered with EDNS0 (RFC 6891): 1232
	// octets avoids IP fragmentation on every path (DNS Flag Day 2020).
	// Larger answers come back truncated and are asked again over TCP.
	ednsSize = 1232
)

// Resolver asks DNS servers MX, A and AAAA questions. The zero value uses the
// system resolver with the defaults above; tests and labs set Server to a
// server on a loopback port. A Resolver is safe for concurrent use.
type Resolver struct {
	// Server is host:port of the server to ask (see ServerAddr). Empty means
	// the servers in ResolvConf, tried in order.
	Server string
	// TCP asks over TCP from the start instead of UDP.
	TCP bool
	// Timeout is how long each attempt waits; 0 means DefaultTimeout.
	Timeout time.Duration
	// Attempts is how many times a question is sent to each server before
	// giving up on it after timeouts; 0 means DefaultAttempts.
	Attempts int
	// ResolvConf is the resolver configuration file read when Server is
	// empty; "" means the system's resolvers: DefaultResolvConf, or on
	// Windows the DNS servers of the connected network adapters.
	ResolvConf string
}

// ServerAddr turns a --server value, HOST or HOST:PORT, into host:port with
// the default port 53. It accepts IPv6 addresses bare (::1) or bracketed
// ([::1]:5353), and host names (the system resolves those when dialling).
func ServerAddr(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("the server address is empty")
	}
	if ip, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return net.JoinHostPort(ip.String(), DefaultPort), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Contains(s, ":") {
			return "", fmt.Errorf("%q is not HOST or HOST:PORT", s)
		}
		host, port = s, DefaultPort
	}
	if host == "" {
		return "", fmt.Errorf("%q has no host", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q: port must be a number from 1 to 65535", s)
	}
	if _, err := netip.ParseAddr(host); err != nil {
		if msg := checkHostname(strings.ToLower(strings.TrimSuffix(host, "."))); msg != "" {
			return "", fmt.Errorf("%q is not a valid server name: %s", host, msg)
		}
	}
	return net.JoinHostPort(host, port), nil
}

func (r *Resolver) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return DefaultTimeout
}

func (r *Resolver) attempts() int {
	if r.Attempts > 0 {
		return r.Attempts
	}
	return DefaultAttempts
}

// servers returns the servers to ask, in order.
func (r *Resolver) servers() ([]string, error) {
	if r.Server != "" {
		addr, err := ServerAddr(r.Server)
		if err != nil {
			return nil, &Error{Kind: ErrNoResolver, Detail: err.Error(), Err: err}
		}
		return []string{addr}, nil
	}
	if r.ResolvConf == "" {
		return systemServers()
	}
	return serversFromResolvConf(r.ResolvConf)
}

// serversFromResolvConf returns the nameservers of a resolv.conf file.
func serversFromResolvConf(path string) ([]string, error) {
	conf, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, &Error{Kind: ErrNoResolver, Detail: fmt.Sprintf("cannot read %s: %s", path, causeText(err)), Err: err}
	}
	var out []string
	for _, s := range conf.Servers {
		out = append(out, net.JoinHostPort(s, conf.Port))
	}
	if len(out) == 0 {
		return nil, &Error{Kind: ErrNoResolver, Detail: path + " names no nameserver"}
	}
	return out, nil
}

// reply is one answered question and how it was obtained.
type reply struct {
	msg       *dns.Msg
	server    string
	transport string
	rtt       time.Duration
	truncated bool // the UDP answer had TC set and the question went again over TCP
}

// queryFunc asks one question. Lookup's logic runs on it, so that fuzzing and
// unit tests can feed it answers without a network.
type queryFunc func(ctx context.Context, name string, qtype uint16) (*reply, error)

// query asks name/qtype of each server in turn, each up to Attempts times
// after timeouts, and returns the first answer whose RCODE is not SERVFAIL or
// REFUSED (or the last such answer when every server gave one). It returns
// an *Error for timeouts and unreachable servers.
func (r *Resolver) query(servers []string) queryFunc {
	return func(ctx context.Context, name string, qtype uint16) (*reply, error) {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		m.RecursionDesired = true
		m.SetEdns0(ednsSize, false)

		var lastErr error
		var lastReply *reply
		dead := map[string]bool{}
		for attempt := 0; attempt < r.attempts(); attempt++ {
			for _, srv := range servers {
				if dead[srv] {
					continue
				}
				rep, err := r.exchange(ctx, m, srv)
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				if err == nil {
					if rc := rep.msg.Rcode; (rc == dns.RcodeServerFailure || rc == dns.RcodeRefused) && len(servers) > 1 {
						lastReply, dead[srv] = rep, true
						continue
					}
					return rep, nil
				}
				lastErr = err
				var e *Error
				if errors.As(err, &e) && e.Kind != ErrTimeout {
					dead[srv] = true
				}
			}
		}
		if lastReply != nil {
			return lastReply, nil
		}
		var e *Error
		if errors.As(lastErr, &e) && e.Kind == ErrTimeout {
			e.Name = strings.TrimSuffix(name, ".") + " " + dns.TypeToString[qtype]
			e.Attempts = r.attempts()
			if len(servers) > 1 {
				e.Server = strings.Join(servers, ", ")
			}
		}
		return nil, lastErr
	}
}

// exchange sends m to srv once, over UDP and then TCP if the UDP answer was
// truncated (RFC 7766 §5), or over TCP only with r.TCP.
func (r *Resolver) exchange(ctx context.Context, m *dns.Msg, srv string) (*reply, error) {
	transport := "udp"
	if r.TCP {
		transport = "tcp"
	}
	c := &dns.Client{Net: transport, Timeout: r.timeout(), UDPSize: ednsSize}
	resp, rtt, err := c.ExchangeContext(ctx, m.Copy(), srv)
	if err != nil {
		return nil, netError(err, srv, transport, r.timeout())
	}
	rep := &reply{msg: resp, server: srv, transport: transport, rtt: rtt}
	if resp.Truncated && transport == "udp" {
		c.Net = "tcp"
		resp, rtt, err = c.ExchangeContext(ctx, m.Copy(), srv)
		if err != nil {
			e := netError(err, srv, "tcp", r.timeout())
			e.Detail = "the UDP answer was truncated and the retry over TCP failed"
			return nil, e
		}
		rep.msg, rep.transport, rep.truncated = resp, "tcp", true
		rep.rtt += rtt
	}
	return rep, nil
}

// netError classifies a failed exchange as a timeout or an unreachable server.
func netError(err error, srv, transport string, timeout time.Duration) *Error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &Error{Kind: ErrTimeout, Server: srv + " (" + transport + ")", Attempts: 1, Timeout: timeout, Err: err, Transport: transport}
	}
	return &Error{Kind: ErrUnreachable, Server: srv + " (" + transport + ")", Err: err, Transport: transport}
}
