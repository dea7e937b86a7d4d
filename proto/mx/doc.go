// Package mx finds where mail for a domain goes: the one MX resolver that all
// of mailx shares. `mailx mx lookup` shows its Result line by line, the
// explorer's `smtp talk --mx` and the relay client of `mailx serve` connect to
// the hosts that Result.Order returns, and the lessons check a student's
// answers against it.
//
// A lookup follows RFC 5321 §5.1 the way a sending MTA does:
//
//   - the domain is checked and converted to its A-label form (IDNA,
//     RFC 5890/5891), so bücher.test is asked as xn--bcher-kva.test;
//   - MX records are asked for over UDP (TCP with Resolver.TCP), repeated over
//     TCP when the UDP answer comes back truncated (RFC 7766 §5), and retried
//     after a timeout before giving up;
//   - a queried name that is an alias (CNAME) is followed, and the chain is
//     recorded;
//   - MX records are sorted by preference (lower first; equal preferences in
//     random order, see Result.Order);
//   - no MX but an A or AAAA record: the "implicit MX" rule, the domain itself
//     is the exchanger with preference 0;
//   - a single "0 ." record is a null MX (RFC 7505): the domain accepts no mail;
//   - each exchanger's A and AAAA records are taken from the additional section
//     when the server sent them, and asked for otherwise;
//   - an MX target that is an alias or an IP address is reported as a warning
//     (RFC 5321 §5.1, RFC 2181 §10.3).
//
// Failures are *Error values whose Kind is one of the Err* sentinels, so
// callers test them with errors.Is, and Error.Temporary tells a relay whether
// to queue and retry (SERVFAIL, timeout) or to bounce (NXDOMAIN).
// Explanations are note.Note values; this package writes no terminal output.
//
// It is not a general DNS library (miekg/dns is), does no DNSSEC validation,
// and keeps no cache: every Lookup asks the server again, so students see the
// TTLs a server really returns. The test helper mxtest serves zones on a
// loopback port for tests throughout mailx.
//
// RFCs: 5321 §5.1 (locating the target host), 7505 (null MX), 1035 (DNS
// messages, MX RDATA), 2181 §10.3 (MX must not point to an alias), 7766 (DNS
// over TCP), 6891 (EDNS0), 5890/5891 (IDNA), 1123 §2.1 (host name syntax).
package mx
