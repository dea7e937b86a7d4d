package cmd

import (
	"strings"

	"github.com/mailx-edu/mailx/proto/imap"
	"github.com/mailx-edu/mailx/proto/note"
	"github.com/mailx-edu/mailx/proto/pop3"
)

// lineAnnotator explains one protocol's session, line by line, from the
// server's trace: what the client sent and what the server answered.
type lineAnnotator interface {
	Client(line string) []note.Note
	Server(line string) []note.Note
}

// pop3Trace follows a POP3 session with proto/pop3's state table.
type pop3Trace struct {
	state     pop3.State
	verb, arg string
	inMulti   bool // inside a multi-line response, until "."
}

func (p *pop3Trace) Client(line string) []note.Note {
	if p.verb == "AUTH" && p.state == pop3.Authorization {
		return nil // a base64 answer inside AUTH, not a command
	}
	p.verb, p.arg = pop3.Verb(line)
	return pop3.ExplainCommand(line, p.state)
}

func (p *pop3Trace) Server(line string) []note.Note {
	if p.inMulti {
		if line == "." {
			p.inMulti = false
		}
		return nil
	}
	r, err := pop3.ParseStatus(line)
	if err != nil {
		return nil
	}
	if r.Status == pop3.StatusContinue {
		return nil
	}
	notes := pop3.ExplainResponse(r, p.state, p.verb, p.arg)
	ok := r.Status == pop3.StatusOK
	if p.verb != "" {
		if ok && pop3.IsMultiLine(p.verb, p.arg) {
			p.inMulti = true
		}
		p.state = pop3.Next(p.state, p.verb, ok)
		if p.verb == "AUTH" {
			p.verb = ""
		}
	}
	return notes
}

// imapTrace follows an IMAP session with proto/imap: commands are
// explained as sent; the greeting, untagged data and continuations as they
// come, for the command in progress; each tagged completion in the state it
// answers. Literal data (a message in FETCH or APPEND) is skipped, since its
// lines are not responses: server/imap traces a short literal line by line
// after the line announcing {n}, or reports a long one with a Meta line.
type imapTrace struct {
	state   imap.State
	greeted bool
	pending map[string]imap.ParsedCommand // tag → command awaiting completion
	last    imap.ParsedCommand            // the command sent last, for untagged data
	server  literal
	client  literal
}

// literal counts the octets of literal data still to come on one side, and
// whether the line after it continues the same response or command.
type literal struct {
	left int64
	in   bool // inside literal data
	cont bool // the next line continues the line that announced the literal
}

// skip reports whether line is literal data or the rest of a line after a
// literal (not a new response or command), and notes a literal it announces.
func (l *literal) skip(line string) bool {
	if l.in {
		l.left -= int64(len(line)) + 2 // each line went over the wire with CRLF
		if l.left <= 0 {
			l.in, l.cont = false, true
		}
		return true
	}
	wasCont := l.cont
	l.cont = false
	l.announce(line)
	return wasCont
}

// announce starts counting a literal that line ends with.
func (l *literal) announce(line string) {
	n, _ := imap.TrailingLiteral(line)
	switch {
	case n > 0:
		l.left, l.in = n, true
	case n == 0:
		l.cont = true // an empty literal: no data lines, the line goes on
	}
}

// notShown is told that a literal was summarised instead of traced.
func (l *literal) notShown() {
	if l.in {
		l.in, l.cont = false, true
	}
}

func (m *imapTrace) Client(line string) []note.Note {
	if m.client.skip(line) {
		return nil
	}
	c := imap.ParseCommand(line)
	if c.Tag == "" || c.Name == "" {
		return nil // an AUTHENTICATE answer, or DONE ending IDLE
	}
	if m.pending == nil {
		m.pending = map[string]imap.ParsedCommand{}
	}
	m.pending[c.Tag] = c
	m.last = c
	return imap.ExplainCommand(c, m.state)
}

func (m *imapTrace) Server(line string) []note.Note {
	if m.server.skip(line) {
		return nil
	}
	r := imap.Parse(line)
	if !m.greeted {
		m.greeted = true
		if r.Kind == imap.Untagged && r.IsStatus() {
			notes := imap.ExplainResponse(r, m.state, imap.ParsedCommand{})
			if r.Status == "PREAUTH" {
				m.state = imap.Authenticated
			}
			return notes
		}
	}
	if r.Kind != imap.Tagged {
		return imap.ExplainResponse(r, m.state, m.last)
	}
	c, ok := m.pending[r.Tag]
	if !ok {
		return imap.ExplainResponse(r, m.state, imap.ParsedCommand{Tag: r.Tag})
	}
	delete(m.pending, r.Tag)
	if m.client.in {
		m.client = literal{} // the command ended (refused): its literal never comes
	}
	notes := imap.ExplainResponse(r, m.state, c)
	name := c.Name
	if name == "UID" {
		name = c.Sub
	}
	m.state = imap.Next(m.state, name, r.Status)
	return notes
}

// Meta hears the server's decisions; a literal too long to trace is
// reported as one instead of its lines.
func (m *imapTrace) Meta(line string) {
	if strings.HasSuffix(line, "octets of literal data not shown)") {
		m.server.notShown()
		m.client.notShown()
	}
}
