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

// b64Reader streams base64 content through the standard library's block
// decoder (base64.StdEncoding.Decode) in chunks. It drops the white space
// real mailers leave in base64 (line ends, and stray spaces or tabs) with
// bytes.IndexByte rather than byte by byte, which makes it several times
// faster than base64.NewDecoder on the 76-character lines of MIME: decoding
// attachments is where `mailx mime decode` spends its time.
type b64Reader struct {
	r       io.Reader
	buf     []byte // encoded input, white space removed; len%4 left over between reads
	out     []byte // decoded, not yet returned
	outBuf  []byte
	decoded int64 // encoded characters already decoded, for error offsets
	padded  bool  // the last group decoded ended in "=" padding
	err     error
}

func newB64Reader(r io.Reader) *b64Reader {
	return &b64Reader{r: r, buf: make([]byte, 0, 32<<10), outBuf: make([]byte, 24<<10)}
}

func (d *b64Reader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		d.fill()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

// fill reads more input and decodes every whole group of 4 characters.
func (d *b64Reader) fill() {
	free := d.buf[len(d.buf):cap(d.buf)]
	n, rerr := d.r.Read(free)
	d.buf = append(d.buf, compactBase64(free[:n])...)
	whole := len(d.buf) / 4 * 4
	if rerr != nil {
		whole = len(d.buf) // at the end, what is left must decode too
	}
	if whole > 0 && d.padded {
		// Padding ends base64; more data after it is an error, as it is
		// for base64.NewDecoder (the block decoder sees one chunk only).
		d.err = base64.CorruptInputError(d.decoded)
		return
	}
	if whole > 0 {
		d.padded = d.buf[whole-1] == '='
		k, err := base64.StdEncoding.Decode(d.outBuf, d.buf[:whole])
		d.out = d.outBuf[:k]
		if err != nil {
			if ce, ok := err.(base64.CorruptInputError); ok {
				err = base64.CorruptInputError(int64(ce) + d.decoded)
			}
			d.err = err
			return
		}
		d.decoded += int64(whole)
		d.buf = append(d.buf[:0], d.buf[whole:]...)
	}
	if rerr != nil {
		d.err = rerr
	}
}

// compactBase64 removes CR, LF, spaces and tabs from b in place.
func compactBase64(b []byte) []byte {
	out := b[:0]
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		line := b
		if i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1] // the usual CRLF line end
		}
		if bytes.IndexByte(line, ' ') >= 0 || bytes.IndexByte(line, '\t') >= 0 || bytes.IndexByte(line, '\r') >= 0 {
			for _, c := range line {
				if c != ' ' && c != '\t' && c != '\r' {
					out = append(out, c)
				}
			}
			continue
		}
		out = append(out, line...) // copy within b: out never passes line
	}
	return out
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
