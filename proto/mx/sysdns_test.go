package mx

import (
	"net/netip"
	"slices"
	"testing"
)

// TestServersFromAdapters: the Windows adapters' DNS settings become the
// servers to ask as the Windows resolver picks them.
func TestServersFromAdapters(t *testing.T) {
	ips := func(s ...string) (out []netip.Addr) {
		for _, a := range s {
			out = append(out, netip.MustParseAddr(a))
		}
		return out
	}
	adapters := []adapterDNS{
		// A disconnected Wi-Fi card keeps the servers of the last network.
		{up: false, gateway: true, servers: ips("192.168.1.1")},
		// A VM switch: up, but no gateway.
		{up: true, gateway: false, servers: ips("172.20.0.1")},
		// The Ethernet in use: IPv4 and IPv6 servers, and the fec0::
		// placeholders Windows lists on every IPv6 adapter.
		{up: true, gateway: true, servers: ips("10.0.0.53", "::ffff:10.0.0.54", "fec0:0:0:ffff::1", "2001:db8::53", "0.0.0.0")},
		// A VPN repeating a server.
		{up: true, gateway: true, servers: ips("10.0.0.53", "10.8.0.1")},
	}
	got := serversFromAdapters(adapters)
	want := []string{"10.0.0.53:53", "10.0.0.54:53", "[2001:db8::53]:53", "10.8.0.1:53"}
	if !slices.Equal(got, want) {
		t.Errorf("serversFromAdapters = %q, want %q", got, want)
	}
	if got := serversFromAdapters(adapters[:2]); len(got) != 0 {
		t.Errorf("with no connected adapter = %q, want none", got)
	}
}
