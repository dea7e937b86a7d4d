package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/fatih/color"

	"github.com/mailx-edu/mailx/proto/note"
)

// Tone colours a received line by what it means for the client.
type Tone int

const (
	// Neutral is a line with no verdict (a continuation, message text).
	Neutral Tone = iota
	// Positive is a success: SMTP 2xx, POP3 +OK, IMAP OK.
	Positive
	// Intermediate asks for more: SMTP 3xx, IMAP "+" continuation.
	Intermediate
	// Transient is a temporary failure: SMTP 4xx, IMAP NO.
	Transient
	// Negative is a permanent failure: SMTP 5xx, POP3 -ERR, IMAP BAD.
	Negative
)

// String names the tone for JSON output.
func (t Tone) String() string {
	return [...]string{"neutral", "positive", "intermediate", "transient", "negative"}[t]
}

// Options choose the look of a Renderer once, when it is built.
type Options struct {
	Color bool // ANSI colour; only when writing to a terminal
	JSON  bool // one JSON object per line instead of text
	Quiet bool // raw lines only: notes are dropped (warnings and errors stay)
	// Brief shows each note as its summary line only (no detail, no next
	// step, no reference), for students who have seen the basics. The
	// session shows one such line per reply. SetBrief changes it later.
	Brief bool
	// Width, if set, returns the terminal's width in columns; notes are
	// wrapped on word boundaries to fit it, continuation lines indented
	// under the text they continue. It is called for every note, so a
	// resized window is followed. Nil or a result under 20: no wrapping.
	Width func() int
}

// Renderer writes mailx output to one writer. It is safe for concurrent use:
// each call writes its whole block at once, so a server trace from many
// sessions never interleaves within a line.
type Renderer struct {
	out    *sharedWriter
	opts   Options
	theme  theme
	prefix string
}

type sharedWriter struct {
	mu    sync.Mutex
	w     io.Writer
	brief bool // Options.Brief, switched by SetBrief for every copy
}

type theme struct {
	heading, sent, label, dim, warn, err, ok    *color.Color
	positive, intermediate, transient, negative *color.Color
}

func newTheme(enabled bool) theme {
	mk := func(attrs ...color.Attribute) *color.Color {
		c := color.New(attrs...)
		if enabled {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return c
	}
	return theme{
		heading:      mk(color.Bold),
		sent:         mk(color.FgCyan, color.Bold),
		label:        mk(color.Faint),
		dim:          mk(color.Faint),
		warn:         mk(color.FgYellow),
		err:          mk(color.FgRed, color.Bold),
		ok:           mk(color.FgGreen),
		positive:     mk(color.FgGreen),
		intermediate: mk(color.FgBlue),
		transient:    mk(color.FgYellow),
		negative:     mk(color.FgRed),
	}
}

// New returns a Renderer that writes to w with the given options.
func New(w io.Writer, o Options) *Renderer {
	return &Renderer{out: &sharedWriter{w: w, brief: o.Brief}, opts: o, theme: newTheme(o.Color && !o.JSON)}
}

// SetBrief switches brief notes on or off (the REPL's \brief and \full),
// for this Renderer and every one made from it with WithPrefix.
func (r *Renderer) SetBrief(on bool) {
	r.out.mu.Lock()
	r.out.brief = on
	r.out.mu.Unlock()
}

// Brief reports whether notes are shown as one line each.
func (r *Renderer) Brief() bool {
	r.out.mu.Lock()
	defer r.out.mu.Unlock()
	return r.out.brief
}

// Width returns the width text should be wrapped at, or 0 for none.
func (r *Renderer) Width() int { return r.width() }

// width returns the width to wrap notes at, or 0 for none.
func (r *Renderer) width() int {
	if r.opts.Width == nil || r.opts.JSON {
		return 0
	}
	w := r.opts.Width() - len([]rune(r.prefix))
	if w < 20 {
		return 0
	}
	return w
}

// WithPrefix returns a Renderer that writes to the same place (sharing its
// lock) and starts every text line with prefix, such as a session id "[s3] ".
// In JSON mode the prefix is carried as the "session" field, without brackets.
func (r *Renderer) WithPrefix(prefix string) *Renderer {
	c := *r
	c.prefix = prefix
	return &c
}

// Options reports how this Renderer was built (Brief as it is now).
func (r *Renderer) Options() Options {
	o := r.opts
	o.Brief = r.Brief()
	return o
}

// JSONMode reports whether output is JSON lines.
func (r *Renderer) JSONMode() bool { return r.opts.JSON }

// Writer returns the underlying writer, for output that must pass through
// unchanged (a decoded attachment, a message body).
func (r *Renderer) Writer() io.Writer { return r.out.w }

func (r *Renderer) write(s string) {
	r.out.mu.Lock()
	defer r.out.mu.Unlock()
	io.WriteString(r.out.w, s)
}

// event is the JSON shape of one text-mode call.
type event struct {
	Type    string     `json:"type"`
	Session string     `json:"session,omitempty"`
	Line    string     `json:"line,omitempty"`
	Text    string     `json:"text,omitempty"`
	Tone    string     `json:"tone,omitempty"`
	Note    *note.Note `json:"note,omitempty"`
}

func (r *Renderer) emit(e event) {
	e.Session = strings.Trim(strings.TrimSpace(r.prefix), "[]")
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	r.write(string(b) + "\n")
}

// Heading starts a section: "== text".
func (r *Renderer) Heading(text string) {
	if r.opts.JSON {
		r.emit(event{Type: "heading", Text: text})
		return
	}
	r.write(r.prefix + r.theme.heading.Sprint("== "+text) + "\n")
}

// Sent shows a line the client put on the wire, without its CRLF: "C: line".
func (r *Renderer) Sent(line string) {
	if r.opts.JSON {
		r.emit(event{Type: "sent", Line: line})
		return
	}
	r.write(r.prefix + r.theme.sent.Sprint("C: "+Printable(line)) + "\n")
}

// Received shows a line that came from the server, without its CRLF,
// coloured by tone: "S: line".
func (r *Renderer) Received(line string, tone Tone) {
	if r.opts.JSON {
		r.emit(event{Type: "received", Line: line, Tone: tone.String()})
		return
	}
	c := r.theme.label
	switch tone {
	case Positive:
		c = r.theme.positive
	case Intermediate:
		c = r.theme.intermediate
	case Transient:
		c = r.theme.transient
	case Negative:
		c = r.theme.negative
	}
	r.write(r.prefix + c.Sprint("S: "+Printable(line)) + "\n")
}

// Note shows an explanation under the line it explains:
//
//	note: summary  [ref]
//	      detail
//	next: what to do
//
// Warning and error notes are labelled as such and are kept in quiet mode.
func (r *Renderer) Note(n note.Note) {
	if n.IsZero() {
		return
	}
	if r.opts.Quiet && n.Severity != note.Warning && n.Severity != note.Error {
		return
	}
	if r.opts.JSON {
		r.emit(event{Type: "note", Note: &n})
		return
	}
	label, c := "note", r.theme.dim
	switch n.Severity {
	case note.Warning:
		label, c = "warning", r.theme.warn
	case note.Error:
		label, c = "error", r.theme.err
	}
	width := r.width()
	var b strings.Builder
	line := func(lead, text string, c *color.Color) {
		for _, l := range Wrap(text, width, lead, strings.Repeat(" ", len(lead))) {
			b.WriteString(r.prefix + c.Sprint(strings.ReplaceAll(l, "\x00", " ")) + "\n")
		}
	}
	// Notes quote what servers and messages say: no control character or
	// invalid UTF-8 from them reaches the terminal.
	n.Summary, n.Detail, n.Next = Printable(n.Summary), printableLines(n.Detail), Printable(n.Next)
	head := n.Summary
	lead := "   " + label + ": "
	if r.Brief() {
		if width > 0 && runeLen(lead)+runeLen(head) > width {
			head = clipWords(head, width-runeLen(lead)-3) + "..."
		}
		line(lead, head, c)
		r.write(b.String())
		return
	}
	if n.Ref != "" {
		// A reference is never split across lines: its spaces are held
		// as NULs while wrapping (text shown here never contains a NUL:
		// Printable escapes it) and put back when written.
		head += "  [" + strings.ReplaceAll(n.Ref, " ", "\x00") + "]"
	}
	line(lead, head, c)
	for _, l := range DetailLines(n) {
		line("         ", l, c)
	}
	if n.Next != "" {
		line("   next: ", n.Next, r.theme.ok)
	}
	r.write(b.String())
}

func printableLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Printable(l)
	}
	return strings.Join(lines, "\n")
}

// DetailLines returns the lines of n.Detail that say something the summary
// does not already say: an RFC 3463 "detail 1: bad destination mailbox
// address" line under a summary that ends with the same words is dropped.
func DetailLines(n note.Note) []string {
	if n.Detail == "" {
		return nil
	}
	sum := strings.ToLower(n.Summary)
	var out []string
	for _, l := range strings.Split(strings.TrimRight(n.Detail, "\n"), "\n") {
		core := strings.ToLower(strings.TrimSpace(l))
		if label, rest, ok := strings.Cut(core, ": "); ok && len(label) <= 12 && len(rest) >= 12 {
			core = rest
		}
		if len(core) >= 12 && strings.Contains(sum, core) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// Wrap breaks text into lines of at most width columns on word boundaries:
// the first line starts with lead, the others with indent (a hanging
// indent, so that wrapped text lines up under the text it continues rather
// than falling back to column 0). A word longer than the room left is put
// on a line of its own and broken only if it alone is wider than the room.
// Width 0 or less does not wrap. Columns are counted in runes.
func Wrap(text string, width int, lead, indent string) []string {
	if width <= 0 || runeLen(lead)+runeLen(text) <= width {
		return []string{lead + text}
	}
	room := width - runeLen(indent)
	if room < 10 {
		return []string{lead + text}
	}
	var out []string
	cur, curLen := lead, runeLen(lead)
	empty := true
	for _, w := range strings.Fields(text) {
		wl := runeLen(w)
		if !empty && curLen+1+wl > width {
			out = append(out, cur)
			cur, curLen, empty = indent, runeLen(indent), true
		}
		for empty && curLen+wl > width {
			// A word wider than a whole line: break it where it must.
			rs := []rune(w)
			n := width - curLen
			if n < 1 {
				n = 1
			}
			out = append(out, cur+string(rs[:n]))
			w = string(rs[n:])
			wl = len(rs) - n
			cur, curLen = indent, runeLen(indent)
		}
		if !empty {
			cur += " "
			curLen++
		}
		cur += w
		curLen += wl
		empty = false
	}
	if !empty || len(out) == 0 {
		out = append(out, cur)
	}
	return out
}

func runeLen(s string) int { return len([]rune(s)) }

// clipWords returns the words of s that fit in n columns.
func clipWords(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	cut := string(rs[:max(n, 1)])
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,:;")
}

// Notef shows an informational note built from a format.
func (r *Renderer) Notef(format string, args ...any) {
	r.Note(note.Note{Summary: fmt.Sprintf(format, args...)})
}

// Warning shows a likely mistake, indented under the line it is about:
// "   warning: text".
func (r *Renderer) Warning(text string) {
	r.Note(note.Note{Summary: text, Severity: note.Warning})
}

// Error shows a failure at the left margin: "error: text". Commands report
// their final error through cmd, which writes "mailx: ..." to stderr; Error is
// for failures inside a session that the session survives or reports inline.
func (r *Renderer) Error(text string) {
	if r.opts.JSON {
		r.emit(event{Type: "error", Text: text})
		return
	}
	r.write(r.prefix + r.theme.err.Sprint("error: "+text) + "\n")
}

// Field shows one labelled value, aligned under a heading: "  key: value".
func (r *Renderer) Field(key, value string) {
	if r.opts.JSON {
		r.emit(event{Type: "field", Text: key, Line: value})
		return
	}
	r.write(r.prefix + "  " + r.theme.label.Sprint(key+":") + " " + value + "\n")
}

// Text shows a line of plain text as it is (a table row, a banner line).
func (r *Renderer) Text(line string) {
	if r.opts.JSON {
		r.emit(event{Type: "text", Text: line})
		return
	}
	r.write(r.prefix + line + "\n")
}

// Success shows a line that reports something done: "ok: text".
func (r *Renderer) Success(text string) {
	if r.opts.JSON {
		r.emit(event{Type: "success", Text: text})
		return
	}
	r.write(r.prefix + r.theme.ok.Sprint("ok: "+text) + "\n")
}

// Blank writes an empty line in text mode, nothing in JSON mode.
func (r *Renderer) Blank() {
	if !r.opts.JSON {
		r.write("\n")
	}
}

// JSON writes v as one line of JSON. Commands with a single structured result
// (mx lookup --json, queue list --json) call this instead of the text methods.
func (r *Renderer) JSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("render: encode json: %w", err)
	}
	r.write(string(b) + "\n")
	return nil
}

// JSONIndent writes v as indented JSON, for results a person may read too.
func (r *Renderer) JSONIndent(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("render: encode json: %w", err)
	}
	r.write(string(b) + "\n")
	return nil
}

// Duration formats a round-trip or delay the way mailx shows it everywhere:
// milliseconds below ten seconds, else rounded seconds.
func Duration(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	}
	return d.Round(time.Second).String()
}

// Printable returns line with control characters other than TAB shown as
// \xNN, so that a hostile server cannot move the cursor or recolour the
// student's terminal, and a stray CR is visible instead of overwriting text.
// Bytes that are not UTF-8 (a Latin-1 header, 8-bit junk) are shown as \xNN
// too, so the terminal never receives invalid UTF-8. Printable text,
// including UTF-8, passes through unchanged.
func Printable(line string) string {
	clean := utf8.ValidString(line)
	for i := 0; clean && i < len(line); i++ {
		if c := line[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			clean = false
		}
	}
	if clean {
		return line
	}
	var b strings.Builder
	for i := 0; i < len(line); {
		c := line[i]
		if (c < 0x20 && c != '\t') || c == 0x7f {
			fmt.Fprintf(&b, `\x%02X`, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(line[i:])
		if r == utf8.RuneError && n <= 1 || r >= 0x80 && r < 0xa0 {
			// Invalid UTF-8, or a C1 control character (U+0080-U+009F),
			// which some terminals obey as an escape sequence.
			for j := 0; j < n || j == 0; j++ {
				fmt.Fprintf(&b, `\x%02X`, line[i+j])
			}
			i += max(n, 1)
			continue
		}
		b.WriteString(line[i : i+n])
		i += n
	}
	return b.String()
}
