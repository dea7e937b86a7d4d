package explore

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// LineReader is how a Protocol reads a response: one raw line at a time, or
// an exact number of octets (IMAP literals). The engine's Wire implements it
// over the connection; replays implement it over a recorded transcript.
type LineReader interface {
	// ReadLine returns the next line without its line ending, exactly as it
	// arrived otherwise. It fails with ErrLineTooLong rather than buffer an
	// endless line, and with io.ErrUnexpectedEOF when the peer closed in the
	// middle of a line (the partial text is returned too).
	ReadLine() (string, error)
	// ReadFull returns exactly n octets, or an error; n above the reader's
	// literal limit fails with ErrLiteralTooLarge before anything is read.
	ReadFull(n int) ([]byte, error)
}

// Limits bound what the engine accepts from a server, so that a hostile or
// broken peer cannot make mailx use unbounded memory.
type Limits struct {
	// Line is the longest response line accepted. RFC 5321 §4.5.3.1.5 limits
	// SMTP reply lines to 512 octets, but IMAP lines and real-world servers
	// run longer; 64 KiB is generous for all three without being dangerous.
	Line int
	// Literal is the largest IMAP literal or POP3 message read into memory.
	Literal int
	// ResponseLines is the most lines one response may have (a POP3 RETR of a
	// huge message, an IMAP LIST of every folder).
	ResponseLines int
}

// DefaultLimits are the limits used when Options leaves them zero.
var DefaultLimits = Limits{Line: 64 << 10, Literal: 32 << 20, ResponseLines: 1 << 20}

func (l Limits) withDefaults() Limits {
	if l.Line <= 0 {
		l.Line = DefaultLimits.Line
	}
	if l.Literal <= 0 {
		l.Literal = DefaultLimits.Literal
	}
	if l.ResponseLines <= 0 {
		l.ResponseLines = DefaultLimits.ResponseLines
	}
	return l
}

// Errors from the wire reader.
var (
	ErrLineTooLong     = errors.New("line longer than the limit")
	ErrLiteralTooLarge = errors.New("literal larger than the limit")
)

// Wire reads raw lines from a connection. Unlike net/textproto it never
// interprets dots or folds lines: the student sees the bytes the server sent.
type Wire struct {
	r      *bufio.Reader
	limits Limits
	bareLF bool
}

// NewWire reads from r with the given limits (zero fields take DefaultLimits).
func NewWire(r io.Reader, limits Limits) *Wire {
	return &Wire{r: bufio.NewReaderSize(r, 4096), limits: limits.withDefaults()}
}

// ReadLine implements LineReader. A line ended by a bare LF instead of CRLF
// is accepted (many test servers do it) and BareLF reports it.
func (w *Wire) ReadLine() (string, error) {
	var line []byte
	// tooLong keeps what fits so the student sees the start of the line; the
	// rest of it is dropped: the session cannot continue in step.
	tooLong := func() (string, error) {
		return string(line[:min(len(line), w.limits.Line)]), fmt.Errorf("server sent a %w of %d octets", ErrLineTooLong, w.limits.Line)
	}
	for {
		chunk, err := w.r.ReadSlice('\n')
		if len(line)+len(chunk) > w.limits.Line+2 {
			line = append(line, chunk[:min(max(w.limits.Line-len(line), 0), len(chunk))]...)
			return tooLong()
		}
		line = append(line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if len(line) > w.limits.Line {
				return tooLong()
			}
			if err == io.EOF && len(line) > 0 {
				return string(line), io.ErrUnexpectedEOF
			}
			return string(line), err
		}
		break
	}
	line = line[:len(line)-1]
	w.bareLF = true
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
		w.bareLF = false
	}
	if len(line) > w.limits.Line {
		return tooLong()
	}
	return string(line), nil
}

// BareLF reports whether the last line read ended with LF alone, which RFC
// 5321 §2.3.8 forbids (a server doing it is broken or probing for smuggling).
func (w *Wire) BareLF() bool { return w.bareLF }

// ReadFull implements LineReader.
func (w *Wire) ReadFull(n int) ([]byte, error) {
	if n < 0 || n > w.limits.Literal {
		return nil, fmt.Errorf("server announced a %w (%d octets, limit %d)", ErrLiteralTooLarge, n, w.limits.Literal)
	}
	buf := make([]byte, n)
	got, err := io.ReadFull(w.r, buf)
	return buf[:got], err
}

// Buffered returns how many octets arrived but were not read yet. Before a
// TLS handshake it must be zero: bytes sent after the go-ahead but before the
// handshake would otherwise be treated as if they came over TLS (the STARTTLS
// command injection of CVE-2011-0411).
func (w *Wire) Buffered() int { return w.r.Buffered() }

// Limits returns the wire's limits.
func (w *Wire) Limits() Limits { return w.limits }
