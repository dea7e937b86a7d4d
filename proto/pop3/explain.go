package pop3

import (
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/mailx-edu/mailx/proto/note"
)

// ResponseCodes explains the RFC 2449 §8 response codes a -ERR (or +OK) line
// may carry in brackets, keyed by the upper-case code.
var ResponseCodes = map[string]note.Note{
	"IN-USE": {Summary: "[IN-USE]: another session has this maildrop open, so the server cannot lock it for you",
		Detail: "POP3 gives one session exclusive access to a maildrop (RFC 1939 §8). A mail client still running\nelsewhere, or a session that did not QUIT, holds the lock until it ends or times out.",
		Next:   "Close the other client (or wait for its session to time out) and log in again", Ref: "RFC 2449 §8.1.1", Severity: note.Warning},
	"LOGIN-DELAY": {Summary: "[LOGIN-DELAY]: you are logging in more often than this server allows",
		Detail: "The server's CAPA line LOGIN-DELAY says how many seconds must pass between logins.",
		Next:   "Wait before logging in again", Ref: "RFC 2449 §8.1.2", Severity: note.Warning},
	"SYS/TEMP": {Summary: "[SYS/TEMP]: a temporary problem on the server, not your credentials",
		Next: "Try again in a few minutes", Ref: "RFC 3206 §4", Severity: note.Warning},
	"SYS/PERM": {Summary: "[SYS/PERM]: a lasting problem on the server that retrying will not fix",
		Next: "Tell the server's administrator", Ref: "RFC 3206 §4", Severity: note.Error},
	"AUTH": {Summary: "[AUTH]: the login failed because of the credentials (or the method), not the server",
		Detail: "Either the name or password is wrong, or the server refuses this way of logging in, for\nexample a cleartext password before STLS on a non-local connection.",
		Next:   "Check the name and password; if the server offers STLS, send STLS first", Ref: "RFC 3206 §5", Severity: note.Error},
	"UTF8": {Summary: "[UTF8]: the command needs the UTF8 mode this session is not in",
		Next: "Send UTF8 first if CAPA lists it", Ref: "RFC 6856 §2", Severity: note.Warning},
}

// Capabilities explains the keywords a CAPA response lists (RFC 2449 §6).
var Capabilities = map[string]note.Note{
	"TOP":            {Summary: "TOP: the server can send just the headers and first lines of a message", Ref: "RFC 2449 §6.1"},
	"USER":           {Summary: "USER: logging in with USER and PASS (a cleartext password) is allowed", Ref: "RFC 2449 §6.2"},
	"SASL":           {Summary: "SASL: the AUTH command accepts the mechanisms listed", Ref: "RFC 2449 §6.3"},
	"RESP-CODES":     {Summary: "RESP-CODES: -ERR lines may carry a reason in brackets, such as [IN-USE]", Ref: "RFC 2449 §6.4"},
	"LOGIN-DELAY":    {Summary: "LOGIN-DELAY: the least number of seconds between two logins", Ref: "RFC 2449 §6.5"},
	"PIPELINING":     {Summary: "PIPELINING: the client may send several commands without waiting for each response", Ref: "RFC 2449 §6.6"},
	"EXPIRE":         {Summary: "EXPIRE: how many days the server keeps messages that were retrieved (NEVER, or a number)", Ref: "RFC 2449 §6.7"},
	"UIDL":           {Summary: "UIDL: messages have unique ids that stay the same across sessions", Ref: "RFC 2449 §6.8"},
	"IMPLEMENTATION": {Summary: "IMPLEMENTATION: the server software's name, for information only", Ref: "RFC 2449 §6.9"},
	"STLS":           {Summary: "STLS: the connection can be upgraded to TLS before logging in", Ref: "RFC 2595 §4"},
	"UTF8":           {Summary: "UTF8: the server can switch to UTF-8 names and messages", Ref: "RFC 6856 §2"},
	"AUTH-RESP-CODE": {Summary: "AUTH-RESP-CODE: a failed login says why with [AUTH] or [SYS/...]", Ref: "RFC 3206 §6"},
	"LANG":           {Summary: "LANG: the server can send its human-readable texts in other languages", Ref: "RFC 6856 §3"},
}

// ExplainCapability explains one line of a CAPA response, such as
// "SASL PLAIN LOGIN".
func ExplainCapability(line string) note.Note {
	kw, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
	n, ok := Capabilities[strings.ToUpper(kw)]
	if !ok {
		return note.Note{Summary: fmt.Sprintf("%s: an extension mailx has no notes for", kw)}
	}
	if rest != "" {
		n.Summary += " (" + rest + ")"
	}
	return n
}

// ExplainCommand explains a command line in state s, before it is sent: what
// it does, and a warning when the state or the arguments are wrong.
func ExplainCommand(line string, s State) []note.Note {
	verb, rest := Verb(line)
	c, ok := Lookup(verb)
	if !ok {
		return []note.Note{{Summary: fmt.Sprintf("%q is not a POP3 command", verb),
			Detail: "POP3 commands: " + strings.Join(slices.Sorted(maps.Keys(Commands)), ", ") + ".",
			Next:   "The server will answer -ERR; " + nextFor(s),
			Ref:    "RFC 1939 §3", Severity: note.Warning}}
	}
	out := []note.Note{{Summary: c.Summary, Ref: c.Ref}}
	if !Allowed(verb, s) {
		out = append(out, note.Note{Summary: fmt.Sprintf("%s is not allowed in the %s state", verb, strings.ToUpper(s.String())),
			Next: Expected(verb, s), Ref: c.Ref, Severity: note.Warning})
	} else if r, ok := CheckArgs(verb, rest); !ok {
		out = append(out, note.Note{Summary: r.Text, Ref: c.Ref, Severity: note.Warning})
	}
	switch verb {
	case "PASS":
		out = append(out, CleartextWarning)
	case "APOP":
		out = append(out, note.Note{Summary: "APOP hides the secret but not from someone who records the session and guesses it offline (MD5)",
			Detail: "Prefer AUTH over TLS. \\apop USER SECRET computes the digest for you from the greeting's timestamp.",
			Ref:    "RFC 1939 §13"})
	}
	return out
}

// ExplainResponse explains a response received in state s (the state before
// it) to the command verb with argument arg; verb is "" for the greeting.
func ExplainResponse(r Response, s State, verb, arg string) []note.Note {
	verb = strings.ToUpper(verb)
	var out []note.Note
	add := func(n note.Note) { out = append(out, n) }

	if len(r.Raw) > 0 {
		st := r.Raw[0]
		if strings.HasPrefix(st, "+ok") || strings.HasPrefix(st, "-err") || strings.HasPrefix(st, "+Ok") || strings.HasPrefix(st, "-Err") {
			add(note.Note{Summary: "The status indicator should be upper case, \"+OK\" or \"-ERR\"", Ref: "RFC 1939 §3", Severity: note.Warning})
		}
		if len(st)+2 > DefaultLimits.ResponseLine {
			add(note.Note{Summary: fmt.Sprintf("The status line is %d octets with CRLF, above the %d that RFC 2449 allows", len(st)+2, DefaultLimits.ResponseLine),
				Ref: "RFC 2449 §4", Severity: note.Warning})
		}
	}
	if r.Code != "" {
		if n, ok := ResponseCodes[r.Code]; ok {
			add(n)
		} else {
			add(note.Note{Summary: fmt.Sprintf("[%s]: a response code mailx has no notes for; the text after it says more", r.Code), Ref: "RFC 2449 §8"})
		}
	}

	if r.Status == StatusContinue {
		add(explainChallenge(r.Text))
		return out
	}
	if r.Status == StatusErr {
		out = append([]note.Note{explainErr(s, verb, arg)}, out...)
		return out
	}

	switch {
	case verb == "":
		n := note.Note{Summary: "The server is ready: AUTHORIZATION state, nothing is locked or opened yet",
			Next: "USER name, then PASS password (CAPA first shows what the server supports)", Ref: "RFC 1939 §4", Severity: note.Success}
		if ts, ok := Timestamp(r.Text); ok {
			n.Detail = fmt.Sprintf("The greeting carries the APOP timestamp %s: \\apop USER SECRET logs in without sending the secret.", ts)
		}
		add(n)
	case verb == "USER":
		add(note.Note{Summary: "Name noted; the password decides",
			Detail: "Many servers say +OK to any name here, so as not to reveal which mailboxes exist.",
			Next:   "PASS your-password", Ref: "RFC 1939 §7", Severity: note.Success})
	case verb == "PASS" || verb == "APOP" || verb == "AUTH" && arg != "":
		add(note.Note{Summary: "Logged in: TRANSACTION state; the server has locked your maildrop for this session",
			Detail: "Until you QUIT, no other session can change it. Messages are numbered 1, 2, ... for this session only.",
			Next:   "STAT for a count, LIST for sizes, RETR n to read one", Ref: "RFC 1939 §5", Severity: note.Success})
	case verb == "AUTH":
		add(note.Note{Summary: fmt.Sprintf("The server lists %d SASL mechanism(s) it accepts", len(r.Lines)),
			Next: "AUTH PLAIN (or \\auth plain USER PASS, which encodes the credentials for you)", Ref: "RFC 5034 §4", Severity: note.Success})
	case verb == "STAT":
		add(explainStat(r.Text))
	case verb == "LIST" && r.Multi:
		add(note.Note{Summary: fmt.Sprintf("Scan listing: %d message(s), one line each: number, then size in octets", len(r.Lines)),
			Detail: "Messages marked with DELE are left out. Numbers are valid for this session only; UIDL gives lasting ids.",
			Next:   "RETR n to read message n", Ref: "RFC 1939 §5", Severity: note.Success})
	case verb == "LIST":
		add(note.Note{Summary: "Scan listing for one message: its number, then its size in octets", Ref: "RFC 1939 §5", Severity: note.Success})
	case verb == "UIDL" && r.Multi:
		add(note.Note{Summary: fmt.Sprintf("Unique-id listing: %d message(s): number, then an id that never changes", len(r.Lines)),
			Detail: "Clients that \"leave mail on the server\" remember these ids to know which messages they already have.",
			Ref:    "RFC 1939 §7", Severity: note.Success})
	case verb == "UIDL":
		add(note.Note{Summary: "Unique id of one message; it stays the same in every session", Ref: "RFC 1939 §7", Severity: note.Success})
	case verb == "RETR" || verb == "TOP":
		add(explainMessage(r, verb, arg))
	case verb == "DELE":
		add(note.Note{Summary: fmt.Sprintf("Message %s is only marked as deleted; nothing is removed yet", arg),
			Detail: "It is removed when you QUIT (the UPDATE state). RSET unmarks every message; if the connection\ndrops before QUIT, nothing is deleted at all.",
			Next:   "QUIT to make the deletions happen, or RSET to undo them", Ref: "RFC 1939 §5", Severity: note.Success})
	case verb == "RSET":
		add(note.Note{Summary: "Every deletion mark of this session is undone", Ref: "RFC 1939 §5", Severity: note.Success})
	case verb == "NOOP":
		add(note.Note{Summary: "The server is still there; the session stays as it was", Ref: "RFC 1939 §5", Severity: note.Success})
	case verb == "QUIT" && s == Transaction:
		add(note.Note{Summary: "UPDATE state: the server has now removed the messages marked with DELE and released the lock",
			Detail: "This is the only moment POP3 deletes mail. The connection closes.", Ref: "RFC 1939 §6", Severity: note.Success})
	case verb == "QUIT":
		add(note.Note{Summary: "Session over before login: nothing was opened, so nothing changed", Ref: "RFC 1939 §4", Severity: note.Success})
	case verb == "CAPA":
		// Each capability line is explained by ExplainCapability, shown
		// under the line itself.
		add(note.Note{Summary: fmt.Sprintf("The server lists %d capabilities, one per line", len(r.Lines)), Ref: "RFC 2449 §5", Severity: note.Success})
	case verb == "STLS":
		add(note.Note{Summary: "The TLS handshake starts now; afterwards the session is in AUTHORIZATION again",
			Detail: "Anything learned before (CAPA) must be asked again: an attacker could have changed it (RFC 2595 §4).",
			Next:   "CAPA, then log in: the password is now encrypted", Ref: "RFC 2595 §4", Severity: note.Success})
	default:
		add(note.Note{Summary: "+OK: the command succeeded", Ref: "RFC 1939 §3", Severity: note.Success})
	}
	if r.Unstuffed > 0 {
		add(note.Note{Summary: fmt.Sprintf("%s began with \".\": the server sent one extra \".\" before each (byte-stuffing)", note.Count(r.Unstuffed, "line")),
			Detail: "Without it, a line holding only \".\" would end the response early. The decoded view removes it again.",
			Ref:    "RFC 1939 §3"})
	}
	return out
}

func explainErr(s State, verb, arg string) note.Note {
	n := note.Note{Summary: "-ERR: the command failed; the session goes on", Ref: "RFC 1939 §3", Severity: note.Error}
	switch {
	case verb == "":
		n.Summary = "The server refuses this connection"
		n.Next = "Try again later, or check the host and port"
	case !Allowed(verb, s) && verb != "":
		if _, known := Lookup(verb); !known {
			n.Summary = fmt.Sprintf("-ERR: %q is not a command this server knows", verb)
			n.Next = "CAPA lists the optional commands this server supports"
		} else {
			n.Summary = fmt.Sprintf("-ERR: %s is not allowed in the %s state", verb, strings.ToUpper(s.String()))
			n.Next = Expected(verb, s)
		}
	case verb == "USER":
		n.Summary = "-ERR: the server will not accept this name (or USER/PASS logins at all)"
		n.Next = "Check the name; if CAPA lists STLS, send STLS first"
	case verb == "PASS" || verb == "APOP" || verb == "AUTH":
		n.Summary = "-ERR: login failed; you are still in the AUTHORIZATION state"
		n.Detail = "Servers often wait a few seconds before answering a failed login, to slow down password guessing."
		n.Next = "Start again with USER name and PASS password"
		if verb == "PASS" {
			n.Ref = "RFC 1939 §7"
		}
	case verb == "RETR" || verb == "TOP" || verb == "DELE" || verb == "LIST" || verb == "UIDL":
		n.Summary = fmt.Sprintf("-ERR: no message %s here, or it is marked as deleted", arg)
		n.Next = "LIST shows the message numbers that exist; RSET unmarks deleted ones"
	case verb == "QUIT":
		n.Summary = "-ERR: the server could not remove some of the marked messages"
		n.Ref = "RFC 1939 §6"
	case verb == "STLS":
		n.Summary = "-ERR: the server cannot start TLS now"
		n.Next = "Continue without it only on this machine; otherwise use --tls (port 995)"
	}
	return n
}

func explainStat(text string) note.Note {
	f := strings.Fields(text)
	n := note.Note{Summary: "Drop listing: number of messages, then their total size in octets", Ref: "RFC 1939 §5", Severity: note.Success}
	if len(f) >= 2 {
		count, err1 := strconv.Atoi(f[0])
		size, err2 := strconv.Atoi(f[1])
		if err1 == nil && err2 == nil {
			n.Summary = fmt.Sprintf("Drop listing: %d message(s), %d octets in all (messages marked deleted do not count)", count, size)
			if count > 0 {
				n.Next = "LIST for each size, RETR 1 to read the first"
			}
		}
	}
	return n
}

func explainMessage(r Response, verb, arg string) note.Note {
	headers, body := 0, 0
	inHeader := true
	for _, l := range r.Lines {
		switch {
		case inHeader && l == "":
			inHeader = false
		case inHeader:
			headers++
		default:
			body++
		}
	}
	octets := len(JoinBody(r.Lines))
	n := note.Note{Summary: fmt.Sprintf("Message %s: %d octets, %s, a blank line, %s", arg, octets, note.Count(headers, "header line"), note.Count(body, "body line")),
		Detail: "POP3 sends the message exactly as stored; the line with only \".\" is the end marker, not part of it.",
		Ref:    "RFC 1939 §5", Severity: note.Success}
	if verb == "TOP" {
		msg, _, _ := strings.Cut(arg, " ")
		n.Summary = fmt.Sprintf("Headers of message %s and %s of its body", msg, note.Count(body, "line"))
		n.Ref = "RFC 1939 §7"
		n.Detail = "TOP does not mark the message as read or deleted."
	} else {
		n.Next = "DELE " + arg + " to mark it for deletion, or \\view " + arg + " to see its MIME structure"
	}
	return n
}

func explainChallenge(b64 string) note.Note {
	n := note.Note{Summary: "SASL challenge: the server waits for one line of base64 (or \"*\" to cancel)",
		Ref: "RFC 5034 §4", Severity: note.Info}
	if b64 == "" {
		n.Detail = "An empty challenge: for PLAIN, send base64(\"\\0user\\0password\")."
		n.Next = "\\auth plain USER PASS does it for you"
		return n
	}
	if dec, err := base64.StdEncoding.DecodeString(b64); err == nil {
		n.Detail = fmt.Sprintf("Decoded, the challenge reads %q.", dec)
	}
	return n
}

func nextFor(s State) string {
	switch s {
	case Authorization:
		return "log in with USER name and PASS password"
	case Transaction:
		return "try STAT, LIST, RETR n, DELE n or QUIT"
	}
	return "connect again"
}

// CleartextWarning is the note on PASS. A client that knows the connection
// is encrypted (the explorer after STLS or with --tls) leaves it out.
var CleartextWarning = note.Note{Summary: "The password crosses the network as typed; use it only on TLS (--tls, STLS) or on this machine",
	Ref: "RFC 1939 §13", Severity: note.Warning}
