package labdns

import "github.com/miekg/dns"

// AddExtra publishes more records in zone domain (names inside it), each
// once: the lab adds a DKIM key made after the lab started this way. An
// unknown zone is left alone.
func (s *Server) AddExtra(domain string, rrs ...dns.RR) {
	d := canonical(domain)
	s.mu.Lock()
	defer s.mu.Unlock()
	z, ok := s.zones[d]
	if !ok {
		return
	}
	extra := append([]dns.RR(nil), z.Extra...)
	for _, rr := range rrs {
		dup := false
		for _, have := range extra {
			if dns.IsDuplicate(have, rr) {
				dup = true
			}
		}
		if !dup {
			extra = append(extra, rr)
		}
	}
	z.Extra = extra
	s.zones[d] = z
}
