package smtp

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/mailx-edu/mailx/proto/note"
)

// Annotator follows one SMTP session from the lines the client sends and the
// replies the server gives, and explains each with the same words on both
// sides: the explorer uses it for the student's session and the server's
// trace for the sessions it receives. It is a small state machine over Next;
// it does no I/O and is not safe for concurrent use.
//
// Call Server with the greeting first, then Client for each line sent
// (including message text in DATA, in its dot-stuffed wire form) and Server
// for each complete reply.
type Annotator struct {
	state    State
	verb     string // verb of the command awaiting a reply; "" before the greeting
	sent     State  // state in which that command was sent
	bdatLast bool   // the pending BDAT carried LAST
	authStep int    // >0 while an AUTH exchange waits for the client's answer
	authMech string
	tls      bool // the session runs inside TLS

	// message text bookkeeping in InData
	dataLines  int
	inBody     bool
	headerSeen bool
	stuffed    int
}

// NewAnnotator starts before the greeting.
func NewAnnotator() *Annotator { return &Annotator{state: Connected} }

// State returns the session state now.
func (a *Annotator) State() State { return a.state }

// Verb returns the command awaiting (or last given) a reply.
func (a *Annotator) Verb() string { return a.verb }

// SetTLS records that the connection is now encrypted (after STARTTLS or
// with implicit TLS), which changes the advice about AUTH.
func (a *Annotator) SetTLS(on bool) { a.tls = on }

// InAuth reports whether the server asked for an AUTH answer (334) and the
// next client line is base64 rather than a command.
func (a *Annotator) InAuth() bool { return a.authStep > 0 }

// Client explains a line the client sent, as it went on the wire, and
// records it so the reply can be explained in context. Warnings (note.Warning)
// flag likely mistakes: the line was still sent.
func (a *Annotator) Client(line string) []note.Note {
	if a.state == InData {
		return a.dataLine(line)
	}
	if a.authStep > 0 {
		return a.authLine(line)
	}
	verb, rest := Verb(line)
	a.verb, a.sent = verb, a.state
	a.bdatLast = false
	cmd, known := Lookup(verb)
	if !known {
		return []note.Note{{
			Summary:  fmt.Sprintf("%q is not an SMTP command: expect 500", clipVerb(verb)),
			Next:     "type \\help for the commands",
			Ref:      "RFC 5321 §4.1",
			Severity: note.Warning,
		}}
	}
	notes := []note.Note{{Summary: cmd.Summary, Ref: cmd.Ref}}
	if strings.TrimLeft(line, " ") != line {
		notes = append(notes, warn("a space before the command: many servers answer 500"))
	}
	if !Allowed(verb, a.state) && a.state != Closed {
		notes = append(notes, warn(fmt.Sprintf("%s now: expect 503 (%s)", verb, Expected(verb, a.state))))
	}
	notes = append(notes, a.checkArgs(verb, rest, cmd)...)
	if verb == "AUTH" {
		a.authMech = ""
		if f := strings.Fields(rest); len(f) > 0 {
			a.authMech = strings.ToUpper(f[0])
		}
	}
	if verb == "BDAT" {
		a.bdatLast = strings.Contains(strings.ToUpper(rest), "LAST")
	}
	return notes
}

func warn(s string) note.Note { return note.Note{Summary: s, Severity: note.Warning} }

func clipVerb(v string) string {
	if len(v) > 20 {
		return v[:20] + "..."
	}
	return v
}

// checkArgs looks for the usual mistakes in a command's argument.
func (a *Annotator) checkArgs(verb, rest string, cmd Command) []note.Note {
	var notes []note.Note
	switch verb {
	case "HELO", "EHLO":
		if rest == "" {
			notes = append(notes, warn(verb+" needs your host name, as in "+verb+" my.laptop; expect 501"))
		}
	case "MAIL", "RCPT":
		kw := "FROM"
		if verb == "RCPT" {
			kw = "TO"
		}
		p, err := ParsePathArg(rest, kw)
		if err != nil {
			notes = append(notes, warn(fmt.Sprintf("%s; the syntax is %s: expect 501", err, cmd.Syntax)))
			break
		}
		for _, pr := range p.Problems {
			notes = append(notes, warn(pr))
		}
		if verb == "MAIL" && p.Address == "" {
			notes = append(notes, note.Note{Summary: "the null sender <>: used for bounces, so that a bounce can never cause another bounce", Ref: "RFC 5321 §4.5.5"})
		}
		if verb == "MAIL" && p.Address != "" {
			notes = append(notes, note.Note{Summary: "this is the envelope sender; it need not match the From: header the reader sees (that is why SPF and DMARC exist)", Ref: "RFC 5321 §3.3"})
		}
	case "DATA", "QUIT", "RSET", "STARTTLS":
		if rest != "" {
			notes = append(notes, warn(verb+" takes no argument; expect 501"))
		}
	case "AUTH":
		if rest == "" {
			notes = append(notes, warn("AUTH needs a mechanism, as in AUTH PLAIN; expect 501"))
		} else if !a.tls {
			notes = append(notes, warn("not encrypted: the password travels as base64, which anyone on the path can decode; use STARTTLS first"))
		}
	case "BDAT":
		notes = append(notes, note.Note{Summary: "exactly the announced number of octets must follow, with no dot-stuffing and no final \".\"",
			Detail: "Typing BDAT by hand is hard: the count must include every CRLF."})
	}
	return notes
}

// authLine explains a client's answer to a 334 challenge.
func (a *Annotator) authLine(line string) []note.Note {
	a.verb = "AUTH"
	if strings.TrimSpace(line) == "*" {
		return []note.Note{{Summary: "\"*\" cancels the authentication exchange; expect 501", Ref: "RFC 4954 §4"}}
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line))
	if err != nil {
		return []note.Note{warn("this answer is not valid base64; expect 501 or 535 (\\b64 TEXT computes it)")}
	}
	shown := strings.ReplaceAll(string(b), "\x00", `\0`)
	return []note.Note{{Summary: fmt.Sprintf("authentication answer in base64; it decodes to %q", shown),
		Detail: "Anyone who sees this line can decode it as easily: that is why AUTH belongs inside TLS.", Ref: "RFC 4954 §4"}}
}

// dataLine explains a line of message text, in its dot-stuffed wire form.
func (a *Annotator) dataLine(line string) []note.Note {
	if line == "." {
		a.verb = "DATA"
		n := note.Note{Summary: fmt.Sprintf("end of message (%d lines): the server now decides whether to accept it", a.dataLines), Ref: "RFC 5321 §4.1.1.4"}
		if !a.headerSeen {
			n.Detail = "This message had no header lines: many servers add Date and Message-ID, others refuse it."
		}
		return []note.Note{n}
	}
	a.dataLines++
	var notes []note.Note
	if strings.HasPrefix(line, "..") {
		a.stuffed++
		notes = append(notes, note.Note{Summary: "dot-stuffed: the server removes the first \".\" and stores " + clipLine(line[1:]),
			Detail: "A line of text starting with \".\" gets one more \".\" on the wire, so that it can never be read as the end of the message.", Ref: "RFC 5321 §4.5.2"})
	} else if strings.HasPrefix(line, ".") {
		notes = append(notes, warn("a line starting with a single \".\" loses that dot at the server: it should have been dot-stuffed (RFC 5321 §4.5.2)"))
	}
	if len(line) > 998 {
		notes = append(notes, warn(fmt.Sprintf("this line has %d characters; RFC 5322 allows at most 998, and servers may break or refuse it", len(line))))
	}
	if !a.inBody {
		switch {
		case line == "":
			a.inBody = true
			if a.headerSeen {
				notes = append(notes, note.Note{Summary: "blank line: the headers end here and the body begins", Ref: "RFC 5322 §2.1"})
			} else {
				notes = append(notes, note.Note{Summary: "blank line first: this message has no headers, only a body", Ref: "RFC 5322 §2.1"})
			}
		case strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t"):
			if a.headerSeen {
				notes = append(notes, note.Note{Summary: "continues the previous header line (folding)", Ref: "RFC 5322 §2.2.3"})
			}
		case isHeaderLine(line):
			name, _, _ := strings.Cut(line, ":")
			if !a.headerSeen {
				notes = append(notes, note.Note{Summary: "header line: " + name + " (headers come first, then a blank line, then the body)", Ref: "RFC 5322 §2.2"})
			}
			a.headerSeen = true
		default:
			a.inBody = true
			if a.headerSeen {
				notes = append(notes, warn("this is not a header line (Name: value), so the server takes it as the start of the body; a blank line should separate headers from body"))
			} else {
				notes = append(notes, note.Note{Summary: "no header lines: this text is all body (From:, To:, Subject: would go first, then a blank line)", Ref: "RFC 5322 §2.1"})
			}
		}
	}
	return notes
}

func clipLine(s string) string {
	if len(s) > 30 {
		return fmt.Sprintf("%q...", s[:30])
	}
	return fmt.Sprintf("%q", s)
}

// isHeaderLine reports whether line has the form "Name: value" with a field
// name of printable ASCII without spaces (RFC 5322 §2.2).
func isHeaderLine(line string) bool {
	name, _, ok := strings.Cut(line, ":")
	if !ok || name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// Server explains a complete reply and advances the state.
func (a *Annotator) Server(r Reply) []note.Note {
	var notes []note.Note
	switch {
	case a.authStep > 0 || a.verb == "AUTH":
		notes = ExplainReply(r, "AUTH", a.state)
	case a.sent == InData || a.state == InData:
		notes = ExplainReply(r, "DATA", InData)
	default:
		notes = ExplainReply(r, a.verb, a.state)
	}
	switch {
	case r.Code == 334:
		a.authStep++
	case a.state == InData:
		a.state = Next(a.state, "DATA", r.Code)
		a.resetData()
		a.authStep = 0
	case a.verb == "BDAT":
		a.state = NextBDAT(a.state, a.bdatLast, r.Code)
	default:
		if a.authStep > 0 {
			a.authStep = 0
			a.state = Next(a.state, "AUTH", r.Code)
		} else {
			a.state = Next(a.state, a.verb, r.Code)
		}
		if a.state == InData {
			a.resetData()
		}
	}
	a.sent = a.state
	return notes
}

func (a *Annotator) resetData() {
	a.dataLines, a.inBody, a.headerSeen, a.stuffed = 0, false, false, 0
}
