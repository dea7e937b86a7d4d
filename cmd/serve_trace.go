package cmd

import (
	"fmt"
	"strings"
	"sync"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/note"
	"github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// traceRenderer prints `mailx serve --trace`: every session's lines,
// prefixed with the session id, coloured by verdict and annotated with the
// same proto explanations the explorer uses (smtp.Annotator; proto/pop3 and
// proto/imap for the access servers; a few notes on the lab DNS's answers),
// so a student watching the server sees what mailx smtp talk shows on the
// client side.
// The server's decisions (Meta events) are shown as "# ..." lines. Events
// that come explained (web mail's bridge explains each of its IMAP and SMTP
// lines in its own session's state) are shown with their own notes.
type traceRenderer struct {
	r        *render.Renderer
	mu       sync.Mutex
	sessions map[string]*tracedSession
}

type tracedSession struct {
	r     *render.Renderer
	smtp  *smtp.Annotator
	reply smtp.ReplyBuilder
	other lineAnnotator // POP3 and IMAP
}

func newTraceRenderer(r *render.Renderer) *traceRenderer {
	return &traceRenderer{r: r, sessions: map[string]*tracedSession{}}
}

// hook receives the server's events. Servers call it from their session
// goroutines; the lock keeps each session's annotator consistent and the
// renderer keeps lines whole.
func (t *traceRenderer) hook(ev transcript.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sessions[ev.Session]
	if s == nil {
		s = &tracedSession{r: t.r.WithPrefix("[" + ev.Session + "] ")}
		switch ev.Proto {
		case "smtp", "":
			s.smtp = smtp.NewAnnotator()
		case "pop3":
			s.other = &pop3Trace{}
		case "imap":
			s.other = &imapTrace{}
		case "dns":
			s.other = &dnsTrace{}
		}
		t.sessions[ev.Session] = s
	}
	switch ev.Dir {
	case transcript.Meta:
		s.r.Text("# " + ev.Line)
		if mh, ok := s.other.(interface{ Meta(string) }); ok {
			mh.Meta(ev.Line)
		}
		if strings.HasPrefix(ev.Line, "tls: ") && s.smtp != nil {
			s.smtp.SetTLS(true)
		}
		if strings.HasPrefix(ev.Line, "closed") {
			delete(t.sessions, ev.Session)
		}
	case transcript.Client:
		s.r.Sent(ev.Line)
		s.notes(func() []note.Note {
			switch {
			case len(ev.Notes) > 0:
				return ev.Notes
			case s.smtp != nil:
				return s.smtp.Client(ev.Line)
			case s.other != nil:
				return s.other.Client(ev.Line)
			}
			return nil
		})
	case transcript.Server:
		s.r.Received(ev.Line, lineTone(ev.Proto, ev.Line))
		s.notes(func() []note.Note {
			if len(ev.Notes) > 0 {
				return ev.Notes
			}
			if s.other != nil {
				return s.other.Server(ev.Line)
			}
			if s.smtp == nil {
				return nil
			}
			done, err := s.reply.Add(ev.Line)
			if err != nil {
				s.reply = smtp.ReplyBuilder{}
				return nil
			}
			if !done {
				return nil
			}
			defer func() { s.reply = smtp.ReplyBuilder{} }()
			return s.smtp.Server(s.reply.Reply())
		})
	}
}

// notes prints the notes explain returns. The trace runs inside the
// server's sessions on whatever clients send: a line an explainer cannot
// handle must cost its note, never the session (the SMTP server would
// answer 421, and a POP3 or IMAP connection would take the process down).
func (s *tracedSession) notes(explain func() []note.Note) {
	defer func() {
		if v := recover(); v != nil {
			s.r.Warning(fmt.Sprintf("mailx could not explain this line (%v); please report it", v))
		}
	}()
	for _, n := range explain() {
		s.r.Note(n)
	}
}

// lineTone colours a server line by its verdict in each protocol.
func lineTone(proto, line string) render.Tone {
	switch proto {
	case "pop3":
		switch {
		case strings.HasPrefix(line, "+OK"):
			return render.Positive
		case strings.HasPrefix(line, "-ERR"):
			return render.Negative
		case strings.HasPrefix(line, "+ "), line == "+":
			return render.Intermediate
		}
		return render.Neutral
	case "dns":
		switch {
		case strings.HasPrefix(line, "NOERROR"):
			return render.Positive
		case strings.HasPrefix(line, "NXDOMAIN"), strings.HasPrefix(line, "REFUSED"):
			return render.Negative
		}
		return render.Neutral
	case "imap":
		if strings.HasPrefix(line, "+") {
			return render.Intermediate
		}
		f := strings.Fields(line)
		if len(f) < 2 || f[0] == "*" && f[1] != "BYE" {
			return render.Neutral
		}
		switch strings.ToUpper(f[1]) {
		case "OK":
			return render.Positive
		case "NO":
			return render.Transient
		case "BAD", "BYE":
			return render.Negative
		}
		return render.Neutral
	}
	if len(line) < 3 {
		return render.Neutral
	}
	switch line[0] {
	case '2':
		return render.Positive
	case '3':
		return render.Intermediate
	case '4':
		return render.Transient
	case '5':
		return render.Negative
	}
	return render.Neutral
}
