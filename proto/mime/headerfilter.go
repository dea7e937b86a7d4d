package mime

import (
	"bufio"
	"bytes"
	"io"
)

// headerFilter sits between a multipart body and the standard library's
// multipart reader. That reader refuses a part whose header holds a
// control character (a NUL, a lone CR) and then cannot go on, so one bad
// part used to hide every part after it. The filter replaces such bytes in
// the header lines of each part (after a boundary line, up to the blank
// line) with "?" and counts them per part, so the part is shown with a
// warning and the parts after it are read as usual. Content is never
// changed.
type headerFilter struct {
	br       *bufio.Reader
	dash     []byte // "--" + boundary
	inHeader bool
	midLine  bool        // the last chunk did not end a line
	part     int         // parts started so far
	fixed    map[int]int // control characters replaced, per part
	notField map[int]int // lines that were not "Name: value", per part
	pending  []byte
	err      error
}

func newHeaderFilter(r io.Reader, boundary string) *headerFilter {
	return &headerFilter{br: bufio.NewReaderSize(r, 4096), dash: []byte("--" + boundary), fixed: map[int]int{}, notField: map[int]int{}}
}

func (f *headerFilter) Read(p []byte) (int, error) {
	for len(f.pending) == 0 && f.err == nil {
		chunk, err := f.br.ReadSlice('\n')
		if len(chunk) > 0 {
			f.pending = f.filter(chunk)
		}
		if err != nil && err != bufio.ErrBufferFull {
			f.err = err
		}
	}
	if len(f.pending) == 0 {
		return 0, f.err
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	return n, nil
}

// filter looks at one chunk (a whole line, or part of a long one) and
// returns it, cleaned when it is part of a header.
func (f *headerFilter) filter(chunk []byte) []byte {
	start := !f.midLine
	f.midLine = chunk[len(chunk)-1] != '\n'
	if start && bytes.HasPrefix(chunk, f.dash) {
		rest := bytes.TrimRight(chunk[len(f.dash):], " \t\r\n")
		switch {
		case len(rest) == 0:
			f.part++
			f.inHeader = true
			return chunk
		case bytes.Equal(rest, []byte("--")):
			f.inHeader = false
			return chunk
		}
	}
	if !f.inHeader {
		return chunk
	}
	if start && (len(bytes.TrimRight(chunk, "\r\n")) == 0) {
		f.inHeader = false
		return chunk
	}
	var out []byte
	if start && chunk[0] != ' ' && chunk[0] != '\t' && !isFieldStart(chunk) {
		// Not "Name: value" and not a continuation: the standard reader
		// would give up on the whole multipart. Keep the line, visibly.
		out = append([]byte(notAField+": "), chunk...)
		f.notField[f.part]++
		chunk = out
	}
	for i, c := range chunk {
		bad := c == 0 || c == 0x7f || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
			(c == '\r' && i+1 < len(chunk) && chunk[i+1] != '\n')
		if bad {
			if out == nil {
				out = append([]byte(nil), chunk...)
			}
			out[i] = '?'
			f.fixed[f.part]++
		}
	}
	if out != nil {
		return out
	}
	return chunk
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// notAField names a header line that was not a field when mailx shows it.
const notAField = "X-Not-A-Field"

// isFieldStart reports whether line starts with a field name and a colon
// (RFC 5322 §2.2: printable ASCII other than ":" and space).
func isFieldStart(line []byte) bool {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return false
	}
	for _, c := range line[:colon] {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}
