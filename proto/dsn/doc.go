// Package dsn builds and reads delivery status notifications: the "bounce"
// a mail server sends back to a sender when it could not deliver (or is
// still trying to deliver) a message.
//
// A DSN is an ordinary e-mail with a machine-readable heart. Its body is a
// multipart/report (RFC 6522) with report-type=delivery-status and three
// parts:
//
//  1. text/plain: what happened, in words a person can read. mailx writes
//     it in the same teaching voice as the rest of the toolkit and quotes the
//     remote server's reply exactly.
//  2. message/delivery-status (RFC 3464 §2): one group of per-message fields
//     (Reporting-MTA, Arrival-Date) and one group per recipient
//     (Final-Recipient, Action, Status, Remote-MTA, Diagnostic-Code,
//     Last-Attempt-Date, Will-Retry-Until).
//  3. text/rfc822-headers: the original message's header section, so the
//     sender can tell which message bounced without getting the whole body
//     back.
//
// Build writes such a message and Parse reads one back (mailx's own, or
// Postfix's and others', which follow the same RFC). Parse is written for
// untrusted input: every read is bounded and malformed structure is an error,
// never a panic.
//
// What this package is not: it does not decide when to bounce (the queue's
// bounce policy in server/queue does), does not send anything, and does not
// implement the SMTP DSN extension's NOTIFY/RET parameters (RFC 3461).
// One rule it does enforce because no caller may forget it: a notification is
// never addressed to the null reverse-path "<>" (RFC 5321 §6.1, RFC 3464
// §2.2.1), which is how bounce loops are prevented; and the notification
// itself must be sent with MAIL FROM:<>, which Sender documents.
//
// RFCs: 3464 (delivery status notifications), 6522 (multipart/report),
// 3463 (enhanced status codes), 6533 (internationalized addresses in DSNs,
// the utf-8 address type), 3834 (Auto-Submitted), 5321 §6.1 and §4.5.5.
package dsn
