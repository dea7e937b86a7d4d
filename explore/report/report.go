// Package report turns an explored session into a file for a lab report:
// one self-contained HTML page that looks like the terminal did (the same
// colours, the C: and S: lines, every note), or a Markdown file with the
// raw lines in a fenced block and the notes as a list.
//
// Sessions reach it as transcript events: `mailx smtp talk --report
// FILE`, `pop3 talk` and `imap talk` collect them from the session's Hook
// with a Collector; `mailx transcript export` gets them by replaying a
// recorded transcript through the explorer, so the notes are the same.
// Lessons can do the same with Collector and WriteFile.
//
// What it is not: it does no network I/O and keeps no state between
// sessions. The HTML has no script and loads nothing: it opens the same way
// from a USB stick, an e-mail attachment or a learning platform.
package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
)

// Header says what the session was: it heads the report.
type Header struct {
	// Title is the report's title, e.g. "SMTP session with 127.0.0.1:2525".
	Title    string
	Protocol string // "smtp", "pop3", "imap"
	Server   string // HOST:PORT as the student gave it
	TLS      string // "none", "implicit", "starttls"; empty: not said
	Started  time.Time
	Ended    time.Time
	Version  string // mailx's version
	// Command is the command line that ran the session, if known.
	Command string
}

// Session is one session to report on.
type Session struct {
	Header Header
	Events []transcript.Event
}

// Collector gathers a session's events through its Hook. It is safe for
// concurrent use (IMAP IDLE reports from a second goroutine).
type Collector struct {
	mu     sync.Mutex
	events []transcript.Event
}

// MaxEvents bounds what a Collector keeps: a session that retrieves a huge
// mailbox must not make the report, or mailx, grow without end. The lines
// past the bound are counted and the report says so.
const MaxEvents = 200000

// Hook records one event; pass it as explore.Options.Hook (chain it with
// another hook by calling both).
func (c *Collector) Hook(e transcript.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.events) >= MaxEvents {
		if n := len(c.events) - 1; c.events[n].Dir == transcript.Meta && strings.HasPrefix(c.events[n].Line, dropped) {
			var k int
			fmt.Sscanf(c.events[n].Line[len(dropped):], "%d", &k)
			c.events[n].Line = fmt.Sprintf("%s%d lines", dropped, k+1)
			return
		}
		c.events = append(c.events, transcript.Event{Time: e.Time, Dir: transcript.Meta, Line: dropped + "1 lines"})
		return
	}
	c.events = append(c.events, e)
}

const dropped = "the report stops here: it would be too long; left out: "

// Events returns the events collected so far.
func (c *Collector) Events() []transcript.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]transcript.Event(nil), c.events...)
}

// Format returns "html" or "md" for a report file name, by its extension,
// or an error saying which extensions are understood.
func Format(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		return "html", nil
	case ".md", ".markdown":
		return "md", nil
	}
	return "", fmt.Errorf("report: %q: the file name must end in .html (a web page) or .md (Markdown)", path)
}

// Write writes s in the format ("html" or "md"), with passwords hidden
// (see Redact).
func Write(w io.Writer, format string, s Session) error {
	s.Events = Redact(s.Events)
	switch format {
	case "html":
		return WriteHTML(w, s)
	case "md":
		return WriteMarkdown(w, s)
	}
	return fmt.Errorf("report: unknown format %q (html or md)", format)
}

// WriteFile writes s to path in the format its extension names. The file
// appears whole or not at all: it is written beside path and renamed.
func WriteFile(path string, s Session) error {
	format, err := Format(path)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := Write(&buf, format, s); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err = tmp.Write(buf.Bytes())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// title returns the header's title, or one made from its fields.
func (h Header) title() string {
	if h.Title != "" {
		return h.Title
	}
	p := strings.ToUpper(h.Protocol)
	if p == "" {
		p = "Mail"
	}
	if h.Server != "" {
		return p + " session with " + h.Server
	}
	return p + " session"
}

// fields returns the header's labelled values, in order, leaving out the
// empty ones.
func (h Header) fields() [][2]string {
	var out [][2]string
	add := func(k, v string) {
		if v != "" {
			out = append(out, [2]string{k, v})
		}
	}
	if !h.Started.IsZero() {
		add("Date", h.Started.Format("Mon, 2 Jan 2006 15:04:05 -0700"))
	}
	if !h.Started.IsZero() && !h.Ended.IsZero() && h.Ended.After(h.Started) {
		add("Duration", h.Ended.Sub(h.Started).Round(time.Millisecond).String())
	}
	add("Server", h.Server)
	add("Protocol", strings.ToUpper(h.Protocol))
	add("TLS", h.TLS)
	add("Command", h.Command)
	v := h.Version
	if v == "" {
		v = "dev"
	}
	add("mailx", v)
	return out
}

// dirLabel is the prefix a line has on screen.
func dirLabel(d transcript.Dir) string {
	switch d {
	case transcript.Client:
		return "C: "
	case transcript.Server:
		return "S: "
	}
	return "# "
}
