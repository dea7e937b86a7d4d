package labdns

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

func TestBlocklistZone(t *testing.T) {
	s, err := Start(Config{Addr: "127.0.0.1:0", Zones: []Zone{{Domain: "bl.lab.test", Blocklist: true}, {Domain: "crepes.test"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ask := func(name string, qt uint16) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), qt)
		r, err := dns.Exchange(m, s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := ask("2.0.0.127.bl.lab.test", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "127.0.0.2" {
		t.Errorf("127.0.0.2 (the RFC 5782 test entry) = %v", r)
	}
	if r := ask("1.0.0.127.bl.lab.test", dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Errorf("127.0.0.1 = %v, want NXDOMAIN", r)
	}
	if err := s.List("bl.lab.test", netip.MustParseAddr("127.0.0.1"), ""); err == nil {
		t.Error("127.0.0.1 was listed")
	}
	if err := s.List("crepes.test", netip.MustParseAddr("203.0.113.66"), ""); err == nil {
		t.Error("listed in a zone that is not a blocklist")
	}
	if err := s.List("bl.lab.test", netip.MustParseAddr("203.0.113.66"), "open relay"); err != nil {
		t.Fatal(err)
	}
	if r := ask("66.113.0.203.bl.lab.test", dns.TypeTXT); len(r.Answer) != 1 || r.Answer[0].(*dns.TXT).Txt[0] != "open relay" {
		t.Errorf("TXT of a listed address = %v", r)
	}
	if !s.Unlist("bl.lab.test", netip.MustParseAddr("203.0.113.66")) {
		t.Error("Unlist found nothing")
	}
	if r := ask("66.113.0.203.bl.lab.test", dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Errorf("after Unlist = %v, want NXDOMAIN", r)
	}
}
