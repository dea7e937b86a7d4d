package imap

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/mailx-edu/mailx/proto/note"
)

// ExplainCommand explains a command line in state s, before it is sent: what
// it does, how it compares with POP3 where that teaches something, and a
// warning when the state or the form is wrong.
func ExplainCommand(p ParsedCommand, s State) []note.Note {
	if p.Name == "DONE" {
		return []note.Note{{Summary: "DONE ends IDLE; the server then sends the tagged OK of the IDLE command", Ref: "RFC 2177 §3"}}
	}
	c, ok := Lookup(p.Name)
	if !ok {
		return []note.Note{{Summary: fmt.Sprintf("%q is not an IMAP command mailx knows", p.Name),
			Detail: "A tagged line is TAG COMMAND ARGS; mailx adds the tag when you leave it out.",
			Next:   "The server will probably answer BAD; " + nextFor(s),
			Ref:    "RFC 3501 §6", Severity: note.Warning}}
	}
	out := []note.Note{{Summary: c.Summary, Ref: c.Ref}}
	if p.Name == "UID" {
		ref, known := UIDCommands[p.Sub]
		if !known {
			out = append(out, note.Note{Summary: fmt.Sprintf("UID must be followed by FETCH, SEARCH, STORE, COPY, MOVE or EXPUNGE, not %q", p.Sub),
				Ref: c.Ref, Severity: note.Warning})
		} else if sub, ok := Lookup(p.Sub); ok {
			out = append(out, note.Note{Summary: "UID " + p.Sub + ": " + sub.Summary + " Message numbers in the command and answers are UIDs.", Ref: ref})
		}
	}
	if c.VsPOP3 != "" {
		out = append(out, note.Note{Summary: "POP3 vs IMAP: " + c.VsPOP3})
	}
	if !Allowed(p.Name, s) {
		out = append(out, note.Note{Summary: fmt.Sprintf("%s is not allowed in the %s state", p.Name, s),
			Next: Expected(p.Name, s), Ref: c.Ref, Severity: note.Warning})
	}
	args := strings.ToUpper(p.Args)
	name := p.Name
	if p.Sub != "" {
		name = p.Sub
	}
	switch name {
	case "LOGIN":
		out = append(out, CleartextWarning)
		if len(Fields(p.Args)) < 2 && p.Literal < 0 {
			out = append(out, note.Note{Summary: "LOGIN needs a user name and a password", Severity: note.Warning})
		}
	case "FETCH":
		if (strings.Contains(args, "BODY[") || strings.Contains(args, "RFC822")) && !strings.Contains(args, "RFC822.SIZE") && !strings.Contains(args, "RFC822.HEADER") && !strings.Contains(args, "BODY.PEEK[") {
			out = append(out, note.Note{Summary: "Fetching BODY[...] or RFC822 sets \\Seen on the message (in a read-write mailbox); BODY.PEEK[...] does not",
				Ref: "RFC 3501 §6.4.5"})
		}
	case "STORE":
		if strings.Contains(args, `\DELETED`) && strings.Contains(args, "+FLAGS") {
			out = append(out, note.Note{Summary: "\\Deleted only marks the message; EXPUNGE (or CLOSE) removes it", Ref: "RFC 3501 §6.4.6"})
		}
	case "IDLE":
		out = append(out, note.Note{Summary: "Updates will show as they arrive; type DONE (or press Ctrl-C) to end IDLE", Ref: "RFC 2177 §3"})
	case "SELECT", "EXAMINE", "CREATE", "DELETE", "STATUS", "APPEND":
		if p.Args == "" {
			out = append(out, note.Note{Summary: name + " needs a mailbox name, e.g. INBOX", Severity: note.Warning})
		}
	}
	return out
}

// ExplainResponse explains one response received in state s (the state
// before it) while the command cmd was pending (cmd.Name is "" for the
// greeting).
func ExplainResponse(r Response, s State, cmd ParsedCommand) []note.Note {
	var out []note.Note
	add := func(n note.Note) { out = append(out, n) }
	switch r.Kind {
	case Unknown:
		add(note.Note{Summary: "This line is not an IMAP response: it starts with neither \"*\", \"+\" nor a tag with OK/NO/BAD",
			Ref: "RFC 3501 §2.2.2", Severity: note.Warning})
		return out
	case Continuation:
		add(explainContinuation(r, cmd))
		return out
	}
	if r.Kind == Untagged && cmd.Name == "" && r.IsStatus() {
		add(explainGreeting(r))
	} else if r.Kind == Untagged {
		add(explainUntagged(r, s))
	} else {
		add(explainTagged(r, s, cmd))
	}
	if r.Code != "" {
		if n, ok := ResponseCodes[r.Code]; ok {
			if r.CodeArgs != "" && r.Code != "CAPABILITY" {
				n.Summary += " (" + r.CodeArgs + ")"
			}
			if r.Code == "CAPABILITY" {
				n.Detail = ExplainCapabilities(r.CodeArgs).Detail
			}
			add(n)
		} else {
			add(note.Note{Summary: fmt.Sprintf("[%s]: a response code mailx has no notes for", r.Code), Ref: "RFC 3501 §7.1"})
		}
	}
	if len(r.Literals) > 0 {
		sizes := make([]string, len(r.Literals))
		for i, l := range r.Literals {
			sizes[i] = fmt.Sprint(len(l))
		}
		add(note.Note{Summary: fmt.Sprintf("The server sent %d literal(s) of %s octets: {n} announces exactly n octets of data, read without looking for line ends",
			len(r.Literals), strings.Join(sizes, ", ")), Ref: "RFC 3501 §4.3"})
	}
	return out
}

func explainGreeting(r Response) note.Note {
	switch r.Status {
	case "OK":
		return note.Note{Summary: "The server is ready: Not Authenticated state",
			Next: "CAPABILITY to see what it supports, then LOGIN user password", Ref: "RFC 3501 §7.1.1", Severity: note.Success}
	case "PREAUTH":
		return UntaggedResponses["PREAUTH"]
	case "BYE":
		return note.Note{Summary: "The server refuses this connection and closes it", Ref: "RFC 3501 §7.1.5", Severity: note.Error}
	}
	return note.Note{Summary: "An unexpected greeting: servers greet with * OK, * PREAUTH or * BYE", Ref: "RFC 3501 §7.1", Severity: note.Warning}
}

func explainUntagged(r Response, s State) note.Note {
	n, ok := UntaggedResponses[r.Type]
	if !ok {
		return note.Note{Summary: fmt.Sprintf("* %s: an untagged response mailx has no notes for", r.Type), Ref: "RFC 3501 §7"}
	}
	switch r.Type {
	case "EXISTS":
		n.Summary = fmt.Sprintf("* %d EXISTS: the mailbox holds %d message(s), numbered 1 to %d", r.Number, r.Number, r.Number)
		if s == Selected {
			n.Detail = "Arriving now, it announces new mail: the count went up."
		}
	case "RECENT":
		n.Summary = fmt.Sprintf("* %d RECENT: %d message(s) are new since any session last looked", r.Number, r.Number)
	case "EXPUNGE":
		n.Summary = fmt.Sprintf("* %d EXPUNGE: message %d is gone; the numbers of all later messages drop by one", r.Number, r.Number)
	case "FETCH":
		n.Summary = fmt.Sprintf("* %d FETCH: data about message %d", r.Number, r.Number)
		if items := fetchItems(r.Text); len(items) > 0 {
			n.Summary += ": " + strings.Join(items, ", ")
		}
	case "SEARCH":
		hits := len(Fields(r.Text))
		n.Summary = fmt.Sprintf("* SEARCH: %d message(s) match", hits)
		if hits == 0 {
			n.Summary = "* SEARCH: no message matches"
		}
	case "LIST", "LSUB":
		f := Fields(r.Text)
		if len(f) >= 3 {
			n.Summary = fmt.Sprintf("* %s: mailbox %q, attributes %s, hierarchy separator %q", r.Type, f[2], f[0], f[1])
			if strings.Contains(strings.ToUpper(f[0]), `\NOSELECT`) {
				n.Detail = "\\Noselect: a folder that only holds other folders; it cannot be selected."
			}
		}
	case "CAPABILITY":
		c := ExplainCapabilities(r.Text)
		n.Detail = c.Detail
	case "FLAGS":
		n.Detail = "System flags start with \\: \\Seen read, \\Answered replied, \\Flagged starred, \\Deleted marked for EXPUNGE, \\Draft."
	}
	return n
}

// fetchItems names the data items at the top level of a FETCH list.
func fetchItems(text string) []string {
	t := strings.TrimSpace(text)
	if !strings.HasPrefix(t, "(") {
		return nil
	}
	t = strings.TrimSuffix(strings.TrimPrefix(t, "("), ")")
	f := Fields(t)
	var items []string
	for i := 0; i < len(f); i += 2 {
		name := f[i]
		// BODY[HEADER.FIELDS (SUBJECT)] splits at its inner list: rejoin the
		// section up to its "]".
		for strings.Count(name, "[") > strings.Count(name, "]") && i+1 < len(f) {
			i++
			if !strings.HasPrefix(f[i], "]") {
				name += " "
			}
			name += f[i]
		}
		name = strings.ToUpper(name)
		if strings.HasPrefix(name, "[") && len(items) > 0 {
			// BODY[TEXT] splits as "BODY" "[TEXT]": keep them together.
			items[len(items)-1] += name
			i--
			continue
		}
		items = append(items, name)
	}
	return items
}

func explainTagged(r Response, s State, cmd ParsedCommand) note.Note {
	name := cmd.FullName()
	switch r.Status {
	case "NO":
		n := note.Note{Summary: fmt.Sprintf("%s NO: %s failed; the server understood it but could not do it", r.Tag, name), Ref: "RFC 3501 §7.1.2", Severity: note.Warning}
		switch cmd.Name {
		case "LOGIN", "AUTHENTICATE":
			n.Summary = r.Tag + " NO: login failed; still Not Authenticated"
			n.Next = "Check the name and password"
		case "SELECT", "EXAMINE":
			n.Summary = r.Tag + " NO: the mailbox cannot be opened; no mailbox is selected now"
			n.Next = "LIST \"\" * shows the mailboxes that exist"
		}
		return n
	case "BAD":
		n := note.Note{Summary: fmt.Sprintf("%s BAD: the server rejected %s as malformed, unknown or not allowed now", r.Tag, name), Ref: "RFC 3501 §7.1.3", Severity: note.Error}
		c, known := Lookup(cmd.Name)
		switch {
		case !known:
			n.Next = "CAPABILITY lists what this server supports; \\help lists the IMAP4rev1 commands"
		case !Allowed(cmd.Name, s):
			n.Next = Expected(cmd.Name, s)
		default:
			n.Next = "Syntax: " + c.Syntax
		}
		return n
	}
	n := note.Note{Summary: fmt.Sprintf("%s OK: %s completed", r.Tag, name), Ref: "RFC 3501 §7.1.1", Severity: note.Success}
	switch cmd.Name {
	case "LOGIN", "AUTHENTICATE":
		n.Summary = r.Tag + " OK: logged in: Authenticated state"
		n.Next = "LIST \"\" * to see the mailboxes, SELECT INBOX to open one"
	case "SELECT", "EXAMINE":
		n.Summary = r.Tag + " OK: the mailbox is open: Selected state"
		n.Next = "FETCH 1:* (FLAGS ENVELOPE) for an overview, FETCH 1 BODY[] to read message 1, SEARCH UNSEEN"
	case "LOGOUT":
		n.Summary = r.Tag + " OK: logged out; the connection closes"
		n.Detail = "Unlike POP3's QUIT, nothing is deleted now: IMAP changes took effect as they were made."
	case "CLOSE":
		n.Summary = r.Tag + " OK: mailbox closed (messages flagged \\Deleted were expunged): Authenticated state"
	case "UNSELECT":
		n.Summary = r.Tag + " OK: mailbox closed without expunging: Authenticated state"
	case "IDLE":
		n.Summary = r.Tag + " OK: IDLE ended"
	case "STARTTLS":
		n.Summary = r.Tag + " OK: the TLS handshake starts now"
		n.Detail = "Afterwards, ask CAPABILITY again: what the server said before TLS could have been tampered with."
	}
	return n
}

func explainContinuation(r Response, cmd ParsedCommand) note.Note {
	switch {
	case cmd.Name == "IDLE":
		return note.Note{Summary: "+ : the server is idling; updates will be pushed as they happen",
			Next: "type DONE (or press Ctrl-C) to end IDLE", Ref: "RFC 2177 §3", Severity: note.Success}
	case cmd.Name == "AUTHENTICATE":
		n := note.Note{Summary: "+ : a SASL challenge; answer with one line of base64 (or * to cancel)", Ref: "RFC 3501 §6.2.2"}
		if r.Text == "" {
			n.Detail = "An empty challenge: for PLAIN, send base64(\"\\0user\\0password\")."
		} else if dec, err := base64.StdEncoding.DecodeString(r.Text); err == nil {
			n.Detail = fmt.Sprintf("Decoded, the challenge reads %q.", dec)
		}
		return n
	case cmd.Literal >= 0:
		return note.Note{Summary: fmt.Sprintf("+ : go ahead, send the %d octets of the literal", cmd.Literal),
			Detail: "A synchronising literal {n} makes the client wait for this \"+\" so that the server can refuse\nbefore a large upload (RFC 3501 §4.3); LITERAL+ servers accept {n+} without waiting.",
			Ref:    "RFC 3501 §7.5", Severity: note.Success}
	}
	return note.Note{Summary: "+ : the server waits for the rest of the command", Ref: "RFC 3501 §7.5"}
}

func nextFor(s State) string {
	switch s {
	case NotAuthenticated:
		return "log in with LOGIN user password"
	case Authenticated:
		return "try LIST \"\" * or SELECT INBOX"
	case Selected:
		return "try FETCH 1:* (FLAGS ENVELOPE), SEARCH ALL or LOGOUT"
	}
	return "connect again"
}

// CleartextWarning is the note on LOGIN's password. A client that knows the
// connection is encrypted (the explorer after STARTTLS or with --tls) leaves
// it out.
var CleartextWarning = note.Note{Summary: "The password crosses the network as typed; use it only on TLS (--tls, STARTTLS) or on this machine",
	Ref: "RFC 3501 §11.2", Severity: note.Warning}
