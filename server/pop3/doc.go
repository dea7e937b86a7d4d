// Package pop3 is mailx's POP3 server: the "download and delete" way for a
// user agent to fetch mail from the Maildir that `mailx serve` delivers into.
// It runs on proto/pop3's state and command table, exactly as the SMTP server
// runs on proto/smtp's, so the server and the explorer (mailx pop3 talk)
// cannot disagree about what a command means or when it is allowed.
//
// Behaviour worth knowing when teaching with it:
//   - The maildrop is locked for the session: a second session for the same
//     user gets "-ERR [IN-USE]" (RFC 2449 §8.1.1).
//   - DELE only marks. Messages are removed in the UPDATE state after QUIT;
//     a connection that drops before QUIT deletes nothing (RFC 1939 §6).
//   - Sizes are exact octet counts with CRLF line ends, lines starting with
//     "." are byte-stuffed, and UIDLs (built from the folder's persistent
//     IMAP UIDVALIDITY and UID) are stable across sessions and restarts.
//   - USER/PASS and AUTH PLAIN send the password in clear, so they are
//     refused with "-ERR [AUTH]" on non-loopback connections until STLS;
//     over loopback they work, for the classic telnet lab.
//   - APOP needs the shared secret in clear on the server; mailx stores
//     only bcrypt hashes, so APOP is offered (a timestamp in the greeting)
//     only when the server is given APOP secrets (Config.APOPSecret).
//   - Failed logins are throttled per client address; idle sessions are
//     closed after 10 minutes (the RFC's minimum autologout timer).
//
// What it is not: a POP3 client (see explore), nor a mail store (see
// server/maildir). RFCs: 1939 (POP3), 2449 (CAPA, response codes), 2595
// (STLS), 3206 (SYS and AUTH codes), 5034 (SASL AUTH), 4616 (PLAIN).
package pop3
