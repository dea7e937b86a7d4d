package labdns

import (
	"testing"

	"github.com/miekg/dns"
)

// FuzzAnswer feeds the lab DNS server arbitrary query packets, as anyone
// on the machine can send them: unpacking is miekg/dns's, but answering
// (zone search, additional section, truncation) is ours. It must never
// panic, and every answer must pack into a valid message.
func FuzzAnswer(f *testing.F) {
	for _, q := range []struct {
		name string
		typ  uint16
	}{
		{"hamburger.test.", dns.TypeMX}, {"mx.crepes.test.", dns.TypeA}, {"nomail.test.", dns.TypeMX},
		{"bare.test.", dns.TypeAAAA}, {"ns.crepes.test.", dns.TypeANY}, {"x.y.hamburger.test.", dns.TypeTXT}, {"example.org.", dns.TypeMX},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.typ)
		m.SetEdns0(512, false)
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	s := &Server{}
	if err := s.SetZones([]Zone{
		{Domain: "crepes.test"},
		{Domain: "hamburger.test", Preference: 20},
		{Domain: "nomail.test", NullMX: true},
		{Domain: "bare.test", Implicit: true},
	}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, packet []byte) {
		req := new(dns.Msg)
		if err := req.Unpack(packet); err != nil {
			return // miekg/dns drops it before our handler runs
		}
		resp := s.answer(req)
		if resp.Id != req.Id {
			t.Errorf("answer id %d for query id %d", resp.Id, req.Id)
		}
		resp.Truncate(dns.MinMsgSize)
		if _, err := resp.Pack(); err != nil {
			t.Errorf("answer does not pack: %v\n%s", err, resp)
		}
		summary(resp)
	})
}
