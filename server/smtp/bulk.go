package smtp

import (
	"bufio"
	"sync"
	"sync/atomic"
)

// A session reads through a 4 KiB buffer, which keeps ten thousand idle
// sessions small; but a 100 KiB message read through it takes some thirty
// reads from the socket, each a system call and often a wait in the
// poller. During DATA a session therefore reads through a large buffer
// from a pool, stacked on its own (which it drains first), and goes back to
// its own once the large one is empty. The number of large buffers in use
// is capped, so many sessions in DATA at once cannot grow the memory
// without bound; beyond the cap a session simply keeps its small buffer.
const (
	bulkBufferSize = 64 << 10
	maxBulkReaders = 256
)

var (
	bulkReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, bulkBufferSize) }}
	bulkInUse   atomic.Int32
)

// beginBulk makes the session read through a large buffer (see above).
func (s *session) beginBulk() {
	if s.small != nil {
		return
	}
	if bulkInUse.Add(1) > maxBulkReaders {
		bulkInUse.Add(-1)
		return
	}
	big := bulkReaders.Get().(*bufio.Reader)
	big.Reset(s.r)
	s.small, s.r = s.r, big
}

// endBulk gives the large buffer back once it holds nothing more: octets a
// client pipelined after the end of the data are read from it first.
func (s *session) endBulk() {
	if s.small == nil || s.r.Buffered() > 0 {
		return
	}
	s.dropBulk()
}

// dropBulk gives the large buffer back at once, with whatever it holds (for
// STARTTLS, which discards everything buffered).
func (s *session) dropBulk() {
	if s.small == nil {
		return
	}
	big := s.r
	s.r, s.small = s.small, nil
	big.Reset(nil)
	bulkReaders.Put(big)
	bulkInUse.Add(-1)
}
