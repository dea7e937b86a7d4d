package smtp

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	smtp "github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/queue"
)

// writerPool holds the buffers that batch message text into the queue's
// writes: only sessions inside DATA hold one, so idle sessions cost nothing.
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}

// maxHeaderBuffer bounds the header section kept in memory to look for
// Message-ID and Date; a longer header section is passed through as it is.
const maxHeaderBuffer = 64 << 10

// dataReader tracks one message's text as it arrives.
type dataReader struct {
	lines    int
	size     int64
	fault    string // first line-ending fault: the message is refused
	longLine int    // first line over the limit
	nul      int    // first line holding a NUL octet
	tooBig   bool

	traced     int  // lines of text reported to the trace
	headerOnly bool // trace the header section only (see fullTextMessages)

	header   bytes.Buffer
	inHeader bool
	out      *bufio.Writer
	werr     error
}

// receiveData reads the message text after 354 and answers for it. The text
// ends only at CRLF "." CRLF (LF "." LF in an LF-only session); any other
// line ending inside it means the client and a server behind us might
// disagree on where the message ends (SMTP smuggling), so the whole message
// is refused after the real end and nothing is queued. It reads line by line
// without textproto.DotReader, which accepts bare LF.
func (s *session) receiveData() smtp.Reply {
	s.mu.Lock()
	s.inData = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inData = false
		s.mu.Unlock()
	}()
	lim := s.srv.limits
	mw, err := s.srv.cfg.Queue.Begin()
	if err != nil {
		s.srv.log.Error("queue: cannot start a message", "session", s.id, "err", err)
		mw = discardWriter{}
	}
	out := writerPool.Get().(*bufio.Writer)
	out.Reset(mw)
	held := s.holdForChecks(out)
	defer func() {
		out.Reset(nil)
		writerPool.Put(out)
	}()
	s.beginBulk()
	defer s.endBulk()
	d := &dataReader{inHeader: true, out: out, headerOnly: s.txns >= fullTextMessages}
	prevOK := true // the 354 reply is followed by the first line
	for {
		if s.r.Buffered() > 0 && bulkScan && s.canTakeLinesInBulk(d) && s.takeLinesInBulk(d) {
			prevOK = true // each line it took ended in CR LF
			continue
		}
		if s.r.Buffered() == 0 {
			// The next line needs a read from the network: that read gets
			// the data timeout. Lines already buffered need no new deadline
			// (re-arming it for each line costs more than parsing the line).
			s.setReadDeadline(lim.Data)
		}
		// One octet more than the limit: a dot-stuffed line may be a line
		// of the limit's length once its stuffing dot is removed (RFC 5321
		// §4.5.3.1.6 counts the line as sent without it).
		raw, long, crlf, rerr := s.readRaw(lim.TextLine + 1)
		if !long && len(raw) > lim.TextLine && raw[0] != '.' {
			long = true
		}
		if rerr != nil {
			mw.Abort()
			var ne interface{ Timeout() bool }
			if errors.As(rerr, &ne) && ne.Timeout() && !s.isStopped() {
				s.trace(transcript.Meta, "timeout inside DATA: nothing queued")
				return smtp.Timeout(s.srv.cfg.Hostname)
			}
			if s.isStopped() {
				s.trace(transcript.Meta, "server shutting down inside DATA: nothing queued")
				return smtp.ShuttingDown(s.srv.cfg.Hostname)
			}
			s.trace(transcript.Meta, "connection lost inside DATA: nothing queued")
			return smtp.Reply{} // no reply: the connection is gone
		}
		d.lines++
		s.traceData(d, raw, long)
		if long {
			if d.longLine == 0 {
				d.longLine = d.lines
			}
			prevOK = crlf != s.lfOnly
			continue
		}
		content := bytes.TrimSuffix(raw, []byte("\n"))
		// The "." line ends the text only when the line before it ended
		// properly too: in "text\n.\r\n" the dot follows a bare LF, and a
		// server that stopped there would read what follows as commands.
		if s.lfOnly {
			if string(content) == "." && prevOK {
				break
			}
			prevOK = !crlf
			if bytes.IndexByte(content, '\r') >= 0 && d.fault == "" {
				d.fault = fmt.Sprintf("a CR in line %d of an LF-only session", d.lines)
			}
		} else {
			if crlf {
				content = content[:len(content)-1]
				if string(content) == "." && prevOK {
					break
				}
			} else if d.fault == "" {
				d.fault = fmt.Sprintf("bare LF at the end of line %d", d.lines)
			}
			prevOK = crlf
			if bytes.IndexByte(content, '\r') >= 0 && d.fault == "" {
				d.fault = fmt.Sprintf("bare CR in line %d", d.lines)
			}
		}
		if len(content) > 0 && content[0] == '.' {
			content = content[1:] // RFC 5321 §4.5.2 transparency
		}
		if d.nul == 0 && bytes.IndexByte(content, 0) >= 0 {
			d.nul = d.lines
		}
		d.size += int64(len(content)) + 2
		if d.size > lim.MessageSize {
			d.tooBig = true
		}
		if d.fault == "" && d.longLine == 0 && !d.tooBig {
			var withCRLF []byte // content and its CR LF as received, in one slice
			if crlf && !s.lfOnly {
				withCRLF = raw[len(raw)-len(content)-2:]
			}
			s.addLine(d, mw, content, withCRLF)
		}
	}
	if d.traced < d.lines && s.srv.cfg.Trace != nil {
		// The final "." was not traced: say what was left out, then show it.
		more := d.lines - d.traced - 1
		if d.headerOnly && d.traced < maxTracedLines {
			s.trace(transcript.Meta, fmt.Sprintf("%d lines of message body not shown (after a session's first %d messages, the trace shows each one's header section only)", more, fullTextMessages))
		} else {
			s.trace(transcript.Meta, fmt.Sprintf("%d more lines of message text not shown", more))
		}
		s.trace(transcript.Client, ".")
	}
	fail := func(r smtp.Reply, why string) smtp.Reply {
		mw.Abort()
		s.trace(transcript.Meta, "refused, nothing queued: "+why)
		s.srv.log.Info("message refused", "session", s.id, "reason", why)
		s.resetTxn()
		return r
	}
	switch {
	case d.fault != "":
		return fail(smtp.BareLineEnding(d.fault), d.fault+" (possible SMTP smuggling)")
	case d.longLine != 0:
		return fail(smtp.LineTooLong(fmt.Sprintf("Line %d of the message is", d.longLine), lim.TextLine), "line too long")
	case d.nul != 0:
		// A next hop that drops NUL octets would read "\x00." as the end
		// of the text and what follows as commands: refuse, as for bare
		// line endings.
		return fail(smtp.NULInText(d.nul), "NUL octet in the text (possible SMTP smuggling)")
	case d.tooBig:
		return fail(smtp.MessageTooBig(lim.MessageSize), fmt.Sprintf("message larger than %d octets", lim.MessageSize))
	case err != nil:
		return fail(smtp.LocalError(), "queue unavailable: "+err.Error())
	}
	if d.inHeader {
		s.flushHeader(d, mw.ID())
	}
	if d.werr == nil {
		d.werr = d.out.Flush()
	}
	if d.werr != nil {
		s.srv.log.Error("queue: write failed", "session", s.id, "err", d.werr)
		return fail(smtp.LocalError(), "queue write failed")
	}
	env := queue.Envelope{
		From:       s.mail.From.Addr(),
		To:         append([]string(nil), s.rcpts...),
		Received:   s.srv.cfg.Now(),
		ClientAddr: s.conn.RemoteAddr().String(),
		Helo:       s.helo,
		AuthUser:   s.authUser,
		SessionID:  s.id,
		BodyType:   s.mail.Body,
		SMTPUTF8:   s.mail.SMTPUTF8,
	}
	if held != nil {
		if r, why, ok := s.runChecks(held, &env, mw); !ok {
			return fail(r, why)
		}
	}
	if r := s.policyReply(func(p Policy) (*smtp.Reply, string) { return p.Data(env.From, env.To) }); r != nil {
		return fail(*r, "refused by the lab scenario")
	}
	// One message's copies at a time, in order: the previous one's are
	// written before this one is committed.
	s.waitFinish()
	id, finish, cerr := mw.Commit(env)
	if cerr != nil {
		s.srv.log.Error("queue: commit failed", "session", s.id, "err", cerr)
		var r smtp.Reply
		if errors.As(cerr, &r) {
			return fail(r, "queue refused: "+r.Error())
		}
		return fail(smtp.LocalError(), "queue commit failed")
	}
	s.afterReply = finish
	s.afterReplyInBackground = d.size >= backgroundFinishAt
	s.txns++
	s.trace(transcript.Meta, fmt.Sprintf("queued as %s: %d octets of message text from <%s> for %s", id, d.size, env.From, strings.Join(env.To, ", ")))
	s.srv.log.Info("message queued", "session", s.id, "id", id, "size", d.size, "from", env.From, "to", env.To, "auth", s.authUser)
	s.resetTxn()
	return smtp.Queued(id)
}

// bulkScan turns takeLinesInBulk on; a test turns it off to compare.
var bulkScan = true

// canTakeLinesInBulk reports whether the next lines may go through
// takeLinesInBulk: past the header section (held back line by line), in a
// CRLF session, nothing wrong with the text so far, and no more lines to
// show in the trace.
func (s *session) canTakeLinesInBulk(d *dataReader) bool {
	return !d.inHeader && !s.lfOnly && d.fault == "" && d.longLine == 0 && d.nul == 0 && !d.tooBig && d.werr == nil &&
		(s.srv.cfg.Trace == nil || d.headerOnly || d.lines >= maxTracedLines)
}

// takeLinesInBulk passes on the ordinary lines already in the read buffer
// at once: each ends in CR LF, holds no other CR, is within the line limit,
// does not start with "." (the end of the text and dot-stuffed lines) and
// keeps the message within its size limit. It stops before the first line
// that is anything else, or incomplete, and leaves it to the line-by-line
// reading, which decides about it exactly as before. Checking a line this
// way costs two vectorised scans instead of a call to the reader and a
// write each: reading a 100 KB message's 1,280 lines took about 70 ns per
// line. It reports whether it took any line.
func (s *session) takeLinesInBulk(d *dataReader) bool {
	lim := s.srv.limits
	buf, _ := s.r.Peek(s.r.Buffered())
	if i := bytes.IndexByte(buf, 0); i >= 0 {
		buf = buf[:i] // the line with the NUL is left to the line-by-line reading
	}
	pos, lines, size := 0, 0, d.size
	for pos < len(buf) {
		i := bytes.IndexByte(buf[pos:], '\n')
		if i < 1 || i+1 > lim.TextLine || buf[pos+i-1] != '\r' || buf[pos] == '.' ||
			bytes.IndexByte(buf[pos:pos+i-1], '\r') >= 0 || size+int64(i+1) > lim.MessageSize {
			break
		}
		size += int64(i + 1)
		lines++
		pos += i + 1
	}
	if lines == 0 {
		return false
	}
	d.write(buf[:pos])
	d.lines += lines
	d.size = size
	s.r.Discard(pos)
	return true
}

// backgroundFinishAt is the message size from which the work left for
// after the 250 (writing the Maildir copies) runs on its own goroutine,
// overlapping the client's next MAIL, RCPT, DATA and message text instead
// of delaying the reply to MAIL. Below it the hand-off to another thread
// costs more than it hides: side by side over one connection, 100 KB
// messages went faster in 11 of 14 pairs (median +5%) and 1 KB ones slower
// in 9 of 12 (median -5%) when every message took the background path.
const backgroundFinishAt = 32 << 10

// maxTracedLines is how many lines of message text go to the trace: enough
// to see the header and the start of the body, without copying every
// attachment into the trace and transcripts.
const maxTracedLines = 100

// fullTextMessages is how many messages of one session have their text
// traced up to maxTracedLines; later ones show their header section only.
// A person at a keyboard sends a few messages per session and sees all of
// them; a program sending thousands over one connection would otherwise
// write a hundred transcript lines per message (a 5,000-message run of
// 100 KB ones, 40 MB of transcript), and tracing them cost a tenth of the
// server's throughput over one connection.
const fullTextMessages = 10

// traceData reports one line of message text as sent, dot-stuffing
// included; line-ending faults show up escaped in transcripts.
func (s *session) traceData(d *dataReader, raw []byte, long bool) {
	if s.srv.cfg.Trace == nil || d.lines > maxTracedLines || d.headerOnly && !d.inHeader {
		return
	}
	d.traced++
	line := string(raw)
	if long {
		line = string(raw[:min(len(raw), 200)]) + "..."
	} else if s.lfOnly {
		line = strings.TrimSuffix(line, "\n")
	} else {
		line = strings.TrimSuffix(line, "\r\n")
	}
	s.trace(transcript.Client, line)
}

func (s *session) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// addLine passes one line of text on, holding the header section back
// until it ends so that the Received: field goes first and, on submission,
// a missing Message-ID or Date can be added. withCRLF, when not nil, is
// content followed by its CR LF, written in one piece.
func (s *session) addLine(d *dataReader, mw MessageWriter, content, withCRLF []byte) {
	if d.inHeader {
		first := d.header.Len() == 0
		if len(content) > 0 && (!first || isHeaderField(content)) && d.header.Len() < maxHeaderBuffer {
			d.header.Write(content)
			d.header.WriteString("\r\n")
			return
		}
		s.flushHeader(d, mw.ID())
		if len(content) > 0 && first {
			// No header section at all: keep the text as body.
			d.write([]byte("\r\n"))
		}
	}
	if withCRLF != nil {
		d.write(withCRLF)
		return
	}
	d.write(content)
	d.write([]byte("\r\n"))
}

func (d *dataReader) write(b []byte) {
	if d.werr == nil {
		_, d.werr = d.out.Write(b)
	}
}

// flushHeader writes Received:, the submission fields and the header
// section held so far.
func (s *session) flushHeader(d *dataReader, id string) {
	d.inHeader = false
	now := s.srv.cfg.Now()
	d.write([]byte(s.receivedField(id, now)))
	if s.srv.cfg.Submission {
		h := d.header.Bytes()
		if !hasField(h, "Date") {
			d.write([]byte("Date: " + now.Format(time.RFC1123Z) + "\r\n"))
			s.trace(transcript.Meta, "added Date: (submission, RFC 6409 §8.3)")
		}
		if !hasField(h, "Message-ID") {
			d.write([]byte("Message-ID: <" + newMessageID() + "@" + s.srv.cfg.Hostname + ">\r\n"))
			s.trace(transcript.Meta, "added Message-ID: (submission, RFC 6409 §8.3)")
		}
	}
	d.write(d.header.Bytes())
	d.header.Reset()
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
