// Package relay is the SMTP client of `mailx serve`: it takes a queued
// message to the mail servers of other domains, the way one MTA hands mail
// to the next across the Internet, and reports every line it sends and reads
// so that the hop appears in `mailx serve --trace` like any inbound session.
//
// For each recipient domain the Client finds where to go, in this order:
//
//  1. a static route (`--route hill.test=127.0.0.1:2526`);
//  2. the smarthost, when one is set (`--smarthost HOST:PORT`): all remote
//     mail goes there, as from a home server to an ISP's relay;
//  3. DNS: the MX records, through proto/mx (preference order, equal
//     preferences shuffled, the implicit MX of RFC 5321 §5.1). A null MX
//     (RFC 7505) fails the recipients at once with 556 5.1.10; a domain that
//     does not exist fails them with 550 5.1.2; a DNS failure defers them.
//
// It then tries each exchanger and each of its addresses in turn until one
// holds a conversation: the 220 greeting, EHLO (HELO when EHLO is refused),
// STARTTLS when offered (opportunistic: a certificate that does not verify
// is accepted and the failure recorded in the trace, as RFC 7435 describes
// for unauthenticated encryption), MAIL FROM with SIZE, BODY and SMTPUTF8
// when the server offers them, one RCPT TO per recipient (sent in one
// PIPELINING group with MAIL and DATA when offered, RFC 2920), the message
// dot-stuffed (RFC 5321 §4.5.2), then QUIT. A failed connection, greeting or
// EHLO, or a 421 at any point, moves on to the next exchanger; any other
// reply is the answer for this attempt. Every wait is bounded by the
// timeouts of RFC 5321 §4.5.3.2.
//
// Each recipient gets a queue.Result: the server's own reply when it
// answered (2xx delivered, 4xx deferred, 5xx failed), or a reply written by
// the client (4.4.1 no answer, 4.4.2 connection lost, 4.4.3 DNS failure,
// 5.1.2 no such domain, 5.1.10 null MX, 5.3.4 too big for the server's SIZE,
// 5.6.7 a non-ASCII address for a server without SMTPUTF8). The queue
// (server/queue) turns those into retries and bounces.
//
// Every command goes through proto/smtp's state table (smtp.Allowed before
// sending, smtp.Next after each reply) and every reply through
// smtp.ReplyBuilder, so the client cannot say what the server would refuse
// and reads replies by the same rules the explorer explains.
//
// The lab: mail between real servers always uses port 25, and the lab's
// exchangers all resolve to 127.0.0.1 (see server/labdns), so Config.Ports
// maps an exchanger's host name to its loopback port. The two ends of a lab
// hop share an id: the client records its local address in Hops, which
// numbers the hop ("relay hop h3" in the client's trace), and the receiving
// MTA's trace, passed through Hops.Wrap, announces the same "relay hop h3"
// in its own session when that address says EHLO.
//
// What it is not: a queue (it keeps no state between calls), nor a general
// SMTP library: it has no AUTH (relays between MTAs do not log in; a
// smarthost that needs AUTH is out of scope), no BDAT/CHUNKING and no DSN
// extension parameters.
//
// RFCs: 5321 (SMTP; §5.1 MX order, §4.5.3.2 timeouts, §4.5.2 transparency),
// 2920 (PIPELINING), 1870 (SIZE), 6152 (8BITMIME), 3207 (STARTTLS), 7435
// (opportunistic security), 6531 (SMTPUTF8), 7505 (null MX), 3463 (codes).
package relay
