package dnsbl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// QueryName returns the name to look up for addr in zone: reversed octets
// for IPv4 (RFC 5782 §2.1), reversed nibbles for IPv6 (§2.4).
func QueryName(addr netip.Addr, zone string) string {
	rev, _ := dns.ReverseAddr(addr.Unmap().String())
	rev = strings.TrimSuffix(rev, ".in-addr.arpa.")
	rev = strings.TrimSuffix(rev, ".ip6.arpa.")
	return rev + "." + strings.ToLower(strings.TrimSuffix(zone, "."))
}

// Resolver is what a check asks DNS; proto/mx.Resolver and *net.Resolver fit.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Result is one blocklist query and what it means.
type Result struct {
	Addr    string   `json:"addr"`
	Zone    string   `json:"zone"`
	Query   string   `json:"query"`
	Listed  bool     `json:"listed"`
	Answers []string `json:"answers,omitempty"` // the A records
	Reason  string   `json:"reason,omitempty"`  // the TXT record
	Meaning string   `json:"meaning"`
	Error   string   `json:"error,omitempty"` // the lookup failed: not listed as far as anyone knows
}

// Check asks zone whether addr is listed.
func Check(ctx context.Context, r Resolver, addr netip.Addr, zone string) Result {
	zone = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(zone), "."))
	res := Result{Addr: addr.String(), Zone: zone, Query: QueryName(addr, zone)}
	ips, err := r.LookupIPAddr(ctx, res.Query)
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			res.Meaning = fmt.Sprintf("not listed: %s does not exist in the zone (NXDOMAIN)", res.Query)
			return res
		}
		res.Error = err.Error()
		res.Meaning = "the lookup failed, so nothing is known; a server then accepts the client (a blocklist must not block mail when it is down)"
		return res
	}
	var valid []string
	for _, ip := range ips {
		a, _ := netip.AddrFromSlice(ip.IP)
		a = a.Unmap()
		res.Answers = append(res.Answers, a.String())
		if a.Is4() && a.As4()[0] == 127 {
			valid = append(valid, a.String())
		}
	}
	if len(valid) == 0 {
		res.Meaning = "answers outside 127.0.0.0/8 are not listings (RFC 5782 §2.1): a resolver that rewrites NXDOMAIN into an advertising page does this; treated as not listed"
		return res
	}
	res.Listed = true
	res.Meaning = AnswerMeaning(valid[0])
	if txts, err := r.LookupTXT(ctx, res.Query); err == nil && len(txts) > 0 {
		res.Reason = strings.Join(txts, " ")
	}
	return res
}

// AnswerMeaning says what an A record answer in 127.0.0.0/8 means.
func AnswerMeaning(a string) string {
	switch a {
	case "127.0.0.2":
		return "listed (127.0.0.2, the usual answer: RFC 5782 §2.1)"
	case "127.255.255.252", "127.255.255.254", "127.255.255.255":
		return "not a listing but an error code of the list (Spamhaus's answer to queries through public resolvers or over the free limit); treat as not listed"
	}
	return "listed, with code " + a + " (lists use the last octet for the reason: see the list's documentation)"
}

// RejectText is the reply text of a server refusing a listed client, as
// Postfix's default_rbl_reply words it:
//
//	554 5.7.1 Service unavailable; Client host [203.0.113.66] blocked using bl.lab.test; open relay
func RejectText(addr netip.Addr, zone, reason string) string {
	s := fmt.Sprintf("Service unavailable; Client host [%s] blocked using %s", addr, zone)
	if reason != "" {
		s += "; " + reason
	}
	return s
}
