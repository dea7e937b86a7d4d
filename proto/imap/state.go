package imap

import (
	"strings"

	"github.com/mailx-edu/mailx/proto/statetable"
)

// State is where an IMAP session stands (RFC 3501 §3).
type State int

const (
	// NotAuthenticated is the state after an OK greeting: the client must log
	// in (LOGIN or AUTHENTICATE), after STARTTLS if the server asks for it.
	NotAuthenticated State = iota
	// Authenticated means logged in with no mailbox selected: the client may
	// list, create and select mailboxes.
	Authenticated
	// Selected means a mailbox is open: messages can be searched, fetched,
	// flagged, copied and expunged.
	Selected
	// Logout means the server has said BYE: the connection is closing.
	Logout
)

// String returns the state's short name, used in the explorer's prompt
// (imap:selected>) and in traces.
func (s State) String() string { return statetable.Name(stateNames[:], s) }

var stateNames = [...]string{
	NotAuthenticated: "not-authenticated",
	Authenticated:    "authenticated",
	Selected:         "selected",
	Logout:           "logout",
}

// Command describes one IMAP command.
type Command struct {
	Name    string  // upper case, e.g. "FETCH"
	Syntax  string  // without the tag, e.g. "FETCH sequence-set items"
	Summary string  // what it does, one sentence
	In      []State // states in which it is allowed
	Ref     string  // where the RFC defines it
	// VsPOP3 says what this command shows about IMAP compared with POP3,
	// when there is something worth saying; empty otherwise.
	VsPOP3 string
}

// States implements statetable.Row.
func (c Command) States() []State { return c.In }

var (
	anyState    = []State{NotAuthenticated, Authenticated, Selected}
	notAuth     = []State{NotAuthenticated}
	authOrSel   = []State{Authenticated, Selected}
	selectedOne = []State{Selected}
)

// Commands is the IMAP command table: every IMAP4rev1 command plus IDLE,
// MOVE, NAMESPACE, ENABLE and UNSELECT. UID is the prefix of the UID
// variants; see UIDCommands.
var Commands = statetable.Table[State, Command]{
	"CAPABILITY":   {Name: "CAPABILITY", Syntax: "CAPABILITY", Summary: "Asks which IMAP version and extensions the server supports.", In: anyState, Ref: "RFC 3501 §6.1.1"},
	"NOOP":         {Name: "NOOP", Syntax: "NOOP", Summary: "Does nothing, but gives the server a chance to report changes (new mail, flags) as untagged responses.", In: anyState, Ref: "RFC 3501 §6.1.2"},
	"LOGOUT":       {Name: "LOGOUT", Syntax: "LOGOUT", Summary: "Ends the session; the server sends * BYE, then the tagged OK, and closes.", In: anyState, Ref: "RFC 3501 §6.1.3"},
	"STARTTLS":     {Name: "STARTTLS", Syntax: "STARTTLS", Summary: "Upgrades this connection to TLS before logging in.", In: notAuth, Ref: "RFC 3501 §6.2.1"},
	"AUTHENTICATE": {Name: "AUTHENTICATE", Syntax: "AUTHENTICATE mechanism [initial-response]", Summary: "Logs in with a SASL mechanism such as PLAIN; challenges arrive as \"+ base64\" lines.", In: notAuth, Ref: "RFC 3501 §6.2.2"},
	"LOGIN":        {Name: "LOGIN", Syntax: "LOGIN user password", Summary: "Logs in with a name and a cleartext password (quote them if they contain spaces).", In: notAuth, Ref: "RFC 3501 §6.2.3"},
	"SELECT": {Name: "SELECT", Syntax: "SELECT mailbox", Summary: "Opens a mailbox read-write; the server reports how many messages it has, their flags and UIDVALIDITY.", In: authOrSel, Ref: "RFC 3501 §6.3.1",
		VsPOP3: "POP3 has one maildrop; IMAP has folders (mailboxes) on the server, and you choose one to work in."},
	"EXAMINE":     {Name: "EXAMINE", Syntax: "EXAMINE mailbox", Summary: "Opens a mailbox read-only: nothing you do changes its flags.", In: authOrSel, Ref: "RFC 3501 §6.3.2"},
	"CREATE":      {Name: "CREATE", Syntax: "CREATE mailbox", Summary: "Creates a mailbox (folder) on the server.", In: authOrSel, Ref: "RFC 3501 §6.3.3", VsPOP3: "Folders live on the server and every client sees them; POP3 has no folders at all."},
	"DELETE":      {Name: "DELETE", Syntax: "DELETE mailbox", Summary: "Deletes a mailbox and every message in it.", In: authOrSel, Ref: "RFC 3501 §6.3.4"},
	"RENAME":      {Name: "RENAME", Syntax: "RENAME old-name new-name", Summary: "Renames a mailbox (renaming INBOX moves its messages into a new mailbox).", In: authOrSel, Ref: "RFC 3501 §6.3.5"},
	"SUBSCRIBE":   {Name: "SUBSCRIBE", Syntax: "SUBSCRIBE mailbox", Summary: "Adds a mailbox to the list LSUB shows, the folders a client displays.", In: authOrSel, Ref: "RFC 3501 §6.3.6"},
	"UNSUBSCRIBE": {Name: "UNSUBSCRIBE", Syntax: "UNSUBSCRIBE mailbox", Summary: "Removes a mailbox from the subscription list; the mailbox itself stays.", In: authOrSel, Ref: "RFC 3501 §6.3.7"},
	"LIST":        {Name: "LIST", Syntax: "LIST reference pattern", Summary: "Lists mailboxes matching a pattern: * matches across hierarchy levels, % within one. LIST \"\" * lists them all.", In: authOrSel, Ref: "RFC 3501 §6.3.8"},
	"LSUB":        {Name: "LSUB", Syntax: "LSUB reference pattern", Summary: "Lists the subscribed mailboxes matching a pattern.", In: authOrSel, Ref: "RFC 3501 §6.3.9"},
	"STATUS":      {Name: "STATUS", Syntax: "STATUS mailbox (MESSAGES UNSEEN UIDNEXT UIDVALIDITY RECENT)", Summary: "Asks for counters of a mailbox without selecting it.", In: authOrSel, Ref: "RFC 3501 §6.3.10"},
	"APPEND":      {Name: "APPEND", Syntax: "APPEND mailbox [(flags)] [date-time] {size}", Summary: "Uploads a whole message into a mailbox; the message goes as a literal of exactly size octets.", In: authOrSel, Ref: "RFC 3501 §6.3.11", VsPOP3: "POP3 can only download; IMAP can store messages too (this is how Sent and Drafts folders work)."},
	"CHECK":       {Name: "CHECK", Syntax: "CHECK", Summary: "Asks the server to save the mailbox's state to disk (a checkpoint); mostly a NOOP today.", In: selectedOne, Ref: "RFC 3501 §6.4.1"},
	"CLOSE":       {Name: "CLOSE", Syntax: "CLOSE", Summary: "Closes the mailbox, silently expunging messages flagged \\Deleted (if opened with SELECT).", In: selectedOne, Ref: "RFC 3501 §6.4.2"},
	"UNSELECT":    {Name: "UNSELECT", Syntax: "UNSELECT", Summary: "Closes the mailbox without expunging anything.", In: selectedOne, Ref: "RFC 3691 §2"},
	"EXPUNGE": {Name: "EXPUNGE", Syntax: "EXPUNGE", Summary: "Removes every message flagged \\Deleted; the server reports each as * n EXPUNGE.", In: selectedOne, Ref: "RFC 3501 §6.4.3",
		VsPOP3: "Like POP3's DELE-then-QUIT in two steps: STORE +FLAGS (\\Deleted) marks, EXPUNGE removes, and the session goes on."},
	"SEARCH": {Name: "SEARCH", Syntax: "SEARCH criteria (e.g. UNSEEN, FROM \"alice\", SINCE 1-Jan-2026)", Summary: "Finds messages on the server; the answer is * SEARCH with message numbers.", In: selectedOne, Ref: "RFC 3501 §6.4.4",
		VsPOP3: "The server searches; a POP3 client must download everything to search it."},
	"FETCH": {Name: "FETCH", Syntax: "FETCH sequence-set (items), e.g. FETCH 1:* (FLAGS ENVELOPE) or FETCH 1 BODY[]", Summary: "Retrieves data about messages: flags, envelope, size, structure, or any part of the message.", In: selectedOne, Ref: "RFC 3501 §6.4.5",
		VsPOP3: "POP3 RETR sends the whole message; IMAP can fetch just the headers, the structure, or one attachment."},
	"STORE": {Name: "STORE", Syntax: "STORE sequence-set +FLAGS|-FLAGS|FLAGS (flags)", Summary: "Changes message flags such as \\Seen, \\Flagged, \\Deleted; .SILENT suppresses the FETCH echo.", In: selectedOne, Ref: "RFC 3501 §6.4.6",
		VsPOP3: "Flags are kept on the server, so every client sees what is read or answered; POP3 keeps no such state."},
	"COPY":      {Name: "COPY", Syntax: "COPY sequence-set mailbox", Summary: "Copies messages into another mailbox; TRYCREATE in a NO means that mailbox does not exist yet.", In: selectedOne, Ref: "RFC 3501 §6.4.7"},
	"MOVE":      {Name: "MOVE", Syntax: "MOVE sequence-set mailbox", Summary: "Moves messages to another mailbox in one step (copy, flag \\Deleted, expunge).", In: selectedOne, Ref: "RFC 6851 §3.1"},
	"UID":       {Name: "UID", Syntax: "UID FETCH|SEARCH|STORE|COPY|MOVE|EXPUNGE ...", Summary: "Runs the command with UIDs instead of message numbers: UIDs never change, numbers shift after EXPUNGE.", In: selectedOne, Ref: "RFC 3501 §6.4.8"},
	"IDLE":      {Name: "IDLE", Syntax: "IDLE (then DONE to end)", Summary: "Waits for the server to push changes (new mail, expunges, flags) as they happen, until the client sends DONE.", In: authOrSel, Ref: "RFC 2177 §3", VsPOP3: "POP3 clients must poll; IMAP IDLE lets the server announce new mail at once."},
	"NAMESPACE": {Name: "NAMESPACE", Syntax: "NAMESPACE", Summary: "Asks for the mailbox name prefixes and the hierarchy separator (personal, other users', shared).", In: authOrSel, Ref: "RFC 2342 §5"},
	"ENABLE":    {Name: "ENABLE", Syntax: "ENABLE capability...", Summary: "Turns on extensions that change how the server answers, such as CONDSTORE or UTF8=ACCEPT.", In: []State{Authenticated}, Ref: "RFC 5161 §3.1"},
}

// UIDCommands are the commands that may follow UID, each with its reference.
var UIDCommands = map[string]string{
	"FETCH":   "RFC 3501 §6.4.8",
	"SEARCH":  "RFC 3501 §6.4.8",
	"STORE":   "RFC 3501 §6.4.8",
	"COPY":    "RFC 3501 §6.4.8",
	"MOVE":    "RFC 6851 §3.2",
	"EXPUNGE": "RFC 4315 §2.1",
}

// Lookup returns the command for a name, case-insensitively.
func Lookup(name string) (Command, bool) { return Commands.Lookup(name) }

// Allowed reports whether the command may be sent in state s.
func Allowed(name string, s State) bool { return Commands.Allowed(name, s) }

// ParsedCommand is a command line split into its parts.
type ParsedCommand struct {
	Tag  string // "" when the line carried no tag
	Name string // upper case, e.g. "FETCH"; for UID commands "UID"
	Sub  string // for UID commands, the command after UID ("FETCH")
	Args string // everything after the name (and Sub)
	// Literal is the size of a literal announced at the end of the line,
	// {n} or {n+}; -1 when there is none.
	Literal int64
	// NonSync is true for {n+}, a literal the client sends without waiting
	// for "+" (LITERAL+, RFC 7888).
	NonSync bool
}

// FullName returns "UID FETCH" for UID commands and the name otherwise.
func (p ParsedCommand) FullName() string {
	if p.Sub != "" {
		return p.Name + " " + p.Sub
	}
	return p.Name
}

// ParseCommand splits a command line as a student types it, with or without
// a tag: "LOGIN bob secret" has no tag; "a1 login bob secret" has tag "a1".
// A first word that is a known command is taken as the command; otherwise
// it is a tag when the second word is a known command or when it contains a
// digit (tags such as "x7" in front of an extension command).
func ParseCommand(line string) ParsedCommand {
	p := ParsedCommand{Literal: -1}
	line = strings.TrimLeft(line, " ")
	first, rest, _ := strings.Cut(line, " ")
	second, _, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
	_, firstKnown := Lookup(first)
	_, secondKnown := Lookup(second)
	if first != "" && !firstKnown && (secondKnown || strings.ContainsAny(first, "0123456789")) && validTag(first) && second != "" {
		p.Tag = first
		line = strings.TrimLeft(rest, " ")
	}
	name, args, _ := strings.Cut(line, " ")
	p.Name = strings.ToUpper(name)
	p.Args = strings.TrimSpace(args)
	if p.Name == "UID" {
		sub, a, _ := strings.Cut(p.Args, " ")
		p.Sub = strings.ToUpper(sub)
		p.Args = strings.TrimSpace(a)
	}
	p.Literal, p.NonSync = TrailingLiteral(line)
	return p
}

// validTag reports whether s may be a tag: ASTRING characters except "+"
// (RFC 3501 §9, tag = 1*<any ASTRING-CHAR except "+">).
func validTag(s string) bool {
	if s == "" || s == "*" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\+`, c) >= 0 {
			return false
		}
	}
	return true
}

// TrailingLiteral reports the literal announced at the end of a line, {n}
// or {n+}; n is -1 when there is none. Servers announce literals the same
// way, so the reader uses it too.
func TrailingLiteral(line string) (n int64, nonSync bool) {
	if !strings.HasSuffix(line, "}") {
		return -1, false
	}
	open := strings.LastIndexByte(line, '{')
	if open < 0 {
		return -1, false
	}
	num := line[open+1 : len(line)-1]
	if strings.HasSuffix(num, "+") || strings.HasSuffix(num, "-") {
		num, nonSync = num[:len(num)-1], true
	}
	if num == "" || len(num) > 10 {
		return -1, false
	}
	var v int64
	for i := 0; i < len(num); i++ {
		if num[i] < '0' || num[i] > '9' {
			return -1, false
		}
		v = v*10 + int64(num[i]-'0')
	}
	return v, nonSync
}

// Next returns the state after a tagged completion with the given status
// ("OK", "NO", "BAD") to command name (for UID commands, "UID") in state s.
func Next(s State, name, status string) State {
	name, status = strings.ToUpper(name), strings.ToUpper(status)
	ok := status == "OK"
	switch name {
	case "LOGIN", "AUTHENTICATE":
		if ok && s == NotAuthenticated {
			return Authenticated
		}
	case "SELECT", "EXAMINE":
		if ok {
			return Selected
		}
		if status == "NO" && s == Selected {
			// RFC 3501 §6.3.1: a failed SELECT leaves no mailbox selected.
			return Authenticated
		}
	case "CLOSE", "UNSELECT":
		if ok {
			return Authenticated
		}
	case "LOGOUT":
		if ok {
			return Logout
		}
	}
	return s
}

// Expected says, for the student, what to do instead when a command is sent
// in the wrong state s.
func Expected(name string, s State) string {
	name = strings.ToUpper(name)
	switch {
	case s == NotAuthenticated && Allowed(name, Authenticated):
		return "Log in first: LOGIN user password (or AUTHENTICATE PLAIN), then " + name
	case s == NotAuthenticated && Allowed(name, Selected):
		return "Log in, then SELECT INBOX, then " + name
	case s == Authenticated && Allowed(name, Selected):
		return "Open a mailbox first: SELECT INBOX (or EXAMINE INBOX for read-only), then " + name
	case s != NotAuthenticated && Allowed(name, NotAuthenticated):
		return "Already logged in: " + name + " is only allowed before login"
	case s == Selected && name == "ENABLE":
		return "ENABLE must come right after login, before SELECT"
	case s == Logout:
		return "The session is over; connect again"
	}
	return name + " is not allowed now"
}
