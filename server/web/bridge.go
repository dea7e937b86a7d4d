package web

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mailx-edu/mailx/proto/imap"
	"github.com/mailx-edu/mailx/proto/note"
	"github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// The bridge pane: every HTTP request the browser makes is an Exchange, and
// under it go the IMAP and SMTP lines the bridge exchanged to answer it,
// each with the notes `mailx imap talk` and `mailx smtp talk` give. The same
// lines go to the trace hook (the serve trace and DATA/transcripts).

// Line is one protocol line the bridge sent or received.
type Line struct {
	Conn  string      `json:"conn"`  // "imap#1", "smtp#2": which of the bridge's connections
	Proto string      `json:"proto"` // "imap", "smtp" or "http"
	Dir   string      `json:"dir"`   // "C" (the bridge sent it), "S" (the server did), "#" an event
	Text  string      `json:"text"`
	Notes []note.Note `json:"notes,omitempty"`
}

// Exchange is one HTTP request and the lines it caused.
type Exchange struct {
	ID     int64  `json:"id"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status"` // 0 while it is still being answered
	// Stream marks the page's live-update stream (text/event-stream), open
	// for as long as the page: its lines are the IMAP IDLE behind it.
	Stream bool      `json:"stream,omitempty"`
	Millis float64   `json:"ms"`
	Start  time.Time `json:"start"`
	Lines  []Line    `json:"lines"`
	// Dropped counts lines left out to keep one exchange bounded.
	Dropped int `json:"dropped,omitempty"`
}

const (
	keepExchanges   = 60  // per web session, for the pane
	maxLinesPerExch = 400 // a live-update stream runs for hours
)

// bridgeLog is one web session's record.
type bridgeLog struct {
	session string // "w3": the trace's session id
	hook    transcript.Hook
	notify  func() // tells the session's event streams that the pane changed

	mu    sync.Mutex
	next  int64
	ring  []*Exchange
	conns int
}

func newBridgeLog(session string, hook transcript.Hook) *bridgeLog {
	return &bridgeLog{session: session, hook: hook}
}

// begin opens an exchange for an HTTP request.
func (b *bridgeLog) begin(method, path string) *Exchange { return b.open(method, path, false) }

// beginStream opens an exchange for a request answered with a stream of
// events (live updates), marked so before snapshot can see it.
func (b *bridgeLog) beginStream(method, path string) *Exchange { return b.open(method, path, true) }

func (b *bridgeLog) open(method, path string, stream bool) *Exchange {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	ex := &Exchange{ID: b.next, Method: method, Path: path, Start: time.Now(), Lines: []Line{}, Stream: stream}
	b.ring = append(b.ring, ex)
	if len(b.ring) > keepExchanges {
		b.ring = b.ring[len(b.ring)-keepExchanges:]
	}
	return ex
}

// end records the status and time of an exchange and reports it to the trace.
func (b *bridgeLog) end(ex *Exchange, status int) {
	b.mu.Lock()
	ex.Status = status
	ex.Millis = float64(time.Since(ex.Start).Microseconds()) / 1000
	method, path, ms := ex.Method, ex.Path, ex.Millis
	b.mu.Unlock()
	b.event("http", transcript.Meta, fmt.Sprintf("http %s %s -> %d (%.1f ms)", method, path, status, ms), nil)
	if b.notify != nil {
		b.notify()
	}
}

// add appends a line to ex (under the log's lock) and reports it.
func (b *bridgeLog) add(ex *Exchange, l Line) {
	b.mu.Lock()
	if ex != nil {
		if len(ex.Lines) < maxLinesPerExch {
			ex.Lines = append(ex.Lines, l)
		} else {
			ex.Dropped++
		}
	}
	b.mu.Unlock()
	b.event(l.Proto, transcript.Dir(l.Dir[0]), l.Text, l.Notes)
}

func (b *bridgeLog) event(proto string, d transcript.Dir, text string, notes []note.Note) {
	if b.hook == nil {
		return
	}
	b.hook(transcript.Event{Time: time.Now(), Session: b.session, Proto: proto, Dir: d, Line: text, Notes: notes})
}

// snapshot returns copies of the exchanges after id, oldest first.
func (b *bridgeLog) snapshot(after int64) []Exchange {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Exchange
	for _, ex := range b.ring {
		if ex.ID > after {
			c := *ex
			c.Lines = append([]Line(nil), ex.Lines...)
			out = append(out, c)
		}
	}
	return out
}

// connID numbers the bridge's connections in this session: "imap#2".
func (b *bridgeLog) connID(proto string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.conns++
	return fmt.Sprintf("%s#%d", proto, b.conns)
}

// wire is one connection's recorder: it explains each line in the state the
// session is in, hides passwords, and files the line under the exchange the
// connection is working for.
type wire struct {
	log   *bridgeLog
	proto string
	id    string

	mu  sync.Mutex
	cur *Exchange

	// IMAP state, advanced by tagged completions.
	istate  imap.State
	pending map[string]imap.ParsedCommand
	last    imap.ParsedCommand
	// SMTP state.
	ann       *smtp.Annotator
	reply     smtp.ReplyBuilder
	dataShown int
	dataMore  int
}

func newWire(log *bridgeLog, proto string) *wire {
	w := &wire{log: log, proto: proto, id: log.connID(proto), pending: map[string]imap.ParsedCommand{}}
	if proto == "smtp" {
		w.ann = smtp.NewAnnotator()
	}
	return w
}

// use files the connection's next lines under ex.
func (w *wire) use(ex *Exchange) {
	w.mu.Lock()
	w.cur = ex
	w.mu.Unlock()
}

// meta records an event on this connection ("connected to ...").
func (w *wire) meta(text string) {
	w.mu.Lock()
	ex := w.cur
	w.mu.Unlock()
	w.log.add(ex, Line{Conn: w.id, Proto: w.proto, Dir: "#", Text: w.id + " " + text})
}

// line is the tap's emit function.
func (w *wire) line(d transcript.Dir, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var notes []note.Note
	if w.proto == "imap" {
		text, notes = w.imapLine(d, text)
	} else {
		var skip bool
		text, notes, skip = w.smtpLine(d, text)
		if skip {
			return
		}
	}
	w.log.add(w.cur, Line{Conn: w.id, Proto: w.proto, Dir: d.String(), Text: text, Notes: notes})
}

func (w *wire) imapLine(d transcript.Dir, text string) (string, []note.Note) {
	if d == transcript.Client {
		p := imap.ParseCommand(text)
		if p.Tag != "" {
			w.pending[p.Tag] = p
		}
		w.last = p
		notes := imap.ExplainCommand(p, w.istate)
		return redactIMAP(text), notes
	}
	r := imap.Parse(text)
	cmd := w.last
	if r.Tag != "" && r.Tag != "*" && r.Tag != "+" {
		if c, ok := w.pending[r.Tag]; ok {
			cmd = c
		}
	}
	notes := imap.ExplainResponse(r, w.istate, cmd)
	if r.IsStatus() && r.Tag != "" && r.Tag != "*" {
		if c, ok := w.pending[r.Tag]; ok {
			w.istate = imap.Next(w.istate, c.Name, r.Status)
			delete(w.pending, r.Tag)
		}
	}
	return text, notes
}

// dataShownMax is how many lines of a message's text the pane shows in
// DATA; the rest are counted. The whole message is in the raw tab.
const dataShownMax = 12

func (w *wire) smtpLine(d transcript.Dir, text string) (string, []note.Note, bool) {
	if d == transcript.Server {
		done, err := w.reply.Add(text)
		if err != nil {
			return text, []note.Note{{Summary: "not an SMTP reply line: " + err.Error(), Severity: note.Warning}}, false
		}
		if !done {
			return text, nil, false
		}
		r := w.reply.Reply()
		w.reply = smtp.ReplyBuilder{}
		return text, w.ann.Server(r), false
	}
	if w.ann.State() == smtp.InData {
		notes := w.ann.Client(text)
		if text == "." {
			if w.dataMore > 0 {
				w.log.add(w.cur, Line{Conn: w.id, Proto: w.proto, Dir: "#", Text: fmt.Sprintf("%s … %d more lines of message text (the raw tab shows them)", w.id, w.dataMore)})
			}
			w.dataShown, w.dataMore = 0, 0
			return text, notes, false
		}
		if w.dataShown >= dataShownMax {
			w.dataMore++
			return "", nil, true
		}
		w.dataShown++
		return text, notes, false
	}
	if w.ann.InAuth() {
		w.ann.Client("")
		return "********", []note.Note{{Summary: "the authentication answer (base64 of the user name and password); the bridge hides it", Ref: "RFC 4954 §4"}}, false
	}
	notes := w.ann.Client(text)
	if verb, rest := smtp.Verb(text); verb == "AUTH" {
		if f := strings.Fields(rest); len(f) > 1 {
			text = "AUTH " + f[0] + " ********"
			notes = append(notes, note.Note{Summary: "the initial response carries the user name and password in base64 (RFC 4954 §4); the bridge hides it"})
		}
	}
	return text, notes, false
}

// tlsStarted tells the SMTP annotator the session is now encrypted.
func (w *wire) tlsStarted() {
	w.mu.Lock()
	if w.ann != nil {
		w.ann.SetTLS(true)
	}
	w.mu.Unlock()
}
