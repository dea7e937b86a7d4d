package smtp

import (
	"errors"
	"fmt"
	"io"
	"strings"

	smtp "github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/queue"
)

// A message's way from the 354 reply to the queue, in the order it
// happens:
//  1. receiveData starts a message in the queue (message.go) and reads the
//     text with a dataReader (datareader.go): one line at a time,
//     dot-stuffing removed, faults noted, up to the end-of-data line.
//  2. Each line goes to the trace (traceData) and, while nothing is wrong
//     with the text, to the message (addLine), whose header section is held
//     back until this server's Received: field can go first.
//  3. At the end, a text with a fault is refused and nothing is queued
//     (dataReader.refusal); otherwise queueMessage asks the Checker and the
//     lab's Policy, then commits the message: 250 only once the queue has it
//     on stable storage.
//  4. The local copies the queue leaves for after the 250 are written by
//     localCopies (copies.go) once the reply is sent.
//
// The fast paths change none of this: the large read buffer and lines in
// bulk (bulk.go), polling for input (input_linux.go), the pooled write
// buffer (message.go) and the background copies (copies.go).

// receiveData reads the message text after 354 and answers for it; a
// zero Reply means the connection is gone.
func (s *session) receiveData() smtp.Reply {
	s.setInData(true)
	defer s.setInData(false)
	m := s.beginMessage()
	defer m.release()
	s.in.beginBulk()
	defer s.in.endBulk()
	d := s.newDataReader()
	if err := s.readText(&d, &m); err != nil {
		m.mw.Abort()
		return s.dataReadFailed(err)
	}
	if r, why := d.refusal(); why != "" {
		return s.refuse(&m, r, why)
	}
	if m.beginErr != nil {
		return s.refuse(&m, smtp.LocalError(), "queue unavailable: "+m.beginErr.Error())
	}
	return s.queueMessage(&m, d.size)
}

// setInData marks the session as receiving a message, which Shutdown lets
// finish.
func (s *session) setInData(in bool) {
	s.mu.Lock()
	s.inData = in
	s.mu.Unlock()
}

// readText reads the text to its end-of-data line, tracing it and passing
// it on to m while nothing is wrong with it.
func (s *session) readText(d *dataReader, m *message) error {
	t := dataTrace{on: s.srv.cfg.Trace != nil, headerOnly: s.txns >= fullTextMessages}
	for {
		if m.takesBulk() && t.done(d.lines) {
			if lines := d.ordinaryLines(); lines != nil {
				m.write(lines)
				continue
			}
		}
		line, err := d.next()
		if err != nil && err != io.EOF {
			return err
		}
		if t.shows(d.lines, m.inHeader) {
			s.traceDataLine(line)
		}
		if err == io.EOF {
			break
		}
		if d.clean() {
			s.addLine(m, line.content, line.withCRLF)
		}
	}
	s.traceDataEnd(t, d.lines)
	return nil
}

// dataReadFailed answers a read error inside DATA: nothing is queued.
func (s *session) dataReadFailed(err error) smtp.Reply {
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() && !s.isStopped() {
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

// refuse drops the message and ends the transaction with r.
func (s *session) refuse(m *message, r smtp.Reply, why string) smtp.Reply {
	m.mw.Abort()
	s.trace(transcript.Meta, "refused, nothing queued: "+why)
	s.srv.log.Info("message refused", "session", s.id, "reason", why)
	s.resetTxn()
	return r
}

// queueMessage hands a complete, clean text of size octets to the queue:
// the Checker and the lab's Policy may still refuse it, then it is
// committed and the client gets 250 with its queue id.
func (s *session) queueMessage(m *message, size int64) smtp.Reply {
	if err := s.finishText(m); err != nil {
		s.srv.log.Error("queue: write failed", "session", s.id, "err", err)
		return s.refuse(m, smtp.LocalError(), "queue write failed")
	}
	env := s.envelope()
	if m.held != nil {
		if r, why, ok := s.runChecks(m.held, &env, m.mw); !ok {
			return s.refuse(m, r, why)
		}
	}
	if r := s.policyReply(func(p Policy) (*smtp.Reply, string) { return p.Data(env.From, env.To) }); r != nil {
		return s.refuse(m, *r, "refused by the lab scenario")
	}
	// One message's copies at a time, in order: the previous one's are
	// written before this one is committed.
	s.copies.wait()
	id, finish, err := m.mw.Commit(env)
	if err != nil {
		s.srv.log.Error("queue: commit failed", "session", s.id, "err", err)
		var r smtp.Reply
		if errors.As(err, &r) {
			return s.refuse(m, r, "queue refused: "+r.Error())
		}
		return s.refuse(m, smtp.LocalError(), "queue commit failed")
	}
	s.copies.set(finish, size)
	s.txns++
	s.trace(transcript.Meta, fmt.Sprintf("queued as %s: %d octets of message text from <%s> for %s", id, size, env.From, strings.Join(env.To, ", ")))
	s.srv.log.Info("message queued", "session", s.id, "id", id, "size", size, "from", env.From, "to", env.To, "auth", s.authUser)
	s.resetTxn()
	return smtp.Queued(id)
}

// envelope is the open transaction as the queue keeps it.
func (s *session) envelope() queue.Envelope {
	return queue.Envelope{
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
}

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

// dataTrace decides which lines of one message's text the trace shows.
type dataTrace struct {
	on         bool // the server traces at all
	headerOnly bool // the header section only (see fullTextMessages)
	traced     int  // lines shown
}

// shows reports whether line number n goes to the trace, and counts it.
func (t *dataTrace) shows(n int, inHeader bool) bool {
	if !t.on || n > maxTracedLines || t.headerOnly && !inHeader {
		return false
	}
	t.traced++
	return true
}

// done reports whether no later line of the body goes to the trace, once
// n lines are read (past the header section): lines may then go in bulk.
func (t *dataTrace) done(n int) bool {
	return !t.on || t.headerOnly || n >= maxTracedLines
}

// traceDataLine reports one line of message text as sent, dot-stuffing
// included; line-ending faults show up escaped in transcripts.
func (s *session) traceDataLine(l textLine) {
	line := string(l.raw)
	if l.long {
		line = string(l.raw[:min(len(l.raw), 200)]) + "..."
	} else if s.lfOnly {
		line = strings.TrimSuffix(line, "\n")
	} else {
		line = strings.TrimSuffix(line, "\r\n")
	}
	s.trace(transcript.Client, line)
}

// traceDataEnd says how many lines the trace left out, then shows the
// final "." it left out too.
func (s *session) traceDataEnd(t dataTrace, lines int) {
	if !t.on || t.traced >= lines {
		return
	}
	more := lines - t.traced - 1
	if t.headerOnly && t.traced < maxTracedLines {
		s.trace(transcript.Meta, fmt.Sprintf("%d lines of message body not shown (after a session's first %d messages, the trace shows each one's header section only)", more, fullTextMessages))
	} else {
		s.trace(transcript.Meta, fmt.Sprintf("%d more lines of message text not shown", more))
	}
	s.trace(transcript.Client, ".")
}
