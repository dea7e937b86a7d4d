package web

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/mailx-edu/mailx/proto/imap"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// maxTapLine bounds one recorded line. An IMAP line can be long (a FETCH of
// many ENVELOPEs); the bridge pane and the transcript keep its start.
const maxTapLine = 4096

// tapConn records the clear-text lines that pass through a connection, each
// direction split into lines as the protocol frames them. Reads are what
// the server sent, writes what the bridge sent. Literals ({n} in IMAP) are
// not shown octet by octet: a message body becomes "{n}⟨n octets⟩" in its
// line, as the server's own trace summarises it.
type tapConn struct {
	net.Conn
	in, out lineSplitter
}

func newTapConn(c net.Conn, proto string, emit func(transcript.Dir, string)) *tapConn {
	t := &tapConn{Conn: c}
	imapMode := proto == "imap"
	t.in = lineSplitter{dir: transcript.Server, imap: imapMode, emit: emit}
	t.out = lineSplitter{dir: transcript.Client, imap: imapMode, emit: emit}
	return t
}

func (t *tapConn) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if n > 0 {
		t.in.write(p[:n])
	}
	return n, err
}

func (t *tapConn) Write(p []byte) (int, error) {
	n, err := t.Conn.Write(p)
	if n > 0 {
		t.out.write(p[:n])
	}
	return n, err
}

// lineSplitter turns a byte stream into lines. It is fed from one goroutine
// per direction, but guarded anyway because net.Conn permits more.
type lineSplitter struct {
	mu      sync.Mutex
	dir     transcript.Dir
	imap    bool
	emit    func(transcript.Dir, string)
	line    bytes.Buffer
	literal int64 // octets of a literal still to skip
	litSize int64
}

func (s *lineSplitter) write(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(p) > 0 {
		if s.literal > 0 {
			n := min(int64(len(p)), s.literal)
			s.literal -= n
			p = p[n:]
			if s.literal == 0 {
				s.appendLine(fmt.Sprintf("⟨%d octets⟩", s.litSize))
			}
			continue
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.appendLine(string(p))
			return
		}
		s.appendLine(string(p[:i]))
		p = p[i+1:]
		text := strings.TrimSuffix(s.line.String(), "\r")
		if s.imap {
			if n, _ := imap.TrailingLiteral(text); n >= 0 {
				// The line goes on after the literal's octets.
				s.literal, s.litSize = n, n
				s.line.Reset()
				s.line.WriteString(text)
				if n == 0 {
					s.appendLine("⟨0 octets⟩")
				}
				continue
			}
		}
		s.line.Reset()
		s.emit(s.dir, text)
	}
}

func (s *lineSplitter) appendLine(b string) {
	if room := maxTapLine - s.line.Len(); room > 0 {
		if len(b) > room {
			b = b[:room] + "…"
		}
		s.line.WriteString(b)
	}
}

// redactIMAP hides the password of a LOGIN command, so that neither the
// bridge pane nor a transcript ever holds it:
//
//	C: a1 LOGIN alice ********
func redactIMAP(line string) string {
	p := imap.ParseCommand(line)
	if p.Name != "LOGIN" && p.Name != "AUTHENTICATE" {
		return line
	}
	f := imap.Fields(p.Args)
	prefix := p.Name
	if p.Tag != "" {
		prefix = p.Tag + " " + prefix
	}
	if p.Name == "AUTHENTICATE" {
		if len(f) > 1 {
			return prefix + " " + f[0] + " ********"
		}
		return line
	}
	if len(f) == 0 {
		return line
	}
	return prefix + " " + f[0] + " ********"
}
