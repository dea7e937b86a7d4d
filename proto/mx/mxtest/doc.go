// Package mxtest runs a small DNS server inside a test, on 127.0.0.1 with a
// free port, serving a zone written as zone-file text. Tests anywhere in
// mailx (the MX resolver, the explorer's `smtp talk --mx`, the relay client
// of `mailx serve`, the lessons) use it to point proto/mx at a world they
// control, including broken ones:
//
//	srv := mxtest.Start(t, mxtest.Options{Zone: `
//	$ORIGIN example.test.
//	$TTL 3600
//	@      MX 10 mx1
//	@      MX 20 mx2
//	mx1    A  127.0.0.1
//	mx2    A  127.0.0.1
//	`})
//	res, err := (&mx.Resolver{Server: srv.Addr}).Lookup(ctx, "example.test")
//
// The server answers on UDP and TCP at the same address. It behaves like an
// authoritative server that also chases aliases inside its own zone, the way
// a recursive resolver would: a question for a name with a CNAME gets the
// CNAME and the target's records of the type asked; an MX answer carries the
// exchangers' A/AAAA records in its additional section (unless NoAdditional
// names the owner); a name with records of other types gets an empty
// NOERROR answer (NODATA); any other name gets NXDOMAIN. Options make it
// misbehave on purpose per name: truncate UDP answers, answer SERVFAIL or
// REFUSED, or never answer.
//
// Blackhole returns an address where nothing ever answers, for timeout tests.
//
// It is a test helper, not a DNS server for labs: no wildcards, no
// delegation, no DNSSEC, no zone transfers. Every server and socket closes
// in t.Cleanup.
package mxtest
