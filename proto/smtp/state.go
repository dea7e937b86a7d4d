package smtp

import (
	"strings"

	"github.com/mailx-edu/mailx/proto/statetable"
)

// State is where an SMTP session stands, as both ends see it.
type State int

const (
	Connected State = iota // banner sent; EHLO or HELO expected
	Greeted                // no open transaction
	InMail                 // MAIL accepted; RCPT expected
	InRcpt                 // at least one RCPT accepted; DATA allowed
	InData                 // 354 sent; message text until "." alone on a line
	Closed                 // QUIT answered or connection closed
)

// String returns the state's short name, used in the explorer's prompt
// (smtp:mail>) and in traces.
func (s State) String() string { return statetable.Name(stateNames[:], s) }

var stateNames = [...]string{
	Connected: "connected",
	Greeted:   "greeted",
	InMail:    "mail",
	InRcpt:    "rcpt",
	InData:    "data",
	Closed:    "closed",
}

// Command describes one SMTP verb.
type Command struct {
	Verb    string  // upper case, e.g. "MAIL"
	Syntax  string  // e.g. "MAIL FROM:<reverse-path> [SP <mail-parameters>]"
	Summary string  // what it does, one sentence
	In      []State // states in which it is allowed
	Ref     string  // where the RFC defines it
}

// States implements statetable.Row.
func (c Command) States() []State { return c.In }

var anyState = []State{Connected, Greeted, InMail, InRcpt}

// Commands is the SMTP command table: every verb mailx knows, its syntax and
// the states in which it may be sent.
var Commands = statetable.Table[State, Command]{
	"HELO":     {Verb: "HELO", Syntax: "HELO <domain>", Summary: "Introduces the client by name (old style: no extensions).", In: anyState, Ref: "RFC 5321 §4.1.1.1"},
	"EHLO":     {Verb: "EHLO", Syntax: "EHLO <domain>", Summary: "Introduces the client and asks which extensions the server supports.", In: anyState, Ref: "RFC 5321 §4.1.1.1"},
	"MAIL":     {Verb: "MAIL", Syntax: "MAIL FROM:<reverse-path> [SIZE=n] [BODY=8BITMIME] [SMTPUTF8]", Summary: "Starts a mail transaction and gives the envelope sender, where bounces go.", In: []State{Greeted}, Ref: "RFC 5321 §4.1.1.2"},
	"RCPT":     {Verb: "RCPT", Syntax: "RCPT TO:<forward-path>", Summary: "Names one envelope recipient; repeat it for each recipient.", In: []State{InMail, InRcpt}, Ref: "RFC 5321 §4.1.1.3"},
	"DATA":     {Verb: "DATA", Syntax: "DATA", Summary: "Asks to send the message itself: headers, a blank line, the body, then a line with only \".\".", In: []State{InRcpt}, Ref: "RFC 5321 §4.1.1.4"},
	"BDAT":     {Verb: "BDAT", Syntax: "BDAT <size> [LAST]", Summary: "Sends the next chunk of the message, exactly <size> octets, without dot-stuffing.", In: []State{InRcpt}, Ref: "RFC 3030 §2"},
	"RSET":     {Verb: "RSET", Syntax: "RSET", Summary: "Abandons the current mail transaction; the session stays open.", In: anyState, Ref: "RFC 5321 §4.1.1.5"},
	"VRFY":     {Verb: "VRFY", Syntax: "VRFY <user or mailbox>", Summary: "Asks whether a mailbox exists; most servers decline to say (252).", In: anyState, Ref: "RFC 5321 §4.1.1.6"},
	"EXPN":     {Verb: "EXPN", Syntax: "EXPN <mailing list>", Summary: "Asks for the members of a mailing list; almost always refused.", In: anyState, Ref: "RFC 5321 §4.1.1.7"},
	"HELP":     {Verb: "HELP", Syntax: "HELP [<command>]", Summary: "Asks the server for help text.", In: anyState, Ref: "RFC 5321 §4.1.1.8"},
	"NOOP":     {Verb: "NOOP", Syntax: "NOOP", Summary: "Does nothing; the server answers 250. Useful to check the line is alive.", In: anyState, Ref: "RFC 5321 §4.1.1.9"},
	"QUIT":     {Verb: "QUIT", Syntax: "QUIT", Summary: "Ends the session; the server answers 221 and closes the connection.", In: anyState, Ref: "RFC 5321 §4.1.1.10"},
	"STARTTLS": {Verb: "STARTTLS", Syntax: "STARTTLS", Summary: "Upgrades this connection to TLS; afterwards the session starts over with EHLO.", In: []State{Greeted}, Ref: "RFC 3207 §4"},
	"XCLIENT":  {Verb: "XCLIENT", Syntax: "XCLIENT ADDR=<address> [NAME=<host>] [HELO=<host>]", Summary: "Postfix extension: a trusted proxy (or a lab) announces the real client's address; the session starts over with EHLO.", In: []State{Connected, Greeted}, Ref: "Postfix XCLIENT_README"},
	"AUTH":     {Verb: "AUTH", Syntax: "AUTH <mechanism> [initial-response]", Summary: "Logs in with a SASL mechanism such as PLAIN or LOGIN.", In: []State{Greeted}, Ref: "RFC 4954 §4"},
}

// Lookup returns the command for a verb, case-insensitively.
func Lookup(verb string) (Command, bool) { return Commands.Lookup(verb) }

// Allowed reports whether verb may be sent in state s. Unknown verbs are not
// allowed anywhere.
func Allowed(verb string, s State) bool { return Commands.Allowed(verb, s) }

// Verb splits a command line into its upper-case verb and the rest, the way
// both server and explorer read it: "mail from:<a@b>" gives "MAIL",
// "from:<a@b>".
func Verb(line string) (verb, rest string) { return statetable.Verb(line) }

// Next returns the state after verb got a reply with the given code in state s.
// It is the one transition function shared by server, relay client and explorer.
func Next(s State, verb string, code int) State {
	verb = strings.ToUpper(verb)
	if code == 421 {
		return Closed
	}
	if s == InData {
		// The reply to the end of DATA ends the transaction whatever its code.
		return Greeted
	}
	ok := code >= 200 && code < 300
	switch verb {
	case "HELO", "EHLO":
		if ok {
			return Greeted
		}
	case "MAIL":
		if ok {
			return InMail
		}
	case "RCPT":
		if ok {
			return InRcpt
		}
	case "DATA":
		if code == 354 {
			return InData
		}
	case "BDAT":
		// A BDAT LAST success completes the transaction; callers that know the
		// LAST flag use NextBDAT.
		return s
	case "RSET":
		if ok && s != Connected {
			return Greeted
		}
	case "QUIT":
		if code == 221 {
			return Closed
		}
	case "XCLIENT":
		if code == 220 {
			// Postfix XCLIENT_README: the session starts over as if the
			// announced client had just connected; EHLO must be sent again.
			return Connected
		}
	case "STARTTLS":
		if code == 220 {
			// RFC 3207 §4.2: the session starts over; EHLO must be sent again.
			return Connected
		}
	}
	return s
}

// NextBDAT returns the state after a BDAT chunk got the given code.
func NextBDAT(s State, last bool, code int) State {
	if code >= 200 && code < 300 && last {
		return Greeted
	}
	if code >= 500 {
		// RFC 3030 §2: a failed BDAT abandons the transaction's data.
		return s
	}
	return s
}

// Expected says, for the student, which command is expected first when verb
// is sent in the wrong state s. It is the hint in a 503 reply.
func Expected(verb string, s State) string {
	verb = strings.ToUpper(verb)
	switch {
	case s == Connected:
		return "Send EHLO (or HELO) first to introduce yourself"
	case verb == "RCPT" && s == Greeted:
		return "Send MAIL FROM:<address> before RCPT TO"
	case (verb == "DATA" || verb == "BDAT") && s == Greeted:
		return "Send MAIL FROM:<address> and RCPT TO:<address> before " + verb
	case (verb == "DATA" || verb == "BDAT") && s == InMail:
		return "No recipient accepted yet: send RCPT TO:<address> before " + verb
	case verb == "MAIL" && (s == InMail || s == InRcpt):
		return "A transaction is already open: finish it with DATA, or RSET to start over"
	case (verb == "STARTTLS" || verb == "AUTH") && (s == InMail || s == InRcpt):
		return verb + " is not allowed during a mail transaction: RSET first"
	case s == InData:
		return "The message is still being sent: end it with a line holding only \".\""
	case s == Closed:
		return "The session is over; connect again"
	}
	return verb + " is not allowed now"
}
