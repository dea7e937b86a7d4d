package smtp

import (
	"bufio"
	"io"
)

// clientReader is the session's reading side: every octet the client sends
// (command lines, AUTH responses, message text) comes through it, a line at
// a time, each line bounded. The session sees lines; how they reach it is
// this type's business and that of the files behind it:
//   - the session's own 4 KiB buffer (r, or small while r is a large one);
//   - a large pooled buffer during DATA (bulk.go);
//   - what the buffer reads from (src): the connection itself, or on Linux
//     a pollingInput over it (input_linux.go); after STARTTLS the TLS
//     connection.
type clientReader struct {
	r     *bufio.Reader // reads go through this: the session's own, or a large one during DATA
	small *bufio.Reader // the session's own while r is a large one, else nil
	src   io.Reader     // what the session's own buffer reads before STARTTLS
	buf   []byte        // line buffer for lines that straddle the read buffer
}

// newClientReader reads src through a buffer of the session's own size.
func newClientReader(src io.Reader) clientReader {
	return clientReader{r: bufio.NewReaderSize(src, 4096), src: src}
}

// buffered is how many octets the client has sent that are not read yet:
// more than zero means it pipelined its next commands.
func (c *clientReader) buffered() int { return c.r.Buffered() }

// readRaw reads up to and including the next LF. It keeps at most max
// octets; long reports that the line was longer (the rest is read and
// dropped, so the session stays in step). crlf reports that the line, however
// long, ended in CR LF. The returned slice is valid until the next read.
func (c *clientReader) readRaw(max int) (line []byte, long, crlf bool, err error) {
	chunk, err := c.r.ReadSlice('\n')
	if err == nil && len(chunk) <= max {
		// A whole line in the buffer, the usual case: no copy (a message's
		// lines are otherwise copied once more than needed).
		n := len(chunk)
		return chunk, false, n >= 2 && chunk[n-2] == '\r', nil
	}
	c.buf = c.buf[:0]
	var prev byte // the octet before the current chunk, for a CR LF split across chunks
	for {
		if room := max - len(c.buf); len(chunk) <= room {
			c.buf = append(c.buf, chunk...)
		} else {
			long = true
			if room > 0 {
				c.buf = append(c.buf, chunk[:room]...)
			}
		}
		switch err {
		case nil:
			n := len(chunk)
			crlf = n >= 2 && chunk[n-2] == '\r' || n == 1 && prev == '\r'
			return c.buf, long, crlf, nil
		case bufio.ErrBufferFull:
			prev = chunk[len(chunk)-1]
			chunk, err = c.r.ReadSlice('\n')
		default:
			return c.buf, long, false, err
		}
	}
}

// discardBuffered drops every octet read from the client but not yet used,
// wherever it sits, and returns how many there were (STARTTLS: what came
// before the handshake must never be read as commands).
func (c *clientReader) discardBuffered() int {
	n := c.r.Buffered()
	if c.small != nil {
		n += c.small.Buffered()
		c.small.Discard(c.small.Buffered())
		c.dropBulk()
	}
	c.r.Discard(c.r.Buffered())
	return n
}

// switchTo makes the reader read from src from now on (the TLS connection
// after STARTTLS); call discardBuffered first.
func (c *clientReader) switchTo(src io.Reader) { c.r.Reset(src) }
