package pop3

import (
	"errors"
	"fmt"
	"io"
)

// Limits bounds what a POP3 peer may send, so that a hostile or broken peer
// cannot make the other end buffer without end. Each default is next to its
// reason. Lines themselves are bounded by the LineReader (the explorer's
// wire reader, explore.Wire).
type Limits struct {
	// CommandLine is the longest command line, CRLF included: 255 octets
	// (RFC 2449 §4). The server refuses longer lines.
	CommandLine int
	// ResponseLine is the longest status line a server should send, CRLF
	// included: 512 octets (RFC 2449 §4). The explanations note longer ones,
	// but the reader accepts them, because real servers exceed it with long
	// greetings.
	ResponseLine int
	// Response is the most octets one multi-line response may carry before
	// the reader gives up: 64 MiB, far above a normal message, far below what
	// would exhaust memory.
	Response int
}

// DefaultLimits are the limits mailx uses unless told otherwise.
var DefaultLimits = Limits{CommandLine: 255, ResponseLine: 512, Response: 64 << 20}

// ErrResponseTooLong means a multi-line response exceeded Limits.Response.
var ErrResponseTooLong = errors.New("pop3: multi-line response too long")

// LineReader is where ReadResponse gets its lines: the explorer's wire
// reader on a live connection (explore.Wire) or its replay of a recorded
// transcript. ReadLine returns one line without its line ending, io.EOF at a
// clean end, and the partial line with io.ErrUnexpectedEOF when the peer
// closed in the middle of a line; it bounds the length of a line.
type LineReader interface {
	ReadLine() (string, error)
}

// ReadResponse reads one response from lr. multi says whether a +OK status
// line is followed by lines up to "." (see IsMultiLine); -ERR and "+ "
// responses are always one line. On an error in the middle of a multi-line
// response it returns what arrived so far along with the error, so that the
// explorer can show it. lim.Response bounds the octets of a multi-line
// response (lr bounds lines).
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
