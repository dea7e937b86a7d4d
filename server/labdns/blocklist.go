package labdns

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// A blocklist zone (Zone.Blocklist) is a DNS blocklist laid out as RFC 5782
// says: an address is listed when the name made of its reversed octets under
// the zone has an A record (127.0.0.2, "listed") and a TXT record giving the
// reason:
//
//	2.0.0.127.bl.lab.test.    A    127.0.0.2
//	2.0.0.127.bl.lab.test.    TXT  "RFC 5782 test entry: always listed"
//	66.113.0.203.bl.lab.test. A    127.0.0.2
//
// IPv6 addresses use their 32 reversed nibbles. As the RFC requires, the
// test address 127.0.0.2 is always listed (and ::FFFF:7F00:2 for IPv6) and
// 127.0.0.1 never is, so a client can check that the zone works.

// BlocklistAnswer is the A record of a listed address.
var BlocklistAnswer = netip.MustParseAddr("127.0.0.2")

// testListed are RFC 5782 §5's test entries, listed in every blocklist zone.
var testListed = map[netip.Addr]string{
	netip.MustParseAddr("127.0.0.2"):     "RFC 5782 test entry: 127.0.0.2 is always listed",
	netip.MustParseAddr("::ffff:7f00:2"): "RFC 5782 test entry: ::FFFF:7F00:2 is always listed",
}

// neverListed are the addresses RFC 5782 §5 says must not be listed.
var neverListed = map[netip.Addr]bool{netip.MustParseAddr("127.0.0.1"): true, netip.MustParseAddr("::ffff:7f00:1"): true}

// Entry is one listed address.
type Entry struct {
	Addr   netip.Addr `json:"addr"`
	Reason string     `json:"reason"`
	Test   bool       `json:"test,omitempty"` // an RFC 5782 test entry
}

// ReverseName is the name under zone that lists addr (RFC 5782 §2.1, §2.4).
func ReverseName(addr netip.Addr, zone string) string {
	rev, _ := dns.ReverseAddr(addr.Unmap().String())
	rev = strings.TrimSuffix(rev, ".in-addr.arpa.")
	rev = strings.TrimSuffix(rev, ".ip6.arpa.")
	return rev + "." + canonical(zone)
}

// List adds addr to the blocklist zone with a reason; a listed address is
// updated. It fails for 127.0.0.1, which RFC 5782 says must never be listed,
// and for a zone that is not a blocklist here.
func (s *Server) List(zone string, addr netip.Addr, reason string) error {
	zone, addr = canonical(zone), addr.Unmap()
	if neverListed[addr] {
		return fmt.Errorf("labdns: %s must never be listed (RFC 5782 §5: it is the test address that proves the list does not list everything)", addr)
	}
	if z, ok := s.findZone(zone); !ok || !z.Blocklist || canonical(z.Domain) != zone {
		return fmt.Errorf("labdns: %s is not a blocklist zone of the lab DNS", zone)
	}
	if strings.TrimSpace(reason) == "" {
		reason = "listed by the lab's administrator"
	}
	if len(reason) > 255 {
		reason = reason[:255] // one TXT string
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bl == nil {
		s.bl = map[string]map[netip.Addr]string{}
	}
	if s.bl[zone] == nil {
		s.bl[zone] = map[netip.Addr]string{}
	}
	s.bl[zone][addr] = reason
	s.blGen.Add(1)
	return nil
}

// Generation changes whenever a blocklist entry is added or removed, so
// that a client caching answers knows when to ask again.
func (s *Server) Generation() int64 { return s.blGen.Load() }

// Unlist removes addr from the zone; it reports whether it was listed.
func (s *Server) Unlist(zone string, addr netip.Addr) bool {
	zone, addr = canonical(zone), addr.Unmap()
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.bl[zone][addr]
	delete(s.bl[zone], addr)
	s.blGen.Add(1)
	return ok
}

// Listed returns the zone's entries, the RFC 5782 test entries first.
func (s *Server) Listed(zone string) []Entry {
	zone = canonical(zone)
	var out []Entry
	for a, r := range testListed {
		out = append(out, Entry{Addr: a, Reason: r, Test: true})
	}
	s.mu.RLock()
	for a, r := range s.bl[zone] {
		out = append(out, Entry{Addr: a, Reason: r})
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Test != out[j].Test {
			return out[i].Test
		}
		return out[i].Addr.Less(out[j].Addr)
	})
	return out
}

// blocklistRecords answers a name inside blocklist zone d.
func (s *Server) blocklistRecords(d, name string) []dns.RR {
	if name == d {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for a, reason := range testListed {
		if ReverseName(a, d) == name {
			return listedRRs(name, reason)
		}
	}
	for a, reason := range s.bl[d] {
		if ReverseName(a, d) == name {
			return listedRRs(name, reason)
		}
	}
	return nil
}

func listedRRs(name, reason string) []dns.RR {
	return []dns.RR{
		addrRR(name, BlocklistAnswer),
		&dns.TXT{Hdr: hdr(name, dns.TypeTXT), Txt: []string{reason}},
	}
}
