package queue

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"os"
	"path/filepath"
)

// Writer receives one message's data into the queue. It is not safe for
// concurrent use; each SMTP session has its own.
type Writer struct {
	q     *Queue
	id    string
	path  string
	f     *os.File
	bw    *bufio.Writer
	crc   hash.Hash32
	size  int64
	err   error
	done  bool
	fresh bool // the slot was created for this message: its name is not yet durable
}

// Begin starts receiving a message: its data goes into a free slot of the
// queue (or a new one) until Commit or Abort.
func (q *Queue) Begin() (*Writer, error) {
	q.mu.Lock()
	closed := q.closed
	q.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if w := q.reuse(); w != nil {
		return w, nil
	}
	for tries := 0; ; tries++ {
		id := q.ids.next(q.now().UnixMicro())
		p := q.path(msgDir, id)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) && tries < 8 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("queue: %w", err)
		}
		return q.newWriter(id, p, f, true), nil
	}
}

func (q *Queue) newWriter(id, path string, f *os.File, fresh bool) *Writer {
	return &Writer{q: q, id: id, path: path, f: f, fresh: fresh, bw: bufio.NewWriterSize(f, 32<<10), crc: crc32.New(castagnoli)}
}

// maxFree bounds the free slots kept for reuse: about as many as messages in
// flight at once.
const maxFree = 1024

// reuse returns a Writer on a free slot, or nil if there is none.
func (q *Queue) reuse() *Writer {
	for {
		q.freeMu.Lock()
		n := len(q.free)
		if n == 0 {
			q.freeMu.Unlock()
			return nil
		}
		p := q.free[n-1]
		q.free = q.free[:n-1]
		q.freeMu.Unlock()
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			os.Remove(p)
			continue
		}
		return q.newWriter(q.ids.next(q.now().UnixMicro()), p, f, false)
	}
}

// ID returns the queue id the message will have, for the Received: header.
func (w *Writer) ID() string { return w.id }

// Size returns the number of bytes written so far.
func (w *Writer) Size() int64 { return w.size }

// Write adds message data. Errors (a full disk) are sticky and also returned
// by Commit.
func (w *Writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("queue: write after commit or abort")
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.bw.Write(p)
	w.crc.Write(p[:n])
	w.size += int64(n)
	if err != nil {
		w.err = fmt.Errorf("queue: write %s: %w", w.id, err)
	}
	return n, w.err
}

// Commit stores the envelope with the data and makes both durable: it
// returns the queue id only once the slot is fsynced and, if the slot is
// new, its directory too (grouped with concurrent commits). A reused slot
// already has a durable name, so one fsync is enough. After an error nothing
// was queued and the SMTP server must not answer 250.
func (w *Writer) Commit(env Envelope) (id string, err error) {
	if w.done {
		return "", errors.New("queue: commit after commit or abort")
	}
	w.done = true
	defer func() {
		if err != nil {
			w.f.Close()
			w.discard()
		}
	}()
	if w.err != nil {
		return "", w.err
	}
	if len(env.To) == 0 {
		return "", errors.New("queue: envelope without recipients")
	}
	eb, err := json.Marshal(fileRecord{ID: w.id, Envelope: env})
	if err != nil {
		return "", fmt.Errorf("queue: %w", err)
	}
	if _, err := w.bw.Write(eb); err != nil {
		return "", fmt.Errorf("queue: write %s: %w", w.id, err)
	}
	if _, err := w.bw.Write(encodeFooter(w.size, len(eb), w.crc.Sum32(), crc32.Checksum(eb, castagnoli))); err != nil {
		return "", fmt.Errorf("queue: write %s: %w", w.id, err)
	}
	if err := w.bw.Flush(); err != nil {
		return "", fmt.Errorf("queue: write %s: %w", w.id, err)
	}
	// Until this fsync returns, a crash may leave the slot torn; the footer
	// checksums make recovery treat it as free, and no 250 was sent.
	if err := w.f.Sync(); err != nil {
		return "", fmt.Errorf("queue: fsync %s: %w", w.id, err)
	}
	if err := w.f.Close(); err != nil {
		return "", fmt.Errorf("queue: close %s: %w", w.id, err)
	}
	if w.fresh {
		if err := w.q.syncer.Sync(filepath.Dir(w.path)); err != nil {
			return "", fmt.Errorf("queue: fsync %s: %w", filepath.Dir(w.path), err)
		}
	}
	m := &Message{ID: w.id, Envelope: env, Size: w.size, path: w.path}
	m.rcpts = make([]*Recipient, len(env.To))
	for i, to := range env.To {
		m.rcpts[i] = &Recipient{Addr: to, State: Pending}
	}
	q := w.q
	q.mu.Lock()
	q.msgs[m.ID] = m
	q.traceLocked(m, fmt.Sprintf("queued as %s (%d octets, %d recipient(s)), on disk before the 250", m.ID, m.Size, len(m.rcpts)))
	q.dispatchLocked(m)
	q.mu.Unlock()
	return m.ID, nil
}

// Abort discards the message. It is safe to call after Commit (it does
// nothing then), so a session can always defer it.
func (w *Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	w.discard()
	return nil
}

// discard empties the slot of a message that was not committed and frees it.
func (w *Writer) discard() {
	if err := os.Truncate(w.path, 0); err != nil {
		os.Remove(w.path)
		return
	}
	w.q.freeSlot(w.path)
}
