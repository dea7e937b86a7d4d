package smtp

import (
	"fmt"
	"time"
)

// This file holds the replies a server sends, one constructor each, so that
// the server, the lab scenarios and the tests agree on code, enhanced code
// (RFC 3463) and wording. Each reply says what happened and, where the
// student can do something about it, what to try.

// Greeting is the 220 banner.
//
//	S: 220 mx.test ESMTP mailx ready
func Greeting(host string) Reply {
	return NewReply(220, "", host+" ESMTP mailx ready")
}

// SenderOK accepts MAIL FROM.
//
//	S: 250 2.1.0 Sender <alice@mailx.test> ok
func SenderOK(from string) Reply {
	return NewReply(250, "2.1.0", fmt.Sprintf("Sender <%s> ok", from))
}

// RecipientOK accepts RCPT TO.
//
//	S: 250 2.1.5 Recipient <bob@mailx.test> ok
func RecipientOK(rcpt string) Reply {
	return NewReply(250, "2.1.5", fmt.Sprintf("Recipient <%s> ok", rcpt))
}

// StartData is the 354 that invites the message text.
func StartData() Reply {
	return NewReply(354, "", `Send the message: headers, a blank line, the body; end with a line holding only "."`)
}

// Queued is the 250 after the end of DATA: the message is on stable storage.
//
//	S: 250 2.0.0 Ok: queued as 4F2A9C
func Queued(id string) Reply {
	return NewReply(250, "2.0.0", "Ok: queued as "+id)
}

// Bye is the 221 reply to QUIT.
func Bye(host string) Reply { return NewReply(221, "2.0.0", host+" closing connection") }

// ResetOK is the reply to RSET.
func ResetOK() Reply {
	return NewReply(250, "2.0.0", "Reset: transaction abandoned, session still open")
}

// NoopOK is the reply to NOOP.
func NoopOK() Reply { return NewReply(250, "2.0.0", "OK, nothing done") }

// CannotVerify is the 252 a server gives to VRFY when it will not say
// whether a mailbox exists (RFC 5321 §3.5.3): it keeps address harvesters out.
func CannotVerify() Reply {
	return NewReply(252, "2.5.0", "Cannot VRFY user; send mail and it will be delivered if the mailbox exists")
}

// ReadyForTLS is the 220 reply to STARTTLS; the TLS handshake follows.
func ReadyForTLS() Reply {
	return NewReply(220, "2.0.0", "Ready to start TLS: begin the handshake now")
}

// AuthOK is the 235 after a successful AUTH.
func AuthOK() Reply { return NewReply(235, "2.7.0", "Authentication successful") }

// AuthChallenge is a 334 continuation carrying a base64 challenge (may be
// empty, as for AUTH PLAIN without an initial response).
func AuthChallenge(b64 string) Reply { return NewReply(334, "", b64) }

// MailboxUnavailable refuses a recipient with no mailbox here.
//
//	S: 550 5.1.1 <carol@mailx.test>: no such user here
func MailboxUnavailable(rcpt string) Reply {
	return NewReply(550, "5.1.1", fmt.Sprintf("<%s>: no such user here", rcpt))
}

// RelayDenied refuses a recipient in a domain this server does not handle,
// for a client that has not logged in: an open relay would send anyone's spam.
//
//	S: 554 5.7.1 <bob@example.com>: relay access denied; log in (AUTH) on the submission port to send to other domains
func RelayDenied(rcpt string) Reply {
	return NewReply(554, "5.7.1", fmt.Sprintf("<%s>: relay access denied; this server only accepts mail for its own domains unless you log in (AUTH) first", rcpt))
}

// TooManyRecipients is the 452 for one recipient too many (RFC 5321
// §4.5.3.1.10: the client should send the rest in another transaction).
func TooManyRecipients(max int) Reply {
	return NewReply(452, "4.5.3", fmt.Sprintf("Too many recipients: at most %d per message; send the rest in another transaction", max))
}

// MessageTooBig is the 552 for a message larger than the advertised SIZE,
// at MAIL (declared SIZE=) or at the end of DATA.
func MessageTooBig(max int64) Reply {
	return NewReply(552, "5.3.4", fmt.Sprintf("Message too big: the limit is %d octets (see SIZE in the EHLO reply)", max))
}

// InsufficientStorage is the 452 given before any 250 when the disk is
// nearly full: the client keeps the message and tries later.
func InsufficientStorage() Reply {
	return NewReply(452, "4.3.1", "Insufficient system storage: try again later")
}

// TooManyErrors closes a session that made too many mistakes.
func TooManyErrors(host string) Reply {
	return NewReply(421, "4.7.0", host+" too many errors in this session; closing connection")
}

// Busy turns a connection away when the server or this client has too many
// sessions open.
func Busy(host, why string) Reply {
	return NewReply(421, "4.7.0", fmt.Sprintf("%s too busy (%s); try again later", host, why))
}

// Timeout closes a session that stayed silent too long (RFC 5321 §4.5.3.2).
func Timeout(host string) Reply {
	return NewReply(421, "4.4.2", host+" timeout waiting for input; closing connection")
}

// ShuttingDown is sent to open sessions when the server stops.
func ShuttingDown(host string) Reply {
	return NewReply(421, "4.3.2", host+" shutting down; try again later")
}

// LocalError is the 451 for a failure on the server's side (disk, queue);
// the details go to the log, not to the client.
func LocalError() Reply {
	return NewReply(451, "4.3.0", "Local error in processing: try again later")
}

// InternalError is the 421 sent when the server hit a bug in this session.
func InternalError(host string) Reply {
	return NewReply(421, "4.3.0", host+" internal error; closing connection")
}

// AuthRequired refuses MAIL on a port that requires logging in first
// (submission, RFC 6409 §4.3).
func AuthRequired() Reply {
	return NewReply(530, "5.7.0", "Authentication required: log in with AUTH before MAIL on the submission port")
}

// EncryptionRequired refuses AUTH over an unencrypted connection from
// another machine (RFC 4954 §4): the password would cross the network in clear.
func EncryptionRequired() Reply {
	return NewReply(538, "5.7.11", "Encryption required: send STARTTLS before AUTH")
}

// AuthFailed is the 535 for a wrong user name or password.
func AuthFailed() Reply {
	return NewReply(535, "5.7.8", "Authentication failed: wrong user name or password")
}

// AuthCancelled is the 501 when the client answers a challenge with "*".
func AuthCancelled() Reply { return NewReply(501, "5.0.0", "Authentication cancelled") }

// AuthMechanismUnknown is the 504 for a SASL mechanism the server lacks.
func AuthMechanismUnknown(mech string) Reply {
	return NewReply(504, "5.5.4", fmt.Sprintf("Unrecognized authentication mechanism %q: use PLAIN or LOGIN", mech))
}

// AlreadyAuthenticated refuses a second AUTH (RFC 4954 §4).
func AlreadyAuthenticated() Reply {
	return NewReply(503, "5.5.1", "Already authenticated")
}

// TLSNotAvailable is the 454 when STARTTLS cannot be done.
func TLSNotAvailable(why string) Reply {
	return NewReply(454, "4.7.0", "TLS not available: "+why)
}

// AlreadyTLS refuses STARTTLS inside TLS.
func AlreadyTLS() Reply { return NewReply(503, "5.5.1", "Already in TLS") }

// BareLineEnding refuses a message (or line) that used a bare LF or a bare
// CR where CRLF belongs. Servers that read such text differently can be made
// to see two messages where there is one: SMTP smuggling (CVE-2023-51764).
//
//	S: 550 5.5.2 Message refused: bare LF in line 3; SMTP lines end with CRLF
func BareLineEnding(what string) Reply {
	return NewReply(550, "5.5.2", "Message refused: "+what+"; SMTP lines end with CRLF (bare CR or LF can smuggle a second message)")
}

// LineTooLong refuses a command or text line over the limit.
func LineTooLong(what string, max int) Reply {
	return NewReply(500, "5.5.2", fmt.Sprintf("%s too long: at most %d octets including CRLF", what, max))
}

// ParamNotSupported is the 555 for a MAIL or RCPT parameter the server does
// not implement (RFC 5321 §4.1.1.11).
func ParamNotSupported(param string) Reply {
	return NewReply(555, "5.5.4", fmt.Sprintf("Parameter %s not recognized or not implemented", param))
}

// BadSenderSyntax and BadRecipientSyntax refuse an address that does not
// follow RFC 5321 §4.1.2; why names the fault.
func BadSenderSyntax(why string) Reply { return NewReply(501, "5.1.7", "Bad sender address: "+why) }

// BadRecipientSyntax refuses a recipient address that does not follow RFC
// 5321 §4.1.2.
func BadRecipientSyntax(why string) Reply {
	return NewReply(501, "5.1.3", "Bad recipient address: "+why)
}

// UTF8NotAnnounced refuses a UTF-8 address in a transaction that did not
// declare SMTPUTF8 on MAIL FROM (RFC 6531 §3.4).
func UTF8NotAnnounced() Reply {
	return NewReply(553, "5.6.7", "Non-ASCII address needs the SMTPUTF8 parameter on MAIL FROM")
}

// CommandNotImplemented is the 502 for a known verb the server chooses not
// to implement (EXPN, BDAT without CHUNKING).
func CommandNotImplemented(verb string) Reply {
	return NewReply(502, "5.5.1", verb+" is not implemented here")
}

// AuthBlocked refuses AUTH from an address with too many recent failures
// (RFC 4954 §6: 454 4.7.0 temporary authentication failure).
func AuthBlocked(wait time.Duration) Reply {
	return NewReply(454, "4.7.0", fmt.Sprintf("Too many failed logins from your address; try again in %s", wait.Round(time.Second)))
}

// AuthBlockedFor is AuthBlocked for an address or, when account is true,
// for an account that failed too often from anywhere: the client may try
// again after wait, and no password was checked.
func AuthBlockedFor(account bool, wait time.Duration) Reply {
	if !account {
		return AuthBlocked(wait)
	}
	return NewReply(454, "4.7.0", fmt.Sprintf("Too many failed logins for this account; try again in %s", wait.Round(time.Second)))
}

// NULInText refuses a message whose text holds a NUL octet: SMTP text may
// not carry one (RFC 5321 §4.5.2 transparency is defined on lines of
// characters; RFC 5322 §3.5 and 8BITMIME, RFC 6152 §2, exclude NUL), and a
// next hop that drops it would see "\x00." as the end of the message.
//
//	S: 554 5.6.0 Line 3 of the message holds a NUL octet, which mail may not carry; nothing was queued
func NULInText(line int) Reply {
	return NewReply(554, "5.6.0", fmt.Sprintf("Line %d of the message holds a NUL octet, which mail may not carry; nothing was queued", line))
}

// HeloInvalid refuses a HELO or EHLO argument that cannot be a domain name
// or address literal: too long (a domain has at most 255 octets, RFC 1035
// §2.3.4; the Received: field quotes it) or not valid UTF-8.
//
//	S: 501 5.5.4 The EHLO argument is 2030 octets; a host name has at most 255 (RFC 1035 §2.3.4)
func HeloInvalid(verb, why string) Reply {
	return NewReply(501, "5.5.4", fmt.Sprintf("The %s argument %s", verb, why))
}

// QueueNotReady is the 452 given at MAIL while the queue cannot take mail
// for a reason it states (RFC 5321 §4.2.3: a temporary local condition).
func QueueNotReady(why string) Reply {
	return NewReply(452, "4.3.1", "Insufficient system storage: "+why+"; try again later")
}
