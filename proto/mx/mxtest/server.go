package mxtest

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Options describe the zone a Server serves and how it misbehaves. Names in
// the per-name lists are compared without regard to case or a trailing dot.
type Options struct {
	// Zone is zone-file text (RFC 1035 §5) with $ORIGIN and $TTL allowed.
	// Relative names need an $ORIGIN; without one, write names in full.
	Zone string
	// Records are added to the zone as they are, for records that are
	// awkward in zone-file text.
	Records []dns.RR
	// Recursive makes answers look like a recursive resolver's: AA clear,
	// RA set. By default answers are authoritative (AA set).
	Recursive bool
	// NoAdditional lists owner names whose MX answers carry no additional
	// section, so the client must ask for the exchangers' addresses itself.
	NoAdditional []string
	// Truncate lists names whose UDP answers come back with TC set and no
	// records; over TCP they are answered in full.
	Truncate []string
	// ServFail lists names answered with SERVFAIL.
	ServFail []string
	// Refuse lists names answered with REFUSED.
	Refuse []string
	// Drop lists names never answered (the question is read and ignored).
	Drop []string
}

// Query is one question the server received.
type Query struct {
	Name string // as asked, lower case, fully qualified
	Type string // "MX", "A", ...
	Net  string // "udp" or "tcp"
}

// Server is a running test DNS server.
type Server struct {
	// Addr is "127.0.0.1:port"; the server answers there on UDP and TCP.
	Addr string

	opts    Options
	zone    map[string][]dns.RR // by lower-case FQDN owner
	mu      sync.Mutex
	queries []Query
}

// Start parses the zone, starts the server on 127.0.0.1 with a free port
// (the same port for UDP and TCP), waits until both listeners serve, and
// stops it in t.Cleanup. A zone that does not parse fails the test.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, zone: map[string][]dns.RR{}}
	zp := dns.NewZoneParser(strings.NewReader(opts.Zone), "", "mxtest")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		s.add(rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("mxtest: zone: %v", err)
	}
	for _, rr := range opts.Records {
		s.add(rr)
	}

	pc, ln := listenPair(t)
	s.Addr = pc.LocalAddr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: s}, {Listener: ln, Handler: s}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		done := make(chan error, 1)
		go func() { done <- srv.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-done:
			t.Fatalf("mxtest: serve: %v", err)
		}
		t.Cleanup(func() {
			srv.Shutdown()
			<-done
		})
	}
	return s
}

// listenPair opens a UDP socket and a TCP listener on the same free loopback
// port. The UDP port is chosen by the kernel; in the rare case its TCP twin
// is taken, it tries again with another.
func listenPair(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("mxtest: listen udp: %v", err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		lastErr = err
		pc.Close()
	}
	t.Fatalf("mxtest: no free port for both UDP and TCP: %v", lastErr)
	return nil, nil
}

func (s *Server) add(rr dns.RR) {
	h := rr.Header()
	h.Name = strings.ToLower(h.Name)
	s.zone[h.Name] = append(s.zone[h.Name], rr)
}

// Queries returns the questions received so far, in order.
func (s *Server) Queries() []Query {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Query(nil), s.queries...)
}

func listed(list []string, name string) bool {
	for _, n := range list {
		if strings.EqualFold(dns.Fqdn(n), name) {
			return true
		}
	}
	return false
}

// ServeDNS answers one question from the zone, applying the Options.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	if len(req.Question) != 1 {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeFormatError)
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	network := "udp"
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		network = "tcp"
	}
	s.mu.Lock()
	s.queries = append(s.queries, Query{Name: name, Type: dns.TypeToString[q.Qtype], Net: network})
	s.mu.Unlock()

	o := s.opts
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = !o.Recursive
	m.RecursionAvailable = o.Recursive
	switch {
	case listed(o.Drop, name):
		return
	case listed(o.ServFail, name):
		m.Rcode = dns.RcodeServerFailure
	case listed(o.Refuse, name):
		m.Rcode = dns.RcodeRefused
	case network == "udp" && listed(o.Truncate, name):
		m.Truncated = true
	default:
		s.answer(m, name, q.Qtype)
	}
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(opt.UDPSize(), false)
	}
	w.WriteMsg(m)
}

// answer fills m with the records for name/qtype, following CNAMEs inside
// the zone and adding exchangers' addresses to the additional section.
func (s *Server) answer(m *dns.Msg, name string, qtype uint16) {
	seen := map[string]bool{name: true}
	for {
		rrs, exists := s.zone[name]
		if !exists {
			// After an alias, the code speaks of the last name (RFC 6604).
			m.Rcode = dns.RcodeNameError
			return
		}
		var cname *dns.CNAME
		found := false
		for _, rr := range rrs {
			if rr.Header().Rrtype == qtype {
				m.Answer = append(m.Answer, dns.Copy(rr))
				found = true
			}
			if c, ok := rr.(*dns.CNAME); ok {
				cname = c
			}
		}
		if found || cname == nil {
			break
		}
		m.Answer = append(m.Answer, dns.Copy(cname))
		name = strings.ToLower(cname.Target)
		if seen[name] {
			break // an alias loop: the client must notice it
		}
		seen[name] = true
	}
	if qtype != dns.TypeMX || listed(s.opts.NoAdditional, strings.ToLower(m.Question[0].Name)) {
		return
	}
	for _, rr := range m.Answer {
		mx, ok := rr.(*dns.MX)
		if !ok {
			continue
		}
		for _, a := range s.zone[strings.ToLower(mx.Mx)] {
			if t := a.Header().Rrtype; t == dns.TypeA || t == dns.TypeAAAA {
				m.Extra = append(m.Extra, dns.Copy(a))
			}
		}
	}
}

// Blackhole returns the address of a loopback UDP socket and TCP listener
// that accept questions and never answer, for timeout tests. Keep the
// client's timeout small. Both close in t.Cleanup.
func Blackhole(t testing.TB) string {
	t.Helper()
	pc, ln := listenPair(t)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		buf := make([]byte, 65535)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return pc.LocalAddr().String()
}

// String describes the server for test logs.
func (s *Server) String() string { return fmt.Sprintf("mxtest server at %s", s.Addr) }
