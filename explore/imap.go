package explore

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/imap"
	"github.com/mailx-edu/mailx/proto/note"
)

// IMAP is the explorer's IMAP protocol: proto/imap's state table, reader and
// explanations connected to the engine. It adds tags (a001 ...) to typed
// commands, sends literals in both forms (waiting for "+", or {n+} when the
// server offers LITERAL+), and runs IDLE in the engine's ModeIdle.
//
// Response.Value holds the []imap.Response that make up one engine response:
// the untagged responses and then the tagged completion (or the "+"
// continuation) of the command sent. Response.Payload holds the literals.
type IMAP struct {
	// mu guards the fields ReadResponse reads: in IDLE the engine reads
	// pushed responses in the background while the student types.
	mu sync.Mutex

	state   imap.State
	tags    imap.Tagger
	pending imap.ParsedCommand // the command awaiting its completion
	waiting bool               // pending is set
	greeted bool
	caps    string // the latest capability list the server gave
	idle    bool   // IDLE accepted with "+": updates arrive unasked
	done    bool   // DONE sent, the tagged OK of IDLE is due
	inAuth  bool   // an AUTHENTICATE challenge is open
	ended   bool
	lastOK  string // name of the command whose tagged OK came last
	tls     bool   // the connection is encrypted: LOGIN's password is safe

	// A literal the client is sending: litLeft octets still to come; after
	// it, litRest means the typed line continues the command line.
	litActive bool
	litLeft   int64
	litRest   bool
}

// NewIMAP returns the IMAP protocol for one session.
func NewIMAP() *IMAP { return &IMAP{} }

// Name implements Protocol.
func (p *IMAP) Name() string { return "imap" }

// State returns the IMAP session state.
func (p *IMAP) State() imap.State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// Capabilities returns the latest capability list the server sent.
func (p *IMAP) Capabilities() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.caps
}

// ReadResponse implements Protocol. Outside IDLE it reads untagged
// responses until the tagged completion of the command sent, or a "+"
// continuation; the greeting and, in IDLE, each pushed update are read one
// at a time.
func (p *IMAP) ReadResponse(r LineReader) (*Response, error) {
	p.mu.Lock()
	greeted := p.greeted
	one := !greeted || (p.idle && !p.done) || !p.waiting
	tag := p.pending.Tag
	logout := p.pending.Name == "LOGOUT"
	p.mu.Unlock()

	lim := imap.DefaultLimits
	maxLines := DefaultLimits.ResponseLines
	if w, ok := r.(*Wire); ok {
		lim.Literal = int64(w.Limits().Literal)
		maxLines = w.Limits().ResponseLines
	}
	resp := &Response{}
	var parts []imap.Response
	finish := func(err error) (*Response, error) {
		if len(parts) == 0 {
			return nil, err
		}
		resp.Value = parts
		last := parts[len(parts)-1]
		resp.Status, resp.Tone = imapVerdict(last, logout)
		var lits []string
		for _, pr := range parts {
			lits = append(lits, pr.Literals...)
		}
		resp.Payload = strings.Join(lits, "")
		return resp, err
	}
	bye := false
	for {
		ir, err := imap.ReadResponse(r, lim)
		if len(ir.Raw) > 0 && !(len(ir.Raw) == 1 && ir.Raw[0] == "" && err != nil) {
			parts = append(parts, ir)
			for i, raw := range ir.Raw {
				resp.AddLine(raw, ir.InLiteral[i])
			}
		}
		if err != nil {
			if bye && errors.Is(err, io.EOF) {
				// The server closed after BYE, as it should.
				return finish(nil)
			}
			return finish(err)
		}
		if !greeted && !(ir.Kind == imap.Untagged && (ir.Status == "OK" || ir.Status == "PREAUTH" || ir.Status == "BYE")) {
			// RFC 3501 §7.1: an IMAP server greets with * OK, * PREAUTH or
			// * BYE. Anything else (a POP3 "+OK", an SMTP "220") means the
			// wrong port, and waiting for tagged answers would only time out.
			return finish(fmt.Errorf("imap: the greeting %q is not \"* OK\", \"* PREAUTH\" or \"* BYE\": is this an IMAP server?", clipText(ir.Raw[0], 60)))
		}
		switch {
		case one:
			return finish(nil)
		case ir.Kind == imap.Continuation:
			return finish(nil)
		case ir.Kind == imap.Tagged && ir.Tag == tag:
			return finish(nil)
		case ir.Kind == imap.Untagged && ir.Status == "BYE":
			bye = true
			if !logout {
				return finish(nil)
			}
		}
		if len(resp.Lines) >= maxLines {
			return finish(fmt.Errorf("response longer than %d lines", maxLines))
		}
	}
}

// imapVerdict gives the engine's status and tone for the last response read.
func imapVerdict(r imap.Response, logout bool) (string, render.Tone) {
	switch {
	case r.Kind == imap.Continuation:
		return "+", render.Intermediate
	case r.Status == "OK" || r.Status == "PREAUTH":
		return r.Status, render.Positive
	case r.Status == "NO":
		return "NO", render.Transient
	case r.Status == "BAD":
		return "BAD", render.Negative
	case r.Status == "BYE":
		if logout {
			return "BYE", render.Positive
		}
		return "BYE", render.Transient
	}
	return "", render.Neutral
}

// Annotate implements Protocol: each response's notes go under its last
// line, then the state moves on.
func (p *IMAP) Annotate(r *Response) {
	parts, ok := r.Value.([]imap.Response)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	line := 0
	for _, ir := range parts {
		cmd := p.pending
		if !p.greeted {
			cmd = imap.ParsedCommand{Literal: -1}
		}
		notes := imap.ExplainResponse(ir, p.state, cmd)
		if ir.Kind == imap.Tagged && p.waiting && ir.Tag != p.pending.Tag {
			notes = append(notes, note.Note{Summary: fmt.Sprintf("this completes tag %s, not %s, the command just sent", ir.Tag, p.pending.Tag), Severity: note.Warning})
		}
		line += len(ir.Raw)
		if line > 0 && line <= len(r.Lines) {
			r.Lines[line-1].Notes = append(r.Lines[line-1].Notes, notes...)
		}
		p.advance(ir)
	}
}

// advance updates the session after one response; p.mu is held.
func (p *IMAP) advance(ir imap.Response) {
	if ir.Code == "CAPABILITY" {
		p.caps = ir.CodeArgs
	}
	if ir.Kind == imap.Untagged && ir.Type == "CAPABILITY" {
		p.caps = ir.Text
	}
	if !p.greeted {
		p.greeted = true
		switch ir.Status {
		case "PREAUTH":
			p.state = imap.Authenticated
		case "BYE":
			p.ended = true
		}
		return
	}
	switch {
	case ir.Kind == imap.Untagged && ir.Status == "BYE":
		p.ended = true
		p.state = imap.Logout
	case ir.Kind == imap.Continuation && p.waiting:
		switch {
		case p.pending.Name == "IDLE":
			p.idle = true
		case p.pending.Name == "AUTHENTICATE":
			p.inAuth = true
		case p.pending.Literal >= 0 && !p.litActive:
			p.startLiteral(p.pending.Literal)
		}
	case ir.Kind == imap.Tagged && p.waiting && ir.Tag == p.pending.Tag:
		p.state = imap.Next(p.state, p.pending.Name, ir.Status)
		p.lastOK = ""
		if ir.Status == "OK" {
			p.lastOK = p.pending.Name
		}
		if p.pending.Name == "LOGOUT" && ir.Status == "OK" {
			p.ended = true
		}
		p.waiting, p.idle, p.done, p.inAuth = false, false, false, false
		p.litActive, p.litRest = false, false
		p.pending = imap.ParsedCommand{Literal: -1}
	}
}

func (p *IMAP) startLiteral(n int64) {
	p.litActive, p.litLeft, p.litRest = true, n, false
	if n == 0 {
		p.litRest = true
	}
}

// Prepare implements Protocol: a command without a tag gets the next one;
// a synchronising literal {n} becomes {n+} when the server offers LITERAL+.
func (p *IMAP) Prepare(line string) Outgoing { return p.outgoing(line, true) }

// Observe implements Protocol: the line is kept exactly as given.
func (p *IMAP) Observe(wire string) Outgoing { return p.outgoing(wire, false) }

func (p *IMAP) outgoing(line string, typed bool) Outgoing {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.idle:
		if strings.EqualFold(strings.TrimSpace(line), "DONE") {
			p.done = true
			return Outgoing{Lines: []string{line}, Notes: imap.ExplainCommand(imap.ParseCommand("DONE"), p.state), Await: true}
		}
		return Outgoing{Lines: []string{line}, Await: false, Notes: []note.Note{{
			Summary: "during IDLE the server expects only DONE; it will probably answer BAD and end IDLE", Ref: "RFC 2177 §3", Severity: note.Warning}}}
	case p.inAuth:
		p.inAuth = false
		return Outgoing{Lines: []string{line}, Await: true, Notes: []note.Note{saslAnswerNote(line, "RFC 3501 §6.2.2")}}
	case p.litActive && !p.litRest:
		return p.literalLine(line, typed)
	case p.litActive && p.litRest:
		p.litActive, p.litRest = false, false
		return p.commandTail(line, line, []note.Note{{Summary: "the rest of the command line after the literal; its CRLF ends the command", Ref: "RFC 3501 §4.3"}}, typed)
	}
	cmd := imap.ParseCommand(line)
	var notes []note.Note
	wire := line
	if cmd.Tag == "" && typed {
		cmd.Tag = p.tags.Next()
		wire = cmd.Tag + " " + strings.TrimLeft(line, " ")
		if p.tags.Count() == 1 {
			notes = append(notes, note.Note{Summary: fmt.Sprintf("mailx added the tag %s: every IMAP command starts with a tag, and the server's tagged answer repeats it", cmd.Tag),
				Detail: "Untagged lines (\"*\") may arrive in between; the tagged line ends the command. Type your own tag to choose it.", Ref: "RFC 3501 §2.2.1"})
		}
	}
	explained := imap.ExplainCommand(cmd, p.state)
	if p.tls {
		explained = dropNote(explained, imap.CleartextWarning)
	}
	notes = append(notes, explained...)
	p.pending, p.waiting = cmd, true
	out := Outgoing{Lines: []string{wire}, Notes: notes, Await: true}
	if cmd.Literal >= 0 {
		out = p.announceLiteral(out, cmd, typed)
	}
	return out
}

// commandTail sends a line whose text from tail on continues the command
// line after a literal; it may announce another literal. p.mu is held.
func (p *IMAP) commandTail(line, tail string, notes []note.Note, typed bool) Outgoing {
	out := Outgoing{Lines: []string{line}, Await: true, Notes: notes}
	if tail != "" && !strings.HasPrefix(tail, " ") {
		out.Notes = append(out.Notes, note.Note{Summary: fmt.Sprintf("%q is sent as the end of the %s command, not as a new command", clipText(tail, 30), p.pending.Name),
			Detail: "After a literal, the command line goes on: more arguments start with a space, and an empty line ends it.", Severity: note.Warning})
	}
	n, nonSync := imap.TrailingLiteral(tail)
	if n < 0 {
		return out
	}
	cmd := p.pending
	cmd.Literal, cmd.NonSync = n, nonSync
	p.pending = cmd
	return p.announceLiteral(out, cmd, typed)
}

// announceLiteral decides whether to wait for "+" before a literal; p.mu is held.
func (p *IMAP) announceLiteral(out Outgoing, cmd imap.ParsedCommand, typed bool) Outgoing {
	plus := imap.HasCapability(p.caps, "LITERAL+") || (imap.HasCapability(p.caps, "LITERAL-") && cmd.Literal <= 4096)
	last := len(out.Lines) - 1
	switch {
	case !cmd.NonSync && plus && typed:
		from := "{" + strconv.FormatInt(cmd.Literal, 10) + "}"
		out.Lines[last] = strings.TrimSuffix(out.Lines[last], from) + "{" + strconv.FormatInt(cmd.Literal, 10) + "+}"
		out.Notes = append(out.Notes, note.Note{Summary: fmt.Sprintf("the server offers LITERAL+, so mailx sends {%d+} and the literal follows at once, without waiting for \"+\"", cmd.Literal),
			Next: fmt.Sprintf("type the literal's %d octets now (each line counts its CRLF)", cmd.Literal), Ref: "RFC 7888 §3"})
		out.Await = false
		p.startLiteral(cmd.Literal)
	case cmd.NonSync:
		if !plus {
			out.Notes = append(out.Notes, note.Note{Summary: "{n+} needs LITERAL+ (or LITERAL- for up to 4096 octets), which this server has not announced", Ref: "RFC 7888 §3", Severity: note.Warning})
		}
		out.Notes = append(out.Notes, note.Note{Summary: fmt.Sprintf("a non-synchronising literal: its %d octets follow without waiting for \"+\"", cmd.Literal), Ref: "RFC 7888 §3"})
		out.Await = false
		p.startLiteral(cmd.Literal)
	default:
		out.Notes = append(out.Notes, note.Note{Summary: fmt.Sprintf("this line announces a literal of %d octets: mailx waits for the server's \"+\" before you type it", cmd.Literal),
			Detail: "A literal carries any octets (a whole message, a name with quotes) counted in advance instead of quoted.", Ref: "RFC 3501 §4.3"})
	}
	return out
}

// literalLine sends one typed line of literal data; p.mu is held.
func (p *IMAP) literalLine(line string, typed bool) Outgoing {
	n := int64(len(line))
	switch {
	case n+2 <= p.litLeft:
		p.litLeft -= n + 2
		out := Outgoing{Lines: []string{line}, Await: false}
		if p.litLeft == 0 {
			p.litRest = true
			out.Notes = []note.Note{{Summary: "the literal is complete (its last CRLF included)",
				Next: "type the rest of the command line; an empty line ends the command", Ref: "RFC 3501 §4.3"}}
		}
		return out
	case n >= p.litLeft:
		// The line's first octets complete the literal; the rest of it
		// continues the command line, and the CRLF after it ends the command
		// (or announces the next literal): "alice {6}" after LOGIN {5}.
		left := p.litLeft
		p.litActive, p.litLeft = false, 0
		summary := "this line completes the literal exactly; the CRLF after it ends the command"
		if n > left {
			summary = fmt.Sprintf("the first %d octets of this line complete the literal; the rest continues the command line", left)
		}
		return p.commandTail(line, line[left:], []note.Note{{Summary: summary, Ref: "RFC 3501 §4.3"}}, typed)
	}
	return Outgoing{Notes: []note.Note{{
		Summary: fmt.Sprintf("this line is %d octets (+2 for CRLF) but the literal has %d octets left; nothing was sent", n, p.litLeft),
		Next:    fmt.Sprintf("type a line of at most %d characters, or of %d or more to end the literal inside the line", max(p.litLeft-2, 0), p.litLeft),
		Ref:     "RFC 3501 §4.3", Severity: note.Warning}}}
}

func saslAnswerNote(line, ref string) note.Note {
	n := note.Note{Summary: "your answer to the SASL challenge, in base64 (\"*\" cancels)", Ref: ref}
	if dec, err := decodeB64(line); err == nil {
		n.Detail = fmt.Sprintf("Decoded, it reads %q: base64 hides nothing.", dec)
	}
	return n
}

// Mode implements Protocol.
func (p *IMAP) Mode() Mode {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.idle:
		return ModeIdle
	case p.litActive:
		return ModeData
	}
	return ModeCommand
}

// Prompt implements Protocol: "imap:selected", "imap:idle", "imap:literal(20)".
func (p *IMAP) Prompt() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.idle:
		return "imap:idle"
	case p.litActive && p.litRest:
		return "imap:command-rest"
	case p.litActive:
		return fmt.Sprintf("imap:literal(%d)", p.litLeft)
	case p.inAuth:
		return "imap:auth"
	}
	return "imap:" + p.state.String()
}

// Completions implements Protocol: commands allowed now first.
func (p *IMAP) Completions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle {
		return []string{"DONE"}
	}
	return imap.Commands.Verbs(p.state)
}

// Explain implements Protocol: a command (FETCH), a status (OK, NO, BAD), a
// response code (UIDVALIDITY), an untagged response (EXISTS) or a
// capability (LITERAL+).
func (p *IMAP) Explain(topic string) ([]note.Note, bool) {
	t := strings.ToUpper(strings.Trim(strings.TrimSpace(topic), "[]* "))
	var out []note.Note
	switch t {
	case "NO":
		out = append(out, note.Note{Summary: "NO: the command failed; the server understood it but could not do it (no such mailbox, wrong password)", Ref: "RFC 3501 §7.1.2"})
	case "BAD":
		out = append(out, note.Note{Summary: "BAD: the server could not parse the command, or it is not allowed in this state", Ref: "RFC 3501 §7.1.3"})
	case "+":
		out = append(out, note.Note{Summary: "+: a continuation request: the server waits for a literal's octets, a SASL answer, or DONE during IDLE", Ref: "RFC 3501 §7.5"})
	case "TAG", "TAGS":
		out = append(out, note.Note{Summary: "every command starts with a tag of the client's choice; the tagged response with the same tag completes it", Ref: "RFC 3501 §2.2.1"})
	}
	if c, ok := imap.Lookup(t); ok {
		states := make([]string, len(c.In))
		for i, s := range c.In {
			states[i] = s.String()
		}
		n := note.Note{Summary: c.Summary, Detail: "Syntax: " + c.Syntax + "\nAllowed in: " + strings.Join(states, ", "), Ref: c.Ref}
		if c.VsPOP3 != "" {
			n.Detail += "\nPOP3 vs IMAP: " + c.VsPOP3
		}
		out = append(out, n)
	}
	if n, ok := imap.ResponseCodes[t]; ok {
		out = append(out, n)
	}
	if n, ok := imap.UntaggedResponses[t]; ok && len(out) == 0 {
		out = append(out, n)
	}
	key, _, _ := strings.Cut(t, "=")
	if text := imap.Capabilities[key]; text != "" && len(out) == 0 {
		out = append(out, note.Note{Summary: t + ": " + text})
	}
	return out, len(out) > 0
}

// StartTLS implements Protocol.
func (p *IMAP) StartTLS() string { return "STARTTLS" }

// SetTLS implements TLSAware: on an encrypted connection LOGIN gets no
// warning about its cleartext password.
func (p *IMAP) SetTLS(on bool) { p.tls = on }

// TLSReady implements Protocol: the tagged OK of STARTTLS.
func (p *IMAP) TLSReady(r *Response) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return r.Status == "OK" && p.lastOK == "STARTTLS"
}

// TLSDone implements Protocol.
func (p *IMAP) TLSDone() []note.Note {
	p.mu.Lock()
	p.caps, p.lastOK = "", ""
	p.mu.Unlock()
	return []note.Note{{
		Summary: "TLS is up and the session is still Not Authenticated; capabilities may differ now",
		Detail:  "The client must forget the capabilities it was told before TLS: they could have been tampered with.",
		Next:    "CAPABILITY, then LOGIN user password",
		Ref:     "RFC 3501 §6.2.1",
	}}
}

// Quit implements Protocol.
func (p *IMAP) Quit() string { return "LOGOUT" }

// Ended implements Protocol.
func (p *IMAP) Ended() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ended
}

// Interrupt implements Interrupter: Ctrl-C in IDLE sends DONE.
func (p *IMAP) Interrupt() (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle && !p.done {
		return "DONE", true
	}
	return "", false
}
