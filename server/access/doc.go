// Package access holds what mailx's two mail access servers, POP3
// (server/pop3) and IMAP (server/imap), share: throttling of failed logins
// per client address, the rule that passwords travel in clear only over
// loopback or TLS, session ids, and reporting each session line to the
// server trace as transcript events.
//
// What it is not: a protocol implementation or an account store. Accounts
// live in server/accounts, mailboxes in server/maildir, protocol facts in
// proto/pop3 and go-imap.
//
// RFCs: 2595 §2.1 and 8314 §5 (no clear-text passwords without TLS, except
// where the link is trusted, here loopback), 9051 §11 (security
// considerations: throttling password guessing).
package access
