package explore

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-sasl"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/note"
)

// metaCall splits "\name args" into its parts. A line starting with two
// backslashes is not a meta-command and is sent as typed.
func metaCall(line string) (name string, args []string, ok bool) {
	t := strings.TrimSpace(line)
	if !strings.HasPrefix(t, `\`) || strings.HasPrefix(t, `\\`) || len(t) < 2 {
		return "", nil, false
	}
	f := strings.Fields(t[1:])
	return strings.ToLower(f[0]), f[1:], true
}

func (s *Session) metaAllowed(name string, mode Mode) bool {
	m, ok := s.metas[name]
	if !ok {
		return false
	}
	if len(m.Modes) == 0 {
		return mode == ModeCommand
	}
	return slices.Contains(m.Modes, mode)
}

func (s *Session) runMeta(ctx context.Context, name string, args []string) error {
	m, ok := s.metas[name]
	if !ok {
		s.r.Warning(fmt.Sprintf(`unknown meta-command \%s (nothing was sent)`, name))
		s.r.Notef(`type \help for the list; a line starting with \\ is sent as typed`)
		return nil
	}
	if !s.metaAllowed(name, s.mode()) {
		s.r.Warning(fmt.Sprintf(`\%s does not work in %s mode (nothing was sent)`, name, s.mode()))
		return nil
	}
	return m.Run(ctx, s, args)
}

func builtinMeta() []MetaCommand {
	all := []Mode{ModeCommand, ModeData, ModeIdle}
	return []MetaCommand{
		{Name: "help", Usage: `\help`, Summary: "list the meta-commands and the commands this protocol knows", Modes: all, Run: metaHelp},
		{Name: "explain", Usage: `\explain CODE|COMMAND`, Summary: "explain a reply code (550, 5.1.1, +OK) or a command (RCPT)", Modes: all, Run: metaExplain},
		{Name: "b64", Usage: `\b64 TEXT`, Summary: "show TEXT in base64 (as AUTH and MIME use it); nothing is sent", Modes: all, Run: metaB64},
		{Name: "unb64", Usage: `\unb64 BASE64`, Summary: "decode base64, such as a 334 challenge; nothing is sent", Modes: all, Run: metaUnb64},
		{Name: "tls", Usage: `\tls`, Summary: "upgrade this connection to TLS with STARTTLS (or STLS)", Run: func(ctx context.Context, s *Session, _ []string) error { return s.StartTLS(ctx) }},
		{Name: "brief", Usage: `\brief`, Summary: "from now on, one short note per reply (warnings still show)", Modes: all, Run: func(_ context.Context, s *Session, _ []string) error {
			s.r.SetBrief(true)
			s.r.Notef(`brief notes: one line per reply; \full brings the explanations back, \explain CODE explains one`)
			return nil
		}},
		{Name: "full", Usage: `\full`, Summary: "from now on, full notes: details, references and what to type next", Modes: all, Run: func(_ context.Context, s *Session, _ []string) error {
			s.r.SetBrief(false)
			s.r.Notef(`full notes: every explanation is shown again`)
			return nil
		}},
		{Name: "quit", Usage: `\quit`, Summary: "end the session politely (QUIT or LOGOUT), then exit", Modes: all, Run: metaQuit},
	}
}

func metaHelp(_ context.Context, s *Session, _ []string) error {
	s.r.Heading("meta-commands (never sent to the server)")
	for _, m := range s.order {
		s.r.Field(fmt.Sprintf("%-28s", m.Usage), m.Summary)
	}
	var words []string
	s.proto(func() string { words = s.p.Completions(); return "" })
	words = helpWords(words)
	s.r.Heading(s.p.Name() + " commands (typed lines go to the server exactly as you type them)")
	for _, l := range render.Wrap(strings.Join(words, "  "), s.r.Width(), "  ", "  ") {
		s.r.Text(l)
	}
	s.r.Notef(`tab completes commands; \explain COMMAND shows its syntax; Ctrl-D ends the input`)
	return nil
}

// helpWords returns the protocol's commands for \help in alphabetical
// order, each once, with the argument forms (MAIL FROM:<, RCPT TO:<) kept
// next to their verb and header names of message text left out.
func helpWords(words []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range words {
		w = strings.TrimSpace(w)
		if w == "" || seen[w] || strings.HasSuffix(w, ":") {
			continue
		}
		seen[w] = true
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToUpper(a), strings.ToUpper(b)) })
	return out
}

func metaExplain(_ context.Context, s *Session, args []string) error {
	if len(args) == 0 {
		s.r.Warning(`usage: \explain CODE|COMMAND, for example \explain 550 or \explain RCPT`)
		return nil
	}
	topic := strings.Join(args, " ")
	s.mu.Lock()
	notes, ok := s.p.Explain(topic)
	s.mu.Unlock()
	if !ok {
		s.r.Warning(fmt.Sprintf("%s knows nothing about %q", s.p.Name(), topic))
		return nil
	}
	for _, n := range notes {
		s.r.Note(n)
	}
	return nil
}

func metaB64(_ context.Context, s *Session, args []string) error {
	text := strings.Join(args, " ")
	s.r.Text(base64.StdEncoding.EncodeToString([]byte(text)))
	s.r.Note(note.Note{Summary: fmt.Sprintf("base64 of %q (%d octets)", text, len(text)),
		Detail: "base64 is an encoding, not encryption: anyone can decode it. Send AUTH only over TLS.", Ref: "RFC 4648 §4"})
	return nil
}

func metaUnb64(_ context.Context, s *Session, args []string) error {
	if len(args) != 1 {
		s.r.Warning(`usage: \unb64 BASE64, for example \unb64 VXNlcm5hbWU6`)
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(args[0])
	if err != nil {
		s.r.Warning("not valid base64: " + err.Error())
		return nil
	}
	s.r.Text(string(b))
	s.r.Notef("decoded %d octets", len(b))
	return nil
}

func metaQuit(ctx context.Context, s *Session, _ []string) error {
	if s.mode() == ModeData {
		s.r.Warning(`in DATA mode: end the message with a line holding only "." first, or it is abandoned`)
	}
	_, err := s.Exchange(ctx, s.p.Quit())
	return err
}

// authPlainArgs checks the arguments of POP3's and IMAP's \auth plain USER
// PASS, saying what is wrong when nothing will be sent, and warns when the
// connection is not encrypted. (SMTP's AUTH line carries that warning in its
// own annotation.)
func authPlainArgs(s *Session, args []string) bool {
	if len(args) != 3 || !strings.EqualFold(args[0], "plain") {
		s.r.Warning(`usage: \auth plain USER PASS (nothing was sent)`)
		return false
	}
	if s.conn != nil && s.conn.TLSState == nil {
		s.r.Warning("this connection is not encrypted: anyone on the path can decode the password (use \\tls first, except on a lab server)")
	}
	return true
}

// plainResponse returns the SASL PLAIN initial response for user and pass
// in base64 (RFC 4616: authorisation id, NUL, user, NUL, password), and
// shows the student what it holds with the password masked.
func plainResponse(s *Session, user, pass string) (string, error) {
	_, ir, err := sasl.NewPlainClient("", user, pass).Start()
	if err != nil {
		return "", err
	}
	enc := base64.StdEncoding.EncodeToString(ir)
	s.r.Note(note.Note{Summary: fmt.Sprintf("PLAIN sends \"\\0%s\\0%s\" (authorisation id, NUL, user, NUL, password) in base64: %s", user, strings.Repeat("*", len(pass)), enc), Ref: "RFC 4616 §2"})
	return enc, nil
}
