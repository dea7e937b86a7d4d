package server

import (
	"net/netip"

	"github.com/mailx-edu/mailx/server/labdns"
)

// SpamConfig holds the sender-authentication and spam settings (see
// spam_ext.go).
type SpamConfig struct {
	// Checks turns on the checks of incoming mail (SPF, DKIM, DMARC,
	// blocklists, score): "on", "off", or "" for the default, which is on
	// in the lab and off otherwise (a plain mailx serve stays as fast as
	// before, and its mail is not judged unless asked).
	Checks string
	// NoSign turns off DKIM signing of outgoing mail (default on: mail
	// from authenticated users and relay networks is signed).
	NoSign bool
	// DNSBL are the blocklist zones to ask about each client.
	DNSBL []DNSBLZone
	// DNSBLAction is "reject" (refuse at RCPT, as Postfix's
	// reject_rbl_client; the default) or "score" (add the zone's weight).
	DNSBLAction string
	// Threshold is the score from which mail goes to Junk (default 5.0).
	Threshold float64
	// Reject is the score from which mail is refused (default 15.0;
	// negative: never).
	Reject float64

	// Set by the lab, not by users: the address the relay client announces
	// with XCLIENT, the lab's domains (for the display-name rule) and its
	// blocklist.
	LabAddr    netip.Addr
	LabDomains []string
	LabUsers   map[string]string // domain → its first user
	LabDNS     *labdns.Server
	LabBLFile  string
}

// DNSBLZone is one --dnsbl ZONE[=WEIGHT].
type DNSBLZone struct {
	Zone   string  `json:"zone"`
	Weight float64 `json:"weight"`
}
