package smtp

import (
	"bufio"
	"bytes"
	"sync"
	"sync/atomic"
)

// The fast path of DATA, in two parts. Neither changes what the server
// answers or queues: FuzzBulkLinesMatchLineByLine holds the replies and the
// queued text to those of the line-by-line reading with bulkScan off.
//
// A large read buffer. A session reads through a 4 KiB buffer, which keeps
// ten thousand idle sessions small; but a 100 KiB message read through it
// takes some thirty reads from the socket, each a system call and often a
// wait in the poller. During DATA a session therefore reads through a large
// buffer from a pool, stacked on its own (which it drains first), and goes
// back to its own once the large one is empty. The number of large buffers
// in use is capped, so many sessions in DATA at once cannot grow the memory
// without bound; beyond the cap a session simply keeps its small buffer.
//
// Lines in bulk. Past the header section, the ordinary lines already in the
// read buffer are taken at once (ordinaryLines) instead of one by one.
const (
	bulkBufferSize = 64 << 10
	maxBulkReaders = 256
)

var (
	bulkReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, bulkBufferSize) }}
	bulkInUse   atomic.Int32
)

// beginBulk makes the reader read through a large buffer (see above).
func (c *clientReader) beginBulk() {
	if c.small != nil {
		return
	}
	if bulkInUse.Add(1) > maxBulkReaders {
		bulkInUse.Add(-1)
		return
	}
	big := bulkReaders.Get().(*bufio.Reader)
	big.Reset(c.r)
	c.small, c.r = c.r, big
}

// endBulk gives the large buffer back once it holds nothing more: octets a
// client pipelined after the end of the data are read from it first.
func (c *clientReader) endBulk() {
	if c.small == nil || c.r.Buffered() > 0 {
		return
	}
	c.dropBulk()
}

// dropBulk gives the large buffer back at once, with whatever it holds (for
// STARTTLS, which discards everything buffered, and at the session's end).
func (c *clientReader) dropBulk() {
	if c.small == nil {
		return
	}
	big := c.r
	c.r, c.small = c.small, nil
	big.Reset(nil)
	bulkReaders.Put(big)
	bulkInUse.Add(-1)
}

// bulkScan turns ordinaryLines on; a test turns it off to compare.
var bulkScan = true

// ordinaryLines takes the ordinary lines already in the read buffer at
// once and returns them, as received, for the caller to pass on before it
// reads again; nil when there are none, or when the text so far is not
// clean (the line-by-line reading must see what is wrong with it). A line is
// ordinary when it ends in CR LF, holds no other CR, is within the line
// limit, does not start with "." (the end of the text and dot-stuffed
// lines) and keeps the message within its size limit. It stops before the
// first line that is anything else, or incomplete, and leaves it to next,
// which decides about it exactly as before. Checking a line this way costs
// two vectorised scans instead of a call to the reader and a write each:
// reading a 100 KB message's 1,280 lines took about 70 ns per line.
func (d *dataReader) ordinaryLines() []byte {
	if !bulkScan || d.in.buffered() == 0 || d.lfOnly || d.nul != 0 || !d.clean() {
		return nil
	}
	buf, _ := d.in.r.Peek(d.in.buffered())
	if i := bytes.IndexByte(buf, 0); i >= 0 {
		buf = buf[:i] // the line with the NUL is left to the line-by-line reading
	}
	pos, lines, size := 0, 0, d.size
	for pos < len(buf) {
		i := bytes.IndexByte(buf[pos:], '\n')
		if i < 1 || i+1 > d.maxLine || buf[pos+i-1] != '\r' || buf[pos] == '.' ||
			bytes.IndexByte(buf[pos:pos+i-1], '\r') >= 0 || size+int64(i+1) > d.maxSize {
			break
		}
		size += int64(i + 1)
		lines++
		pos += i + 1
	}
	if lines == 0 {
		return nil
	}
	d.lines += lines
	d.size = size
	d.prevOK = true // each line taken ended in CR LF
	// Discard only moves the reader past the lines: their octets stay
	// where they are until the next read fills the buffer again.
	d.in.r.Discard(pos)
	return buf[:pos]
}
