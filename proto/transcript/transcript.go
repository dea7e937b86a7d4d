// Package transcript is the one record of a protocol session that explore,
// server and lessons share: trace events, and the textbook C:/S: file format
// that `--record` writes and `mailx smtp replay` reads.
//
// The file format is line oriented UTF-8 text:
//
//	# mailx transcript v1
//	# protocol: smtp
//	# host: 127.0.0.1
//	# port: 2525
//	# started: 2026-11-22T10:00:00Z
//	# tls: none
//	S: 220 mx.test ESMTP mailx
//	C: EHLO me
//	S: 250-mx.test greets me
//	S: 250 PIPELINING
//	# tls: TLS 1.3, TLS_AES_128_GCM_SHA256
//
// "C: " is a line the client sent and "S: " one the server sent, each without
// its CRLF. A line holding CR, LF or other control bytes is written with the
// marker "C! " or "S! " and its text Go-quoted (strconv.Quote), so every file
// stays one record per line and bare-LF smuggling attempts survive intact.
// "# key: value" lines before the first C/S line form the header; later ones are
// events (a TLS upgrade, a server decision such as "queued as 4F2A...").
// Blank lines are ignored. This package does no I/O policy: callers pass
// readers and writers.
package transcript

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mailx-edu/mailx/proto/note"
)

// Dir says who produced a line.
type Dir byte

const (
	// Client marks a line sent by the client ("C:").
	Client Dir = 'C'
	// Server marks a line sent by the server ("S:").
	Server Dir = 'S'
	// Meta marks an event that is not on the wire ("#"): TLS upgrades,
	// connection state, a server's decision.
	Meta Dir = '#'
)

// String returns "C", "S" or "#".
func (d Dir) String() string { return string(rune(d)) }

// MarshalText writes the direction as "C", "S" or "#".
func (d Dir) MarshalText() ([]byte, error) { return []byte{byte(d)}, nil }

// UnmarshalText reads "C", "S" or "#".
func (d *Dir) UnmarshalText(b []byte) error {
	if len(b) != 1 || (b[0] != 'C' && b[0] != 'S' && b[0] != '#') {
		return fmt.Errorf("transcript: direction %q is not C, S or #", b)
	}
	*d = Dir(b[0])
	return nil
}

// Event is one line of a session as it happens, for traces: the server reports
// every line it reads and writes as an Event through a Hook, and cmd renders it.
type Event struct {
	Time    time.Time   `json:"time"`
	Session string      `json:"session,omitempty"` // e.g. "s12"; shared ids link both ends of a relay hop
	Proto   string      `json:"proto,omitempty"`   // "smtp", "pop3", "imap"
	Dir     Dir         `json:"dir"`
	Line    string      `json:"line"`            // raw text without CRLF; for Meta the event text
	Notes   []note.Note `json:"notes,omitempty"` // explanations from proto
	// Tone is how the explorer coloured a server line: "positive",
	// "intermediate", "transient", "negative" or "neutral" (empty: not
	// said). Lab reports use it to show the session as it looked.
	Tone string `json:"tone,omitempty"`
}

// Hook receives events. It must not block for long: servers call it inline.
type Hook func(Event)

// Header describes where and when a transcript was recorded.
type Header struct {
	Protocol string    // "smtp", "pop3" or "imap"
	Host     string    // the server's host name or address
	Port     int       // the server's port
	Started  time.Time // when the connection opened
	TLS      string    // "none", "implicit" or "starttls" at the start
	Session  string    // a server-side session id, if any
	// Extra holds any other "# key: value" header lines, in order.
	Extra [][2]string
}

// Line is one recorded line.
type Line struct {
	Dir  Dir
	Text string
	// Num is the line number in the file it was read from (0 when built in memory).
	Num int
}

// Transcript is a whole recorded session.
type Transcript struct {
	Header Header
	Lines  []Line
}

const magic = "# mailx transcript v1"

// Writer writes a transcript file as the session goes, so that a session cut
// short still leaves everything up to that point on disk.
type Writer struct {
	w   io.Writer
	err error
}

// NewWriter writes the header and returns a Writer for the lines.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	tw := &Writer{w: w}
	tw.raw(magic)
	if h.Protocol != "" {
		tw.raw("# protocol: " + h.Protocol)
	}
	if h.Host != "" {
		tw.raw("# host: " + h.Host)
	}
	if h.Port != 0 {
		tw.raw("# port: " + strconv.Itoa(h.Port))
	}
	if !h.Started.IsZero() {
		tw.raw("# started: " + h.Started.UTC().Format(time.RFC3339))
	}
	if h.TLS != "" {
		tw.raw("# tls: " + h.TLS)
	}
	if h.Session != "" {
		tw.raw("# session: " + h.Session)
	}
	for _, kv := range h.Extra {
		tw.raw("# " + kv[0] + ": " + kv[1])
	}
	return tw, tw.err
}

func (tw *Writer) raw(s string) {
	if tw.err != nil {
		return
	}
	_, tw.err = io.WriteString(tw.w, s+"\n")
}

// Write records one line. For Meta, text is an event such as "tls: TLS 1.3".
func (tw *Writer) Write(d Dir, text string) error {
	tw.raw(FormatLine(d, text))
	return tw.err
}

// metaEscaper keeps a meta line on one line. Built once: a server records
// several meta lines per message, and building a Replacer costs more than
// using it.
var metaEscaper = strings.NewReplacer("\r", `\r`, "\n", `\n`)

// FormatLine returns the file form of one line, escaping it when needed.
func FormatLine(d Dir, text string) string {
	return string(AppendLine(nil, d, text))
}

// AppendLine appends the file form of one line (FormatLine's, without a line
// end) to b: a server recording every line of its sessions appends them to
// a buffer without making a string of each.
func AppendLine(b []byte, d Dir, text string) []byte {
	if d == Meta {
		return append(append(b, "# "...), metaEscaper.Replace(text)...)
	}
	if needsQuote(text) {
		return strconv.AppendQuote(append(b, byte(d), '!', ' '), text)
	}
	return append(append(b, byte(d), ':', ' '), text...)
}

func needsQuote(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// Err returns the first write error, if any.
func (tw *Writer) Err() error { return tw.err }

// Read parses a transcript file. Errors name the line number and what is wrong.
func Read(r io.Reader) (*Transcript, error) {
	t := &Transcript{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	num := 0
	inHeader := true
	for sc.Scan() {
		num++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if num == 1 && line != magic {
			return nil, fmt.Errorf("line 1: not a mailx transcript (expected %q)", magic)
		}
		if num == 1 || strings.TrimSpace(line) == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			text := strings.TrimSpace(strings.TrimPrefix(line, "#"))
			if inHeader {
				if err := t.Header.set(text); err != nil {
					return nil, fmt.Errorf("line %d: %w", num, err)
				}
				continue
			}
			t.Lines = append(t.Lines, Line{Dir: Meta, Text: text, Num: num})
			continue
		}
		if len(line) < 2 || (line[0] != 'C' && line[0] != 'S') || (line[1] != ':' && line[1] != '!') {
			return nil, fmt.Errorf("line %d: %q does not start with \"C: \", \"S: \" or \"#\"", num, clip(line))
		}
		inHeader = false
		text := strings.TrimPrefix(line[2:], " ")
		if line[1] == '!' {
			u, err := strconv.Unquote(text)
			if err != nil {
				return nil, fmt.Errorf("line %d: escaped line is not a valid quoted string: %v", num, err)
			}
			text = u
		}
		t.Lines = append(t.Lines, Line{Dir: Dir(line[0]), Text: text, Num: num})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", num+1, err)
	}
	if num == 0 {
		return nil, fmt.Errorf("line 1: empty file, not a mailx transcript")
	}
	return t, nil
}

func (h *Header) set(text string) error {
	k, v, ok := strings.Cut(text, ":")
	if !ok {
		h.Extra = append(h.Extra, [2]string{"comment", text})
		return nil
	}
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	switch k {
	case "protocol":
		h.Protocol = v
	case "host":
		h.Host = v
	case "port":
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			return fmt.Errorf("port %q is not a number from 0 to 65535", v)
		}
		h.Port = p
	case "started":
		ts, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return fmt.Errorf("started %q is not an RFC 3339 time such as 2026-11-22T10:00:00Z", v)
		}
		h.Started = ts
	case "tls":
		h.TLS = v
	case "session":
		h.Session = v
	default:
		h.Extra = append(h.Extra, [2]string{k, v})
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
