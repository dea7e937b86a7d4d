package mx

import (
	"context"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// The lookups below answer the questions sender authentication and DNS
// blocklists ask (TXT for SPF, DKIM and DMARC records; A/AAAA, MX and PTR for
// SPF mechanisms; A and TXT under a blocklist zone). They use the same
// servers, timeouts and UDP-then-TCP rule as Lookup, and their method set
// matches *net.Resolver's, so libraries written for the system resolver
// (blitiri.com.ar/go/spf, go-msgauth) ask the lab DNS through them.
//
// Errors follow the standard library's convention those libraries test for:
// a *net.DNSError with IsNotFound set when the name does not exist
// (NXDOMAIN) or has no record of that type (NODATA), and with IsTemporary
// set for timeouts, SERVFAIL and unreachable servers.

// RR asks one question and returns the answer's records of that type at
// the name (aliases followed), or a *net.DNSError.
func (r *Resolver) RR(ctx context.Context, name string, qtype uint16) ([]dns.RR, error) {
	fq := dns.Fqdn(strings.ToLower(strings.TrimSpace(name)))
	if _, ok := dns.IsDomainName(fq); !ok || len(fq) > 254 {
		return nil, &net.DNSError{Err: "invalid domain name", Name: name, IsNotFound: true}
	}
	servers, err := r.servers()
	if err != nil {
		return nil, &net.DNSError{Err: err.Error(), Name: name, IsTemporary: true}
	}
	rep, err := r.query(servers)(ctx, fq, qtype)
	if err != nil {
		return nil, &net.DNSError{Err: err.Error(), Name: name, IsTemporary: true, IsTimeout: isTimeout(err)}
	}
	srv := rep.server
	switch rep.msg.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return nil, &net.DNSError{Err: "no such host (NXDOMAIN)", Name: name, Server: srv, IsNotFound: true}
	default:
		return nil, &net.DNSError{Err: "server answered " + dns.RcodeToString[rep.msg.Rcode], Name: name, Server: srv, IsTemporary: true}
	}
	target := fq
	var out []dns.RR
	for i := 0; i <= maxAliases; i++ {
		next := ""
		for _, rr := range rep.msg.Answer {
			if !strings.EqualFold(rr.Header().Name, target) {
				continue
			}
			if c, ok := rr.(*dns.CNAME); ok && qtype != dns.TypeCNAME {
				next = c.Target
				continue
			}
			if rr.Header().Rrtype == qtype {
				out = append(out, rr)
			}
		}
		if len(out) > 0 || next == "" {
			break
		}
		target = next
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no " + dns.TypeToString[qtype] + " record", Name: name, Server: srv, IsNotFound: true}
	}
	return out, nil
}

func isTimeout(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Kind == ErrTimeout
}

// LookupTXT returns the TXT records at name, each one's strings joined
// (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
func (r *Resolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	rrs, err := r.RR(ctx, name, dns.TypeTXT)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, strings.Join(rr.(*dns.TXT).Txt, ""))
	}
	return out, nil
}

// LookupIPAddr returns the A and AAAA addresses of host. It is "not found"
// only when neither type has any.
func (r *Resolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	var out []net.IPAddr
	var firstErr error
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		rrs, err := r.RR(ctx, host, t)
		if err != nil {
			if de, ok := err.(*net.DNSError); !ok || !de.IsNotFound {
				return nil, err
			}
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		for _, rr := range rrs {
			switch a := rr.(type) {
			case *dns.A:
				out = append(out, net.IPAddr{IP: a.A})
			case *dns.AAAA:
				out = append(out, net.IPAddr{IP: a.AAAA})
			}
		}
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no address record", Name: host, IsNotFound: true}
	}
	return out, nil
}

// LookupMX returns the MX records of name as the standard library does.
func (r *Resolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	rrs, err := r.RR(ctx, name, dns.TypeMX)
	if err != nil {
		return nil, err
	}
	out := make([]*net.MX, 0, len(rrs))
	for _, rr := range rrs {
		m := rr.(*dns.MX)
		out = append(out, &net.MX{Host: m.Mx, Pref: m.Preference})
	}
	return out, nil
}

// LookupAddr returns the PTR names of addr (reverse DNS).
func (r *Resolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	rev, err := dns.ReverseAddr(addr)
	if err != nil {
		return nil, &net.DNSError{Err: "not an IP address", Name: addr, IsNotFound: true}
	}
	rrs, err := r.RR(ctx, rev, dns.TypePTR)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, rr.(*dns.PTR).Ptr)
	}
	return out, nil
}

// LookupNetip returns the A and AAAA addresses of host as netip values.
func (r *Resolver) LookupNetip(ctx context.Context, host string) ([]netip.Addr, error) {
	ips, err := r.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, err
	}
	out := make([]netip.Addr, 0, len(ips))
	for _, ip := range ips {
		if a, ok := netip.AddrFromSlice(ip.IP); ok {
			out = append(out, a.Unmap())
		}
	}
	return out, nil
}
