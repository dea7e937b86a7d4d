package smtp

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/queue"
)

// message is one message on its way into the queue while its text
// arrives: the queue's MessageWriter behind a buffer that batches the
// writes, or memory when a Checker must see the whole text first (held).
// The header section is held back until it ends, so that this server's
// Received: field goes first and, on submission, a missing Message-ID or
// Date can be added.
type message struct {
	mw       MessageWriter
	beginErr error         // the queue could not start the message: the text is read and dropped
	out      *bufio.Writer // from writerPool, over mw or held
	held     *bytes.Buffer // the whole text, for the Checker; nil without one
	header   bytes.Buffer  // the header section so far
	inHeader bool
	werr     error // the first write error
}

// writerPool holds the buffers that batch message text into the queue's
// writes: only sessions inside DATA hold one, so idle sessions cost nothing.
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}

// maxHeaderBuffer bounds the header section kept in memory to look for
// Message-ID and Date; a longer header section is passed through as it is.
const maxHeaderBuffer = 64 << 10

// beginMessage asks the queue for a new message; release gives its
// buffer back.
func (s *session) beginMessage() message {
	m := message{inHeader: true}
	m.mw, m.beginErr = s.srv.cfg.Queue.Begin()
	if m.beginErr != nil {
		s.srv.log.Error("queue: cannot start a message", "session", s.id, "err", m.beginErr)
		m.mw = discardWriter{}
	}
	m.out = writerPool.Get().(*bufio.Writer)
	m.out.Reset(m.mw)
	m.held = s.holdForChecks(m.out)
	return m
}

func (m *message) release() {
	m.out.Reset(nil)
	writerPool.Put(m.out)
}

func (m *message) write(b []byte) {
	if m.werr == nil {
		_, m.werr = m.out.Write(b)
	}
}

// takesBulk reports whether lines may go to the message in bulk, unseen:
// past the header section, and nothing has failed.
func (m *message) takesBulk() bool { return !m.inHeader && m.werr == nil }

// addLine passes one line of text on, holding the header section back
// until it ends. withCRLF, when not nil, is content followed by its CR LF,
// written in one piece.
func (s *session) addLine(m *message, content, withCRLF []byte) {
	if m.inHeader {
		first := m.header.Len() == 0
		if len(content) > 0 && (!first || isHeaderField(content)) && m.header.Len() < maxHeaderBuffer {
			m.header.Write(content)
			m.header.WriteString("\r\n")
			return
		}
		s.flushHeader(m)
		if len(content) > 0 && first {
			// No header section at all: keep the text as body.
			m.write([]byte("\r\n"))
		}
	}
	if withCRLF != nil {
		m.write(withCRLF)
		return
	}
	m.write(content)
	m.write([]byte("\r\n"))
}

// flushHeader writes Received:, the submission fields and the header
// section held so far.
func (s *session) flushHeader(m *message) {
	m.inHeader = false
	now := s.srv.cfg.Now()
	m.write([]byte(s.receivedField(m.mw.ID(), now)))
	if s.srv.cfg.Submission {
		h := m.header.Bytes()
		if !hasField(h, "Date") {
			m.write([]byte("Date: " + now.Format(time.RFC1123Z) + "\r\n"))
			s.trace(transcript.Meta, "added Date: (submission, RFC 6409 §8.3)")
		}
		if !hasField(h, "Message-ID") {
			m.write([]byte("Message-ID: <" + newMessageID() + "@" + s.srv.cfg.Hostname + ">\r\n"))
			s.trace(transcript.Meta, "added Message-ID: (submission, RFC 6409 §8.3)")
		}
	}
	m.write(m.header.Bytes())
	m.header.Reset()
}

// finishText writes out what is still held back or buffered.
func (s *session) finishText(m *message) error {
	if m.inHeader {
		s.flushHeader(m)
	}
	if m.werr == nil {
		m.werr = m.out.Flush()
	}
	return m.werr
}

// receivedField builds the Received: trace field (RFC 5321 §4.4) with the
// protocol keyword of RFC 3848 / RFC 6531 (ESMTPSA: ESMTP with TLS and AUTH)
// and the TLS and AUTH facts in a comment.
func (s *session) receivedField(id string, now time.Time) string {
	with := "SMTP"
	if s.esmtp {
		with = "ESMTP"
		if s.mail.SMTPUTF8 {
			with = "UTF8SMTP"
		}
		if s.tls != nil {
			with += "S"
		}
		if s.authUser != "" {
			with += "A"
		}
	}
	lit := s.client.String()
	if s.client.Is6() {
		lit = "IPv6:" + lit
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Received: from %s ([%s])\r\n\tby %s (mailx) with %s id %s", s.helo, lit, s.srv.cfg.Hostname, with, id)
	var facts []string
	if s.tls != nil {
		facts = append(facts, "using "+tlsDescription(s.tls))
	}
	if s.authUser != "" {
		facts = append(facts, "authenticated as "+s.authUser)
	}
	if len(facts) > 0 {
		b.WriteString("\r\n\t(" + strings.Join(facts, "; ") + ")")
	}
	// The "for" clause names the one recipient, unless the path is so long
	// that the line would pass the 998 octets of RFC 5322 §2.1.1.
	if len(s.rcpts) == 1 && len(s.rcpts[0]) <= 900 {
		b.WriteString("\r\n\tfor <" + s.rcpts[0] + ">")
	}
	b.WriteString(";\r\n\t" + now.Format(time.RFC1123Z) + "\r\n")
	return b.String()
}

// isHeaderField reports whether line starts like "Name:" (RFC 5322 §2.2).
func isHeaderField(line []byte) bool {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return false
	}
	for _, c := range line[:i] {
		if c <= ' ' || c >= 127 {
			return false
		}
	}
	return true
}

// hasField reports whether the header section h holds a field name.
func hasField(h []byte, name string) bool {
	for _, line := range bytes.Split(h, []byte("\r\n")) {
		if len(line) > len(name) && line[len(name)] == ':' && bytes.EqualFold(line[:len(name)], []byte(name)) {
			return true
		}
	}
	return false
}

func newMessageID() string {
	var b [12]byte
	rand.Read(b[:])
	return time.Now().UTC().Format("20060102150405") + "." + hex.EncodeToString(b[:])
}

// discardWriter stands in when the queue cannot take a message, so the text
// is still read to its end and the session stays in step.
type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (discardWriter) ID() string                  { return "none" }
func (discardWriter) Commit(queue.Envelope) (string, func(), error) {
	return "", nil, io.ErrClosedPipe
}
func (discardWriter) Abort() {}
