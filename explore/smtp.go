package explore

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/note"
	"github.com/mailx-edu/mailx/proto/smtp"
)

// maxReplyLines bounds one SMTP reply; real EHLO replies have about twenty.
const maxReplyLines = 1000

// SMTP is the explorer's SMTP protocol: proto/smtp's Annotator and reply
// parser connected to the engine. Response.Value holds the smtp.Reply.
type SMTP struct {
	a     *smtp.Annotator
	ended bool
}

// NewSMTP returns the SMTP protocol for one session.
func NewSMTP() *SMTP { return &SMTP{a: smtp.NewAnnotator()} }

// Name implements Protocol.
func (p *SMTP) Name() string { return "smtp" }

// State returns the SMTP session state.
func (p *SMTP) State() smtp.State { return p.a.State() }

// ReadResponse reads "250-..." lines up to the "250 ..." line that ends the
// reply (RFC 5321 §4.2.1).
func (p *SMTP) ReadResponse(r LineReader) (*Response, error) {
	return ReadSMTPReply(r)
}

// ReadSMTPReply reads one complete SMTP reply from r. A line that is not a
// reply line ends the read with an error naming what was wrong; the lines
// read so far are returned for display.
func ReadSMTPReply(r LineReader) (*Response, error) {
	resp := &Response{}
	var b smtp.ReplyBuilder
	for {
		line, err := r.ReadLine()
		if err != nil {
			if line != "" {
				resp.AddLine(line, false)
			}
			if len(resp.Lines) == 0 {
				return nil, err
			}
			return resp, err
		}
		resp.AddLine(line, false)
		done, err := b.Add(line)
		if err != nil {
			return resp, fmt.Errorf("not an SMTP reply line (%w): is this an SMTP server?", err)
		}
		if done {
			break
		}
		if len(resp.Lines) >= maxReplyLines {
			return resp, fmt.Errorf("reply longer than %d lines", maxReplyLines)
		}
	}
	reply := b.Reply()
	resp.Status = strconv.Itoa(reply.Code)
	resp.Tone = ToneOf(reply.Code)
	resp.Value = reply
	return resp, nil
}

// ToneOf colours an SMTP code by class.
func ToneOf(code int) render.Tone {
	switch code / 100 {
	case 2:
		return render.Positive
	case 3:
		return render.Intermediate
	case 4:
		return render.Transient
	case 5:
		return render.Negative
	}
	return render.Neutral
}

// Annotate implements Protocol.
func (p *SMTP) Annotate(r *Response) {
	reply, ok := r.Value.(smtp.Reply)
	if !ok {
		return
	}
	r.Notes = p.a.Server(reply)
	if reply.Code == 221 || reply.Code == 421 || p.a.State() == smtp.Closed {
		p.ended = true
	}
}

// Prepare implements Protocol. In DATA mode a line starting with "." gets a
// second one (dot-stuffing, RFC 5321 §4.5.2), and the student is told.
func (p *SMTP) Prepare(line string) Outgoing {
	if p.a.State() == smtp.InData && strings.HasPrefix(line, ".") && line != "." {
		out := p.Observe("." + line)
		out.Notes = append([]note.Note{{Summary: "mailx added a \".\" at the start of this line (dot-stuffing) so it cannot end the message; the server removes it again", Ref: "RFC 5321 §4.5.2"}}, dropStuffNote(out.Notes)...)
		return out
	}
	return p.Observe(line)
}

// dropStuffNote removes the annotator's own dot-stuffing note, which would
// repeat what Prepare already said.
func dropStuffNote(notes []note.Note) []note.Note {
	return slices.DeleteFunc(notes, func(n note.Note) bool { return strings.HasPrefix(n.Summary, "dot-stuffed:") })
}

// Observe implements Protocol.
func (p *SMTP) Observe(wire string) Outgoing {
	data := p.a.State() == smtp.InData
	notes := p.a.Client(wire)
	return Outgoing{Lines: []string{wire}, Notes: notes, Await: !data || wire == "."}
}

// Mode implements Protocol.
func (p *SMTP) Mode() Mode {
	if p.a.State() == smtp.InData {
		return ModeData
	}
	return ModeCommand
}

// Prompt implements Protocol: "smtp:greeted", "smtp:mail", "smtp:data", "smtp:auth".
func (p *SMTP) Prompt() string {
	if p.a.InAuth() {
		return "smtp:auth"
	}
	return "smtp:" + p.a.State().String()
}

// Completions implements Protocol: commands allowed now first.
func (p *SMTP) Completions() []string {
	if p.a.State() == smtp.InData {
		return []string{".", "From: ", "To: ", "Subject: ", "Date: ", "Message-ID: ", "MIME-Version: 1.0", "Content-Type: "}
	}
	// The two commands whose argument keyword students mistype most get
	// their whole prefix offered too, whatever the state.
	var out []string
	for _, v := range smtp.Commands.Verbs(p.a.State()) {
		out = append(out, v)
		switch v {
		case "MAIL":
			out = append(out, "MAIL FROM:<")
		case "RCPT":
			out = append(out, "RCPT TO:<")
		}
	}
	return out
}

// Explain implements Protocol.
func (p *SMTP) Explain(topic string) ([]note.Note, bool) { return smtp.Explain(topic) }

// StartTLS implements Protocol.
func (p *SMTP) StartTLS() string { return "STARTTLS" }

// TLSReady implements Protocol: 220 in answer to STARTTLS.
func (p *SMTP) TLSReady(r *Response) bool {
	return r.Status == "220" && p.a.Verb() == "STARTTLS"
}

// TLSDone implements Protocol.
func (p *SMTP) TLSDone() []note.Note {
	return []note.Note{{
		Summary: "the session starts over inside TLS: the server forgot your EHLO",
		Detail:  "RFC 3207 §4.2: both sides discard what they learnt before TLS. The new EHLO reply may differ (AUTH often appears only now).",
		Next:    "send EHLO again",
		Ref:     "RFC 3207 §4.2",
	}}
}

// SetTLS implements TLSAware.
func (p *SMTP) SetTLS(on bool) { p.a.SetTLS(on) }

// Quit implements Protocol.
func (p *SMTP) Quit() string { return "QUIT" }

// Ended implements Protocol.
func (p *SMTP) Ended() bool { return p.ended }

// Meta implements Protocol: \auth and \send.
func (p *SMTP) Meta() []MetaCommand {
	return []MetaCommand{
		{Name: "auth", Usage: `\auth plain|login USER PASS`, Summary: "log in: mailx computes the base64 and explains each step", Run: smtpAuth},
		{Name: "send", Usage: `\send FILE`, Summary: "in DATA: send a file's lines (dot-stuffed), then type \".\"", Modes: []Mode{ModeData}, Run: smtpSendFile},
	}
}

func smtpAuth(ctx context.Context, s *Session, args []string) error {
	if len(args) != 3 {
		s.r.Warning(`usage: \auth plain USER PASS   or   \auth login USER PASS (nothing was sent)`)
		return nil
	}
	mech, user, pass := strings.ToUpper(args[0]), args[1], args[2]
	// The AUTH line itself carries the warning about a connection without
	// TLS (the protocol's annotation), so it is not said twice here.
	switch mech {
	case "PLAIN":
		_, err := SMTPAuthPlain(ctx, s, user, pass)
		return err
	case "LOGIN":
		s.r.Note(note.Note{Summary: "LOGIN asks for the user name, then the password, each as a base64 line after a 334 challenge", Ref: "draft-murchison-sasl-login"})
		resp, err := s.Exchange(ctx, "AUTH LOGIN")
		for _, answer := range []string{user, pass} {
			if err != nil || resp == nil || resp.Status != "334" {
				return err
			}
			resp, err = s.SendWire(ctx, base64.StdEncoding.EncodeToString([]byte(answer)))
		}
		return err
	}
	s.r.Warning(fmt.Sprintf("\\auth knows PLAIN and LOGIN, not %s (nothing was sent); type AUTH %s ... by hand", mech, mech))
	return nil
}

// SMTPAuthPlain logs in with AUTH PLAIN and an initial response (RFC 4954
// §4, RFC 4616), explaining what the base64 holds, and returns the reply.
func SMTPAuthPlain(ctx context.Context, s *Session, user, pass string) (*Response, error) {
	enc, err := plainResponse(s, user, pass)
	if err != nil {
		return nil, err
	}
	return s.Exchange(ctx, "AUTH PLAIN "+enc)
}

func smtpSendFile(ctx context.Context, s *Session, args []string) error {
	if len(args) != 1 {
		s.r.Warning(`usage: \send FILE (in DATA mode, after 354)`)
		return nil
	}
	f, err := os.Open(args[0])
	if err != nil {
		s.r.Warning(fmt.Sprintf("cannot read %s: %v (nothing was sent)", args[0], errors.Unwrap(err)))
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		if err := SMTPSendText(ctx, s, strings.TrimSuffix(sc.Text(), "\r")); err != nil {
			return err
		}
		n++
	}
	if err := sc.Err(); err != nil {
		s.r.Warning(fmt.Sprintf("reading %s stopped: %v", args[0], err))
	}
	s.r.Notef("sent %d lines of %s; type \".\" alone on a line to end the message", n, args[0])
	return nil
}

// SMTPSendText sends one line of message text in DATA mode, dot-stuffed
// (RFC 5321 §4.5.2). Unlike a typed line, a lone "." is text here and goes
// out as "..": the text comes from a file or a composed message, whose end
// the caller marks itself by sending "." through Exchange.
func SMTPSendText(ctx context.Context, s *Session, line string) error {
	var err error
	if line == "." {
		_, err = s.SendWire(ctx, "..")
	} else {
		_, err = s.Exchange(ctx, line)
	}
	return err
}
