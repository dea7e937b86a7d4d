package mx

import (
	"context"
	"strings"

	"github.com/miekg/dns"
)

// LabPortPrefix is where a lab DNS publishes the SMTP port of an exchanger
// that shares its address with others: an SRV record at
// "_smtp._tcp.EXCHANGER" whose target is the exchanger itself, as in
//
//	_smtp._tcp.mx.hamburger.test. 60 IN SRV 0 0 2526 mx.hamburger.test.
//
// On the Internet every exchanger listens on port 25 (RFC 5321 §4.5.4.2 has
// no port in MX); a lab on one machine runs every exchanger on 127.0.0.1,
// so it tells the ports apart this way. RFC 2782 SRV records are the DNS's
// usual way to say "this service is on that port".
const LabPortPrefix = "_smtp._tcp."

// ExchangerPort asks for the SRV record LabPortPrefix + host and returns
// the port it names for host, or 0 when there is none (the normal case:
// then the port is 25). Failures count as "none": the port is a lab
// convenience, never a reason to stop.
func (r *Resolver) ExchangerPort(ctx context.Context, host string) int {
	servers, err := r.servers()
	if err != nil {
		return 0
	}
	host = strings.TrimSuffix(host, ".")
	rep, err := r.query(servers)(ctx, dns.Fqdn(LabPortPrefix+host), dns.TypeSRV)
	if err != nil || rep.msg.Rcode != dns.RcodeSuccess {
		return 0
	}
	for _, rr := range rep.msg.Answer {
		if srv, ok := rr.(*dns.SRV); ok && strings.EqualFold(strings.TrimSuffix(srv.Target, "."), host) && srv.Port != 0 {
			return int(srv.Port)
		}
	}
	return 0
}
