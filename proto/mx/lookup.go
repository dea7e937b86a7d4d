package mx

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// maxAliases bounds the CNAME chain followed, as resolvers do (BIND stops at
// 16, Unbound at 11); 8 is plenty for any sane zone and stops loops early.
const maxAliases = 8

// Lookup finds where mail for domain goes (RFC 5321 §5.1): it asks for MX
// records, follows aliases, applies the implicit-MX and null-MX rules and
// finds every exchanger's addresses. See the package documentation.
//
// It returns an *Error (errors.Is-able against the Err* sentinels) when the
// domain is malformed, does not exist, has no MX and no address, or when no
// server gave a usable answer. A domain whose MX hosts all lack addresses is
// not an error: the Result says so with warnings, so that a student sees the
// records; a client finds no usable exchanger in Order.
func (r *Resolver) Lookup(ctx context.Context, domain string) (*Result, error) {
	name, err := ParseDomain(domain)
	if err != nil {
		return nil, err
	}
	servers, err := r.servers()
	if err != nil {
		return nil, err
	}
	return lookup(ctx, name, r.query(servers))
}

// lookup is Lookup's logic on any source of answers.
func lookup(ctx context.Context, name Name, ask queryFunc) (*Result, error) {
	res := &Result{
		Question: Question{Name: name.FQDN(), Type: "MX", Class: "IN"},
		Domain:   name,
		Aliases:  []Alias{},
		Records:  []Record{},
		Warnings: []Annotation{},
		Notes:    []Annotation{},
	}
	current := name.FQDN()
	var mxs []*dns.MX
	var last *reply
	for {
		rep, err := ask(ctx, current, dns.TypeMX)
		if err != nil {
			return nil, named(err, name.String())
		}
		res.Queries++
		res.RTT += rep.rtt
		res.Truncated = res.Truncated || rep.truncated
		last = rep
		if err := checkQuestion(rep, current, dns.TypeMX); err != nil {
			return nil, err
		}
		chain, final, err := followAliases(rep.msg.Answer, current, len(res.Aliases))
		if err != nil {
			return nil, &Error{Kind: ErrBadResponse, Name: name.String(), Server: rep.server, Detail: err.Error()}
		}
		res.Aliases = append(res.Aliases, chain...)
		if err := rcodeError(rep, name, final); err != nil {
			return nil, err
		}
		for _, rr := range rep.msg.Answer {
			if m, ok := rr.(*dns.MX); ok && strings.EqualFold(m.Hdr.Name, final) {
				mxs = append(mxs, m)
			}
		}
		if len(mxs) > 0 || len(chain) == 0 || final == current {
			current = final
			break
		}
		// The answer ended at an alias without its records (an authoritative
		// server for another zone does that): ask again for the target, as
		// RFC 5321 §5.1 says to process the alias "as if it were the initial name".
		current = final
		if len(res.Aliases) >= maxAliases {
			return nil, &Error{Kind: ErrBadResponse, Name: name.String(), Server: rep.server,
				Detail: fmt.Sprintf("returned an alias chain longer than %d names", maxAliases)}
		}
	}
	res.Server, res.Transport = last.server, last.transport
	res.Authoritative, res.RecursionAvailable = last.msg.Authoritative, last.msg.RecursionAvailable
	res.Canonical = strings.ToLower(strings.TrimSuffix(current, "."))

	if len(mxs) == 0 {
		if err := implicitMX(ctx, res, ask, current); err != nil {
			return nil, err
		}
	} else {
		explicitMX(ctx, res, ask, last.msg, mxs)
	}
	explainResult(res)
	return res, nil
}

// named fills in the name of a timeout error with the domain being looked up.
func named(err error, name string) error {
	if e, ok := err.(*Error); ok && e.Name == "" {
		e.Name = name
	}
	return err
}

// checkQuestion refuses an answer to another question: a stray or spoofed
// datagram. miekg/dns already matches the message ID.
func checkQuestion(rep *reply, name string, qtype uint16) error {
	q := rep.msg.Question
	if len(q) == 1 && strings.EqualFold(q[0].Name, name) && q[0].Qtype == qtype {
		return nil
	}
	return &Error{Kind: ErrBadResponse, Name: strings.TrimSuffix(name, "."), Server: rep.server,
		Detail: "answered a different question than the one asked"}
}

// rcodeError turns an error RCODE into an *Error. For NXDOMAIN after an
// alias, the name that does not exist is the alias's target (RFC 6604).
func rcodeError(rep *reply, name Name, final string) error {
	e := &Error{Name: name.String(), Server: rep.server}
	if !strings.EqualFold(final, name.FQDN()) {
		e.Name += " (an alias for " + strings.TrimSuffix(final, ".") + ")"
	}
	switch rep.msg.Rcode {
	case dns.RcodeSuccess:
		return nil
	case dns.RcodeNameError:
		e.Kind = ErrNXDomain
	case dns.RcodeServerFailure:
		e.Kind = ErrServerFailure
	case dns.RcodeRefused:
		e.Kind = ErrRefused
		e.Loopback = isLoopbackServer(rep.server)
	default:
		e.Kind = ErrBadResponse
		e.Detail = "answered " + rcodeName(rep.msg.Rcode)
	}
	return e
}

// isLoopbackServer reports whether a server's host:port is on this machine.
func isLoopbackServer(srv string) bool {
	host, _, err := net.SplitHostPort(srv)
	if err != nil {
		host = srv
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func rcodeName(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE %d", rc)
}

// followAliases follows CNAME records in rrs from name and returns the
// aliases met and the final name. already counts aliases met in earlier
// answers, so the bound holds across queries.
func followAliases(rrs []dns.RR, name string, already int) ([]Alias, string, error) {
	var chain []Alias
	seen := map[string]bool{strings.ToLower(name): true}
	for {
		var next *dns.CNAME
		for _, rr := range rrs {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, name) {
				next = c
				break
			}
		}
		if next == nil {
			return chain, name, nil
		}
		if seen[strings.ToLower(next.Target)] {
			return nil, "", fmt.Errorf("returned an alias loop at %s", strings.TrimSuffix(next.Target, "."))
		}
		if already+len(chain) >= maxAliases {
			return nil, "", fmt.Errorf("returned an alias chain longer than %d names", maxAliases)
		}
		seen[strings.ToLower(next.Target)] = true
		chain = append(chain, Alias{Name: lowerFQDN(next.Hdr.Name), TTL: next.Hdr.Ttl, Target: lowerFQDN(next.Target)})
		name = next.Target
	}
}

func lowerFQDN(s string) string { return strings.ToLower(dns.Fqdn(s)) }

// implicitMX applies the rule for a domain without MX records: its own
// address records make it the exchanger, with preference 0.
func implicitMX(ctx context.Context, res *Result, ask queryFunc, host string) error {
	x := Exchanger{Host: res.Canonical, Unicode: unicodeHost(res.Canonical), Implicit: true, Addresses: []Address{}}
	if err := queryAddresses(ctx, res, ask, host, &x); err != nil {
		return named(err, res.Domain.String())
	}
	if len(x.Addresses) == 0 {
		return &Error{Kind: ErrNoMailHost, Name: res.Domain.String(), Server: res.Server,
			Detail: "it has no MX record and no A or AAAA record"}
	}
	x.TTL = x.Addresses[0].TTL
	res.Rule = RuleImplicit
	res.Exchangers = []Exchanger{x}
	return nil
}

// explicitMX records the MX records, applies the null-MX rule and finds the
// addresses of every exchanger.
func explicitMX(ctx context.Context, res *Result, ask queryFunc, msg *dns.Msg, mxs []*dns.MX) {
	for _, m := range mxs {
		res.Records = append(res.Records, Record{
			Name: lowerFQDN(m.Hdr.Name), TTL: m.Hdr.Ttl, Class: dns.ClassToString[m.Hdr.Class],
			Type: "MX", Preference: m.Preference, Exchange: lowerFQDN(m.Mx),
		})
	}
	sortRecords(res.Records)
	res.Rule = RuleMX
	res.Exchangers = []Exchanger{}
	if len(res.Records) == 1 && res.Records[0].Exchange == "." {
		res.Rule = RuleNull
		if p := res.Records[0].Preference; p != 0 {
			res.warn(TopicNullPref, fmt.Sprintf("the null MX has preference %d; RFC 7505 says it must be 0", p),
				"Senders still treat a lone \".\" exchanger as \"no mail accepted\".", "RFC 7505 §3")
		}
		return
	}
	for _, rec := range res.Records {
		if rec.Exchange == "." {
			res.warn(TopicNullMixed, "a null MX (\".\") is listed next to other MX records",
				"RFC 7505 allows a null MX only as the domain's single MX record; senders ignore it and use the others.", "RFC 7505 §3")
			continue
		}
		host := strings.TrimSuffix(rec.Exchange, ".")
		x := Exchanger{Preference: rec.Preference, Host: host, Unicode: unicodeHost(host), TTL: rec.TTL, Addresses: []Address{}}
		if ip, err := netip.ParseAddr(host); err == nil {
			x.IPLiteral = true
			res.warn(TopicIPLiteral, fmt.Sprintf("the MX target %s is an IP address, not a host name", ip),
				"An MX record must name a host, whose A/AAAA records give the addresses. Most MTAs (Postfix, Exim) skip this exchanger.",
				"RFC 5321 §5.1")
			res.Exchangers = append(res.Exchangers, x)
			continue
		}
		x.Addresses, x.Aliases = addressesFrom(msg.Extra, rec.Exchange, SourceAdditional)
		if n := len(x.Aliases); n > 0 {
			x.AliasFor = x.Aliases[n-1].Target
		}
		if len(x.Addresses) == 0 {
			if err := queryAddresses(ctx, res, ask, rec.Exchange, &x); err != nil {
				x.Error = err.Error()
				res.warn(TopicHostFailed, fmt.Sprintf("could not look up the addresses of %s: %s", host, err),
					"A sender skips this exchanger for now and tries the others, or retries later.", "RFC 5321 §5.1")
			}
		}
		if x.AliasFor != "" {
			res.warn(TopicMXAlias, fmt.Sprintf("the MX target %s is an alias (CNAME) for %s", host, strings.TrimSuffix(x.AliasFor, ".")),
				"An MX record must name a host directly, not an alias; many MTAs follow it anyway, some refuse. Point the MX at the canonical name.",
				"RFC 2181 §10.3, RFC 5321 §5.1")
		}
		if len(x.Addresses) == 0 && x.Error == "" {
			res.warn(TopicNoAddress, fmt.Sprintf("%s has no A or AAAA record", host),
				"A sender cannot connect to this exchanger and skips it.", "RFC 5321 §5.1")
		}
		res.Exchangers = append(res.Exchangers, x)
	}
	usable := false
	for _, x := range res.Exchangers {
		usable = usable || x.Usable()
	}
	if !usable {
		res.warn(TopicNoneUsable, "no MX host has an address: mail for this domain cannot be delivered now",
			"RFC 5321 §5.1: when MX records exist but none is usable, the sender must report an error; it does not fall back to the domain's own address.",
			"RFC 5321 §5.1")
	}
}

// addressesFrom collects the A and AAAA records of host found in rrs (A
// first), following CNAMEs at host; chain holds those, when host turned out
// to be an alias.
func addressesFrom(rrs []dns.RR, host, source string) (addrs []Address, chain []Alias) {
	chain, final, err := followAliases(rrs, host, 0)
	if err != nil {
		return nil, nil
	}
	addrs = []Address{}
	for _, want := range []uint16{dns.TypeA, dns.TypeAAAA} {
		for _, rr := range rrs {
			h := rr.Header()
			if h.Rrtype != want || !strings.EqualFold(h.Name, final) {
				continue
			}
			var ip netip.Addr
			switch v := rr.(type) {
			case *dns.A:
				ip, _ = netip.AddrFromSlice(v.A.To4())
			case *dns.AAAA:
				ip, _ = netip.AddrFromSlice(v.AAAA.To16())
			}
			if !ip.IsValid() {
				continue
			}
			addrs = append(addrs, Address{Name: lowerFQDN(h.Name), TTL: h.Ttl, Type: dns.TypeToString[want], IP: ip, Source: source})
		}
	}
	return addrs, chain
}

// queryAddresses asks A and AAAA for host and adds what it finds to x. A
// name that does not exist simply has no addresses; other failures are
// returned.
func queryAddresses(ctx context.Context, res *Result, ask queryFunc, host string, x *Exchanger) error {
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		rep, err := ask(ctx, host, qtype)
		if err != nil {
			return named(err, strings.TrimSuffix(host, ".")+" "+dns.TypeToString[qtype])
		}
		res.Queries++
		if err := checkQuestion(rep, host, qtype); err != nil {
			return err
		}
		switch rep.msg.Rcode {
		case dns.RcodeSuccess:
		case dns.RcodeNameError:
			return nil
		default:
			return rcodeError(rep, Name{Input: host, ASCII: strings.TrimSuffix(host, "."), Unicode: strings.TrimSuffix(host, ".")}, host)
		}
		addrs, chain := addressesFrom(rep.msg.Answer, host, SourceQuery)
		// A reply may carry records of the other family; keep only those asked.
		for _, a := range addrs {
			if a.Type == dns.TypeToString[qtype] {
				x.Addresses = append(x.Addresses, a)
			}
		}
		if n := len(chain); n > 0 && x.AliasFor == "" {
			x.Aliases, x.AliasFor = chain, chain[n-1].Target
		}
	}
	return nil
}
