package labdns

import (
	"testing"

	"github.com/miekg/dns"
)

// TestCustomRecords checks that a zone with Records publishes exactly those
// (plus SOA and NS), with the exchangers' addresses in the additional section.
func TestCustomRecords(t *testing.T) {
	var rrs []dns.RR
	for _, s := range []string{
		"school.test. 300 IN MX 10 mx1.school.test.",
		"school.test. 300 IN MX 20 backup.school.test.",
		"mx1.school.test. 300 IN A 127.0.0.1",
		"backup.school.test. 300 IN A 127.0.0.2",
	} {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	srv, err := Start(Config{Addr: "127.0.0.1:0", Zones: []Zone{{Domain: "school.test", Records: rrs}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	q := new(dns.Msg).SetQuestion("school.test.", dns.TypeMX)
	resp, err := dns.Exchange(q, srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 2 || len(resp.Extra) != 2 {
		t.Fatalf("answer = %v", resp)
	}
	q = new(dns.Msg).SetQuestion("mx.school.test.", dns.TypeA)
	if resp, err = dns.Exchange(q, srv.Addr()); err != nil || resp.Rcode != dns.RcodeNameError {
		t.Errorf("the generated exchanger still exists: %v %v", resp, err)
	}
}
