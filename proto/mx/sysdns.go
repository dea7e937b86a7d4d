package mx

import (
	"net"
	"net/netip"
)

// adapterDNS is what the resolver needs to know about one network adapter
// to use the DNS servers the system gave it.
type adapterDNS struct {
	up      bool         // the adapter is connected (operational status up)
	gateway bool         // it has a default gateway, so it reaches the Internet
	servers []netip.Addr // its DNS servers, in the system's order
}

// serversFromAdapters picks the DNS servers to ask from the adapters'
// settings, as the Windows resolver does and Go's net package copies: only
// adapters that are up and have a gateway (a disconnected Wi-Fi card or a
// virtual switch for VMs keeps stale servers), without duplicates, and
// without the fec0:0:0:ffff::1-3 placeholders that Windows lists on every
// IPv6 adapter (deprecated site-local addresses, RFC 3879, that nothing
// answers). It returns host:port pairs.
func serversFromAdapters(adapters []adapterDNS) []string {
	var out []string
	seen := map[netip.Addr]bool{}
	for _, a := range adapters {
		if !a.up || !a.gateway {
			continue
		}
		for _, ip := range a.servers {
			ip = ip.Unmap()
			if !ip.IsValid() || ip.IsUnspecified() || seen[ip] || isSiteLocalPlaceholder(ip) {
				continue
			}
			seen[ip] = true
			out = append(out, net.JoinHostPort(ip.String(), DefaultPort))
		}
	}
	return out
}

// isSiteLocalPlaceholder reports an address in fec0::/10.
func isSiteLocalPlaceholder(ip netip.Addr) bool {
	if !ip.Is6() {
		return false
	}
	b := ip.As16()
	return b[0] == 0xfe && b[1]&0xc0 == 0xc0
}
