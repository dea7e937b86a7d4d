package mime

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
)

// lineCounter wraps the whole input: it counts bytes and how lines end, and
// keeps the first read error other than EOF (Parse reports it).
type lineCounter struct {
	r        io.Reader
	n        int64
	crlf, lf int64
	lastCR   bool
	err      error
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	b := p[:n]
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		if (i == 0 && c.lastCR) || (i > 0 && b[i-1] == '\r') {
			c.crlf++
		} else {
			c.lf++
		}
		c.lastCR = false
		b = b[i+1:]
	}
	if len(b) > 0 {
		c.lastCR = b[len(b)-1] == '\r'
	}
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

func (c *lineCounter) lineEnds() string {
	switch {
	case c.crlf > 0 && c.lf > 0:
		return "mixed"
	case c.crlf > 0:
		return "CRLF"
	case c.lf > 0:
		return "LF"
	}
	return ""
}

// countReader counts the bytes and lines of one part's raw body.
type countReader struct {
	r     io.Reader
	n     int64
	lines int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.lines += int64(bytes.Count(p[:n], []byte{'\n'}))
	return n, err
}

// inspector reads a leaf's raw body for the checks that need its bytes:
// 8-bit data, overlong lines, a missing closing boundary (the multipart
// reader's io.ErrUnexpectedEOF, turned into a clean EOF so the content read
// so far still counts) and, on request, the first keep bytes.
type inspector struct {
	r         io.Reader
	n         int64
	eightBit  int64
	line      int // length of the current line so far
	longest   int
	keep      int
	kept      []byte
	truncated bool
}

const highBits = 0x8080808080808080

func (s *inspector) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		s.truncated, err = true, io.EOF
	}
	b := p[:n]
	s.n += int64(n)
	if len(s.kept) < s.keep {
		s.kept = append(s.kept, b[:min(len(b), s.keep-len(s.kept))]...)
	}
	// Count bytes above 127 eight at a time: this runs over every byte of
	// every attachment, so it must not cost much.
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&highBits != 0 {
			for _, c := range b[i : i+8] {
				if c >= 0x80 {
					s.eightBit++
				}
			}
		}
	}
	for _, c := range b[i:] {
		if c >= 0x80 {
			s.eightBit++
		}
	}
	for len(b) > 0 {
		j := bytes.IndexByte(b, '\n')
		if j < 0 {
			s.line += len(b)
			break
		}
		s.longest = max(s.longest, s.line+j-boolInt(j > 0 && b[j-1] == '\r'))
		s.line = 0
		b = b[j+1:]
	}
	s.longest = max(s.longest, s.line)
	return n, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// b64Filter drops the white space that real mailers leave in base64
// (spaces, tabs; the decoder itself skips CR and LF), counting it so that
// an error position can be given in the original text.
type b64Filter struct {
	r       io.Reader
	dropped int64
}

func (f *b64Filter) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(p)
		if bytes.IndexAny(p[:n], " \t") < 0 {
			return n, err
		}
		j := 0
		for _, c := range p[:n] {
			if c == ' ' || c == '\t' {
				f.dropped++
				continue
			}
			p[j] = c
			j++
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// previewReader passes decoded content through, counting it and keeping
// the first keep bytes for the tree's preview.
type previewReader struct {
	r    io.Reader
	n    int64
	keep int
	kept []byte
	err  error // the first error other than EOF: a decoding error
}

func (t *previewReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	t.n += int64(n)
	if len(t.kept) < t.keep {
		t.kept = append(t.kept, p[:min(n, t.keep-len(t.kept))]...)
	}
	return n, err
}

// newB64 returns a base64 encoder writing to w.
func newB64(w io.Writer) io.WriteCloser { return base64.NewEncoder(base64.StdEncoding, w) }
