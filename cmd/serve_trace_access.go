package cmd

import (
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

// imapTrace follows an IMAP session: commands are explained as sent, and
// each tagged completion in the state it answers, with proto/imap.
type imapTrace struct {
	state   imap.State
	pending map[string]imap.ParsedCommand // tag → command awaiting completion
}

func (m *imapTrace) Client(line string) []note.Note {
	c := imap.ParseCommand(line)
	if c.Tag == "" || c.Name == "" {
		return nil // a literal's data or an AUTHENTICATE answer
	}
	if m.pending == nil {
		m.pending = map[string]imap.ParsedCommand{}
	}
	m.pending[c.Tag] = c
	return imap.ExplainCommand(c, m.state)
}

func (m *imapTrace) Server(line string) []note.Note {
	r := imap.Parse(line)
	c, ok := m.pending[r.Tag]
	if r.Kind != imap.Tagged || !ok {
		return nil
	}
	delete(m.pending, r.Tag)
	notes := imap.ExplainResponse(r, m.state, c)
	name := c.Name
	if name == "UID" {
		name = c.Sub
	}
	m.state = imap.Next(m.state, name, r.Status)
	return notes
}
