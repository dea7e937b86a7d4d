// Package labdns is the DNS server of mailx's lab internet: a small
// authoritative name server (miekg/dns, UDP and TCP) on a loopback port that
// publishes the MX and A records of the lab's mail domains, so that the lab
// MTAs, `mailx mx lookup --server` and students' own tools find each other's
// mail servers exactly as on the real Internet: by asking DNS.
//
// For each lab zone (e.g. hamburger.test) it answers:
//
//	hamburger.test.     MX   10 mx.hamburger.test.
//	mx.hamburger.test.  A    127.0.0.1
//	hamburger.test.     NS   ns.hamburger.test.
//	ns.hamburger.test.  A    127.0.0.1 (the lab DNS's own address)
//	hamburger.test.     SOA  ns.hamburger.test. hostmaster.hamburger.test. ...
//
// with the exchanger's A record also in the additional section, as real
// servers do. A zone can instead publish a null MX ("MX 0 .", RFC 7505: this
// domain accepts no mail) or no MX at all but an A record at its apex (the
// RFC 5321 §5.1 implicit MX). A name inside a lab zone that does not exist
// gets NXDOMAIN, an existing name without the asked type gets an empty
// NOERROR answer (NODATA) with the SOA in the authority section (RFC 2308),
// and a name outside every lab zone gets REFUSED: this server is
// authoritative only, not a recursive resolver.
//
// Ports: mail between real servers always uses port 25, but one machine can
// give only one process 127.0.0.1:25, and macOS and Windows do not route the
// rest of 127.0.0.0/8 by default, so per-domain 127.0.0.x addresses would
// work on Linux only. The lab therefore publishes every exchanger at
// 127.0.0.1 and keeps an exchanger → port table beside the DNS (Ports, shown
// in `mailx serve --lab`'s banner): DNS answers "which host", as on the
// Internet, and the table answers "which port", which on the Internet is
// always 25. The relay client looks up MX through this server and then uses
// the table to dial.
//
// What it is not: a general DNS server, a resolver or a zone-file parser.
//
// RFCs: 1034/1035 (DNS), 2308 (negative answers), 5321 §5.1 (MX rules,
// implicit MX), 7505 (null MX), 6761 (the reserved .test top-level domain).
package labdns
