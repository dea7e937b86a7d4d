package smtp

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mailx-edu/mailx/proto/note"
)

// ExplainReply explains a complete reply in context: verb is the command it
// answers ("" for the greeting) and s the state in which that command was
// sent. The first note explains the code, with the context's own next step;
// then come the enhanced code and, for EHLO, one note per extension keyword.
func ExplainReply(r Reply, verb string, s State) []note.Note {
	verb = strings.ToUpper(verb)
	first, _ := ExplainCode(r.Code)
	if first.IsZero() {
		first = note.Note{Summary: fmt.Sprintf("%d is not an SMTP reply code", r.Code)}
	}
	ctx := replyContext(r, verb, s)
	if ctx.Summary != "" {
		// The context says what the code means here; the catalogue's general
		// background would only repeat it.
		first.Summary += ": " + ctx.Summary
		first.Detail = ctx.Detail
	} else if ctx.Detail != "" {
		first.Detail = ctx.Detail
	}
	if ctx.Next != "" {
		first.Next = ctx.Next
	}
	notes := []note.Note{first}
	// A success's enhanced code adds nothing a student needs; a failure's
	// says precisely what went wrong.
	if r.Enhanced != "" && r.Code >= 400 {
		if n, ok := ExplainEnhanced(r.Enhanced); ok {
			notes = append(notes, n)
		}
	}
	if verb == "EHLO" && r.Code == 250 && len(r.Lines) > 0 {
		for _, l := range r.Lines[1:] {
			if n := ExplainKeyword(l); !n.IsZero() {
				notes = append(notes, n)
			}
		}
		if len(r.Lines) <= 1 {
			notes = append(notes, note.Note{Summary: "no extensions offered: this server speaks plain RFC 5321 SMTP only"})
		}
	}
	return notes
}

// replyContext is what a reply means after this command in this state.
func replyContext(r Reply, verb string, s State) note.Note {
	ok := r.Code/100 == 2
	switch {
	case r.Code == 421:
		return note.Note{Summary: "the server is ending the session", Next: "connect again later; a real MTA keeps the message and retries"}
	case r.Code == 503:
		return note.Note{Summary: "the server expected something else first", Next: Expected(verb, s)}
	case verb == "" && r.Code == 220:
		return note.Note{Next: "introduce yourself: EHLO your.name (EHLO also lists the server's extensions)"}
	case verb == "" && (r.Code == 554 || r.Code == 521):
		return note.Note{Summary: "this server refuses to talk to you", Detail: "A greeting of 554 means no mail will be accepted on this connection (RFC 5321 §3.1): your address may be blocked."}
	case verb == "EHLO" && ok:
		return note.Note{Summary: "greeted; the lines after the first list the server's extensions", Next: "start a transaction: MAIL FROM:<you@your.domain>"}
	case verb == "HELO" && ok:
		return note.Note{Summary: "greeted (HELO: no extensions are announced)", Next: "start a transaction: MAIL FROM:<you@your.domain>"}
	case (verb == "EHLO" || verb == "HELO") && r.Code == 500 || verb == "EHLO" && r.Code == 502:
		return note.Note{Detail: "A very old server may not know EHLO: try HELO instead."}
	case verb == "MAIL" && ok:
		return note.Note{Summary: "sender accepted: bounces for this message will go to this envelope address", Next: "name a recipient: RCPT TO:<someone@domain>"}
	case verb == "RCPT" && ok:
		return note.Note{Summary: "recipient accepted", Next: "add another RCPT TO, or send DATA to start the message"}
	case verb == "RCPT" && (r.Code == 450 || r.Code == 451):
		return note.Note{Detail: "Often greylisting: the server refuses unknown senders once, because spam software rarely retries and real MTAs do.", Next: "a real MTA retries in a few minutes; try again later"}
	case verb == "RCPT" && r.Code/100 == 5:
		return note.Note{Detail: "Only this recipient is refused; recipients already accepted still count and the transaction stays open. 550 5.7.1 after RCPT to another domain usually means relaying denied: log in first (AUTH) or send to a local address.", Next: "another RCPT TO, or DATA if one recipient was accepted"}
	case verb == "DATA" && r.Code == 354:
		return note.Note{
			Summary: "type the message now",
			Detail:  "First the header lines (From:, To:, Subject:, Date:), then ONE BLANK LINE, then the body.\nA line holding only \".\" ends the message. A line of yours that starts with \".\" gets an extra \".\" (dot-stuffing) so it cannot end the message by accident.",
			Next:    "type the headers, a blank line, the body, then \".\" alone on a line",
		}
	case s == InData && ok:
		return note.Note{Summary: "message accepted: the server is now responsible for delivering it (or bouncing it)", Detail: queueHint(r), Next: "send another message with MAIL FROM, or QUIT"}
	case s == InData && r.Code/100 == 4:
		return note.Note{Summary: "the message was not accepted this time", Next: "a real MTA keeps it and retries later"}
	case s == InData && r.Code/100 == 5:
		return note.Note{Summary: "the message was refused", Next: "a real MTA would send a bounce to the envelope sender"}
	case verb == "STARTTLS" && r.Code == 220:
		return note.Note{Summary: "go ahead with the TLS handshake", Detail: "Everything said before is forgotten (RFC 3207 §4.2): after the handshake, send EHLO again."}
	case verb == "QUIT" && r.Code == 221:
		return note.Note{Summary: "goodbye"}
	case r.Code == 530:
		return note.Note{Next: "log in first: \\auth plain USER PASS (after STARTTLS), then repeat " + orCommand(verb)}
	case r.Code == 334:
		return note.Note{Summary: challengeText(r), Next: "answer with one line of base64 (\\b64 TEXT computes it), or \"*\" to cancel"}
	case verb == "RSET" && ok:
		return note.Note{Summary: "transaction abandoned; envelope and message so far are forgotten", Next: "MAIL FROM:<...> to start again"}
	case verb == "NOOP" && ok:
		return note.Note{Summary: "the connection is alive"}
	}
	return note.Note{}
}

func orCommand(verb string) string {
	if verb == "" {
		return "the command"
	}
	return verb
}

// queueHint points at a queue id in a final 250, which many servers include
// ("250 2.0.0 Ok: queued as 4F2A1C").
func queueHint(r Reply) string {
	if id := QueueID(r); id != "" {
		return "The server's queue id for it is " + id + ": quote it when asking its postmaster about this message."
	}
	return ""
}

// QueueID extracts a queue id from the reply to the end of DATA, in the
// common forms "queued as ID", "id=ID", "Ok: ID" and "ID Message accepted";
// "" when none is recognisable.
func QueueID(r Reply) string {
	text := strings.Join(r.Lines, " ")
	// Lower-case ASCII bytes only: strings.ToLower may change the length of
	// non-ASCII or invalid UTF-8 text, and the index must stay valid in text.
	lb := []byte(text)
	for i, c := range lb {
		if c >= 'A' && c <= 'Z' {
			lb[i] = c + 'a' - 'A'
		}
	}
	low := string(lb)
	for _, marker := range []string{"queued as ", "id=", "queue id ", "message id "} {
		if i := strings.Index(low, marker); i >= 0 {
			return firstToken(text[i+len(marker):])
		}
	}
	// Exim: "OK id=1abc-..."; Sendmail: "4F2A1C Message accepted for delivery".
	f := strings.Fields(text)
	if len(f) >= 2 && strings.EqualFold(f[1], "message") && looksLikeID(f[0]) {
		return f[0]
	}
	if len(f) >= 2 && strings.EqualFold(strings.TrimSuffix(f[0], ":"), "ok") && looksLikeID(f[1]) {
		return strings.Trim(f[1], "<>()[],;")
	}
	return ""
}

func firstToken(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return strings.Trim(f[0], "<>()[],;.")
}

func looksLikeID(s string) bool {
	s = strings.Trim(s, "<>()[],;")
	if len(s) < 6 {
		return false
	}
	digit := false
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '.', c == '_', c == '@':
		default:
			return false
		}
	}
	return digit
}

// challengeText decodes a 334 challenge for the student.
func challengeText(r Reply) string {
	if len(r.Lines) == 0 || r.Lines[0] == "" {
		return "the server waits for your first authentication line"
	}
	b, err := base64.StdEncoding.DecodeString(r.Lines[0])
	if err != nil || !utf8.Valid(b) {
		return "the challenge is not printable base64"
	}
	return fmt.Sprintf("the challenge decodes to %q", string(b))
}

// ExplainCommand explains a command line a client sends (its verb's meaning,
// syntax and RFC). ok is false when the verb is not an SMTP command.
func ExplainCommand(line string) (note.Note, bool) {
	verb, _ := Verb(line)
	c, ok := Lookup(verb)
	if !ok {
		return note.Note{}, false
	}
	return note.Note{Summary: c.Verb + ": " + c.Summary, Detail: "syntax: " + c.Syntax, Ref: c.Ref}, true
}

// Explain answers a student's question about a topic: a reply code ("550"),
// an enhanced code ("5.1.1"), a command ("RCPT") or an EHLO keyword
// ("PIPELINING"). ok is false when mailx knows nothing about it.
func Explain(topic string) (notes []note.Note, ok bool) {
	topic = strings.TrimSpace(topic)
	if n, err := strconv.Atoi(topic); err == nil {
		if nt, ok := ExplainCode(n); ok {
			return []note.Note{nt}, true
		}
		return nil, false
	}
	if n, ok := ExplainEnhanced(topic); ok {
		return []note.Note{n}, true
	}
	if n, ok := ExplainCommand(topic); ok {
		return []note.Note{n}, true
	}
	kw := strings.ToUpper(strings.Fields(topic + " x")[0])
	if _, ok := keywords[kw]; ok {
		return []note.Note{ExplainKeyword(topic)}, true
	}
	return nil, false
}
