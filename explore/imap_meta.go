package explore

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"github.com/mailx-edu/mailx/proto/imap"
	"github.com/mailx-edu/mailx/proto/note"
	"github.com/mailx-edu/mailx/proto/pop3"
)

func decodeB64(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.TrimSpace(s))
}

// Meta implements Protocol: \auth and \append.
func (p *IMAP) Meta() []MetaCommand {
	return []MetaCommand{
		{Name: "auth", Usage: `\auth plain USER PASS`, Summary: "log in with AUTHENTICATE PLAIN: mailx computes the base64 and explains it", Run: imapAuth},
		{Name: "append", Usage: `\append MAILBOX FILE`, Summary: "upload a message file into MAILBOX with APPEND and a literal of its exact size", Run: imapAppend},
	}
}

func imapAuth(ctx context.Context, s *Session, args []string) error {
	p, ok := s.Protocol().(*IMAP)
	if !ok || !authPlainArgs(s, args) {
		return nil
	}
	enc, err := plainResponse(s, args[1], args[2])
	if err != nil {
		return err
	}
	if imap.HasCapability(p.Capabilities(), "SASL-IR") {
		s.r.Note(note.Note{Summary: "the server offers SASL-IR, so the answer goes on the AUTHENTICATE line itself", Ref: "RFC 4959"})
		_, err = s.Exchange(ctx, "AUTHENTICATE PLAIN "+enc)
		return err
	}
	resp, err := s.Exchange(ctx, "AUTHENTICATE PLAIN")
	if err != nil || resp == nil || resp.Status != "+" {
		return err
	}
	_, err = s.SendWire(ctx, enc)
	return err
}

func imapAppend(ctx context.Context, s *Session, args []string) error {
	if len(args) != 2 {
		s.r.Warning(`usage: \append MAILBOX FILE, for example \append INBOX note.eml (nothing was sent)`)
		return nil
	}
	b, err := os.ReadFile(args[1])
	if err != nil {
		s.r.Warning(fmt.Sprintf("cannot read %s: %v (nothing was sent)", args[1], err))
		return nil
	}
	// A message on the wire has CRLF line ends; a file saved on Unix has LF.
	lines := pop3.SplitBody(string(b))
	size := len(pop3.JoinBody(lines))
	s.r.Note(note.Note{Summary: fmt.Sprintf("%s: %d lines, %d octets with CRLF line ends: the literal is {%d}", args[1], len(lines), size, size), Ref: "RFC 3501 §6.3.11"})
	resp, err := s.Exchange(ctx, fmt.Sprintf("APPEND %s {%d}", quoteMailbox(args[0]), size))
	if err != nil {
		return err
	}
	if p, ok := s.Protocol().(*IMAP); ok && resp != nil && p.Mode() != ModeData {
		return nil // refused before the literal (NO or BAD)
	}
	for _, l := range lines {
		if _, err := s.SendWire(ctx, l); err != nil {
			return err
		}
	}
	_, err = s.SendWire(ctx, "")
	return err
}

// quoteMailbox quotes a mailbox name unless it is a plain atom.
func quoteMailbox(name string) string {
	if name != "" && !strings.ContainsAny(name, " \"\\(){%*]") {
		return name
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
}
