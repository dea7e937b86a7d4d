// Package smtp is the SMTP server of `mailx serve`: the receiving side of
// RFC 5321 on port 2525 and the submission side of RFC 6409 on port 2587.
//
// It is strict and explained. proto/smtp's state table decides which command
// may come when; each handler returns a proto/smtp Reply and only the session
// loop writes, so every refusal carries its RFC 3463 code and a hint. It
// implements PIPELINING (RFC 2920), SIZE (RFC 1870), 8BITMIME (RFC 6152),
// ENHANCEDSTATUSCODES (RFC 2034), STARTTLS (RFC 3207), AUTH PLAIN and LOGIN
// (RFC 4954, RFC 4616; go-sasl on the server side for PLAIN), SMTPUTF8
// (RFC 6531) and HELP, besides HELO, RSET, NOOP, VRFY (252 unless enabled)
// and QUIT.
//
// Security, each with a test:
//   - SMTP smuggling (CVE-2023-51764 class): in a CRLF session DATA ends only
//     at CRLF "." CRLF; a bare LF or bare CR anywhere in the text gets 550
//     5.5.2 after the real end and nothing is queued. A session whose first
//     command ends in a bare LF (a student typing through nc) runs in an
//     explicit LF-only mode, announced in the first reply; the two are never
//     mixed in one session.
//   - STARTTLS command injection (CVE-2011-0411 class): bytes pipelined after
//     STARTTLS in the clear are discarded, and the session starts over.
//   - No open relay: recipients outside the local domains are accepted only
//     from authenticated sessions or configured networks; loopback is not
//     trusted, so the refusal (554 5.7.1) can be seen locally. Source routes
//     are ignored, "%" is never a route, and a quoted "a@b" local part is
//     just an unknown local user.
//   - AUTH only over TLS or from loopback; failures are delayed, more for
//     each recent failure from the same address.
//   - Limits on line length, recipients, size, errors, time, sessions in
//     total and per client address, and free disk space (Limits).
//
// A message gets 250 only after the queue (server/queue) has it on stable
// storage. Every line read and written is reported through Config.Trace as a
// transcript.Event; the session begins with a Meta event "connect from ..."
// and ends with one that starts with "closed".
//
// Where to read, in order: session.go (the command loop: read a line,
// check it against proto/smtp's state table, run the handler, write the
// reply), transaction.go (MAIL, RCPT, DATA), data.go (a message's way from
// the 354 to the queue, step by step), datareader.go (where the text ends,
// dot-unstuffing and the limits) and message.go (Received: and the header
// section). The machinery that makes it fast sits behind small types in
// files of their own and changes no reply: input.go and bulk.go (how lines
// are read, a large buffer during DATA, lines taken in bulk), input_linux.go
// (polling for input), copies.go (local copies written after the 250).
//
// What it is not: it delivers nothing itself (server/queue does), it does
// not relay (server/relay), and it has no presentation: annotations are added
// by the trace renderer in cmd.
package smtp
