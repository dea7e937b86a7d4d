package maildir

import (
	"bufio"
	"io"
)

// crlfReader turns bare LF line ends into CRLF, so a message a tool stored
// with Unix line ends still goes out exactly as large as the server said
// (POP3 LIST, IMAP RFC822.SIZE) and as RFC 5322 requires on the wire.
type crlfReader struct {
	br      *bufio.Reader
	c       io.Closer
	prevCR  bool
	pending bool // an LF is owed after the CR just returned
}

func newCRLFReader(rc io.ReadCloser) *crlfReader {
	return &crlfReader{br: bufio.NewReaderSize(rc, 32*1024), c: rc}
}

func (r *crlfReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if r.pending {
			p[n] = '\n'
			n++
			r.pending = false
			r.prevCR = false
			continue
		}
		c, err := r.br.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if c == '\n' && !r.prevCR {
			p[n] = '\r'
			n++
			r.pending = true
			continue
		}
		p[n] = c
		n++
		r.prevCR = c == '\r'
	}
	return n, nil
}

func (r *crlfReader) Close() error { return r.c.Close() }
