package labdns

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailx-edu/mailx/proto/transcript"
)

func startLab(t *testing.T, trace transcript.Hook) *Server {
	t.Helper()
	s, err := Start(Config{
		Addr:  "127.0.0.1:0",
		Trace: trace,
		Zones: []Zone{
			{Domain: "crepes.test"},
			{Domain: "Hamburger.test.", Preference: 20},
			{Domain: "nomail.test", NullMX: true},
			{Domain: "bare.test", Implicit: true, Addr: netip.MustParseAddr("::1")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func query(t *testing.T, s *Server, net, name string, typ uint16) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: net, Timeout: 3 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), typ)
	r, _, err := c.Exchange(m, s.Addr())
	if err != nil {
		t.Fatalf("%s %s %s: %v", net, dns.TypeToString[typ], name, err)
	}
	return r
}

func rrs(rr []dns.RR) string {
	var out []string
	for _, r := range rr {
		out = append(out, strings.Join(strings.Fields(r.String()), " "))
	}
	return strings.Join(out, "\n")
}

func TestAnswers(t *testing.T) {
	s := startLab(t, nil)
	cases := []struct {
		name, qname string
		qtype       uint16
		rcode       int
		answer      string
		extra       string
	}{
		{"mx with glue", "hamburger.test", dns.TypeMX, dns.RcodeSuccess,
			"hamburger.test. 300 IN MX 20 mx.hamburger.test.", "mx.hamburger.test. 300 IN A 127.0.0.1"},
		{"mx case-insensitive", "CREPES.TEST", dns.TypeMX, dns.RcodeSuccess,
			"crepes.test. 300 IN MX 10 mx.crepes.test.", "mx.crepes.test. 300 IN A 127.0.0.1"},
		{"exchanger A", "mx.crepes.test", dns.TypeA, dns.RcodeSuccess, "mx.crepes.test. 300 IN A 127.0.0.1", ""},
		{"no AAAA is NODATA", "mx.crepes.test", dns.TypeAAAA, dns.RcodeSuccess, "", ""},
		{"null MX", "nomail.test", dns.TypeMX, dns.RcodeSuccess, "nomail.test. 300 IN MX 0 .", ""},
		{"implicit MX has no MX", "bare.test", dns.TypeMX, dns.RcodeSuccess, "", ""},
		{"implicit MX apex address", "bare.test", dns.TypeAAAA, dns.RcodeSuccess, "bare.test. 300 IN AAAA ::1", ""},
		{"unknown name in zone", "www.crepes.test", dns.TypeA, dns.RcodeNameError, "", ""},
		{"outside the lab", "gmail.com", dns.TypeMX, dns.RcodeRefused, "", ""},
		{"NS", "crepes.test", dns.TypeNS, dns.RcodeSuccess, "crepes.test. 300 IN NS ns.crepes.test.", "ns.crepes.test. 300 IN A 127.0.0.1"},
	}
	for _, tc := range cases {
		for _, proto := range []string{"udp", "tcp"} {
			t.Run(tc.name+"/"+proto, func(t *testing.T) {
				r := query(t, s, proto, tc.qname, tc.qtype)
				if r.Rcode != tc.rcode {
					t.Fatalf("rcode = %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
				}
				if got := rrs(r.Answer); got != tc.answer {
					t.Errorf("answer = %q, want %q", got, tc.answer)
				}
				if got := rrs(r.Extra); got != tc.extra {
					t.Errorf("additional = %q, want %q", got, tc.extra)
				}
				if tc.rcode != dns.RcodeRefused && !r.Authoritative {
					t.Errorf("answer for a lab zone is not authoritative")
				}
				if tc.rcode == dns.RcodeSuccess && tc.answer == "" && (len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA) {
					t.Errorf("NODATA answer lacks the SOA in authority: %v", r.Ns)
				}
			})
		}
	}
}

func TestSetZonesAtRunTime(t *testing.T) {
	s := startLab(t, nil)
	if err := s.SetZones([]Zone{{Domain: "hill.test"}}); err != nil {
		t.Fatal(err)
	}
	if r := query(t, s, "udp", "crepes.test", dns.TypeMX); r.Rcode != dns.RcodeRefused {
		t.Errorf("removed zone still answered: %s", dns.RcodeToString[r.Rcode])
	}
	if r := query(t, s, "udp", "hill.test", dns.TypeMX); len(r.Answer) != 1 {
		t.Errorf("new zone not answered: %v", r)
	}
}

func TestBadZones(t *testing.T) {
	for name, z := range map[string][]Zone{
		"duplicate":         {{Domain: "a.test"}, {Domain: "A.test."}},
		"null and implicit": {{Domain: "a.test", NullMX: true, Implicit: true}},
		"foreign exchanger": {{Domain: "a.test", Exchanger: "mx.b.test"}},
		"not a name":        {{Domain: ""}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Start(Config{Addr: "127.0.0.1:0", Zones: z}); err == nil {
				t.Errorf("Start accepted zones %+v", z)
			}
		})
	}
}

func TestTrace(t *testing.T) {
	var mu sync.Mutex
	var events []transcript.Event
	s := startLab(t, func(e transcript.Event) { mu.Lock(); events = append(events, e); mu.Unlock() })
	query(t, s, "udp", "hamburger.test", dns.TypeMX)
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 || events[0].Dir != transcript.Client || !strings.HasPrefix(events[0].Line, "MX? hamburger.test") ||
		events[1].Line != "NOERROR | hamburger.test. 300 IN MX 20 mx.hamburger.test." {
		t.Errorf("trace events = %+v", events)
	}
	if s.Queries() != 1 {
		t.Errorf("Queries() = %d, want 1", s.Queries())
	}
}

// TestPortZeroSkipsTakenTCPTwin: with port 0, a UDP port whose TCP twin is
// in use makes Start try another port instead of failing (the lab tests
// were flaky with "address already in use" before).
func TestPortZeroSkipsTakenTCPTwin(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	calls := 0
	listenPacket = func(network, addr string) (net.PacketConn, error) {
		calls++
		if calls == 1 {
			return net.ListenPacket(network, taken.Addr().String())
		}
		return net.ListenPacket(network, addr)
	}
	t.Cleanup(func() { listenPacket = net.ListenPacket })
	s, err := Start(Config{Addr: "127.0.0.1:0", Zones: []Zone{{Domain: "crepes.test"}}})
	if err != nil {
		t.Fatalf("Start on :0 with the first port's TCP twin taken: %v", err)
	}
	defer s.Close()
	if calls < 2 || s.Addr() == taken.Addr().String() {
		t.Errorf("%d tries, bound %s (taken: %s)", calls, s.Addr(), taken.Addr())
	}
	if r := query(t, s, "tcp", "crepes.test", dns.TypeMX); len(r.Answer) != 1 {
		t.Errorf("no MX over TCP on the new port: %v", r)
	}
	// A fixed port is not silently moved: its user asked for exactly it.
	calls = 0
	if _, err := Start(Config{Addr: taken.Addr().String()}); err == nil || !strings.Contains(err.Error(), "listen tcp") {
		t.Errorf("Start on a fixed port whose TCP twin is taken: %v", err)
	}
}

// TestExchangerPortSRV: a zone with a Port publishes it as an SRV record at
// _smtp._tcp.EXCHANGER, which proto/mx's ExchangerPort reads; a zone
// without one publishes none.
func TestExchangerPortSRV(t *testing.T) {
	s := startLab(t, nil)
	zones := s.Zones()
	for i := range zones {
		if zones[i].ExchangerName() == "mx.hamburger.test" {
			zones[i].Port = 2526
		}
	}
	if err := s.SetZones(zones); err != nil {
		t.Fatal(err)
	}
	r := query(t, s, "udp", "_smtp._tcp.mx.hamburger.test", dns.TypeSRV)
	if got := rrs(r.Answer); got != "_smtp._tcp.mx.hamburger.test. 300 IN SRV 0 0 2526 mx.hamburger.test." {
		t.Errorf("SRV answer = %q", got)
	}
	if r := query(t, s, "udp", "_smtp._tcp.mx.crepes.test", dns.TypeSRV); len(r.Answer) != 0 {
		t.Errorf("crepes.test has no port, yet: %s", rrs(r.Answer))
	}
}
