package imap

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits bound what ReadResponse accepts from a server. Each default is
// next to its reason. Lines themselves are bounded by the LineReader (the
// explorer's wire reader, explore.Wire): IMAP has no line limit of its own
// (RFC 3501 §4 leaves long data to literals).
type Limits struct {
	// Literal is the largest literal: 64 MiB, above any normal message.
	Literal int64
	// Literals is the most literals one response may carry: 1024, enough for
	// a FETCH of many body parts.
	Literals int
}

// DefaultLimits are the limits mailx uses unless told otherwise.
var DefaultLimits = Limits{Literal: 64 << 20, Literals: 1024}

// Reader errors.
var (
	ErrLiteralTooLarge = errors.New("imap: literal too large")
	ErrTooManyLiterals = errors.New("imap: too many literals in one response")
)

// LineReader is where ReadResponse gets its data: the explorer's wire
// reader on a live connection (explore.Wire) or its replay of a recorded
// transcript. ReadLine returns one line without its line ending (io.EOF at
// a clean end, io.ErrUnexpectedEOF with the partial line when the peer
// closed mid-line) and bounds its length; ReadFull returns exactly n octets.
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
