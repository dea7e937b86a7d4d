package pop3

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// Limits bounds what a POP3 peer may send, so that a hostile or broken peer
// cannot make the other end buffer without end. Each default is next to its
// reason.
type Limits struct {
	// CommandLine is the longest command line, CRLF included: 255 octets
	// (RFC 2449 §4). The server refuses longer lines.
	CommandLine int
	// ResponseLine is the longest status line a server should send, CRLF
	// included: 512 octets (RFC 2449 §4). The reader notes longer ones but
	// reads up to Line, because real servers exceed it with long greetings.
	ResponseLine int
	// Line is the longest line the reader accepts at all: 64 KiB. Message
	// lines should stay within 998 octets (RFC 5322 §2.1.1), but real mail
	// breaks that rule, and refusing it would hide the message.
	Line int
	// Response is the most octets one multi-line response may carry before
	// the reader gives up: 64 MiB, far above a normal message, far below what
	// would exhaust memory.
	Response int
}

// DefaultLimits are the limits mailx uses unless told otherwise.
var DefaultLimits = Limits{CommandLine: 255, ResponseLine: 512, Line: 64 << 10, Response: 64 << 20}

// Reader errors.
var (
	// ErrLineTooLong means a line exceeded Limits.Line before its line break.
	ErrLineTooLong = errors.New("pop3: line too long")
	// ErrResponseTooLong means a multi-line response exceeded Limits.Response.
	ErrResponseTooLong = errors.New("pop3: multi-line response too long")
)

// Reader reads POP3 responses from a server, keeping every raw line.
// It is what the explorer and the tests use; the caller decides about
// timeouts by setting deadlines on the connection underneath.
type Reader struct {
	br  *bufio.Reader
	lim Limits
	// BareLF counts lines that ended with LF alone instead of CRLF since the
	// Reader was made; RFC 1939 §3 requires CRLF, so the explorer notes it.
	BareLF int
}

// NewReader returns a Reader on r with the given limits; zero fields take
// their DefaultLimits value.
func NewReader(r io.Reader, lim Limits) *Reader {
	if lim.Line <= 0 {
		lim.Line = DefaultLimits.Line
	}
	if lim.Response <= 0 {
		lim.Response = DefaultLimits.Response
	}
	if lim.ResponseLine <= 0 {
		lim.ResponseLine = DefaultLimits.ResponseLine
	}
	if lim.CommandLine <= 0 {
		lim.CommandLine = DefaultLimits.CommandLine
	}
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	return &Reader{br: br, lim: lim}
}

// Buffered returns how many bytes are waiting in the buffer. After STLS the
// server must not have sent anything more; bytes here would be injected
// plaintext (the STARTTLS command injection attack, CVE-2011-0411 style).
func (r *Reader) Buffered() int { return r.br.Buffered() }

// ReadLine reads one line and returns it without its CRLF (or bare LF).
// At the end of input it returns io.EOF, or io.ErrUnexpectedEOF with the
// partial line when the peer closed in the middle of a line.
func (r *Reader) ReadLine() (string, error) {
	var buf []byte
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(buf)+len(chunk) > r.lim.Line+2 {
			return "", fmt.Errorf("%w: more than %d octets", ErrLineTooLong, r.lim.Line)
		}
		buf = append(buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if len(buf) == 0 {
					return "", io.EOF
				}
				err = io.ErrUnexpectedEOF
			}
			if len(buf) > r.lim.Line {
				return "", fmt.Errorf("%w: more than %d octets", ErrLineTooLong, r.lim.Line)
			}
			return string(buf), err
		}
		break
	}
	n := len(buf) - 1
	if n > 0 && buf[n-1] == '\r' {
		n--
	} else {
		r.BareLF++
	}
	if n > r.lim.Line {
		return "", fmt.Errorf("%w: more than %d octets", ErrLineTooLong, r.lim.Line)
	}
	return string(buf[:n]), nil
}

// LineReader is where ReadResponse gets its lines: the Reader here, or the
// explorer's wire and replay readers. ReadLine returns one line without its
// line ending, io.EOF at a clean end, and the partial line with
// io.ErrUnexpectedEOF when the peer closed in the middle of a line.
type LineReader interface {
	ReadLine() (string, error)
}

// ReadResponse reads one response. multi says whether a +OK status line is
// followed by lines up to "." (see IsMultiLine); -ERR and "+ " responses are
// always one line. On an error in the middle of a multi-line response it
// returns what arrived so far along with the error, so that the explorer can
// show it.
func (r *Reader) ReadResponse(multi bool) (Response, error) {
	return ReadResponse(r, multi, r.lim)
}

// ReadResponse reads one response from lr, as Reader.ReadResponse does;
// lim.Response bounds the octets of a multi-line response (lr bounds lines).
func ReadResponse(lr LineReader, multi bool, lim Limits) (Response, error) {
	if lim.Response <= 0 {
		lim.Response = DefaultLimits.Response
	}
	line, err := lr.ReadLine()
	if err != nil {
		if line != "" {
			return Response{Raw: []string{line}}, err
		}
		return Response{}, err
	}
	resp, err := ParseStatus(line)
	if err != nil {
		return Response{Raw: []string{line}}, err
	}
	if !multi || resp.Status != StatusOK {
		return resp, nil
	}
	resp.Multi = true
	resp.Lines = []string{}
	total := len(line)
	for {
		raw, err := lr.ReadLine()
		if raw != "" || err == nil {
			resp.Raw = append(resp.Raw, raw)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return resp, fmt.Errorf("pop3: multi-line response ended before its \".\" line: %w", err)
		}
		total += len(raw) + 2
		if total > lim.Response {
			return resp, fmt.Errorf("%w: more than %d octets", ErrResponseTooLong, lim.Response)
		}
		text, end, unstuffed := Unstuff(raw)
		if end {
			return resp, nil
		}
		if unstuffed {
			resp.Unstuffed++
		}
		resp.Lines = append(resp.Lines, text)
	}
}
