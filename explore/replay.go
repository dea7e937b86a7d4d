package explore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mailx-edu/mailx/proto/note"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// Replay steps through a recorded transcript with the same annotations as a
// live session, without any network. When o.Input is interactive it pauses
// after each response until Enter (q ends the replay); otherwise it shows
// everything at once. Client lines are replayed in their recorded wire form
// (Observe), so SMTP message text is not dot-stuffed twice.
func Replay(ctx context.Context, t *transcript.Transcript, o Options) error {
	s := NewSession(nil, o)
	if t.Header.Host != "" {
		where := t.Header.Host
		if t.Header.Port != 0 {
			where = fmt.Sprintf("%s port %d", where, t.Header.Port)
		}
		when := ""
		if !t.Header.Started.IsZero() {
			when = ", recorded " + t.Header.Started.UTC().Format("2006-01-02 15:04 MST")
		}
		s.r.Heading(fmt.Sprintf("Replay: %s session with %s%s", strings.ToUpper(s.p.Name()), where, when))
	}
	lines := t.Lines
	for i := 0; i < len(lines); {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch lines[i].Dir {
		case transcript.Meta:
			s.replayMeta(lines[i].Text)
			i++
		case transcript.Client:
			s.mu.Lock()
			out := s.p.Observe(lines[i].Text)
			s.mu.Unlock()
			s.showSent(lines[i].Text, out.Notes)
			i++
		case transcript.Server:
			n, err := s.replayResponse(lines[i:])
			i += n
			if err != nil {
				return fmt.Errorf("transcript line %d: %w", lines[i-1].Num, err)
			}
			if o.Input != nil && o.Input.Interactive() && i < len(lines) {
				reply, err := o.Input.ReadLine("[Enter] next step, q to stop> ")
				if errors.Is(err, io.EOF) || errors.Is(err, ErrInterrupt) || strings.EqualFold(strings.TrimSpace(reply), "q") {
					return nil
				}
				if err != nil {
					return err
				}
			}
		default:
			i++
		}
	}
	return nil
}

// replayResponse reads one response from the server lines at the start of
// lines and shows it; it returns how many transcript lines it used.
func (s *Session) replayResponse(lines []transcript.Line) (int, error) {
	var buf bytes.Buffer
	var ends []int // offset just past each line's CRLF
	for _, l := range lines {
		if l.Dir != transcript.Server {
			break
		}
		buf.WriteString(l.Text)
		buf.WriteString("\r\n")
		ends = append(ends, buf.Len())
	}
	total := buf.Len()
	src := bytes.NewReader(buf.Bytes())
	w := NewWire(src, s.opts.Limits)
	resp, err := s.p.ReadResponse(w)
	consumed := total - src.Len() - w.Buffered()
	n := 0
	for n < len(ends) && ends[n] <= consumed {
		n++
	}
	if n == 0 {
		n = 1 // always make progress
	}
	if err != nil {
		if resp != nil {
			s.showResponse(resp)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			s.r.Warning("the recording ends in the middle of a response")
			return n, nil
		}
		return n, err
	}
	s.mu.Lock()
	s.p.Annotate(resp)
	tls := s.p.TLSReady(resp)
	s.mu.Unlock()
	s.showResponse(resp)
	s.last = resp
	if tls {
		s.pendingTLS = true
	}
	s.exchanged(Exchange{Response: resp})
	return n, nil
}

// replayMeta shows a recorded event such as "tls: TLS 1.3, ...".
func (s *Session) replayMeta(text string) {
	s.meta(text)
	if !s.r.JSONMode() {
		s.r.Note(note.Note{Summary: "recorded event: " + text})
	}
	if strings.HasPrefix(text, "tls:") && s.pendingTLS {
		s.pendingTLS = false
		s.tlsDone()
	}
}
