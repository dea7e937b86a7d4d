package maildir

import (
	"bufio"
	"io"
	"sync"
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

// readerPool recycles the read buffers: IMAP FETCH opens one message after
// another, and a fresh 32 KiB buffer each time was a good part of its cost.
var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32*1024) }}

func newCRLFReader(rc io.ReadCloser) *crlfReader {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(rc)
	return &crlfReader{br: br, c: rc}
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

func (r *crlfReader) Close() error {
	if r.br != nil {
		r.br.Reset(nil)
		readerPool.Put(r.br)
		r.br = nil
	}
	return r.c.Close()
}
