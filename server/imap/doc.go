// Package imap is mailx's IMAP server: folders and flags kept on the server,
// over the same Maildir mailboxes that `mailx serve` delivers into and POP3
// reads. The protocol engine is github.com/emersion/go-imap/v2's imapserver;
// this package is its Maildir backend (server/maildir) plus a thin
// connection front end.
//
// The backend implements CAPABILITY, LOGIN, AUTHENTICATE PLAIN, LIST/LSUB,
// SELECT/EXAMINE, STATUS, CREATE/DELETE/RENAME (Maildir++ folders, with
// INBOX, Sent, Drafts, Trash and Junk for every user), APPEND, FETCH (FLAGS,
// INTERNALDATE, RFC822.SIZE, ENVELOPE, BODYSTRUCTURE, BODY[...] with partial
// ranges, BODY.PEEK), STORE, COPY, MOVE, EXPUNGE, SEARCH, the UID variants,
// IDLE, NOOP, LOGOUT, NAMESPACE, ID, ENABLE and LIST-EXTENDED; imaptest's
// compliance scripts pass 71 of 71. Flags are the Maildir info letters
// (\Seen is "S"), keywords Dovecot's lower-case letters (PERMANENTFLAGS
// has \*), \Recent follows RFC 3501 §2.3.2; ENVELOPE and BODYSTRUCTURE are
// computed once per message (structure.go), nesting bounded at proto/mime's
// depth; UIDVALIDITY and UIDNEXT persist in each folder's index;
// sessions of one user share one view of each folder, so they see each
// other's changes, and a delivery reaches a client in IDLE within a second.
//
// The front end sits between the client and go-imap. It reports every line
// to the server trace (transcript events with Proto "imap", literals
// summarised when long), implements STARTTLS itself so that the trace still
// sees the clear text after the upgrade, refuses clear-text passwords off
// loopback before TLS (LOGINDISABLED, [PRIVACYREQUIRED]), discards commands
// pipelined in clear after STARTTLS, and logs out a client idle for 30
// minutes (RFC 9051 §5.4 autologout).
//
// What it is not: an IMAP client (see explore), nor a store (see
// server/maildir). RFCs: 3501 and 9051 (IMAP4rev1/rev2), 2177 (IDLE), 6851
// (MOVE), 2342 (NAMESPACE), 4315 (UIDPLUS), 6154 (SPECIAL-USE), 4616 (PLAIN),
// 2595 (STARTTLS), 7889 (APPENDLIMIT), 2971 (ID), 7888 (LITERAL+), 5258
// (LIST-EXTENDED), 2231 (parameter values in BODYSTRUCTURE), 5530
// (response codes).
package imap
