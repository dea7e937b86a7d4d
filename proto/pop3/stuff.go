package pop3

import "strings"

// Stuff returns a body line as it must go on the wire inside a multi-line
// response: a line that begins with "." gets one more ".", so that it cannot
// be mistaken for the terminating "." line (RFC 1939 §3).
//
//	body: .hidden      wire: ..hidden
func Stuff(line string) string {
	if strings.HasPrefix(line, ".") {
		return "." + line
	}
	return line
}

// Unstuff reads one wire line of a multi-line response. It reports end for
// the terminating "." line; otherwise it returns the line with one leading
// "." removed when there was one, and unstuffed says that happened.
func Unstuff(raw string) (text string, end, unstuffed bool) {
	if raw == "." {
		return "", true, false
	}
	if strings.HasPrefix(raw, ".") {
		return raw[1:], false, true
	}
	return raw, false, false
}

// EncodeLines returns body lines as they go on the wire: each stuffed, then
// the terminating ".".
func EncodeLines(lines []string) []string {
	out := make([]string, 0, len(lines)+1)
	for _, l := range lines {
		out = append(out, Stuff(l))
	}
	return append(out, ".")
}

// SplitBody splits a message into lines the way a multi-line response
// carries them: CRLF or a bare LF ends a line, and a final line break does
// not start an empty line. "a\r\nb\r\n" gives "a", "b".
func SplitBody(body string) []string {
	if body == "" {
		return nil
	}
	body = strings.TrimSuffix(body, "\n")
	body = strings.TrimSuffix(body, "\r")
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// JoinBody is the inverse of SplitBody: the lines joined with CRLF and a
// final CRLF, the octets a client stores and the size LIST reports.
func JoinBody(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}
