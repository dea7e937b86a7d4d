package explore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mailx-edu/mailx/explore/mimeview"
	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/mime"
	"github.com/mailx-edu/mailx/proto/note"
	"github.com/mailx-edu/mailx/proto/pop3"
)

// POP3 is the explorer's POP3 protocol: proto/pop3's state table, reader and
// explanations connected to the engine. Response.Value holds the
// pop3.Response; Response.Payload holds a retrieved message with the
// byte-stuffing undone.
type POP3 struct {
	state    pop3.State
	verb     string // the command awaiting its response
	tls      bool   // the connection is encrypted: PASS is safe
	arg      string
	greeted  bool
	inAuth   bool // a SASL challenge is open: the next line is its answer
	ended    bool
	messages map[string]string // messages retrieved in this session, by number
	fold     int               // show at most this many body lines of a message; 0: all
}

// SetFold makes long retrieved messages show only their header and the first
// n lines of their body, with a note saying how many lines are left out and
// how to see them; every line is still recorded. Interactive sessions use it
// so that one RETR does not scroll the session off the screen.
func (p *POP3) SetFold(n int) { p.fold = n }

// NewPOP3 returns the POP3 protocol for one session.
func NewPOP3() *POP3 { return &POP3{messages: map[string]string{}} }

// Name implements Protocol.
func (p *POP3) Name() string { return "pop3" }

// State returns the POP3 session state.
func (p *POP3) State() pop3.State { return p.state }

// Message returns the text of message n if this session retrieved it with
// RETR, with CRLF line ends and the byte-stuffing undone.
func (p *POP3) Message(n string) (string, bool) {
	m, ok := p.messages[n]
	return m, ok
}

// ReadResponse implements Protocol: one status line and, when the command
// it answers has a multi-line response and the status is +OK, every line up
// to the lone ".".
func (p *POP3) ReadResponse(r LineReader) (*Response, error) {
	multi := p.greeted && !p.inAuth && pop3.IsMultiLine(p.verb, p.arg)
	lim := pop3.DefaultLimits
	if w, ok := r.(*Wire); ok {
		lim.Response = w.Limits().Literal
	}
	pr, err := pop3.ReadResponse(r, multi, lim)
	if len(pr.Raw) == 0 {
		return nil, err
	}
	message := pr.Multi && (p.verb == "RETR" || p.verb == "TOP")
	resp := &Response{Status: pr.Status.String(), Tone: pop3Tone(pr.Status), Value: pr}
	for i, raw := range pr.Raw {
		resp.AddLine(raw, message && i > 0 && !(i == len(pr.Raw)-1 && raw == "."))
	}
	if message && err == nil {
		resp.Payload = pop3.JoinBody(pr.Lines)
	}
	if err != nil {
		if _, perr := pop3.ParseStatus(pr.Raw[0]); perr != nil {
			resp.Status, resp.Tone = "", render.Neutral
			return resp, fmt.Errorf("%w: is this a POP3 server?", perr)
		}
	}
	return resp, err
}

func pop3Tone(s pop3.Status) render.Tone {
	switch s {
	case pop3.StatusOK:
		return render.Positive
	case pop3.StatusErr:
		return render.Negative
	}
	return render.Intermediate
}

// Annotate implements Protocol.
func (p *POP3) Annotate(r *Response) {
	pr, ok := r.Value.(pop3.Response)
	if !ok {
		return
	}
	if !p.greeted {
		p.greeted = true
		r.Notes = pop3.ExplainResponse(pr, p.state, "", "")
		if pr.Status == pop3.StatusErr {
			p.ended = true
		}
		return
	}
	verb := p.verb
	if p.inAuth && pr.Status != pop3.StatusContinue {
		// The answer to a SASL challenge got its verdict: this is the AUTH result.
		verb = "AUTH"
	}
	r.Notes = pop3.ExplainResponse(pr, p.state, verb, p.arg)
	switch {
	case verb == "CAPA" && pr.Multi:
		for i := range pr.Lines {
			r.Lines[i+1].Notes = []note.Note{pop3.ExplainCapability(pr.Lines[i])}
		}
	case (verb == "RETR" || verb == "TOP") && pr.Multi:
		annotateMessageLines(r, pr)
		p.foldMessage(r, pr)
		if verb == "RETR" {
			p.messages[p.arg] = r.Payload
		}
	}
	if pr.Status == pop3.StatusContinue {
		p.inAuth = true
		return
	}
	p.inAuth = false
	p.state = pop3.Next(p.state, verb, pr.OK())
	if verb == "QUIT" {
		p.ended = true
		if p.state == pop3.Update {
			p.state = pop3.Closed
		}
	}
}

// annotateMessageLines marks where a retrieved message's header ends and its
// body begins, and each byte-stuffed line.
func annotateMessageLines(r *Response, pr pop3.Response) {
	fields := 0
	sep := -1
	for i, l := range pr.Lines {
		if l == "" {
			sep = i
			break
		}
		if l[0] != ' ' && l[0] != '\t' {
			fields++
		}
	}
	if len(pr.Lines) > 0 {
		r.Lines[1].Notes = append(r.Lines[1].Notes, note.Note{Summary: "the message header starts here: one field per line, \"Name: value\"; indented lines continue the field above", Ref: "RFC 5322 §2.2"})
	}
	if sep >= 0 {
		r.Lines[sep+1].Notes = append(r.Lines[sep+1].Notes, note.Note{Summary: fmt.Sprintf("this empty line ends the header (%d field(s)); the body follows", fields), Ref: "RFC 5322 §2.1"})
	}
	for i, raw := range pr.Raw[1:] {
		if i < len(pr.Lines) && raw != pr.Lines[i] {
			r.Lines[i+1].Notes = append(r.Lines[i+1].Notes, note.Note{Summary: fmt.Sprintf("byte-stuffed: the message line is %q; the server doubled its leading \".\"", clipText(pr.Lines[i], 40)), Ref: "RFC 1939 §3"})
		}
	}
}

// foldMessage hides the body lines after the first p.fold ones, keeping the
// header and the final "." line, and says so in a note.
func (p *POP3) foldMessage(r *Response, pr pop3.Response) {
	if p.fold <= 0 {
		return
	}
	body := -1
	for i, l := range pr.Lines {
		if l == "" {
			body = i + 1
			break
		}
	}
	if body < 0 || len(pr.Lines)-body <= p.fold+5 {
		return // no body, or too little to be worth folding
	}
	first, last := body+p.fold, len(pr.Lines)-1 // indexes into pr.Lines; r.Lines is one further
	for i := first; i <= last; i++ {
		r.Lines[i+1].Hidden = true
		r.Lines[i+1].Notes = nil
	}
	n := note.Note{Summary: fmt.Sprintf("... %d more body lines not shown (the message has %d lines); they were received and are recorded", last-first+1, len(pr.Lines)),
		Next: fmt.Sprintf("\\print %s shows the whole message, \\view %s its MIME parts; a pipe or --script prints everything", p.arg, p.arg)}
	r.Lines[first].Notes = append(r.Lines[first].Notes, n)
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// Prepare implements Protocol. POP3 lines go out as typed.
func (p *POP3) Prepare(line string) Outgoing { return p.Observe(line) }

// Observe implements Protocol.
func (p *POP3) Observe(wire string) Outgoing {
	if p.inAuth {
		return Outgoing{Lines: []string{wire}, Notes: []note.Note{saslAnswerNote(wire, "RFC 5034 §4")}, Await: true}
	}
	p.verb, p.arg = pop3.Verb(wire)
	notes := pop3.ExplainCommand(wire, p.state)
	if p.tls {
		notes = dropNote(notes, pop3.CleartextWarning)
	}
	return Outgoing{Lines: []string{wire}, Notes: notes, Await: true}
}

// SetTLS implements TLSAware: on an encrypted connection PASS gets no
// warning about its cleartext password.
func (p *POP3) SetTLS(on bool) { p.tls = on }

// dropNote removes n from notes: advice that does not apply here.
func dropNote(notes []note.Note, n note.Note) []note.Note {
	return slices.DeleteFunc(notes, func(x note.Note) bool { return x == n })
}

// Mode implements Protocol: POP3 has only commands.
func (p *POP3) Mode() Mode { return ModeCommand }

// Prompt implements Protocol: "pop3:authorization", "pop3:transaction",
// "pop3:auth" during a SASL exchange.
func (p *POP3) Prompt() string {
	if p.inAuth {
		return "pop3:auth"
	}
	return "pop3:" + p.state.String()
}

// Completions implements Protocol: commands allowed now first.
func (p *POP3) Completions() []string {
	return pop3.Commands.Verbs(p.state)
}

// Explain implements Protocol: a command (RETR), a status (+OK, -ERR), a
// response code (IN-USE, [SYS/TEMP]), a CAPA keyword or a state name.
func (p *POP3) Explain(topic string) ([]note.Note, bool) {
	t := strings.ToUpper(strings.Trim(strings.TrimSpace(topic), "[]"))
	switch t {
	case "+OK":
		return []note.Note{{Summary: "+OK: the command succeeded; multi-line answers (RETR, LIST, ...) follow up to a line with only \".\"", Ref: "RFC 1939 §3"}}, true
	case "-ERR":
		return []note.Note{{Summary: "-ERR: the command failed; the text says why and the session goes on", Detail: "A code in brackets such as [IN-USE] or [AUTH] tells programs the reason (RFC 2449 §8).", Ref: "RFC 1939 §3"}}, true
	case "AUTHORIZATION", "TRANSACTION", "UPDATE":
		return []note.Note{{Summary: "POP3 states: AUTHORIZATION (log in) → TRANSACTION (list, retrieve, mark with DELE) → UPDATE (after QUIT: marked messages are removed)",
			Detail: "Only QUIT in TRANSACTION leads to UPDATE: a dropped connection deletes nothing.", Ref: "RFC 1939 §3"}}, true
	}
	var out []note.Note
	if c, ok := pop3.Lookup(t); ok {
		states := make([]string, len(c.In))
		for i, s := range c.In {
			states[i] = strings.ToUpper(s.String())
		}
		out = append(out, note.Note{Summary: c.Summary, Detail: "Syntax: " + c.Syntax + "\nAllowed in: " + strings.Join(states, ", "), Ref: c.Ref})
	}
	if n, ok := pop3.ResponseCodes[t]; ok {
		out = append(out, n)
	}
	if n, ok := pop3.Capabilities[t]; ok && len(out) == 0 {
		out = append(out, n)
	}
	return out, len(out) > 0
}

// StartTLS implements Protocol.
func (p *POP3) StartTLS() string { return "STLS" }

// TLSReady implements Protocol: +OK in answer to STLS.
func (p *POP3) TLSReady(r *Response) bool { return r.Status == "+OK" && p.verb == "STLS" }

// TLSDone implements Protocol.
func (p *POP3) TLSDone() []note.Note {
	return []note.Note{{
		Summary: "still in the AUTHORIZATION state, now inside TLS: forget what CAPA said before",
		Detail:  "RFC 2595 §4: the client must discard what it learnt before TLS; USER/PASS may only be offered now.",
		Next:    "CAPA, then USER name and PASS password",
		Ref:     "RFC 2595 §4",
	}}
}

// Quit implements Protocol.
func (p *POP3) Quit() string { return "QUIT" }

// Ended implements Protocol.
func (p *POP3) Ended() bool { return p.ended }

// Meta implements Protocol: \apop, \auth and \view.
func (p *POP3) Meta() []MetaCommand {
	return []MetaCommand{
		{Name: "apop", Usage: `\apop USER SECRET`, Summary: "log in with APOP: mailx computes MD5(timestamp+secret) from the greeting", Run: pop3APOP},
		{Name: "auth", Usage: `\auth plain USER PASS`, Summary: "log in with AUTH PLAIN: mailx computes the base64 and explains it", Run: pop3Auth},
		{Name: "view", Usage: `\view N`, Summary: "show message N (retrieved with RETR N) as header fields and MIME parts", Run: pop3View},
		{Name: "print", Usage: `\print N`, Summary: "print message N (retrieved with RETR N) in full, as the server sent it without byte-stuffing", Run: pop3Print},
	}
}

func pop3APOP(ctx context.Context, s *Session, args []string) error {
	if len(args) != 2 {
		s.r.Warning(`usage: \apop USER SECRET (nothing was sent)`)
		return nil
	}
	g := s.Greeting()
	var ts string
	if g != nil {
		if pr, ok := g.Value.(pop3.Response); ok {
			ts, _ = pop3.Timestamp(pr.Text)
		}
	}
	if ts == "" {
		s.r.Warning("the greeting has no <timestamp@host>, so this server does not offer APOP (nothing was sent)")
		s.r.Notef("log in with USER and PASS, or \\auth plain USER PASS")
		return nil
	}
	digest := pop3.APOPDigest(ts, args[1])
	s.r.Note(note.Note{Summary: fmt.Sprintf("digest = MD5(%q + secret) = %s", ts, digest),
		Detail: "The secret itself never crosses the network; the timestamp changes with every connection, so the digest\ncannot be replayed. It can still be attacked offline by guessing secrets.", Ref: "RFC 1939 §7"})
	_, err := s.Exchange(ctx, "APOP "+args[0]+" "+digest)
	return err
}

func pop3Auth(ctx context.Context, s *Session, args []string) error {
	if !authPlainArgs(s, args) {
		return nil
	}
	enc, err := plainResponse(s, args[1], args[2])
	if err != nil {
		return err
	}
	_, err = s.Exchange(ctx, "AUTH PLAIN "+enc)
	return err
}

func pop3View(ctx context.Context, s *Session, args []string) error {
	p, ok := s.Protocol().(*POP3)
	if !ok || len(args) != 1 {
		s.r.Warning(`usage: \view N, after RETR N`)
		return nil
	}
	msg, ok := p.Message(args[0])
	if !ok {
		s.r.Warning(fmt.Sprintf("message %s was not retrieved in this session: RETR %s first, then \\view %s", args[0], args[0], args[0]))
		return nil
	}
	tree, err := mime.Parse(strings.NewReader(msg), mime.Options{})
	if err != nil {
		s.r.Warning(fmt.Sprintf("cannot decode message %s: %v (\\print %s shows it as retrieved)", args[0], err, args[0]))
		return nil
	}
	if err := mimeview.Tree(s.r, tree, mimeview.Options{Source: args[0]}); err != nil {
		return err
	}
	if !s.r.JSONMode() {
		s.r.Note(note.Note{Summary: "this view undoes transfer encodings (base64, quoted-printable) and charsets; RETR showed the raw lines",
			Next: fmt.Sprintf("\\print %s shows the message as retrieved; mailx mime decode FILE takes a saved one apart in full", args[0]), Ref: "RFC 2045"})
	}
	return nil
}

func pop3Print(_ context.Context, s *Session, args []string) error {
	p, ok := s.Protocol().(*POP3)
	if !ok || len(args) != 1 {
		s.r.Warning(`usage: \print N, after RETR N`)
		return nil
	}
	msg, ok := p.Message(args[0])
	if !ok {
		s.r.Warning(fmt.Sprintf("message %s was not retrieved in this session: RETR %s first, then \\print %s", args[0], args[0], args[0]))
		return nil
	}
	lines := pop3.SplitBody(msg)
	s.r.Heading(fmt.Sprintf("message %s: %d lines, %d octets", args[0], len(lines), len(msg)))
	for _, l := range lines {
		s.r.Text(render.Printable(l))
	}
	return nil
}
