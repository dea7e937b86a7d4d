package report

import (
	"encoding/base64"
	"strings"

	"github.com/mailx-edu/mailx/proto/note"

	"github.com/mailx-edu/mailx/proto/transcript"
)

// hidden replaces a secret in a report. It has a fixed length, so the
// report does not tell how long the password was either.
const hidden = "********"

// Redact returns events with the passwords the client sent replaced by
// "********": POP3 PASS, IMAP LOGIN's password, and the credentials of
// AUTH / AUTHENTICATE (an initial response, and every answer to a 334 or
// "+" challenge). A report is made to be handed in or shared; the student
// saw the password on screen, but a report must not carry it. The user
// name stays, so the report still shows who logged in.
func Redact(events []transcript.Event) []transcript.Event {
	out := make([]transcript.Event, len(events))
	inAuth := false
	for i, e := range events {
		switch e.Dir {
		case transcript.Server:
			if inAuth {
				l := strings.TrimSpace(e.Line)
				inAuth = strings.HasPrefix(l, "334 ") || l == "334" || strings.HasPrefix(l, "+ ") || l == "+"
			}
		case transcript.Client:
			line, auth := redactLine(e.Line, inAuth)
			if line != e.Line {
				e.Notes = scrubNotes(e.Notes, secrets(e.Line, line))
				e.Line = line
			}
			inAuth = auth
		}
		out[i] = e
	}
	return out
}

// redactLine hides the secret in one client line; inAuth says an AUTH
// exchange is under way, where every line is a credential. It returns the
// line and whether an AUTH exchange is (still) under way after it.
func redactLine(line string, inAuth bool) (string, bool) {
	if inAuth {
		if strings.TrimSpace(line) == "*" {
			return line, false // the client cancelled the exchange
		}
		return hidden, true
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return line, false
	}
	verb, rest := strings.ToUpper(f[0]), f[1:]
	// IMAP lines start with a tag: "a001 LOGIN alice secret".
	tagged := false
	if len(f) > 1 && verb != "PASS" && verb != "AUTH" && verb != "AUTHENTICATE" {
		if v := strings.ToUpper(f[1]); v == "LOGIN" || v == "AUTHENTICATE" {
			verb, rest, tagged = v, f[2:], true
		}
	}
	prefix := func(n int) string {
		k := n
		if tagged {
			k++
		}
		return strings.Join(f[:k], " ")
	}
	switch verb {
	case "PASS":
		if len(rest) > 0 {
			return prefix(1) + " " + hidden, false
		}
	case "LOGIN":
		if tagged && len(rest) >= 2 {
			return prefix(2) + " " + hidden, false
		}
	case "AUTH", "AUTHENTICATE":
		if len(rest) == 0 {
			return line, false
		}
		if len(rest) >= 2 && rest[1] != "=" {
			// An initial response (RFC 4954 §4, RFC 4959) holds the
			// credentials of PLAIN at once.
			return prefix(2) + " " + hidden, false
		}
		return line, true
	}
	return line, false
}

// secrets returns the words of orig that redaction removed, and what each
// decodes to when it is base64 (the notes explain AUTH answers by
// decoding them).
func secrets(orig, redacted string) []string {
	kept := map[string]bool{}
	for _, w := range strings.Fields(redacted) {
		kept[w] = true
	}
	var out []string
	for _, w := range strings.Fields(orig) {
		if kept[w] {
			continue
		}
		out = append(out, w)
		if b, err := base64.StdEncoding.DecodeString(w); err == nil {
			for _, part := range strings.Split(string(b), "\x00") {
				if len(part) >= 3 {
					out = append(out, part)
				}
			}
		}
	}
	return out
}

// scrubNotes drops the notes of a redacted line that repeat a secret (such
// as "it decodes to ...") and says that something was hidden.
func scrubNotes(notes []note.Note, secret []string) []note.Note {
	var out []note.Note
	for _, n := range notes {
		text := n.Summary + "\n" + n.Detail + "\n" + n.Next
		leak := strings.Contains(text, "decodes to")
		for _, s := range secret {
			if strings.Contains(text, s) || strings.Contains(text, strings.ReplaceAll(s, "\x00", `\0`)) {
				leak = true
			}
		}
		if !leak {
			out = append(out, n)
		}
	}
	return append(out, note.Note{Summary: "the password is hidden in this report (" + hidden + "); the session sent it as shown on screen"})
}
