package imap

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits bound what the reader accepts from a server. Each default is next
// to its reason.
type Limits struct {
	// Line is the longest line: 1 MiB. IMAP has no line limit (RFC 3501
	// §4 leaves it to literals), and a SEARCH answer on a big mailbox or a
	// FETCH of many flags runs long, but a line without end must not be
	// buffered forever.
	Line int
	// Literal is the largest literal: 64 MiB, above any normal message.
	Literal int64
	// Literals is the most literals one response may carry: 1024, enough for
	// a FETCH of many body parts.
	Literals int
}

// DefaultLimits are the limits mailx uses unless told otherwise.
var DefaultLimits = Limits{Line: 1 << 20, Literal: 64 << 20, Literals: 1024}

// Reader errors.
var (
	ErrLineTooLong     = errors.New("imap: line too long")
	ErrLiteralTooLarge = errors.New("imap: literal too large")
	ErrTooManyLiterals = errors.New("imap: too many literals in one response")
)

// LineReader is where ReadResponse gets its data: the Reader here, or the
// explorer's wire and replay readers. ReadLine returns one line without its
// line ending (io.EOF at a clean end, io.ErrUnexpectedEOF with the partial
// line when the peer closed mid-line); ReadFull returns exactly n octets.
type LineReader interface {
	ReadLine() (string, error)
	ReadFull(n int) ([]byte, error)
}

// ReadResponse reads one response: its first line and, for each literal
// {n} announced at the end of a line, exactly n octets and the line that
// continues after them. It returns what it read so far with any error, so
// that a session cut short still shows the partial response.
func ReadResponse(lr LineReader, lim Limits) (Response, error) {
	if lim.Literal <= 0 {
		lim.Literal = DefaultLimits.Literal
	}
	if lim.Literals <= 0 {
		lim.Literals = DefaultLimits.Literals
	}
	var (
		wire     strings.Builder
		spans    [][2]int // literal byte ranges in wire
		literals []string
		first    string
	)
	finish := func() Response {
		r := Parse(first)
		r.Literals = literals
		r.Raw, r.InLiteral = splitWire(wire.String(), spans)
		return r
	}
	line, err := lr.ReadLine()
	first = line
	wire.WriteString(line)
	if err != nil {
		if line == "" {
			return Response{}, err
		}
		return finish(), err
	}
	for {
		n, _ := TrailingLiteral(line)
		if n < 0 {
			return finish(), nil
		}
		if len(literals) >= lim.Literals {
			return finish(), fmt.Errorf("%w (%d)", ErrTooManyLiterals, lim.Literals)
		}
		if n > lim.Literal {
			return finish(), fmt.Errorf("%w: {%d} is above the %d-octet limit", ErrLiteralTooLarge, n, lim.Literal)
		}
		wire.WriteString("\r\n")
		data, err := lr.ReadFull(int(n))
		start := wire.Len()
		wire.Write(data)
		spans = append(spans, [2]int{start, wire.Len()})
		literals = append(literals, string(data))
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return finish(), fmt.Errorf("imap: literal of %d octets ended after %d: %w", n, len(data), err)
		}
		line, err = lr.ReadLine()
		wire.WriteString(line)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return finish(), fmt.Errorf("imap: response ended after a literal: %w", err)
		}
	}
}

// splitWire splits a response's octets at CRLF into lines and marks the
// lines that begin inside a literal.
func splitWire(s string, spans [][2]int) ([]string, []bool) {
	lines := strings.Split(s, "\r\n")
	in := make([]bool, len(lines))
	off := 0
	for i, l := range lines {
		for _, sp := range spans {
			if off >= sp[0] && off < sp[1] {
				in[i] = true
			}
		}
		off += len(l) + 2
	}
	return lines, in
}

// Reader reads IMAP responses from an io.Reader with limits; tests and
// tools use it, the explorer reads through its own wire.
type Reader struct {
	br  *bufio.Reader
	lim Limits
}

// NewReader returns a Reader on r; zero limits take DefaultLimits.
func NewReader(r io.Reader, lim Limits) *Reader {
	if lim.Line <= 0 {
		lim.Line = DefaultLimits.Line
	}
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	return &Reader{br: br, lim: lim}
}

// ReadLine implements LineReader.
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
			if len(buf) > r.lim.Line {
				return "", fmt.Errorf("%w: more than %d octets", ErrLineTooLong, r.lim.Line)
			}
			if errors.Is(err, io.EOF) && len(buf) > 0 {
				return string(buf), io.ErrUnexpectedEOF
			}
			return string(buf), err
		}
		break
	}
	buf = buf[:len(buf)-1]
	if n := len(buf); n > 0 && buf[n-1] == '\r' {
		buf = buf[:n-1]
	}
	if len(buf) > r.lim.Line {
		return "", fmt.Errorf("%w: more than %d octets", ErrLineTooLong, r.lim.Line)
	}
	return string(buf), nil
}

// ReadFull implements LineReader.
func (r *Reader) ReadFull(n int) ([]byte, error) {
	if n < 0 || int64(n) > r.lim.Literal && r.lim.Literal > 0 {
		return nil, fmt.Errorf("%w: %d octets", ErrLiteralTooLarge, n)
	}
	buf := make([]byte, n)
	got, err := io.ReadFull(r.br, buf)
	return buf[:got], err
}

// ReadResponse reads one response with the Reader's limits.
func (r *Reader) ReadResponse() (Response, error) { return ReadResponse(r, r.lim) }
