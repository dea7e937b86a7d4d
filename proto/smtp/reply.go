package smtp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Reply is one SMTP reply: a three-digit code, an optional RFC 3463 enhanced
// status code, and one or more lines of text. Reply implements error, so a
// backend can return smtp.MailboxUnavailable(rcpt) and the server sends it.
type Reply struct {
	Code     int      // e.g. 250
	Enhanced string   // e.g. "2.1.0"; empty when the server sent none
	Lines    []string // text of each line, without code, separator or enhanced code
}

// Error formats the reply as one line, for logs and errors.
func (r Reply) Error() string {
	s := strconv.Itoa(r.Code)
	if r.Enhanced != "" {
		s += " " + r.Enhanced
	}
	if len(r.Lines) > 0 {
		s += " " + strings.Join(r.Lines, " / ")
	}
	return s
}

// Class is the first digit of the code: 2 success, 3 intermediate, 4 temporary
// failure, 5 permanent failure.
func (r Reply) Class() int { return r.Code / 100 }

// Positive reports a 2xx or 3xx reply.
func (r Reply) Positive() bool { return r.Code >= 200 && r.Code < 400 }

// Text returns all lines joined by newlines.
func (r Reply) Text() string { return strings.Join(r.Lines, "\n") }

// Wire returns the reply as it goes on the wire, one string per line without
// CRLF: "250-first", ..., "250 last". The enhanced code, when set, starts every
// line, as RFC 2034 §4 asks.
func (r Reply) Wire() []string {
	lines := r.Lines
	if len(lines) == 0 {
		lines = []string{""}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		text := l
		if r.Enhanced != "" {
			text = r.Enhanced
			if l != "" {
				text += " " + l
			}
		}
		if text == "" && sep == " " {
			// A bare code is a whole last line (RFC 5321 §4.2): "250".
			sep = ""
		}
		out[i] = strconv.Itoa(r.Code) + sep + text
	}
	return out
}

// Reply line errors.
var (
	ErrShortLine = errors.New("smtp: reply line shorter than three digits")
	ErrBadCode   = errors.New("smtp: reply does not start with a three-digit code from 200 to 599")
	ErrBadSep    = errors.New("smtp: reply code not followed by space or hyphen")
	ErrMixedCode = errors.New("smtp: lines of one multi-line reply carry different codes")
)

// ReplyLine is one parsed reply line.
type ReplyLine struct {
	Code int
	Last bool   // "250 text" (last) rather than "250-text"
	Text string // after the separator
}

// ParseReplyLine parses one reply line without its CRLF. RFC 5321 §4.2 allows
// a bare code with no text ("250"), which is a last line.
func ParseReplyLine(line string) (ReplyLine, error) {
	if len(line) < 3 {
		return ReplyLine{}, ErrShortLine
	}
	for i := 0; i < 3; i++ {
		if line[i] < '0' || line[i] > '9' {
			return ReplyLine{}, ErrBadCode
		}
	}
	code, _ := strconv.Atoi(line[:3])
	if code < 200 || code > 599 {
		return ReplyLine{}, ErrBadCode
	}
	if len(line) == 3 {
		return ReplyLine{Code: code, Last: true}, nil
	}
	switch line[3] {
	case ' ':
		return ReplyLine{Code: code, Last: true, Text: line[4:]}, nil
	case '-':
		return ReplyLine{Code: code, Text: line[4:]}, nil
	}
	return ReplyLine{}, ErrBadSep
}

// SplitEnhanced separates an RFC 3463 enhanced status code from the start of
// a reply text: "2.1.0 Ok" gives "2.1.0", "Ok". The class digit must agree
// with the reply code's class, as RFC 3463 §2 requires; otherwise the text is
// returned whole.
func SplitEnhanced(code int, text string) (enhanced, rest string) {
	head, tail, _ := strings.Cut(text, " ")
	if !IsEnhanced(head) || int(head[0]-'0') != code/100 {
		return "", text
	}
	return head, tail
}

// IsEnhanced reports whether s has the form class.subject.detail with class
// 2, 4 or 5, subject 0-999 and detail 0-999 (RFC 3463 §2).
func IsEnhanced(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || (parts[0] != "2" && parts[0] != "4" && parts[0] != "5") {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) == 0 || len(p) > 3 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

// ReplyBuilder assembles a multi-line reply from lines read one by one, so
// that callers reading from different sources (a socket, a transcript) share
// one set of rules.
type ReplyBuilder struct {
	reply Reply
	n     int
}

// Add parses the next raw line. It returns done when the line was the last
// one of the reply. Errors leave the builder unchanged.
func (b *ReplyBuilder) Add(raw string) (done bool, err error) {
	rl, err := ParseReplyLine(raw)
	if err != nil {
		return false, err
	}
	if b.n > 0 && rl.Code != b.reply.Code {
		return false, ErrMixedCode
	}
	enh, text := SplitEnhanced(rl.Code, rl.Text)
	if b.n == 0 {
		b.reply.Code = rl.Code
		b.reply.Enhanced = enh
	} else if b.reply.Enhanced == "" {
		// RFC 2034 §4: a reply with enhanced codes carries one on every
		// line. When the first line has none, what looks like one on a
		// later line is text.
		text = rl.Text
	}
	b.reply.Lines = append(b.reply.Lines, text)
	b.n++
	return rl.Last, nil
}

// Reply returns the reply assembled so far.
func (b *ReplyBuilder) Reply() Reply { return b.reply }

// Lines returns how many lines have been added.
func (b *ReplyBuilder) Len() int { return b.n }

// NewReply builds a reply from a code, an enhanced code (may be empty) and
// text lines.
func NewReply(code int, enhanced string, lines ...string) Reply {
	return Reply{Code: code, Enhanced: enhanced, Lines: lines}
}

// BadSequence reports a command sent before its prerequisite, as in
//
//	C: RCPT TO:<bob@mx.test>
//	S: 503 5.5.1 Send MAIL FROM:<address> before RCPT TO
func BadSequence(verb string, got State) Reply {
	return NewReply(503, "5.5.1", Expected(verb, got))
}

// UnknownCommand is the reply to a verb the server does not know.
//
//	S: 500 5.5.2 Unknown command "HELLO": try HELP for the list
func UnknownCommand(verb string) Reply {
	v := verb
	if len(v) > 20 {
		v = v[:20] + "..."
	}
	return NewReply(500, "5.5.2", fmt.Sprintf("Unknown command %q: try HELP for the list", v))
}

// SyntaxError is the reply to a known command with bad arguments; why says
// what was wrong.
//
//	S: 501 5.5.4 Syntax: MAIL FROM:<address> (the angle brackets are required)
func SyntaxError(why string) Reply { return NewReply(501, "5.5.4", why) }
