// Package auth is mailx's knowledge of sender authentication: SPF (RFC
// 7208), DKIM (RFC 6376, with Ed25519 from RFC 8463) and DMARC (RFC 7489),
// and the Authentication-Results header field that records their verdicts
// (RFC 8601).
//
// It runs the checks and says what each step means, as data: the SMTP
// server (server/smtp through server/spam) writes the verdicts into
// Authentication-Results, `mailx auth explain` and `mime decode` redo them
// step by step, and the web page shows them, all with the one body of text
// in Explain.
//
// The cryptography and record evaluation are the libraries': SPF with
// blitiri.com.ar/go/spf, DKIM signing and verification with
// github.com/emersion/go-msgauth/dkim, DMARC record parsing with
// go-msgauth/dmarc. mailx's own code here is what those do not do: DMARC
// alignment and policy (organisational domains from the Public Suffix List,
// golang.org/x/net/publicsuffix), the DKIM body hash recomputed for the
// explanation, the tag-list parser (RFC 6376 §3.2) that shows every tag of
// a signature, the SPF term parser that shows every mechanism of a record,
// and the Authentication-Results field mailx writes and the removal of
// forged ones (RFC 8601 §5).
//
// What it is not: a DNS client (lookups go through a Resolver, which
// proto/mx implements for the lab DNS and the system's servers), a key
// store (server keeps the DKIM keys), or a spam score (server/spam).
package auth
