package pop3

import (
	"strings"

	"github.com/mailx-edu/mailx/proto/statetable"
)

// State is where a POP3 session stands, as both ends see it (RFC 1939 §3).
type State int

const (
	// Authorization is the state after the greeting: the client must identify
	// itself (USER/PASS, APOP or AUTH) before it may touch the maildrop.
	Authorization State = iota
	// Transaction is the state after a successful login: the maildrop is
	// locked and the client may list, retrieve and mark messages.
	Transaction
	// Update is entered when the client sends QUIT in the TRANSACTION state:
	// only now does the server remove the messages marked with DELE.
	Update
	// Closed means the connection is gone: QUIT was answered outside the
	// TRANSACTION state, or the connection dropped. A connection that drops
	// in TRANSACTION never reaches UPDATE, so nothing is deleted.
	Closed
)

// String returns the state's name, used in the explorer's prompt
// (pop3:transaction>) and in traces.
func (s State) String() string { return statetable.Name(stateNames[:], s) }

var stateNames = [...]string{
	Authorization: "authorization",
	Transaction:   "transaction",
	Update:        "update",
	Closed:        "closed",
}

// Multi says when a command's positive response is multi-line, ending with a
// line holding only ".". A -ERR response is always a single line.
type Multi int

const (
	// Single means the response is one status line.
	Single Multi = iota
	// Always means a +OK response is always followed by lines up to ".".
	Always
	// WithoutArg means the response is multi-line when the command has no
	// argument (LIST, UIDL: the whole scan listing) and one line with one.
	WithoutArg
)

// Command describes one POP3 verb.
type Command struct {
	Verb    string  // upper case, e.g. "RETR"
	Syntax  string  // e.g. "RETR msg"
	Summary string  // what it does, one sentence
	In      []State // states in which it is allowed
	Multi   Multi   // whether the +OK response is multi-line
	MinArgs int     // fewest space-separated arguments
	MaxArgs int     // most arguments; -1 means the rest of the line is one argument (PASS)
	Ref     string  // where the RFC defines it
}

// States implements statetable.Row.
func (c Command) States() []State { return c.In }

var (
	authOnly  = []State{Authorization}
	transOnly = []State{Transaction}
	both      = []State{Authorization, Transaction}
)

// Commands is the POP3 command table: every verb of RFC 1939, 2449, 2595 and
// 5034, its syntax, the states in which it may be sent, and whether its
// response is multi-line.
var Commands = statetable.Table[State, Command]{
	"USER": {Verb: "USER", Syntax: "USER name", Summary: "Names the mailbox to open; the password follows with PASS.", In: authOnly, MinArgs: 1, MaxArgs: 1, Ref: "RFC 1939 §7"},
	"PASS": {Verb: "PASS", Syntax: "PASS string", Summary: "Gives the password for the name sent with USER; on +OK the maildrop is locked and opened.", In: authOnly, MinArgs: 1, MaxArgs: -1, Ref: "RFC 1939 §7"},
	"APOP": {Verb: "APOP", Syntax: "APOP name digest", Summary: "Logs in without sending the password: digest is MD5(greeting timestamp + shared secret) in lower-case hex.", In: authOnly, MinArgs: 2, MaxArgs: 2, Ref: "RFC 1939 §7"},
	"AUTH": {Verb: "AUTH", Syntax: "AUTH mechanism [initial-response]", Summary: "Logs in with a SASL mechanism such as PLAIN; the server's challenges start with \"+ \" and the client answers in base64.", In: authOnly, Multi: WithoutArg, MinArgs: 0, MaxArgs: 2, Ref: "RFC 5034 §4"},
	"STLS": {Verb: "STLS", Syntax: "STLS", Summary: "Upgrades this connection to TLS before logging in, so the password travels encrypted.", In: authOnly, Ref: "RFC 2595 §4"},
	"CAPA": {Verb: "CAPA", Syntax: "CAPA", Summary: "Asks which optional features the server supports (TOP, UIDL, SASL, STLS, ...).", In: both, Multi: Always, Ref: "RFC 2449 §5"},
	"QUIT": {Verb: "QUIT", Syntax: "QUIT", Summary: "Ends the session; in TRANSACTION the server first enters UPDATE and removes the messages marked with DELE.", In: both, Ref: "RFC 1939 §6"},
	"STAT": {Verb: "STAT", Syntax: "STAT", Summary: "Asks for the number of messages and their total size in octets (the \"drop listing\").", In: transOnly, Ref: "RFC 1939 §5"},
	"LIST": {Verb: "LIST", Syntax: "LIST [msg]", Summary: "Lists each message's number and size in octets, or just one message's.", In: transOnly, Multi: WithoutArg, MaxArgs: 1, Ref: "RFC 1939 §5"},
	"RETR": {Verb: "RETR", Syntax: "RETR msg", Summary: "Retrieves a whole message: headers, a blank line and the body, ending with \".\".", In: transOnly, Multi: Always, MinArgs: 1, MaxArgs: 1, Ref: "RFC 1939 §5"},
	"DELE": {Verb: "DELE", Syntax: "DELE msg", Summary: "Marks a message as deleted; it is removed only when QUIT moves the session to UPDATE.", In: transOnly, MinArgs: 1, MaxArgs: 1, Ref: "RFC 1939 §5"},
	"NOOP": {Verb: "NOOP", Syntax: "NOOP", Summary: "Does nothing; the server answers +OK. Keeps an idle session alive.", In: transOnly, Ref: "RFC 1939 §5"},
	"RSET": {Verb: "RSET", Syntax: "RSET", Summary: "Unmarks every message marked with DELE in this session.", In: transOnly, Ref: "RFC 1939 §5"},
	"TOP":  {Verb: "TOP", Syntax: "TOP msg n", Summary: "Retrieves a message's headers and the first n lines of its body, without marking it read.", In: transOnly, Multi: Always, MinArgs: 2, MaxArgs: 2, Ref: "RFC 1939 §7"},
	"UIDL": {Verb: "UIDL", Syntax: "UIDL [msg]", Summary: "Lists each message's unique id, which stays the same across sessions, unlike its number.", In: transOnly, Multi: WithoutArg, MaxArgs: 1, Ref: "RFC 1939 §7"},
}

// Lookup returns the command for a verb, case-insensitively.
func Lookup(verb string) (Command, bool) { return Commands.Lookup(verb) }

// Allowed reports whether verb may be sent in state s. Unknown verbs are not
// allowed anywhere.
func Allowed(verb string, s State) bool { return Commands.Allowed(verb, s) }

// Verb splits a command line into its upper-case verb and the rest, the way
// both server and explorer read it: "retr 1" gives "RETR", "1". Keywords are
// case-insensitive (RFC 1939 §3); arguments keep their case.
func Verb(line string) (verb, rest string) { return statetable.Verb(line) }

// Args splits the argument part of a command line as the server must: PASS
// takes the rest of the line as one argument (a password may contain spaces),
// every other command takes space-separated words.
func Args(verb, rest string) []string {
	if rest == "" {
		return nil
	}
	if c, ok := Lookup(verb); ok && c.MaxArgs < 0 {
		return []string{rest}
	}
	return strings.Fields(rest)
}

// IsMultiLine reports whether a +OK response to verb with argument text rest
// is followed by lines up to "." (RFC 1939 §3). The reader needs this: a
// multi-line response carries no marker of its own.
func IsMultiLine(verb, rest string) bool {
	c, ok := Lookup(verb)
	if !ok {
		return false
	}
	switch c.Multi {
	case Always:
		return true
	case WithoutArg:
		return strings.TrimSpace(rest) == ""
	}
	return false
}

// Next returns the state after verb got a response in state s; ok is true for
// +OK. It is the one transition function shared by server and explorer.
func Next(s State, verb string, ok bool) State {
	verb = strings.ToUpper(verb)
	switch s {
	case Authorization:
		switch verb {
		case "PASS", "APOP", "AUTH":
			if ok {
				return Transaction
			}
		case "QUIT":
			// QUIT before login closes without an UPDATE state: nothing was
			// opened, so nothing can be deleted (RFC 1939 §4).
			return Closed
		}
	case Transaction:
		if verb == "QUIT" {
			// RFC 1939 §6: the server enters UPDATE, removes the marked
			// messages, then closes. -ERR means some could not be removed.
			return Update
		}
	case Update:
		return Closed
	}
	return s
}

// Expected says, for the student, what to do instead when verb is sent in the
// wrong state s. It is the hint in a -ERR reply and in the explorer's warning.
func Expected(verb string, s State) string {
	verb = strings.ToUpper(verb)
	switch {
	case s == Authorization && Allowed(verb, Transaction):
		return "Log in first: USER name then PASS password (or APOP, or AUTH PLAIN), then " + verb
	case s == Transaction && Allowed(verb, Authorization):
		return "Already logged in: " + verb + " is only allowed before login (AUTHORIZATION state)"
	case s == Update || s == Closed:
		return "The session is over; connect again"
	}
	return verb + " is not allowed now"
}
