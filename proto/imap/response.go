package imap

import (
	"strconv"
	"strings"
)

// Kind says which of the three forms of server data a response has
// (RFC 3501 §2.2.2).
type Kind int

const (
	// Unknown is a line that is none of the three forms; the explorer shows
	// it with a warning.
	Unknown Kind = iota
	// Untagged is "* ...": data, or a status the server volunteers.
	Untagged
	// Tagged is "a001 OK|NO|BAD ...": the completion of the command with
	// that tag.
	Tagged
	// Continuation is "+ ...": the server is ready for the rest of a command
	// (a literal, a SASL answer, or DONE during IDLE).
	Continuation
)

// String names the kind for JSON and notes.
func (k Kind) String() string {
	switch k {
	case Untagged:
		return "untagged"
	case Tagged:
		return "tagged"
	case Continuation:
		return "continuation"
	}
	return "unknown"
}

// MarshalText lets JSON output carry the kind by name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Response is one server response: one line, or several when it carries
// literals. Response is the Value the explorer's IMAP adapter attaches to
// each response it reads.
type Response struct {
	Kind Kind   `json:"kind"`
	Tag  string `json:"tag,omitempty"` // Tagged only
	// Status is "OK", "NO", "BAD", "PREAUTH" or "BYE" for a status response,
	// "" for data such as "* 3 EXISTS".
	Status string `json:"status,omitempty"`
	// Code is the response code in brackets, upper case, e.g. "UIDVALIDITY";
	// CodeArgs is the rest inside the brackets, e.g. "3857529045".
	Code     string `json:"code,omitempty"`
	CodeArgs string `json:"code_args,omitempty"`
	// Number is the leading number of "* 3 EXISTS" or "* 1 FETCH (...)";
	// HasNumber says it was there.
	Number    uint32 `json:"number,omitempty"`
	HasNumber bool   `json:"has_number,omitempty"`
	// Type is the response's keyword: "EXISTS", "FETCH", "CAPABILITY",
	// "LIST", "SEARCH", or the Status for status responses.
	Type string `json:"type,omitempty"`
	// Text is what follows the keyword (and code) on the first line.
	Text string `json:"text,omitempty"`
	// Literals holds the content of each {n} literal, exactly n octets.
	Literals []string `json:"literals,omitempty"`
	// Raw is the response as it went over the wire, split at CRLF: literal
	// content that spans lines gives several lines. InLiteral[i] says that
	// Raw[i] begins inside literal data.
	Raw       []string `json:"raw"`
	InLiteral []bool   `json:"-"`
}

// IsStatus reports whether the response is a status response (OK, NO, BAD,
// PREAUTH, BYE), tagged or not.
func (r Response) IsStatus() bool { return r.Status != "" }

// Parse parses the first line of a response (with any literal announcement
// still at its end). It never fails: a line that fits no form has Kind
// Unknown.
func Parse(line string) Response {
	r := Response{}
	switch {
	case line == "+" || strings.HasPrefix(line, "+ "):
		r.Kind = Continuation
		r.Text = strings.TrimPrefix(line[1:], " ")
		return r
	case strings.HasPrefix(line, "* "):
		r.Kind = Untagged
		rest := line[2:]
		word, after, _ := strings.Cut(rest, " ")
		if n, err := strconv.ParseUint(word, 10, 32); err == nil {
			r.Number, r.HasNumber = uint32(n), true
			word, after, _ = strings.Cut(after, " ")
		}
		r.Type = strings.ToUpper(word)
		if !r.HasNumber && isStatusWord(r.Type) {
			r.Status = r.Type
			r.Code, r.CodeArgs, r.Text = splitCode(after)
			return r
		}
		if r.Type == "" {
			r.Kind = Unknown
		}
		r.Text = after
		return r
	}
	tag, rest, ok := strings.Cut(line, " ")
	if !ok || !validTag(tag) {
		return Response{Kind: Unknown, Text: line}
	}
	word, after, _ := strings.Cut(rest, " ")
	word = strings.ToUpper(word)
	if word != "OK" && word != "NO" && word != "BAD" {
		return Response{Kind: Unknown, Tag: tag, Text: rest}
	}
	r.Kind, r.Tag, r.Status, r.Type = Tagged, tag, word, word
	r.Code, r.CodeArgs, r.Text = splitCode(after)
	return r
}

func isStatusWord(w string) bool {
	switch w {
	case "OK", "NO", "BAD", "PREAUTH", "BYE":
		return true
	}
	return false
}

// splitCode separates "[CODE args] text" (RFC 3501 §7.1).
func splitCode(s string) (code, args, text string) {
	if !strings.HasPrefix(s, "[") {
		return "", "", s
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return "", "", s
	}
	inner := s[1:end]
	code, args, _ = strings.Cut(inner, " ")
	if code == "" {
		return "", "", s
	}
	return strings.ToUpper(code), args, strings.TrimPrefix(s[end+1:], " ")
}

// Fields splits the text of a data response into its top-level items:
// atoms, quoted strings (unquoted), parenthesised lists (kept whole) and
// literal placeholders. It is what the explainer uses to count SEARCH
// results and read LIST attributes; it never fails on odd input.
func Fields(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ':
			i++
		case c == '"':
			j := i + 1
			var b strings.Builder
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
				j++
			}
			out = append(out, b.String())
			i = j + 1
		case c == '(' || c == '[':
			depth, j := 0, i
			for ; j < len(s); j++ {
				if s[j] == '(' || s[j] == '[' {
					depth++
				} else if s[j] == ')' || s[j] == ']' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			if j >= len(s) {
				j = len(s) - 1
			}
			out = append(out, s[i:j+1])
			i = j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '(' {
				j++
			}
			if j == i {
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out
}
