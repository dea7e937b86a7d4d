// Package dnsbl is mailx's knowledge of DNS blocklists (RFC 5782): how an
// address becomes a query name under a list's zone, what the answers mean,
// and the reply a server gives a listed client (the one Postfix's
// reject_rbl_client gives).
//
// A blocklist publishes each listed address as a name made of its reversed
// octets under the list's zone, with an A record in 127.0.0.0/8 (usually
// 127.0.0.2) and a TXT record with the reason:
//
//	$ dig +short 66.113.0.203.bl.lab.test A
//	127.0.0.2
//	$ dig +short 66.113.0.203.bl.lab.test TXT
//	"open relay abused on 2026-12-07"
//
// NXDOMAIN means "not listed". Every list must list 127.0.0.2 and must not
// list 127.0.0.1, so a client can test that a zone works (RFC 5782 §5).
//
// What it is not: a DNS client; lookups go through proto/mx's Resolver.
//
// RFCs: 5782 (DNS blacklists and whitelists).
package dnsbl
