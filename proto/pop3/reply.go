package pop3

import (
	"fmt"
	"strings"
)

// Status is the kind of a POP3 response's first line.
type Status int

const (
	// StatusOK is "+OK": the command succeeded.
	StatusOK Status = iota
	// StatusErr is "-ERR": the command failed; the session goes on.
	StatusErr
	// StatusContinue is "+ " followed by base64: a SASL challenge during
	// AUTH, which the client answers with one base64 line (RFC 5034 §4).
	StatusContinue
)

// String returns the status indicator as it appears on the wire.
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "+OK"
	case StatusErr:
		return "-ERR"
	case StatusContinue:
		return "+"
	}
	return "?"
}

// MarshalText lets JSON output carry the status as "+OK", "-ERR" or "+".
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Response is one POP3 response: the status line, its optional RFC 2449
// response code, and for multi-line responses the lines up to ".".
// Response implements error, so a server backend can return
// pop3.ErrCode("IN-USE", "...") and the loop sends it.
type Response struct {
	Status Status `json:"status"`
	// Code is the RFC 2449 §8 response code without brackets, e.g. "IN-USE"
	// or "SYS/TEMP"; empty when the server sent none.
	Code string `json:"code,omitempty"`
	// Text is the rest of the status line, after the indicator and code.
	// For StatusContinue it is the base64 challenge.
	Text string `json:"text,omitempty"`
	// Multi is true for a multi-line response; Lines then holds the body.
	Multi bool `json:"multi,omitempty"`
	// Lines is the multi-line body with byte-stuffing undone and without the
	// final "." line: what the server meant, not what it sent.
	Lines []string `json:"lines,omitempty"`
	// Raw is every line exactly as it came over the wire, without CRLF:
	// the status line, the stuffed body lines, and the "." terminator.
	Raw []string `json:"raw,omitempty"`
	// Unstuffed counts the body lines that began with an extra "." which
	// the decoded view removed.
	Unstuffed int `json:"unstuffed,omitempty"`
}

// OK reports whether the status is +OK.
func (r Response) OK() bool { return r.Status == StatusOK }

// Error formats the status line, for logs and errors.
func (r Response) Error() string { return r.StatusLine() }

// StatusLine returns the first line as it goes on the wire, without CRLF:
// "+OK 2 messages", "-ERR [IN-USE] maildrop locked", "+ ".
func (r Response) StatusLine() string {
	if r.Status == StatusContinue {
		return "+ " + r.Text
	}
	s := r.Status.String()
	if r.Code != "" {
		s += " [" + r.Code + "]"
	}
	if r.Text != "" {
		s += " " + r.Text
	}
	return s
}

// Wire returns the response as it goes on the wire, one string per line
// without CRLF: the status line and, for a multi-line response, each body
// line byte-stuffed and the final ".".
func (r Response) Wire() []string {
	out := []string{r.StatusLine()}
	if r.Multi {
		out = append(out, EncodeLines(r.Lines)...)
	}
	return out
}

// OK builds a single-line +OK response.
//
//	S: +OK maildrop has 2 messages (320 octets)
func OK(text string) Response { return Response{Status: StatusOK, Text: text} }

// OKMulti builds a multi-line +OK response whose body is lines (not yet
// stuffed: Wire stuffs them).
//
//	S: +OK 2 messages
//	S: 1 120
//	S: 2 200
//	S: .
func OKMulti(text string, lines []string) Response {
	return Response{Status: StatusOK, Text: text, Multi: true, Lines: lines}
}

// Err builds a -ERR response without a response code.
//
//	S: -ERR no such message
func Err(text string) Response { return Response{Status: StatusErr, Text: text} }

// ErrCode builds a -ERR response with an RFC 2449 response code, which tells
// a client why in a form it can act on (RFC 2449 §8, RFC 3206):
//
//	S: -ERR [IN-USE] another session has this maildrop open
func ErrCode(code, text string) Response {
	return Response{Status: StatusErr, Code: strings.ToUpper(code), Text: text}
}

// Continue builds a SASL challenge line, "+ " followed by base64 (RFC 5034 §4).
func Continue(b64 string) Response { return Response{Status: StatusContinue, Text: b64} }

// BadSequence is the reply to a command sent in the wrong state, with a hint:
//
//	C: RETR 1
//	S: -ERR Log in first: USER name then PASS password (or APOP, or AUTH PLAIN), then RETR
func BadSequence(verb string, s State) Response { return Err(Expected(verb, s)) }

// UnknownCommand is the reply to a verb the server does not know.
//
//	S: -ERR unknown command "HELO": try CAPA for what this server supports
func UnknownCommand(verb string) Response {
	v := verb
	if len(v) > 20 {
		v = v[:20] + "..."
	}
	return Err(fmt.Sprintf("unknown command %q: try CAPA for what this server supports", v))
}

// SyntaxError is the reply to a known command with bad arguments; it names
// the expected syntax.
//
//	S: -ERR syntax: RETR msg (msg is a message number from LIST)
func SyntaxError(c Command, why string) Response {
	s := "syntax: " + c.Syntax
	if why != "" {
		s += " (" + why + ")"
	}
	return Err(s)
}

// CheckArgs validates the argument count of a command line against the table
// and returns the syntax error to send, or ok.
func CheckArgs(verb, rest string) (Response, bool) {
	c, found := Lookup(verb)
	if !found {
		return UnknownCommand(verb), false
	}
	n := len(Args(verb, rest))
	if n < c.MinArgs || (c.MaxArgs >= 0 && n > c.MaxArgs) {
		switch {
		case c.MaxArgs == 0:
			return SyntaxError(c, verb+" takes no arguments"), false
		case n < c.MinArgs:
			return SyntaxError(c, "missing argument"), false
		default:
			return SyntaxError(c, "too many arguments"), false
		}
	}
	return Response{}, true
}

// ParseStatus parses a response's first line (without CRLF) into a Response
// with Status, Code and Text set and Raw holding the line. RFC 1939 §3 makes
// the indicators upper case; lower case is accepted because some servers send
// it, and the explorer notes it.
func ParseStatus(line string) (Response, error) {
	r := Response{Raw: []string{line}}
	up := strings.ToUpper(line)
	switch {
	case strings.HasPrefix(up, "+OK") && (len(line) == 3 || line[3] == ' '):
		r.Status = StatusOK
		r.Text = strings.TrimPrefix(line[3:], " ")
	case strings.HasPrefix(up, "-ERR") && (len(line) == 4 || line[4] == ' '):
		r.Status = StatusErr
		r.Text = strings.TrimPrefix(line[4:], " ")
	case line == "+" || strings.HasPrefix(line, "+ "):
		r.Status = StatusContinue
		r.Text = strings.TrimPrefix(line[1:], " ")
		return r, nil
	default:
		return Response{}, fmt.Errorf("pop3: response %q does not start with +OK, -ERR or \"+ \"", clip(line))
	}
	r.Code, r.Text = SplitCode(r.Text)
	return r, nil
}

// SplitCode separates an RFC 2449 §8 response code in square brackets from
// the start of a status line's text: "[IN-USE] locked" gives "IN-USE",
// "locked". A code is one or more atoms separated by "/" (SYS/TEMP); anything
// else in brackets is left in the text.
func SplitCode(text string) (code, rest string) {
	if !strings.HasPrefix(text, "[") {
		return "", text
	}
	end := strings.IndexByte(text, ']')
	if end < 2 {
		return "", text
	}
	c := text[1:end]
	for _, part := range strings.Split(c, "/") {
		if part == "" {
			return "", text
		}
		for i := 0; i < len(part); i++ {
			ch := part[i]
			if ch <= ' ' || ch >= 0x7f || ch == '[' || ch == '"' || ch == '(' || ch == ')' || ch == '%' || ch == '*' || ch == '{' {
				return "", text
			}
		}
	}
	return strings.ToUpper(c), strings.TrimPrefix(text[end+1:], " ")
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
