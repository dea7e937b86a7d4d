package smtp

import (
	"bytes"
	"fmt"
	"io"
	"time"

	smtp "github.com/mailx-edu/mailx/proto/smtp"
)

// dataReader reads one message's text after the 354 reply, in the shape of
// go-smtp's dataReader: it hands out the text with the transparency dots
// removed (RFC 5321 §4.5.2), a line at a time, and says io.EOF at the
// end-of-data line. Unlike go-smtp's (and net/textproto's DotReader, which
// accepts a bare LF) it is strict about where the text ends, and it does
// not stop at a fault: it reads on to the real end, so the session stays in
// step, and refusal then says why the message may not be queued.
//
// The text ends only at CRLF "." CRLF (LF "." LF in an LF-only session).
// Any other line ending inside it means the client and a server behind us
// might disagree on where the message ends (SMTP smuggling): the whole
// message is refused after the real end and nothing is queued.
type dataReader struct {
	in      *clientReader
	lfOnly  bool  // the session's line ending is a bare LF
	maxLine int   // Limits.TextLine: the longest line, CR LF included
	maxSize int64 // Limits.MessageSize
	// timer arms the data timeout, Limits.Data, before a read from the
	// network (the session does, unless Shutdown has stopped it).
	timer   interface{ setReadDeadline(time.Duration) }
	timeout time.Duration

	prevOK bool // the last line ended properly, so a "." line now ends the text

	lines    int    // lines read, the end-of-data line included
	size     int64  // octets of text, unstuffed, each line with its CR LF
	fault    string // the first line-ending fault
	longLine int    // the first line over the limit
	nul      int    // the first line holding a NUL octet
	tooBig   bool   // the text passed maxSize
}

// newDataReader starts reading a message's text from the session's client.
func (s *session) newDataReader() dataReader {
	lim := s.srv.limits
	return dataReader{
		in: &s.in, lfOnly: s.lfOnly, maxLine: lim.TextLine, maxSize: lim.MessageSize,
		timer: s, timeout: lim.Data,
		prevOK: true, // the 354 reply is followed by the first line
	}
}

// textLine is one line of message text, as next returns it. Its slices are
// valid until the next read from the client.
type textLine struct {
	raw      []byte // as received, dot-stuffing and line ending included; cut after the limit
	long     bool   // over the line limit: the rest was dropped, content is nil
	content  []byte // the line without its transparency dot and line ending
	withCRLF []byte // content and its CR LF as received, in one slice; nil in an LF-only session
}

// next reads the next line of text. At the end-of-data line it returns
// that line and io.EOF; any other error is the connection's, and a
// connection that ends inside the text is io.ErrUnexpectedEOF (as in
// go-smtp), never the end of the text.
func (d *dataReader) next() (textLine, error) {
	if d.in.buffered() == 0 {
		// The next line needs a read from the network: that read gets the
		// data timeout. Lines already buffered need no new deadline
		// (re-arming it for each line costs more than parsing the line).
		d.timer.setReadDeadline(d.timeout)
	}
	// One octet more than the limit: a dot-stuffed line may be a line of the
	// limit's length once its stuffing dot is removed (RFC 5321 §4.5.3.1.6
	// counts the line as sent without it).
	raw, long, crlf, err := d.in.readRaw(d.maxLine + 1)
	if err == io.EOF {
		return textLine{}, io.ErrUnexpectedEOF
	}
	if err != nil {
		return textLine{}, err
	}
	if !long && len(raw) > d.maxLine && raw[0] != '.' {
		long = true
	}
	d.lines++
	if long {
		if d.longLine == 0 {
			d.longLine = d.lines
		}
		d.prevOK = crlf != d.lfOnly
		return textLine{raw: raw, long: true}, nil
	}
	content, end := d.lineEnding(raw, crlf)
	if end {
		return textLine{raw: raw}, io.EOF
	}
	line := textLine{raw: raw, content: content}
	if len(content) > 0 && content[0] == '.' {
		line.content = content[1:] // RFC 5321 §4.5.2 transparency
	}
	if crlf && !d.lfOnly {
		line.withCRLF = raw[len(raw)-len(line.content)-2:]
	}
	d.count(line.content)
	return line, nil
}

// lineEnding takes the line ending off raw, notes a fault in it, and
// reports whether the line is the end of the text. The "." line ends the
// text only when the line before it ended properly too: in "text\n.\r\n"
// the dot follows a bare LF, and a server that stopped there would read
// what follows as commands.
func (d *dataReader) lineEnding(raw []byte, crlf bool) (content []byte, end bool) {
	content = bytes.TrimSuffix(raw, []byte("\n"))
	if d.lfOnly {
		if string(content) == "." && d.prevOK {
			return nil, true
		}
		d.prevOK = !crlf
		if bytes.IndexByte(content, '\r') >= 0 {
			d.noteFault(fmt.Sprintf("a CR in line %d of an LF-only session", d.lines))
		}
		return content, false
	}
	if crlf {
		content = content[:len(content)-1]
		if string(content) == "." && d.prevOK {
			return nil, true
		}
	} else {
		d.noteFault(fmt.Sprintf("bare LF at the end of line %d", d.lines))
	}
	d.prevOK = crlf
	if bytes.IndexByte(content, '\r') >= 0 {
		d.noteFault(fmt.Sprintf("bare CR in line %d", d.lines))
	}
	return content, false
}

// noteFault keeps the first line-ending fault.
func (d *dataReader) noteFault(why string) {
	if d.fault == "" {
		d.fault = why
	}
}

// count adds one line of unstuffed text to the size and notes a NUL in it.
func (d *dataReader) count(content []byte) {
	if d.nul == 0 && bytes.IndexByte(content, 0) >= 0 {
		d.nul = d.lines
	}
	d.size += int64(len(content)) + 2
	if d.size > d.maxSize {
		d.tooBig = true
	}
}

// clean reports whether the text so far may still be queued, so its lines
// are passed on. A NUL does not stop them: refusal refuses it at the end.
func (d *dataReader) clean() bool {
	return d.fault == "" && d.longLine == 0 && !d.tooBig
}

// refusal is the reply to a text that must not be queued, with the reason
// for the trace and log; why is "" when nothing is wrong with the text.
func (d *dataReader) refusal() (r smtp.Reply, why string) {
	switch {
	case d.fault != "":
		return smtp.BareLineEnding(d.fault), d.fault + " (possible SMTP smuggling)"
	case d.longLine != 0:
		return smtp.LineTooLong(fmt.Sprintf("Line %d of the message is", d.longLine), d.maxLine), "line too long"
	case d.nul != 0:
		// A next hop that drops NUL octets would read "\x00." as the end
		// of the text and what follows as commands: refuse, as for bare
		// line endings.
		return smtp.NULInText(d.nul), "NUL octet in the text (possible SMTP smuggling)"
	case d.tooBig:
		return smtp.MessageTooBig(d.maxSize), fmt.Sprintf("message larger than %d octets", d.maxSize)
	}
	return smtp.Reply{}, ""
}
