package explore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/note"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// Input supplies the student's lines: readline (repl.go), a script, or a
// lesson's runner.
type Input interface {
	// ReadLine returns the next line without its line ending, showing prompt
	// first when interactive. It returns io.EOF when the input ends and
	// ErrInterrupt when the student pressed Ctrl-C.
	ReadLine(prompt string) (string, error)
	// Interactive reports whether a person types the lines: then the typed
	// line is already on screen and pauses make sense.
	Interactive() bool
}

// ErrInterrupt is returned by Input.ReadLine on Ctrl-C.
var ErrInterrupt = errors.New("interrupted")

// Completer is implemented by inputs that offer tab completion; the engine
// gives them a function returning the words valid now.
type Completer interface {
	SetCompleter(words func() []string)
}

// Exchange is one step of a session as lessons and tests observe it: the
// lines sent (empty for the greeting) and the response they got.
type Exchange struct {
	Sent     []string
	Notes    []note.Note // notes on what was sent
	Response *Response   // nil when nothing was awaited
}

// Options configure a Session.
type Options struct {
	Protocol Protocol
	Render   *render.Renderer
	Input    Input
	// Hook receives every line sent and received, and meta events (TLS), as
	// transcript events; --record and lessons use it.
	Hook transcript.Hook
	// OnExchange is called after each response with the step that led to it.
	OnExchange func(Exchange)
	// ResponseTimeout bounds the wait for each response (not in ModeIdle);
	// 0 means 60 seconds.
	ResponseTimeout time.Duration
	Limits          Limits
	// Now is the clock, for certificate validity and event times (tests pin it).
	Now func() time.Time
	// Automatic says a program types the lines, not a person (mailx smtp
	// send): notes then leave out what to type next, which would tell the
	// user to do what the program is already doing.
	Automatic bool
}

// Session is one annotated protocol session over a connection.
type Session struct {
	opts  Options
	p     Protocol
	r     *render.Renderer
	conn  *Conn
	wire  *Wire
	mu    sync.Mutex // serialises Protocol calls in ModeIdle
	metas map[string]MetaCommand
	order []MetaCommand

	greeting *Response
	last     *Response
	failures int // 4xx/5xx, -ERR, NO/BAD responses seen
	idleDone chan struct{}
	idleErr  error
	// pendingTLS: a replayed response was a STARTTLS go-ahead, and the
	// recorded "tls:" event that follows completes the upgrade.
	pendingTLS bool
}

// NewSession wraps an open connection. Run starts it.
func NewSession(c *Conn, o Options) *Session {
	if o.ResponseTimeout <= 0 {
		o.ResponseTimeout = 60 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Limits = o.Limits.withDefaults()
	s := &Session{opts: o, p: o.Protocol, r: o.Render, conn: c, metas: map[string]MetaCommand{}}
	if c != nil {
		s.wire = NewWire(c, o.Limits)
		if ta, ok := o.Protocol.(TLSAware); ok && c.TLSState != nil {
			ta.SetTLS(true)
		}
	}
	for _, m := range append(builtinMeta(), o.Protocol.Meta()...) {
		s.metas[m.Name] = m
		s.order = append(s.order, m)
	}
	if comp, ok := o.Input.(Completer); ok {
		comp.SetCompleter(s.completions)
	}
	return s
}

// Session errors that cmd turns into exit codes.
var (
	// ErrServerClosed: the server closed the connection before the session
	// ended with QUIT.
	ErrServerClosed = errors.New("the server closed the connection")
	// ErrInputEnded: the script or input ended before the session was over.
	ErrInputEnded = errors.New("the input ended before the session was over")
)

// SilentError reports a server that did not answer in time.
type SilentError struct{ After time.Duration }

func (e *SilentError) Error() string {
	return fmt.Sprintf("the server sent nothing for %s", e.After)
}

// Render returns the session's renderer, for meta-commands.
func (s *Session) Render() *render.Renderer { return s.r }

// Protocol returns the session's protocol.
func (s *Session) Protocol() Protocol { return s.p }

// Conn returns the connection (nil in a replay).
func (s *Session) Conn() *Conn { return s.conn }

// Greeting returns the server's first response (POP3's APOP needs its
// timestamp).
func (s *Session) Greeting() *Response { return s.greeting }

// Last returns the latest response.
func (s *Session) Last() *Response { return s.last }

// Failures counts negative responses (4xx/5xx, -ERR, NO, BAD) so far, for --strict.
func (s *Session) Failures() int { return s.failures }

// Ended reports whether the session ran to its end (QUIT answered).
func (s *Session) Ended() bool { return s.p.Ended() }

// Run reads the greeting, then sends each input line and shows each response
// until the session ends, the input ends, or the connection fails.
func (s *Session) Run(ctx context.Context) error {
	if s.greeting == nil {
		if _, err := s.Start(ctx); err != nil {
			return err
		}
	}
	for !s.p.Ended() {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := s.opts.Input.ReadLine(s.prompt())
		if errors.Is(err, ErrInterrupt) {
			if err := s.interrupt(ctx); err != nil {
				return err
			}
			continue
		}
		if errors.Is(err, io.EOF) {
			return s.waitIdle(ErrInputEnded)
		}
		if err != nil {
			return err
		}
		if err := s.Line(ctx, line); err != nil {
			return err
		}
	}
	return nil
}

// Start reads and shows the server's greeting. Run calls it; programs that
// drive a session step by step with Exchange (mailx smtp send, lessons) call
// it first themselves.
func (s *Session) Start(ctx context.Context) (*Response, error) {
	resp, err := s.read(ctx)
	if err != nil {
		return resp, err
	}
	s.greeting = resp
	s.exchanged(Exchange{Response: resp})
	return resp, s.afterResponse(ctx, resp)
}

func (s *Session) prompt() string { return s.proto(func() string { return s.p.Prompt() }) + "> " }

func (s *Session) proto(f func() string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return f()
}

func (s *Session) mode() Mode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p.Mode()
}

// Line handles one typed line: a meta-command, or a line for the server.
func (s *Session) Line(ctx context.Context, line string) error {
	mode := s.mode()
	if name, args, ok := metaCall(line); ok && mode != ModeData || ok && s.metaAllowed(name, mode) {
		return s.runMeta(ctx, name, args)
	}
	if mode == ModeCommand && strings.TrimSpace(line) == "" {
		return nil
	}
	s.mu.Lock()
	out := s.p.Prepare(line)
	s.mu.Unlock()
	_, err := s.Send(ctx, out)
	return err
}

// Exchange sends a line as if typed (through Prepare) and returns the
// response, if one was awaited.
func (s *Session) Exchange(ctx context.Context, line string) (*Response, error) {
	s.mu.Lock()
	out := s.p.Prepare(line)
	s.mu.Unlock()
	return s.Send(ctx, out)
}

// SendWire sends a line already in wire form (through Observe), such as a
// base64 string a meta-command computed, and returns the response if awaited.
func (s *Session) SendWire(ctx context.Context, wire string) (*Response, error) {
	s.mu.Lock()
	out := s.p.Observe(wire)
	s.mu.Unlock()
	return s.Send(ctx, out)
}

// Send shows and sends what Prepare decided, then reads, shows and returns
// the response when out.Await. In ModeIdle the background reader shows it.
func (s *Session) Send(ctx context.Context, out Outgoing) (*Response, error) {
	for i, l := range out.Lines {
		var notes []note.Note
		if i == len(out.Lines)-1 {
			notes = out.Notes
		}
		s.showSent(l, notes)
	}
	if len(out.Lines) == 0 {
		for _, n := range out.Notes {
			s.r.Note(n)
		}
		return nil, nil
	}
	if s.conn == nil {
		return nil, errors.New("not connected")
	}
	var b strings.Builder
	for _, l := range out.Lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	s.conn.SetWriteDeadline(time.Now().Add(s.opts.ResponseTimeout))
	if _, err := io.WriteString(s.conn, b.String()); err != nil {
		s.r.Error("could not send: " + err.Error())
		return nil, &ConnError{Op: "write", Addr: s.conn.Addr(), Err: err}
	}
	if s.idleDone != nil {
		// The IDLE reader shows what comes back; wait for it to leave IDLE
		// when this line ends it.
		if s.mode() != ModeIdle || isIdleEnd(out) {
			return nil, s.waitIdle(nil)
		}
		return nil, nil
	}
	if !out.Await {
		return nil, nil
	}
	resp, err := s.read(ctx)
	if err != nil {
		return resp, err
	}
	s.exchanged(Exchange{Sent: out.Lines, Notes: out.Notes, Response: resp})
	return resp, s.afterResponse(ctx, resp)
}

func isIdleEnd(out Outgoing) bool { return out.Await }

// read reads, annotates and shows one response.
func (s *Session) read(ctx context.Context) (*Response, error) {
	if s.mode() != ModeIdle {
		s.conn.SetReadDeadline(time.Now().Add(s.opts.ResponseTimeout))
	} else {
		s.conn.SetReadDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { s.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	resp, err := s.p.ReadResponse(s.wire)
	if resp != nil && err == nil {
		s.mu.Lock()
		s.p.Annotate(resp)
		s.mu.Unlock()
	}
	if resp != nil {
		s.showResponse(resp)
		if s.wire.BareLF() {
			s.r.Warning("the server ended a line with LF alone instead of CRLF (RFC 5321 §2.3.8 forbids it)")
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return resp, ctx.Err()
		}
		return resp, s.readError(err)
	}
	s.last = resp
	if isFailure(resp) {
		s.failures++
	}
	return resp, nil
}

func isFailure(r *Response) bool {
	return r.Tone == render.Transient || r.Tone == render.Negative
}

func (s *Session) readError(err error) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err):
		s.r.Error(fmt.Sprintf("no reply: the server has been silent for %s", s.opts.ResponseTimeout))
		s.r.Note(note.Note{
			Summary: "a server that does not answer is waiting for something, or is stuck",
			Detail:  "In DATA mode it waits for the line with only \".\"; after a command it should reply within seconds.\nSome servers delay the greeting on purpose to catch spam software that talks too early.",
			Next:    "check the last line you sent; --response-timeout sets how long mailx waits",
		})
		return &SilentError{After: s.opts.ResponseTimeout}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET):
		s.r.Error("the server closed the connection")
		return ErrServerClosed
	}
	s.r.Error(err.Error())
	var ne net.Error
	var alert tls.AlertError
	var rec tls.RecordHeaderError
	if errors.As(err, &ne) || errors.As(err, &alert) || errors.As(err, &rec) || errors.Is(err, syscall.ECONNABORTED) {
		return &ConnError{Op: "read", Addr: s.conn.Addr(), Err: err}
	}
	// Not the network: the protocol's reader refused what arrived.
	return &ProtocolError{Proto: s.p.Name(), Addr: s.conn.Addr(), Greeting: s.greeting == nil, Err: err}
}

func (s *Session) afterResponse(ctx context.Context, resp *Response) error {
	s.mu.Lock()
	ready := s.p.TLSReady(resp)
	mode := s.p.Mode()
	s.mu.Unlock()
	if ready {
		return s.upgrade(ctx)
	}
	if mode == ModeIdle && s.idleDone == nil {
		s.startIdle(ctx)
	}
	return nil
}

// upgrade performs the TLS handshake after the server's go-ahead.
func (s *Session) upgrade(ctx context.Context) error {
	if n := s.wire.Buffered(); n > 0 {
		s.r.Error(fmt.Sprintf("the server sent %d more octets before the TLS handshake; refusing to upgrade", n))
		s.r.Note(note.Note{Summary: "data sent in plain text before TLS would look as if it came encrypted: the STARTTLS injection attack (CVE-2011-0411)", Severity: note.Error})
		return &ConnError{Op: "tls", Addr: s.conn.Addr(), Err: errors.New("plaintext data after the STARTTLS go-ahead")}
	}
	if err := s.conn.StartTLS(ctx); err != nil {
		return err
	}
	s.wire = NewWire(s.conn, s.opts.Limits)
	s.meta("tls: " + TLSSummary(*s.conn.TLSState))
	for _, n := range s.conn.TLSNotes(s.opts.Now()) {
		s.r.Note(n)
	}
	s.tlsDone()
	return nil
}

// tlsDone tells the protocol that the connection is now encrypted (a live
// handshake, or a "tls:" event in a replay) and shows what it says about
// that.
func (s *Session) tlsDone() {
	s.mu.Lock()
	if ta, ok := s.p.(TLSAware); ok {
		ta.SetTLS(true)
	}
	notes := s.p.TLSDone()
	s.mu.Unlock()
	for _, n := range notes {
		s.r.Note(n)
	}
}

// StartTLS sends the protocol's STARTTLS command and upgrades on success.
func (s *Session) StartTLS(ctx context.Context) error {
	cmd := s.p.StartTLS()
	if cmd == "" {
		return fmt.Errorf("%s has no STARTTLS command", s.p.Name())
	}
	if s.conn.TLSState != nil {
		s.r.Warning("this connection already uses TLS")
		return nil
	}
	resp, err := s.Exchange(ctx, cmd)
	if err != nil {
		return err
	}
	if s.conn.TLSState == nil && resp != nil {
		s.r.Warning("the server did not agree to STARTTLS; the session continues in plain text")
	}
	return nil
}

// startIdle starts the background reader for ModeIdle.
func (s *Session) startIdle(ctx context.Context) {
	done := make(chan struct{})
	s.idleDone = done
	go func() {
		defer close(done)
		for s.mode() == ModeIdle {
			resp, err := s.read(ctx)
			if err != nil {
				s.idleErr = err
				return
			}
			s.exchanged(Exchange{Response: resp})
		}
	}()
}

func (s *Session) waitIdle(otherwise error) error {
	if s.idleDone == nil {
		return otherwise
	}
	<-s.idleDone
	s.idleDone = nil
	if s.idleErr != nil {
		return s.idleErr
	}
	return otherwise
}

func (s *Session) interrupt(ctx context.Context) error {
	if s.mode() == ModeIdle {
		if in, ok := s.p.(Interrupter); ok {
			if line, ok := in.Interrupt(); ok {
				return s.Line(ctx, line)
			}
		}
	}
	s.r.Notef("Ctrl-C: type \\quit to end the session, or Ctrl-D")
	return nil
}

func (s *Session) exchanged(e Exchange) {
	if s.opts.OnExchange != nil {
		s.opts.OnExchange(e)
	}
}

// jsonLine is the --json form of one transcript line.
type jsonLine struct {
	Dir   transcript.Dir `json:"dir"`
	Line  string         `json:"line"`
	Code  string         `json:"code,omitempty"`
	Notes []note.Note    `json:"notes,omitempty"`
}

func (s *Session) showSent(line string, notes []note.Note) {
	s.hook(transcript.Client, line, notes)
	if s.r.JSONMode() {
		s.r.JSON(jsonLine{Dir: transcript.Client, Line: line, Notes: s.visible(notes)})
		return
	}
	s.r.Sent(line)
	for _, n := range s.shown(notes, false) {
		s.r.Note(n)
	}
}

// shown picks the notes to show in text mode. With brief notes (--brief,
// \brief) a reply keeps its first explanation, one line, and a sent line
// none; warnings and errors always show.
func (s *Session) shown(notes []note.Note, reply bool) []note.Note {
	if s.opts.Automatic {
		out := make([]note.Note, len(notes))
		for i, n := range notes {
			n.Next = ""
			out[i] = n
		}
		notes = out
	}
	if !s.r.Brief() {
		return notes
	}
	var out []note.Note
	for _, n := range notes {
		if n.Severity == note.Warning || n.Severity == note.Error || reply {
			out = append(out, n)
			if n.Severity != note.Warning && n.Severity != note.Error {
				reply = false
			}
		}
	}
	return out
}

func (s *Session) showResponse(resp *Response) {
	for i, l := range resp.Lines {
		notes := l.Notes
		if i == len(resp.Lines)-1 {
			notes = append(append([]note.Note(nil), notes...), resp.Notes...)
		}
		tone := resp.Tone
		if l.Literal {
			tone = render.Neutral
		}
		s.hookTone(transcript.Server, l.Text, notes, tone.String())
		if s.r.JSONMode() {
			s.r.JSON(jsonLine{Dir: transcript.Server, Line: l.Text, Code: resp.Status, Notes: s.visible(notes)})
			continue
		}
		if l.Hidden && i < len(resp.Lines)-1 {
			continue
		}
		s.r.Received(l.Text, tone)
		for _, n := range s.shown(notes, i == len(resp.Lines)-1) {
			s.r.Note(n)
		}
	}
}

// visible drops informational notes in quiet mode, as render.Note does.
func (s *Session) visible(notes []note.Note) []note.Note {
	if !s.r.Options().Quiet {
		return notes
	}
	var out []note.Note
	for _, n := range notes {
		if n.Severity == note.Warning || n.Severity == note.Error {
			out = append(out, n)
		}
	}
	return out
}

func (s *Session) meta(text string) {
	s.hook(transcript.Meta, text, nil)
	if s.r.JSONMode() {
		s.r.JSON(jsonLine{Dir: transcript.Meta, Line: text})
	}
}

func (s *Session) hook(d transcript.Dir, line string, notes []note.Note) {
	s.hookTone(d, line, notes, "")
}

func (s *Session) hookTone(d transcript.Dir, line string, notes []note.Note, tone string) {
	if s.opts.Hook == nil {
		return
	}
	s.opts.Hook(transcript.Event{Time: s.opts.Now(), Proto: s.p.Name(), Dir: d, Line: line, Notes: notes, Tone: tone})
}

func (s *Session) completions() []string {
	s.mu.Lock()
	words := s.p.Completions()
	s.mu.Unlock()
	for _, m := range s.order {
		words = append(words, `\`+m.Name)
	}
	return words
}
