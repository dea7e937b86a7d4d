package explore

import (
	"context"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/note"
)

// Protocol describes one protocol to the engine. The engine owns the
// connection and the front end; the Protocol owns the session state and the
// explanations. A Protocol value serves one session: it is stateful, and the
// engine calls it from one goroutine at a time (in ModeIdle the reader and the
// input run concurrently, and the engine serialises the calls with a mutex).
//
// The engine drives it like this:
//
//	greeting := p.ReadResponse(wire)        // every protocol here greets first
//	p.Annotate(greeting)
//	for each line the student types:
//	    out := p.Prepare(line)              // transform (IMAP tag), warn, explain
//	    send out.Lines; if out.Await { r := p.ReadResponse(wire); p.Annotate(r) }
//	    if p.TLSReady(r) { handshake; p.Annotate of later responses continues }
//
// Replays call Observe instead of Prepare, with lines already in wire form.
type Protocol interface {
	// Name is "smtp", "pop3" or "imap": the transcript's protocol, the readline
	// history file's name and the prompt's prefix.
	Name() string

	// ReadResponse reads one complete response from r, exactly as it arrives:
	// SMTP reads "250-..." lines up to "250 ..."; POP3 reads one status line and,
	// when the command it answers is multi-line (RETR, LIST without argument,
	// CAPA ...) and the status is +OK, every line up to the lone "."; IMAP reads
	// untagged "*" lines (with each {n} literal read as exactly n octets through
	// r.ReadFull) until the tagged completion of the command sent, or a single
	// "+" continuation. It fills Lines, Status and Tone, and must stop at
	// r's limits rather than grow without bound. On error it returns what it
	// read so far (possibly nil) and the error; the engine shows the partial
	// lines.
	ReadResponse(r LineReader) (*Response, error)

	// Annotate explains a complete response in the session's current state and
	// then advances the state (SMTP's smtp.Next, POP3's AUTHORIZATION to
	// TRANSACTION ...). It sets r.Notes and, where it helps, r.Lines[i].Notes.
	Annotate(r *Response)

	// Prepare turns a line the student typed into what goes on the wire, with
	// the notes to show before it is sent (what the command does, warnings for
	// likely mistakes; the line is still sent as typed, mistakes included).
	// SMTP dot-stuffs message text in ModeData; IMAP adds a tag (a001 ...)
	// unless the student typed one. Prepare is called exactly once per line,
	// just before it is sent, so it records the command for ReadResponse and
	// Annotate.
	Prepare(line string) Outgoing

	// Observe is Prepare for a line already in wire form: a recorded
	// transcript's "C:" line being replayed, or a line a meta-command built
	// itself. It must not transform the line; it annotates it and records it.
	Observe(wire string) Outgoing

	// Mode says how the engine treats the next typed line and the server.
	Mode() Mode

	// Prompt is the prompt's text without the trailing "> ", showing the state:
	// "smtp:mail", "smtp:data", "pop3:transaction", "imap:selected".
	Prompt() string

	// Completions returns the words offered by tab completion now (commands
	// valid in the current state first, then the others).
	Completions() []string

	// Meta returns the meta-commands this protocol adds to the engine's own
	// (\help, \explain, \b64, \unb64, \tls, \quit): SMTP adds \auth and \send,
	// POP3 \apop, \auth and \view.
	Meta() []MetaCommand

	// Explain answers \explain TOPIC: a reply code, status or command.
	// ok is false when the protocol knows nothing about topic.
	Explain(topic string) (notes []note.Note, ok bool)

	// StartTLS returns the command that asks for a TLS upgrade ("STARTTLS",
	// "STLS"), as the student would type it, or "" when the protocol has none.
	// The engine sends it through Prepare for \tls and --starttls.
	StartTLS() string

	// TLSReady reports whether r, the response to the line just sent, is the
	// server's go-ahead for the TLS handshake (SMTP 220 to STARTTLS, POP3 +OK to
	// STLS, IMAP tagged OK to STARTTLS). The engine then upgrades the
	// connection and calls TLSDone.
	TLSReady(r *Response) bool

	// Quit is the command that ends the session politely ("QUIT", "LOGOUT"),
	// sent by \quit and on Ctrl-D when the session is still open.
	Quit() string

	// Ended reports whether the session is over: the server answered QUIT or
	// LOGOUT, said BYE or 421. The engine then stops reading input; a session
	// that Ended is one that "ran to QUIT" for exit codes.
	Ended() bool

	// TLSDone tells the protocol the handshake succeeded; the protocol resets
	// what RFC 3207/2595/3501 say is forgotten (SMTP: EHLO must be sent again)
	// and returns notes to show, such as "send EHLO again".
	TLSDone() []note.Note
}

// Mode says how the engine treats the next typed line.
type Mode int

const (
	// ModeCommand: each typed line is one command; the engine sends it and, if
	// Outgoing.Await, waits for its response (bounded by the response timeout)
	// before reading the next line. Blank typed lines are ignored.
	ModeCommand Mode = iota
	// ModeData: typed lines are message text (SMTP after 354). Blank lines
	// matter and are sent. Prepare decides which line ends the text (SMTP's
	// lone ".") by setting Await on it.
	ModeData
	// ModeIdle: the server may push responses at any time (IMAP IDLE). The
	// engine reads and shows them as they arrive while it waits for the next
	// typed line, with no response timeout; it leaves this mode when Mode
	// changes after a response. Ctrl-C sends Interrupter's line if the
	// Protocol implements it.
	ModeIdle
)

// String names the mode for the prompt and JSON.
func (m Mode) String() string {
	switch m {
	case ModeData:
		return "data"
	case ModeIdle:
		return "idle"
	}
	return "command"
}

// Interrupter is implemented by protocols that have a line to send when the
// student presses Ctrl-C in ModeIdle (IMAP: "DONE").
type Interrupter interface {
	Interrupt() (line string, ok bool)
}

// TLSAware is implemented by protocols whose advice depends on whether the
// connection is encrypted (AUTH over plain text). The engine calls SetTLS(true)
// at the start of an implicit-TLS session and after every STARTTLS upgrade.
type TLSAware interface {
	SetTLS(on bool)
}

// Outgoing is what Prepare or Observe decided about one typed line.
type Outgoing struct {
	// Lines go on the wire in order, each followed by CRLF. Usually one; empty
	// means send nothing (the notes explain why).
	Lines []string
	// Notes are shown before the lines are sent: explanations and warnings.
	Notes []note.Note
	// Await says the engine must read one response after sending: true for a
	// command, false for a line of SMTP message text other than the final ".".
	Await bool
}

// Response is one complete server response.
type Response struct {
	// Lines are the raw lines in the order received, each without its CRLF.
	// Literal data (IMAP {n}) is split at CRLF into lines marked Literal.
	Lines []ResponseLine
	// Status is the verdict token: SMTP "250", POP3 "+OK"/"-ERR", IMAP
	// "OK"/"NO"/"BAD"/"BYE" or "+" for a continuation request. Empty when the
	// response has no verdict (an IMAP untagged push in ModeIdle).
	Status string
	// Tone colours the verdict lines.
	Tone render.Tone
	// Notes explain the whole response; shown after its last line.
	Notes []note.Note
	// Payload is the response's data with the protocol's framing undone
	// (POP3's byte-stuffing removed, IMAP's literal), for meta-commands such
	// as \view. Empty when the response carries none.
	Payload string
	// Value is the protocol's own parsed form, for lessons' checks and
	// meta-commands: smtp.Reply for SMTP; the POP3 and IMAP adapters document
	// theirs.
	Value any
}

// ResponseLine is one raw line of a response.
type ResponseLine struct {
	Text    string      // exactly as received, without CRLF
	Literal bool        // part of literal or message data rather than protocol text
	Notes   []note.Note // explanations of this line, shown right under it
	// Hidden lines are recorded (Hook, --record) and kept in --json, but not
	// shown in text mode: the protocol summarised them in a note, as POP3 does
	// for the middle of a long message in an interactive session.
	Hidden bool
}

// Raw returns the response's lines as plain strings.
func (r *Response) Raw() []string {
	out := make([]string, len(r.Lines))
	for i, l := range r.Lines {
		out[i] = l.Text
	}
	return out
}

// AddLine appends a raw line.
func (r *Response) AddLine(text string, literal bool) {
	r.Lines = append(r.Lines, ResponseLine{Text: text, Literal: literal})
}

// MetaCommand is a backslash command such as \auth, run by the engine when
// the student types "\name args...". It is never sent to the server itself;
// Run may send lines through the Session.
type MetaCommand struct {
	Name    string // without the backslash: "auth"
	Usage   string // "\auth plain|login USER PASS"
	Summary string // one line for \help
	// Modes lists the modes in which the command makes sense; empty means
	// ModeCommand only.
	Modes []Mode
	Run   func(ctx context.Context, s *Session, args []string) error
}
