package relay

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	smtp "github.com/mailx-edu/mailx/proto/smtp"
)

// Limits on what a remote server may send in one reply. RFC 5321
// §4.5.3.1.5 caps a reply line at 512 octets; a little slack keeps sloppy
// but honest servers working, and the caps stop a hostile one from making
// the client buffer without end.
const (
	maxReplyLine  = 2048
	maxReplyLines = 200
)

// errReplyTooLong and friends describe a broken reply; the attempt is then
// treated as a lost connection (4.4.2), since nothing the server says after
// that can be trusted to line up with our commands.
var (
	errReplyLineTooLong = fmt.Errorf("reply line longer than %d octets", maxReplyLine)
	errReplyTooManyLine = fmt.Errorf("reply longer than %d lines", maxReplyLines)
)

// replyError is a malformed reply: the raw line and what was wrong.
type replyError struct {
	line string
	err  error
}

func (e *replyError) Error() string {
	return fmt.Sprintf("malformed reply %q: %v", clip(e.line, 60), e.err)
}

func (e *replyError) Unwrap() error { return e.err }

// readReply reads one complete reply, calling raw for each line as read
// (for the trace). Lines end in CRLF; a bare LF is accepted, as RFC 5321
// §2.3.8 lets receivers be liberal, but the CR is stripped either way.
func readReply(r *bufio.Reader, raw func(string)) (smtp.Reply, error) {
	var b smtp.ReplyBuilder
	for n := 0; ; n++ {
		if n >= maxReplyLines {
			return smtp.Reply{}, errReplyTooManyLine
		}
		line, err := readLine(r)
		if err != nil {
			return smtp.Reply{}, err
		}
		if raw != nil {
			raw(line)
		}
		done, err := b.Add(line)
		if err != nil {
			return smtp.Reply{}, &replyError{line: line, err: err}
		}
		if done {
			return b.Reply(), nil
		}
	}
}

// readLine reads one line without its line ending, at most maxReplyLine
// octets.
func readLine(r *bufio.Reader) (string, error) {
	var sb strings.Builder
	for {
		chunk, err := r.ReadSlice('\n')
		if sb.Len()+len(chunk) > maxReplyLine+2 {
			return "", errReplyLineTooLong
		}
		sb.Write(chunk)
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF && sb.Len() > 0 {
			return "", io.ErrUnexpectedEOF
		}
		return "", err
	}
	s := strings.TrimSuffix(sb.String(), "\n")
	return strings.TrimSuffix(s, "\r"), nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
