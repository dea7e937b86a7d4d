package smtp

import (
	"fmt"

	"github.com/mailx-edu/mailx/proto/note"
)

// codeInfo is one entry of the reply-code catalogue.
type codeInfo struct {
	Summary string // what the code means, one line
	Detail  string // background
	Next    string // what the client usually does next
	Ref     string
}

// codes is the reply-code catalogue: every code of RFC 5321 §4.2.2-4.2.3, plus
// those that AUTH (RFC 4954), STARTTLS (RFC 3207) and later RFCs added.
// Explanations refer to entries by code and never copy the wording.
var codes = map[int]codeInfo{
	211: {"system status, or system help reply", "A reply to HELP or a status request; rarely seen.", "", "RFC 5321 §4.2.3"},
	214: {"help message", "Human-readable help, usually in answer to HELP. Its text is meant for people, not programs.", "", "RFC 5321 §4.2.3"},
	220: {"service ready: the server greets you", "The first line of every SMTP session. After STARTTLS, 220 means \"go ahead with the TLS handshake\".", "introduce yourself with EHLO your.domain (or HELO)", "RFC 5321 §4.2.3"},
	221: {"service closing the connection", "The server answered QUIT and closes the connection; a message accepted earlier with 250 is still delivered.", "", "RFC 5321 §4.2.3"},
	235: {"authentication succeeded", "You are logged in. Servers usually allow relaying to other domains only after this.", "start a transaction with MAIL FROM:<address>", "RFC 4954 §6"},
	250: {"requested action okay, completed", "The command worked. After the final \".\" of DATA it means the server has taken responsibility for the message.", "", "RFC 5321 §4.2.3"},
	251: {"user not local; will forward", "The server accepts the recipient and will pass the message on to another address.", "", "RFC 5321 §4.2.3"},
	252: {"cannot verify the user, but will accept the message and attempt delivery", "The usual answer to VRFY: servers do not tell strangers which mailboxes exist, because spammers would harvest them.", "", "RFC 5321 §4.2.3, §7.3"},
	334: {"server challenge: send the next piece of the authentication", "The text after 334 is base64 (decode it with \\unb64). Answer with one line of base64, or \"*\" to cancel.", "send the base64 answer on a line by itself", "RFC 4954 §4"},
	354: {"start mail input; end with <CRLF>.<CRLF>", "Now send the message itself: header lines, one blank line, the body. A line holding only \".\" ends it.", "type the headers (From:, To:, Subject:), a blank line, the body, then \".\"", "RFC 5321 §4.1.1.4"},
	421: {"service not available, closing the connection", "A temporary condition: the server is shutting down, overloaded, or does not like the rate of connections. A sending MTA keeps the message and retries later.", "connect again later", "RFC 5321 §4.2.3"},
	432: {"a password transition is needed", "The account must log in once with a plain mechanism to upgrade its stored password.", "", "RFC 4954 §6"},
	450: {"mailbox unavailable (temporary): action not taken", "The mailbox is busy or temporarily blocked, or greylisting asks the sender to come back later. A real MTA retries.", "try again later; a real MTA queues the message and retries", "RFC 5321 §4.2.3"},
	451: {"local error in processing: action aborted (temporary)", "Something went wrong on the server's side; nothing is lost, try again later.", "try again later", "RFC 5321 §4.2.3"},
	452: {"insufficient system storage, or too many recipients (temporary)", "After RCPT it often means \"too many recipients in this transaction\": send the rest in another transaction.", "finish this transaction and send the remaining recipients later", "RFC 5321 §4.2.3, §4.5.3.1.10"},
	454: {"temporary authentication failure, or TLS not available", "The server could not check the credentials (or start TLS) right now.", "try again later", "RFC 4954 §6, RFC 3207 §4"},
	455: {"server unable to accommodate the parameters", "The server understood MAIL or RCPT parameters (such as SIZE) but cannot honour them now.", "try again later or without the parameter", "RFC 5321 §4.2.3"},
	500: {"syntax error, command unrecognised", "The server does not know this command, or the line was too long.", "check the spelling; \\help lists the commands", "RFC 5321 §4.2.3"},
	501: {"syntax error in parameters or arguments", "The command is known but its argument is malformed: a missing \":\" or angle brackets, a bad address.", "check the syntax with \\explain COMMAND", "RFC 5321 §4.2.3"},
	502: {"command not implemented", "A valid SMTP command this server chose not to support (often VRFY, EXPN, or TURN).", "", "RFC 5321 §4.2.3"},
	503: {"bad sequence of commands", "The command is valid but not now: SMTP has an order (EHLO, MAIL, RCPT, DATA).", "", "RFC 5321 §4.2.3"},
	504: {"command parameter not implemented", "For example an AUTH mechanism the server does not offer.", "", "RFC 5321 §4.2.3"},
	521: {"this host does not accept mail", "A host that never accepts mail says so in its greeting (RFC 7504), so senders stop trying at once.", "", "RFC 7504"},
	523: {"message too big for this recipient (encryption needed)", "", "", "RFC 5248"},
	530: {"authentication required", "This server accepts mail only from logged-in users (a submission server, port 587), or requires STARTTLS first.", "STARTTLS first, then AUTH (\\auth plain USER PASS)", "RFC 4954 §6"},
	534: {"authentication mechanism is too weak", "The server wants a stronger SASL mechanism than the one you chose.", "", "RFC 4954 §6"},
	535: {"authentication credentials invalid", "The user name or password is wrong (or the base64 was malformed).", "check the user and password; \\auth computes the base64 for you", "RFC 4954 §6"},
	538: {"encryption required for this authentication mechanism", "Plain-text passwords are only accepted over TLS.", "send STARTTLS first (\\tls)", "RFC 4954 §6"},
	550: {"mailbox unavailable: action not taken (permanent)", "The mailbox does not exist, or policy refuses it (relaying denied, sender blocked). A real MTA gives up and sends a bounce.", "check the address; do not retry unchanged", "RFC 5321 §4.2.3"},
	551: {"user not local", "The server will not forward; the text may say where the user is now.", "", "RFC 5321 §4.2.3"},
	552: {"exceeded storage allocation: action aborted (message too big or mailbox full)", "The message is larger than the server accepts (see SIZE in the EHLO reply), or the mailbox is full.", "send a smaller message", "RFC 5321 §4.2.3"},
	553: {"mailbox name not allowed", "The address is syntactically wrong or refused by policy.", "check the address's syntax: <user@domain>", "RFC 5321 §4.2.3"},
	554: {"transaction failed (permanent)", "After DATA: the message was refused (spam, virus, policy). As a greeting: this server will not talk to you.", "", "RFC 5321 §4.2.3"},
	555: {"MAIL FROM/RCPT TO parameters not recognised or not implemented", "The server does not support an ESMTP parameter you gave (such as SMTPUTF8 or SIZE=).", "drop the parameter or check the EHLO reply for the extension", "RFC 5321 §4.2.3"},
	556: {"domain does not accept mail", "The recipient's domain publishes a \"null MX\": it never receives mail.", "", "RFC 7504"},
}

// classInfo explains a code's first digit, for codes not in the catalogue.
var classInfo = map[int]string{
	2: "positive completion: the command worked",
	3: "positive intermediate: go on, the server waits for more",
	4: "transient negative: failed this time; trying again later may work",
	5: "permanent negative: failed; do not repeat the command unchanged",
}

// secondDigit explains a code's second digit (RFC 5321 §4.2.1).
var secondDigit = map[int]string{
	0: "syntax",
	1: "information",
	2: "connections",
	3: "unspecified",
	4: "unspecified",
	5: "mail system",
}

// ExplainCode explains a three-digit reply code without context. Codes not in
// the catalogue are explained from their digits (RFC 5321 §4.2.1); ok is
// false only when code is not a reply code at all.
func ExplainCode(code int) (n note.Note, ok bool) {
	if code < 200 || code > 599 {
		return note.Note{}, false
	}
	if c, found := codes[code]; found {
		return note.Note{
			Summary:  fmt.Sprintf("%d = %s", code, c.Summary),
			Detail:   c.Detail,
			Next:     c.Next,
			Ref:      c.Ref,
			Severity: severityOf(code),
		}, true
	}
	return note.Note{
		Summary: fmt.Sprintf("%d is not a standard code: %s (%dxx), about %s (x%dx)",
			code, classInfo[code/100], code/100, secondDigit[code/10%10], code/10%10),
		Detail:   "RFC 5321 §4.2.1: clients must act on the first digit even for codes they do not know.",
		Ref:      "RFC 5321 §4.2.1",
		Severity: severityOf(code),
	}, true
}

// severityOf maps a reply class onto how the note should be read. Failures
// stay Info: the reply line's colour already says "failed", and Warning is
// kept for the student's own likely mistakes (which --quiet still shows).
func severityOf(code int) note.Severity {
	if code/100 == 2 {
		return note.Success
	}
	return note.Info
}
