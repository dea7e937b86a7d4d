//go:build windows

package mx

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// systemServers returns the DNS servers Windows gave its connected network
// adapters (what `ipconfig /all` lists as "DNS Servers"); Windows has no
// resolv.conf.
func systemServers() ([]string, error) {
	adapters, err := adapterAddresses()
	if err != nil {
		return nil, &Error{Kind: ErrNoResolver, Detail: "cannot read the network adapters' DNS settings: " + err.Error(), Err: err}
	}
	var list []adapterDNS
	for aa := adapters; aa != nil; aa = aa.Next {
		a := adapterDNS{up: aa.OperStatus == windows.IfOperStatusUp, gateway: aa.FirstGatewayAddress != nil}
		for s := aa.FirstDnsServerAddress; s != nil; s = s.Next {
			if ip, ok := netip.AddrFromSlice(s.Address.IP()); ok {
				a.servers = append(a.servers, ip)
			}
		}
		list = append(list, a)
	}
	out := serversFromAdapters(list)
	if len(out) == 0 {
		return nil, &Error{Kind: ErrNoResolver, Detail: "no connected network adapter has a DNS server (see ipconfig /all)"}
	}
	return out, nil
}

// adapterAddresses returns the first of the linked list of the system's
// adapters, growing the buffer as GetAdaptersAddresses asks.
func adapterAddresses() (*windows.IpAdapterAddresses, error) {
	size := uint32(15000) // the size Microsoft's documentation recommends to start with
	for range 4 {
		b := make([]byte, size)
		aa := (*windows.IpAdapterAddresses)(unsafe.Pointer(&b[0]))
		err := windows.GetAdaptersAddresses(syscall.AF_UNSPEC, windows.GAA_FLAG_INCLUDE_GATEWAYS, 0, aa, &size)
		if err == nil {
			if size == 0 {
				return nil, nil
			}
			return aa, nil
		}
		if !errors.Is(err, windows.ERROR_BUFFER_OVERFLOW) || size <= uint32(len(b)) {
			return nil, fmt.Errorf("GetAdaptersAddresses: %w", err)
		}
	}
	return nil, errors.New("GetAdaptersAddresses: the adapter list kept growing")
}
