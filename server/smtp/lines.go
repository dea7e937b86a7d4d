package smtp

import (
	"bytes"
	"time"
)

// cmdLine is one command line as read, with what is wrong with it, if
// anything.
type cmdLine struct {
	text    string // without the line ending
	long    bool   // longer than the command line limit
	problem string // a line-ending fault, for a 500 5.5.2 reply
}

// setReadDeadline arms the read timeout unless the server is stopping this
// session, whose deadline is already in the past.
func (s *session) setReadDeadline(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		s.conn.SetReadDeadline(time.Now().Add(d))
	}
}

// readCommand reads one command line. The first line fixes the session's
// line ending: CRLF as RFC 5321 §2.3.8 requires, or LF-only for a student
// typing through nc; a later line with the other ending is refused, never
// silently accepted, so the session is never a mix of both.
func (s *session) readCommand() (cmdLine, error) {
	lim := s.srv.limits
	s.in.endBulk()
	s.setReadDeadline(lim.Idle)
	raw, long, crlf, err := s.in.readRaw(lim.AuthLine)
	if err != nil {
		return cmdLine{}, err
	}
	// AUTH lines carry base64 credentials and may be longer (RFC 4954 §4).
	c := cmdLine{long: long || (len(raw) > lim.CommandLine && !hasPrefixFold(raw, "AUTH "))}
	body := bytes.TrimSuffix(raw, []byte("\n"))
	if crlf {
		body = bytes.TrimSuffix(body, []byte("\r"))
	}
	if !s.modeSet {
		s.lfOnly = !crlf
	}
	switch {
	case s.lfOnly && crlf:
		c.problem = "This line ends in CRLF, but this session is in LF-only mode (set by your first line); use one kind of line ending per session"
	case !s.lfOnly && !crlf:
		c.problem = "This line ends in a bare LF, but this session uses CRLF (set by your first line); SMTP lines end with CRLF"
	case bytes.IndexByte(body, '\r') >= 0:
		c.problem = "This line holds a bare CR; SMTP lines end with CRLF and CR may not appear alone"
	case hasControl(body):
		c.problem = "This line holds a control character; commands are printable text"
	}
	c.text = string(body)
	return c, nil
}

func hasPrefixFold(b []byte, p string) bool {
	return len(b) >= len(p) && bytes.EqualFold(b[:len(p)], []byte(p))
}

func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}
