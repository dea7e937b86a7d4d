package labdns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/mailx-edu/mailx/proto/transcript"
)

// DefaultTTL is the TTL of lab records: short, so a class that changes the
// lab sees the change at once, yet long enough to read in dig output.
const DefaultTTL = 300

// Zone is one lab mail domain.
type Zone struct {
	// Domain is the zone's name, e.g. "hamburger.test".
	Domain string
	// Exchanger is the mail server's host name; "" means "mx." + Domain.
	// Ignored for NullMX and Implicit zones.
	Exchanger string
	// Preference is the MX preference; 0 means 10.
	Preference uint16
	// Addr is the address the exchanger's A (or AAAA) record gives; the
	// zero value means 127.0.0.1.
	Addr netip.Addr
	// NullMX publishes "MX 0 ." (RFC 7505): the domain accepts no mail, and
	// a sending server bounces at once without trying.
	NullMX bool
	// Implicit publishes no MX, only an A record at the apex, so senders
	// fall back to the domain itself as exchanger (RFC 5321 §5.1).
	Implicit bool
	// Records, when set, replace the generated MX and exchanger records with
	// exactly these (names inside the zone; SOA and NS are still generated).
	// Lessons use it for zones that show one rule each: several MX with
	// different preferences, an MX pointing at a CNAME, and so on.
	Records []dns.RR
	// Extra are records published beside the generated ones (names inside
	// the zone): the SPF, DKIM and DMARC TXT records and the domain's own
	// address (see auth.go).
	Extra []dns.RR
	// Blocklist makes the zone a DNS blocklist (RFC 5782) whose entries are
	// managed with List and Unlist (see blocklist.go).
	Blocklist bool
}

// ExchangerName returns the zone's exchanger host name ("" for a null MX).
func (z Zone) ExchangerName() string {
	switch {
	case z.NullMX:
		return ""
	case z.Implicit:
		return canonical(z.Domain)
	case z.Exchanger != "":
		return canonical(z.Exchanger)
	}
	return "mx." + canonical(z.Domain)
}

func (z Zone) addr() netip.Addr {
	if z.Addr.IsValid() {
		return z.Addr
	}
	return netip.MustParseAddr("127.0.0.1")
}

func (z Zone) pref() uint16 {
	if z.Preference == 0 {
		return 10
	}
	return z.Preference
}

// canonical lower-cases a name and strips its trailing dot.
func canonical(name string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
}

// Server is a running lab DNS server on UDP and TCP at one loopback port.
type Server struct {
	udp, tcp *dns.Server
	addr     string
	self     netip.Addr
	trace    transcript.Hook
	queries  atomic.Int64

	mu    sync.RWMutex
	zones map[string]Zone                  // by canonical domain
	bl    map[string]map[netip.Addr]string // blocklist zone → listed address → reason
	blGen atomic.Int64                     // counts blocklist changes (Generation)
}

// Config says where to listen and what to publish.
type Config struct {
	// Addr is the listen address, e.g. "127.0.0.1:5353" or "127.0.0.1:0".
	Addr string
	// Zones are the lab's mail domains.
	Zones []Zone
	// Trace, when set, receives each query and answer (Proto "dns").
	Trace transcript.Hook
}

// Start binds UDP and TCP on the same port and serves until Close. It
// returns once both sockets are bound and serving, so a query sent right
// after Start is answered.
func Start(cfg Config) (*Server, error) {
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	pc, l, err := listenBoth(addr)
	if err != nil {
		return nil, err
	}
	s := &Server{addr: pc.LocalAddr().String(), trace: cfg.Trace}
	if ap, err := netip.ParseAddrPort(s.addr); err == nil {
		s.self = ap.Addr().Unmap()
	}
	if err := s.SetZones(cfg.Zones); err != nil {
		pc.Close()
		l.Close()
		return nil, err
	}
	mux := dns.HandlerFunc(s.serveDNS)
	s.udp = &dns.Server{PacketConn: pc, Handler: mux}
	s.tcp = &dns.Server{Listener: l, Handler: mux, ReadTimeout: 5 * time.Second}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		failed := make(chan error, 1)
		srv.NotifyStartedFunc = func() { close(started) }
		go func(srv *dns.Server) { failed <- srv.ActivateAndServe() }(srv)
		select {
		case <-started:
		case err := <-failed:
			s.Close()
			return nil, fmt.Errorf("labdns: serve: %w", err)
		}
	}
	return s, nil
}

// portTries is how many free UDP ports listenBoth tries for ":0" before
// giving up: each fails only when its TCP twin is taken, which is rare.
const portTries = 20

// listenPacket is net.ListenPacket; a test replaces it to hand out a UDP
// port whose TCP twin is taken.
var listenPacket = net.ListenPacket

// listenBoth binds UDP and then TCP on the same port, as DNS expects of one
// address. For port 0 the kernel picks a free UDP port whose TCP twin may
// be in use by someone else; then another UDP port is tried, so that tests
// and labs on ":0" never fail on a collision.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	_, port, _ := net.SplitHostPort(addr)
	for try := 1; ; try++ {
		pc, err := listenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("labdns: listen udp %s: %w", addr, err)
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l, nil
		}
		pc.Close()
		if port != "0" || try == portTries {
			return nil, nil, fmt.Errorf("labdns: listen tcp %s: %w", pc.LocalAddr(), err)
		}
	}
}

// Addr returns the bound address, e.g. "127.0.0.1:40123".
func (s *Server) Addr() string { return s.addr }

// Queries returns how many queries have been answered, for tests and the
// banner's statistics.
func (s *Server) Queries() int64 { return s.queries.Load() }

// SetZones replaces the published zones.
func (s *Server) SetZones(zones []Zone) error {
	m := make(map[string]Zone, len(zones))
	for _, z := range zones {
		d := canonical(z.Domain)
		if _, ok := dns.IsDomainName(d); !ok || d == "" {
			return fmt.Errorf("labdns: %q is not a domain name", z.Domain)
		}
		if _, dup := m[d]; dup {
			return fmt.Errorf("labdns: zone %s given twice", d)
		}
		if z.NullMX && z.Implicit {
			return fmt.Errorf("labdns: zone %s cannot be both null MX and implicit MX", d)
		}
		if ex := z.ExchangerName(); ex != "" && ex != d && !strings.HasSuffix(ex, "."+d) {
			return fmt.Errorf("labdns: exchanger %s of zone %s must be a name inside the zone", ex, d)
		}
		m[d] = z
	}
	s.mu.Lock()
	s.zones = m
	s.mu.Unlock()
	return nil
}

// Zones returns the published zones sorted by domain.
func (s *Server) Zones() []Zone {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Zone, 0, len(s.zones))
	for _, z := range s.zones {
		out = append(out, z)
	}
	sort.Slice(out, func(i, j int) bool { return canonical(out[i].Domain) < canonical(out[j].Domain) })
	return out
}

// Close stops both listeners.
func (s *Server) Close() error {
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		if srv == nil {
			continue
		}
		if err := srv.ShutdownContext(ctx); err != nil && !strings.Contains(err.Error(), "not started") {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// findZone returns the lab zone containing name (canonical, no trailing dot).
func (s *Server) findZone(name string) (Zone, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for n := name; ; {
		if z, ok := s.zones[n]; ok {
			return z, true
		}
		_, rest, ok := strings.Cut(n, ".")
		if !ok {
			return Zone{}, false
		}
		n = rest
	}
}

func (s *Server) serveDNS(w dns.ResponseWriter, req *dns.Msg) {
	s.queries.Add(1)
	resp := s.answer(req)
	if s.trace != nil && len(req.Question) == 1 {
		q := req.Question[0]
		now := time.Now()
		s.trace(transcript.Event{Time: now, Session: "dns", Proto: "dns", Dir: transcript.Client,
			Line: fmt.Sprintf("%s? %s (from %s)", dns.TypeToString[q.Qtype], canonical(q.Name), w.RemoteAddr())})
		s.trace(transcript.Event{Time: now, Session: "dns", Proto: "dns", Dir: transcript.Server, Line: summary(resp)})
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		// Truncate to the client's advertised size, setting TC when needed.
		size := dns.MinMsgSize
		if o := req.IsEdns0(); o != nil {
			size = int(o.UDPSize())
		}
		resp.Truncate(size)
	}
	w.WriteMsg(resp)
}

// summary is a one-line rendering of an answer for the trace.
func summary(m *dns.Msg) string {
	parts := []string{dns.RcodeToString[m.Rcode]}
	for _, rr := range m.Answer {
		parts = append(parts, strings.Join(strings.Fields(rr.String()), " "))
	}
	if m.Rcode == dns.RcodeSuccess && len(m.Answer) == 0 {
		parts = append(parts, "(no records of that type)")
	}
	return strings.Join(parts, " | ")
}

func (s *Server) answer(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	if req.Opcode != dns.OpcodeQuery || len(req.Question) != 1 {
		m.SetRcode(req, dns.RcodeNotImplemented)
		return m
	}
	if o := req.IsEdns0(); o != nil {
		m.SetEdns0(dns.DefaultMsgSize, false)
	}
	q := req.Question[0]
	name := canonical(q.Name)
	z, ok := s.findZone(name)
	if !ok || q.Qclass != dns.ClassINET {
		m.Rcode = dns.RcodeRefused
		return m
	}
	m.Authoritative = true
	records, exists := s.records(z, name)
	if !exists {
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{soa(z)}
		return m
	}
	for _, rr := range records {
		if q.Qtype == dns.TypeANY || rr.Header().Rrtype == q.Qtype {
			m.Answer = append(m.Answer, rr)
		}
	}
	if len(m.Answer) == 0 {
		m.Ns = []dns.RR{soa(z)}
		return m
	}
	// Additional section: the addresses of the names the answer points to,
	// so a client needs no second query (RFC 1035 §3.3.9, §4.3.2).
	for _, rr := range m.Answer {
		var target string
		switch r := rr.(type) {
		case *dns.MX:
			target = r.Mx
		case *dns.NS:
			target = r.Ns
		default:
			continue
		}
		t := canonical(target)
		if t == "" {
			continue
		}
		if tz, ok := s.findZone(t); ok {
			if recs, ok := s.records(tz, t); ok {
				for _, a := range recs {
					if typ := a.Header().Rrtype; typ == dns.TypeA || typ == dns.TypeAAAA {
						m.Extra = append(m.Extra, a)
					}
				}
			}
		}
	}
	return m
}

func hdr(name string, typ uint16) dns.RR_Header {
	return dns.RR_Header{Name: dns.Fqdn(name), Rrtype: typ, Class: dns.ClassINET, Ttl: DefaultTTL}
}

func addrRR(name string, a netip.Addr) dns.RR {
	if a.Is4() {
		return &dns.A{Hdr: hdr(name, dns.TypeA), A: a.AsSlice()}
	}
	return &dns.AAAA{Hdr: hdr(name, dns.TypeAAAA), AAAA: a.AsSlice()}
}

func soa(z Zone) dns.RR {
	d := canonical(z.Domain)
	return &dns.SOA{Hdr: hdr(d, dns.TypeSOA), Ns: dns.Fqdn("ns." + d), Mbox: dns.Fqdn("hostmaster." + d),
		Serial: 2026112201, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 60}
}

// records returns every record at name within zone z, and whether the name
// exists at all (to tell NXDOMAIN from NODATA).
func (s *Server) records(z Zone, name string) ([]dns.RR, bool) {
	d := canonical(z.Domain)
	nsName := "ns." + d
	self := s.self
	if !self.IsValid() || self.IsUnspecified() {
		self = netip.MustParseAddr("127.0.0.1")
	}
	var out []dns.RR
	if name == d {
		out = append(out, soa(z), &dns.NS{Hdr: hdr(d, dns.TypeNS), Ns: dns.Fqdn(nsName)})
	}
	if name == nsName {
		out = append(out, addrRR(nsName, self))
	}
	for _, rr := range z.Extra {
		if canonical(rr.Header().Name) == name {
			out = append(out, dns.Copy(rr))
		}
	}
	if z.Blocklist {
		out = append(out, s.blocklistRecords(d, name)...)
		return out, len(out) > 0
	}
	if len(z.Records) > 0 {
		for _, rr := range z.Records {
			if canonical(rr.Header().Name) == name {
				out = append(out, dns.Copy(rr))
			}
		}
		return out, len(out) > 0
	}
	if name == d {
		switch {
		case z.NullMX:
			out = append(out, &dns.MX{Hdr: hdr(d, dns.TypeMX), Preference: 0, Mx: "."})
		case z.Implicit:
			out = append(out, addrRR(d, z.addr()))
		default:
			out = append(out, &dns.MX{Hdr: hdr(d, dns.TypeMX), Preference: z.pref(), Mx: dns.Fqdn(z.ExchangerName())})
		}
	}
	if ex := z.ExchangerName(); ex != "" && ex != d && name == ex {
		out = append(out, addrRR(ex, z.addr()))
	}
	return out, len(out) > 0
}
