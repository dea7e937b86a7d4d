package mx

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// FuzzParseDomain checks that any input either is refused as malformed or
// yields a name whose A-label form is a valid host name and parses again to
// itself, from either form.
func FuzzParseDomain(f *testing.F) {
	for _, s := range []string{"example.com", "bücher.test", "xn--bcher-kva.test", "a..b", "bob@example.com",
		"[192.0.2.1]", "::1", "0.0.0.0.", "127.1", "1.2.3.4.", "::ffff:1.2.3.4.", "Ⅸ.test", "faß.de", "ﬀ.test", "-x.test", "xn--.test", "٩.test", "a‌b.test", strings.Repeat("é", 70) + ".test"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseDomain(s)
		if err != nil {
			if e, ok := err.(*Error); !ok || e.Kind != ErrMalformed {
				t.Fatalf("ParseDomain(%q) error %v is not a malformed-domain *Error", s, err)
			}
			return
		}
		if msg := checkHostname(n.ASCII); msg != "" {
			t.Fatalf("ParseDomain(%q).ASCII = %q, which is invalid: %s", s, n.ASCII, msg)
		}
		if _, err := netip.ParseAddr(n.ASCII); err == nil || allDigits(n.ASCII[strings.LastIndex(n.ASCII, ".")+1:]) {
			t.Fatalf("ParseDomain(%q) = %q, an IP address in disguise", s, n.ASCII)
		}
		for _, form := range []string{n.ASCII, n.Unicode} {
			again, err := ParseDomain(form)
			if err != nil || again.ASCII != n.ASCII {
				t.Fatalf("ParseDomain(%q) = %q, but ParseDomain(%q) = %q, %v", s, n.ASCII, form, again.ASCII, err)
			}
		}
	})
}

// FuzzLookupResponse feeds a server answer (a packed DNS message, as from
// the network) to the lookup logic, as the answer to every question it asks.
// Whatever the answer holds (loops of aliases, garbage records, odd RCODEs),
// lookup must not panic, must stop, and must return a consistent Result or
// an *Error.
func FuzzLookupResponse(f *testing.F) {
	for _, m := range seedMessages() {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "example.test")
	}
	f.Fuzz(func(t *testing.T, packed []byte, domain string) {
		msg := new(dns.Msg)
		if err := msg.Unpack(packed); err != nil {
			return
		}
		name, err := ParseDomain(domain)
		if err != nil {
			return
		}
		asked := 0
		ask := func(ctx context.Context, qname string, qtype uint16) (*reply, error) {
			asked++
			if asked > 100 {
				t.Fatalf("lookup asked more than 100 questions")
			}
			m := msg.Copy()
			m.Question = []dns.Question{{Name: qname, Qtype: qtype, Qclass: dns.ClassINET}}
			return &reply{msg: m, server: "192.0.2.53:53", transport: "udp"}, nil
		}
		res, err := lookup(context.Background(), name, ask)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("lookup error %T %v is not *Error", err, err)
			}
			return
		}
		switch res.Rule {
		case RuleNull:
			if len(res.Exchangers) != 0 {
				t.Fatalf("null MX with exchangers %v", res.Exchangers)
			}
		case RuleImplicit:
			if len(res.Exchangers) != 1 || !res.Exchangers[0].Usable() {
				t.Fatalf("implicit MX with exchangers %v", res.Exchangers)
			}
		case RuleMX:
			if !slices.IsSortedFunc(res.Exchangers, func(a, b Exchanger) int { return int(a.Preference) - int(b.Preference) }) {
				t.Fatalf("exchangers not sorted: %v", res.Exchangers)
			}
		default:
			t.Fatalf("rule %q", res.Rule)
		}
		for _, x := range res.Exchangers {
			for _, a := range x.Addresses {
				if !a.IP.IsValid() || (a.Type == "A") != a.IP.Is4() {
					t.Fatalf("bad address %+v", a)
				}
			}
		}
		if len(res.Aliases) > maxAliases {
			t.Fatalf("%d aliases followed, limit %d", len(res.Aliases), maxAliases)
		}
		if len(res.Notes) == 0 {
			t.Fatal("no notes")
		}
	})
}

// seedMessages are answers of each shape the resolver meets.
func seedMessages() []*dns.Msg {
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		return r
	}
	mk := func(rcode int, answer, extra []dns.RR) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("example.test.", dns.TypeMX)
		m.Response, m.Authoritative, m.Rcode = true, true, rcode
		m.Answer, m.Extra = answer, extra
		return m
	}
	return []*dns.Msg{
		mk(dns.RcodeSuccess, []dns.RR{rr("example.test. 3600 IN MX 10 mx1.example.test."), rr("example.test. 3600 IN MX 10 mx2.example.test."), rr("example.test. 3600 IN MX 20 mx3.example.test.")},
			[]dns.RR{rr("mx1.example.test. 3600 IN A 192.0.2.1"), rr("mx1.example.test. 3600 IN AAAA 2001:db8::1")}),
		mk(dns.RcodeSuccess, []dns.RR{rr("example.test. 3600 IN MX 0 .")}, nil),
		mk(dns.RcodeSuccess, []dns.RR{rr("example.test. 3600 IN A 192.0.2.9")}, nil),
		mk(dns.RcodeSuccess, []dns.RR{rr("example.test. 300 IN CNAME other.test."), rr("other.test. 300 IN CNAME example.test.")}, nil),
		mk(dns.RcodeSuccess, []dns.RR{rr("example.test. 3600 IN MX 10 192.0.2.7."), rr("example.test. 3600 IN MX 5 alias.test."), rr("alias.test. 60 IN CNAME example.test.")}, nil),
		mk(dns.RcodeNameError, nil, nil),
		mk(dns.RcodeServerFailure, nil, nil),
	}
}

// TestParseDomainRefusesAddresses: an IP address is refused with or without
// a trailing dot, and so is any name ending in an all-numeric label.
func TestParseDomainRefusesAddresses(t *testing.T) {
	for _, s := range []string{"0.0.0.0", "0.0.0.0.", "192.0.2.1.", "127.1", "10.0.0.1.2", "x.123"} {
		if n, err := ParseDomain(s); err == nil {
			t.Errorf("ParseDomain(%q) = %q, want a refusal", s, n.ASCII)
		}
	}
	for _, s := range []string{"123.example", "1x.test", "example.com."} {
		if _, err := ParseDomain(s); err != nil {
			t.Errorf("ParseDomain(%q): %v", s, err)
		}
	}
}
