// Package note holds the one shape every mailx explanation takes: a short
// summary, optional detail, what to do next and the RFC that says so.
//
// Knowledge packages (proto/smtp, proto/pop3, proto/imap, proto/mime, proto/mx)
// return Notes as data; explore/render decides how they look. A Note never
// carries colour or terminal escapes.
package note

import "strconv"

// Severity says how a note should be read: as plain information, as praise for
// something that worked, as a warning about a likely mistake, or as an error.
type Severity int

const (
	// Info is neutral explanation.
	Info Severity = iota
	// Success marks something that worked (a 2xx reply, +OK, a delivered message).
	Success
	// Warning marks a likely mistake or a temporary failure worth a second look.
	Warning
	// Error marks a permanent failure or a protocol violation.
	Error
)

// String returns the lower-case name used in plain output and JSON.
func (s Severity) String() string {
	switch s {
	case Success:
		return "success"
	case Warning:
		return "warning"
	case Error:
		return "error"
	default:
		return "info"
	}
}

// MarshalText lets JSON output carry the severity by name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity written by MarshalText.
func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "success":
		*s = Success
	case "warning":
		*s = Warning
	case "error":
		*s = Error
	default:
		*s = Info
	}
	return nil
}

// Note is one explanation of a line, a reply, a header or a rule.
type Note struct {
	Summary  string   `json:"summary"`          // one line: what this means
	Detail   string   `json:"detail,omitempty"` // more background, may span lines
	Next     string   `json:"next,omitempty"`   // what to type or do next
	Ref      string   `json:"ref,omitempty"`    // e.g. "RFC 5321 §4.1.1.2"
	Severity Severity `json:"severity"`
}

// IsZero reports whether the note says nothing.
func (n Note) IsZero() bool { return n.Summary == "" && n.Detail == "" && n.Next == "" }

// Count writes n with the singular or plural of a noun: "1 line", "3 lines",
// "0 messages". plural is used as given when the noun's plural is not the
// singular plus "s" ("1 reply", Count(2, "reply", "replies")).
func Count(n int, singular string, plural ...string) string {
	if n == 1 {
		return "1 " + singular
	}
	p := singular + "s"
	if len(plural) > 0 {
		p = plural[0]
	}
	return strconv.Itoa(n) + " " + p
}
