package queue

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailx-edu/mailx/server/maildir"
)

// The intake journal: how a message for local accounts is made durable with
// one device flush before the 250.
//
// Maildir's own rules need two flushes in a row per message (the file, then
// new/), and creating and fsyncing a small file is the dearest thing a
// server does per message. So a message whose recipients are all local
// accounts is first appended to the journal (queue/journal/seg-*) and
// fdatasynced, grouped with the appends of concurrent sessions: one flush,
// and the message is on stable storage. The 250 goes out, and right after
// it the message is written into each recipient's Maildir (tmp/, rename into
// new/) without fsyncs (Writer.CommitThen).
// Those files are made durable later, many at once (syncfs on Linux, an
// fsync per file elsewhere), at a checkpoint, at least every second and
// sooner when two segments' worth of records arrived; only then does the
// checkpoint file move past their records, and journal segments wholly
// behind it become spares.
//
// After a crash, Open replays every record at or after the checkpoint: the
// Maildir file names are in the record and derived from the queue id, so a
// file that is already there is rewritten in place (its data may not have
// reached the disk; its name and flags stay) and a missing one is written,
// each fsynced. Every acknowledged message is then in its Maildirs exactly
// once. A file missing because a POP3 or IMAP client deleted it must not be
// written again: so a deletion (maildir.Folder.Expunge) first has the
// journal make a checkpoint past every delivered record (Queue.Settle, the
// maildir.Settler that server/mta.go gives the POP3 and IMAP servers), and
// the replay never sees a deleted message's record.
//
// A record that fails its checksum, or breaks the sequence, ends the scan
// of its segment: it was being written when the process died, so no 250
// was sent for it, and nothing after it was appended.
//
// Segments are recycled. Appending into blocks a file already has written
// lets fdatasync flush just the data; appending into fresh or fallocated
// blocks makes every flush also commit the file system's journal (the
// blocks change from unwritten to written), which measured more than twice
// as slow for 100 KB records. So a segment behind the checkpoint becomes a
// spare (spare-N) instead of being deleted, and the next rotation renames a
// spare into place; while the active segment fills, a background goroutine
// zero-fills a new spare if none is ready. The old records a recycled
// segment still holds are never read back: a segment's first record must
// carry the sequence number in its name, and each later one the next.

const (
	journalDir     = "journal"
	segmentPrefix  = "seg-"
	checkpointName = "checkpoint"

	// segmentMax is where a segment stops taking records (a larger record
	// gets a segment of its own), and the size of a spare.
	segmentMax = 16 << 20
	// sparePrefix names zero-filled or recycled segments waiting to be
	// renamed into place; at most sparesMax are kept (the journal's disk
	// use under load is about a second of mail plus these), and a server
	// idle for sparesIdleAfter keeps sparesIdle. Keeping them through short
	// pauses spares the next burst the zero-filling of new ones (16 MiB
	// written per segment, a few per burst of large messages).
	sparePrefix     = "spare-"
	sparesMax       = 8
	sparesIdle      = 1
	sparesIdleAfter = time.Minute
	// checkpointEvery bounds how long a Maildir file written before a 250
	// may stay without its own flush, and so the window in which a crash
	// can bring back a message deleted meanwhile.
	checkpointEvery = time.Second
	// checkpointAfter makes a checkpoint early when this many deliveries
	// wait for one, which bounds the journal's size under load.
	checkpointAfter = 8192
	// checkpointSegments makes a checkpoint early when this many segments'
	// worth of records were appended since the last one: the checkpoint is
	// what turns full segments into spares, and large messages fill a
	// segment in a fraction of a second. Without it, rotations run out of
	// spares between checkpoints and each new one is zero-filled, writing
	// as much again as the records themselves.
	checkpointSegments = 2
)

// segmentSize is segmentMax; tests make it small to fill segments quickly.
var segmentSize int64 = segmentMax

// A record: magic, kind, sequence number, envelope length, data length,
// CRC-32C (of the envelope, the data, then the header fields from kind to
// data length), the envelope (JSON), the data.
const (
	recordMagic     = "MXJ1"
	recordHeaderLen = 4 + 1 + 8 + 4 + 4 + 4
	maxRecordData   = 64 << 20
)

// recordKind is a record's kind byte. There is one kind: a journalRecord
// and the message data. (Development builds of 2026-11-22 also wrote a
// kind 2, a cancel, for a journaled message refused after all; none has
// since, and a record of another kind ends the scan like a damaged one.)
type recordKind byte

const kindMessage recordKind = 1

// journalRecord is a message record's envelope: the queue id, where each
// recipient's copy goes, and the SMTP envelope.
type journalRecord struct {
	ID         string            `json:"queue_id"`
	Deliveries []journalDelivery `json:"deliveries"`
	Envelope
}

// journalDelivery is one recipient's copy: the account and the unique part
// of its Maildir file name, fixed before the first attempt so a replay finds
// the file.
type journalDelivery struct {
	Rcpt   string `json:"rcpt"`
	User   string `json:"user"`
	Unique string `json:"unique"`
}

// journal is the queue's intake journal (see above). Safe for concurrent use.
type journal struct {
	dir    string
	log    *slog.Logger
	syncer *dirSyncer    // groups the fdatasyncs of a segment
	every  time.Duration // checkpointEvery; tests make it longer to keep a journal to replay
	// idleAfter is sparesIdleAfter; tests make it zero. It and busyAt are
	// guarded by ckptMu.
	idleAfter time.Duration
	busyAt    time.Time // when a checkpoint last found records or files to settle
	// kickAfter is checkpointSegments segments' worth of bytes; tests that
	// keep a journal to replay set it to 0 (never).
	kickAfter int64

	// hold stops checkpoints while the replay of a crash's records waits
	// for disk space (Queue.ReplayPending): a checkpoint now would move
	// past records not yet in their Maildirs.
	hold atomic.Bool

	ckptMu sync.Mutex // one checkpoint at a time
	ckpt   *os.File
	ckptAt uint64 // the sequence number on disk: all records before it are done
	ckptN  uint64 // checkpoints written, to alternate between the file's two slots

	mu       sync.Mutex
	closed   bool
	segs     []*segment // oldest first; the last takes appends
	next     uint64
	pending  map[uint64]bool // records not yet behind a checkpoint; true once their Maildir files are written
	unsynced []string        // Maildir files written since the last checkpoint
	kick     chan struct{}
	appended int64 // bytes of records appended since the last checkpoint began

	spares    []string // paths of spare segments, each segmentSize bytes of written blocks
	spareN    int      // names the next spare
	preparing bool     // a goroutine is zero-filling a spare
}

// segment is one journal file.
type segment struct {
	path     string
	f        *os.File
	last     uint64 // its last record's sequence number
	records  int
	size     int64
	capacity int64 // the file's size when it was put in place: appends up to it reuse written blocks
	broken   bool  // a write failed: take no more records
}

// errJournalClosed is returned by append after close; the caller queues.
var errJournalClosed = errors.New("queue: journal closed")

// openJournal opens queue/journal in q's directory and replays what a
// crash left in it (see replayJournal); q's slots are already loaded.
func (q *Queue) openJournal() error {
	j := &journal{dir: q.path(journalDir), log: q.log, every: checkpointEvery, kickAfter: checkpointSegments * segmentSize,
		idleAfter: sparesIdleAfter,
		pending:   map[uint64]bool{}, kick: make(chan struct{}, 1)}
	j.syncer = newDirSyncer(j.syncSegment)
	if err := os.MkdirAll(j.dir, 0o700); err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(j.dir, checkpointName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	j.ckpt = f
	j.ckptAt, j.ckptN = readCheckpoint(f)
	j.next = j.ckptAt
	q.journal = j
	if err := q.replayJournal(); err != nil {
		// Most likely a full disk: start anyway, take no new mail, and
		// replay again until it works (see retryReplay). POP3 and IMAP
		// serve what is there meanwhile.
		q.log.Error("queue: journaled messages cannot be put back into their mailboxes now; the server starts, refuses new mail, and tries again every few seconds", "err", err)
		q.replayPending.Store(true)
		j.hold.Store(true)
	}
	return nil
}

// ReplayPending reports whether messages journaled before a crash are not
// yet back in their Maildirs (the disk was full at the start). Begin
// refuses new messages meanwhile with ErrReplayPending.
func (q *Queue) ReplayPending() bool { return q.replayPending.Load() }

// replayRetryEvery is how often a pending replay is tried again.
var replayRetryEvery = 5 * time.Second

// retryReplays tries the pending replay again every replayRetryEvery
// until it works or the queue stops.
func (q *Queue) retryReplays(done <-chan struct{}) {
	t := time.NewTicker(replayRetryEvery)
	defer t.Stop()
	for q.replayPending.Load() {
		select {
		case <-done:
			return
		case <-t.C:
		}
		if err := q.retryReplay(); err != nil {
			q.log.Warn("queue: replay of journaled messages still fails; trying again", "err", err, "every", replayRetryEvery.String())
			continue
		}
		q.log.Info("queue: journaled messages replayed; taking new mail again")
	}
}

// retryReplay runs the replay again from the segments on disk. Records
// replayed whole by an earlier try are skipped (a reader may have deleted
// their copies since); the Maildir index is read afresh, so a copy an
// earlier try wrote is rewritten in place, never duplicated.
func (q *Queue) retryReplay() error {
	q.replayMu.Lock()
	defer q.replayMu.Unlock()
	j := q.journal
	j.mu.Lock()
	j.spares = nil
	j.mu.Unlock()
	q.idxMu.Lock()
	q.idx = nil
	q.idxMu.Unlock()
	if err := q.replayJournal(); err != nil {
		return err
	}
	j.hold.Store(false)
	q.replayPending.Store(false)
	return nil
}

// Checkpoint file: two 24-byte slots at offsets 0 and 512 (different
// sectors, so a torn write spoils one at most), each magic, checkpoint
// number, sequence number, CRC-32C of the two numbers. The valid slot with
// the higher checkpoint number wins.
const (
	checkpointMagic = "MXC1"
	checkpointSlot  = 512
)

func readCheckpoint(f *os.File) (seq, n uint64) {
	for i := int64(0); i < 2; i++ {
		b := make([]byte, 24)
		if _, err := f.ReadAt(b, i*checkpointSlot); err != nil {
			continue
		}
		if string(b[:4]) != checkpointMagic || crc32.Checksum(b[4:20], castagnoli) != binary.BigEndian.Uint32(b[20:]) {
			continue
		}
		if cn := binary.BigEndian.Uint64(b[4:]); cn >= n {
			n, seq = cn, binary.BigEndian.Uint64(b[12:])
		}
	}
	return seq, n
}

// writeCheckpoint records that every record before seq is done.
func (j *journal) writeCheckpoint(seq uint64) error {
	n := j.ckptN + 1
	b := make([]byte, 24)
	copy(b, checkpointMagic)
	binary.BigEndian.PutUint64(b[4:], n)
	binary.BigEndian.PutUint64(b[12:], seq)
	binary.BigEndian.PutUint32(b[20:], crc32.Checksum(b[4:20], castagnoli))
	if _, err := j.ckpt.WriteAt(b, int64(n%2)*checkpointSlot); err != nil {
		return err
	}
	if err := fdatasync(j.ckpt); err != nil {
		return err
	}
	j.ckptN, j.ckptAt = n, seq
	return nil
}

// recordHead lays out a record's header and envelope, with the sequence
// number still zero (see sealHead); the data follows them on disk, written
// from the caller's buffer (writeRecord) rather than copied into a new one:
// for a 100 KB message that copy was two thirds of what the server
// allocated, and so of its garbage collections. payloadCRC covers the
// envelope and the data.
func recordHead(kind recordKind, env, data []byte) (head []byte, payloadCRC uint32) {
	head = make([]byte, recordHeaderLen, recordHeaderLen+len(env))
	copy(head, recordMagic)
	head[4] = byte(kind)
	binary.BigEndian.PutUint32(head[13:], uint32(len(env)))
	binary.BigEndian.PutUint32(head[17:], uint32(len(data)))
	head = append(head, env...)
	return head, crc32.Update(crc32.Checksum(env, castagnoli), castagnoli, data)
}

// sealHead sets the record's sequence number and checksum.
func sealHead(head []byte, seq uint64, payloadCRC uint32) {
	binary.BigEndian.PutUint64(head[5:], seq)
	binary.BigEndian.PutUint32(head[21:], crc32.Update(payloadCRC, castagnoli, head[4:21]))
}

// scanRecords reads the records of one segment in order and calls fn for
// each valid one, stopping at the first that is torn, damaged or out of
// sequence (a record begun when the process died, none following it, or
// what a recycled segment held before). The first record must carry
// sequence number first, the segment's name. It returns the offset where
// the valid records end.
func scanRecords(r io.ReaderAt, size int64, first uint64, fn func(seq uint64, env, data []byte)) int64 {
	var off int64
	prev := first - 1
	hdr := make([]byte, recordHeaderLen)
	for off+recordHeaderLen <= size {
		if _, err := r.ReadAt(hdr, off); err != nil {
			break
		}
		if string(hdr[:4]) != recordMagic {
			break
		}
		kind := recordKind(hdr[4])
		seq := binary.BigEndian.Uint64(hdr[5:])
		envLen := int64(binary.BigEndian.Uint32(hdr[13:]))
		dataLen := int64(binary.BigEndian.Uint32(hdr[17:]))
		if kind != kindMessage || envLen > maxEnvelope || dataLen > maxRecordData ||
			off+recordHeaderLen+envLen+dataLen > size || seq != prev+1 {
			break
		}
		payload := make([]byte, envLen+dataLen)
		if _, err := r.ReadAt(payload, off+recordHeaderLen); err != nil {
			break
		}
		c := crc32.Checksum(payload, castagnoli)
		if crc32.Update(c, castagnoli, hdr[4:21]) != binary.BigEndian.Uint32(hdr[21:]) {
			break
		}
		fn(seq, payload[:envLen], payload[envLen:])
		prev = seq
		off += recordHeaderLen + envLen + dataLen
	}
	return off
}

// append writes a record and returns once it is on stable storage (its
// fdatasync grouped with concurrent appends). The record stays pending until
// done is called for it and a checkpoint has passed.
func (j *journal) append(env, data []byte) (uint64, error) {
	head, payloadCRC := recordHead(kindMessage, env, data)
	recLen := int64(len(head) + len(data))
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return 0, errJournalClosed
	}
	seg := j.active()
	if seg == nil || seg.broken || seg.size > 0 && seg.size+recLen > max(seg.capacity, segmentSize) {
		var err error
		if seg, err = j.rotate(recLen); err != nil {
			j.mu.Unlock()
			return 0, err
		}
	}
	seq := j.next
	sealHead(head, seq, payloadCRC)
	// Written under the lock, so the records of a segment are in sequence
	// and any fdatasync that starts after a record's write also covers every
	// record before it: the scan at recovery never meets a hole.
	if err := writeRecord(seg.f, head, data, seg.size); err != nil {
		seg.broken = true
		j.mu.Unlock()
		return 0, fmt.Errorf("queue: journal write: %w", err)
	}
	j.next++
	seg.size += recLen
	seg.records++
	seg.last = seq
	j.pending[seq] = false
	j.appended += recLen
	if j.kickAfter > 0 && j.appended >= j.kickAfter {
		j.kickCheckpoint()
	}
	if seg.size > segmentSize/2 && len(j.spares) == 0 && !j.preparing {
		// Half full and nothing to rotate into: make a spare now, off the
		// appenders' path, rather than a fresh segment at rotation.
		j.preparing = true
		go j.prepareSpare()
	}
	j.mu.Unlock()
	if err := j.syncer.Sync(seg.path); err != nil {
		// The caller queues the message in a slot instead (which a replay
		// prefers) or refuses it; either way the checkpoint may pass this
		// record.
		j.mu.Lock()
		seg.broken = true
		j.pending[seq] = true
		j.mu.Unlock()
		return seq, fmt.Errorf("queue: journal fdatasync: %w", err)
	}
	return seq, nil
}

func (j *journal) active() *segment {
	if len(j.segs) == 0 {
		return nil
	}
	return j.segs[len(j.segs)-1]
}

// rotate puts a new segment in place, named after the next sequence
// number: a spare renamed if there is one, else a new file; its name is made
// durable before any record in it can be acknowledged. j.mu is held.
func (j *journal) rotate(need int64) (*segment, error) {
	if old := j.active(); old != nil && old.records == 0 {
		// Broken before its first record: the new one takes its name.
		old.f.Close()
		j.segs = j.segs[:len(j.segs)-1]
	}
	p := filepath.Join(j.dir, segmentPrefix+fmt.Sprintf("%016X", j.next))
	var f *os.File
	var capacity int64
	for need <= segmentSize && len(j.spares) > 0 && f == nil {
		spare := j.spares[len(j.spares)-1]
		j.spares = j.spares[:len(j.spares)-1]
		if err := os.Rename(spare, p); err != nil {
			j.log.Warn("queue: cannot reuse a spare journal segment", "path", spare, "err", err)
			os.Remove(spare)
			continue
		}
		var err error
		if f, err = os.OpenFile(p, os.O_RDWR, 0); err != nil {
			os.Remove(p)
			continue
		}
		capacity = segmentSize
	}
	if f == nil {
		var err error
		if f, err = os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
			return nil, fmt.Errorf("queue: journal: %w", err)
		}
		preallocate(f, max(need, segmentSize))
	}
	if err := maildir.SyncDir(j.dir); err != nil {
		f.Close()
		os.Remove(p)
		return nil, fmt.Errorf("queue: journal: fsync %s: %w", j.dir, err)
	}
	seg := &segment{path: p, f: f, capacity: capacity}
	j.segs = append(j.segs, seg)
	return seg, nil
}

// prepareSpare zero-fills a new spare segment (see the top of this file)
// and flushes it, so its blocks are written before any record goes there.
func (j *journal) prepareSpare() {
	j.mu.Lock()
	p := j.nextSparePath()
	j.mu.Unlock()
	err := zeroFill(p, segmentSize)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.preparing = false
	if err != nil {
		os.Remove(p)
		j.log.Warn("queue: cannot prepare a spare journal segment; appends go to fresh ones", "err", err)
		return
	}
	if j.closed {
		os.Remove(p)
		return
	}
	j.spares = append(j.spares, p)
}

// nextSparePath names a new spare. j.mu is held.
func (j *journal) nextSparePath() string {
	j.spareN++
	return filepath.Join(j.dir, sparePrefix+strconv.Itoa(j.spareN-1))
}

// zeroFill creates file p with size zero bytes written and flushed.
func zeroFill(p string, size int64) error {
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	zeros := make([]byte, 1<<20)
	for off := int64(0); off < size && err == nil; off += int64(len(zeros)) {
		_, err = f.WriteAt(zeros[:min(int64(len(zeros)), size-off)], off)
	}
	if err == nil {
		err = fdatasync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// recycle turns a segment behind the checkpoint into a spare, or deletes
// it when there are enough spares or it is not a full-size one.
func (j *journal) recycle(s *segment) {
	s.f.Close()
	j.mu.Lock()
	keep := s.capacity == segmentSize && len(j.spares) < sparesMax && !j.closed
	var p string
	if keep {
		p = j.nextSparePath()
	}
	j.mu.Unlock()
	if keep {
		// No directory fsync needed: after a crash the segment is found
		// under either name, and its records are behind the checkpoint.
		if err := os.Rename(s.path, p); err == nil {
			j.mu.Lock()
			j.spares = append(j.spares, p)
			j.mu.Unlock()
			return
		}
	}
	if err := os.Remove(s.path); err != nil {
		j.log.Warn("queue: cannot delete a journal segment behind the checkpoint", "path", s.path, "err", err)
	}
}

// trimSpares deletes spares beyond keep.
func (j *journal) trimSpares(keep int) {
	j.mu.Lock()
	var drop []string
	if len(j.spares) > keep {
		drop = append(drop, j.spares[keep:]...)
		j.spares = j.spares[:keep]
	}
	j.mu.Unlock()
	for _, p := range drop {
		os.Remove(p)
	}
}

// syncSegment is the syncer's flush of one segment.
func (j *journal) syncSegment(path string) error {
	j.mu.Lock()
	var f *os.File
	for _, s := range j.segs {
		if s.path == path {
			f = s.f
		}
	}
	j.mu.Unlock()
	if f == nil {
		return fmt.Errorf("queue: journal segment %s is gone", path)
	}
	return fdatasync(f)
}

// done marks record seq as delivered: files are the Maildir files written
// for it (none when its message went to a queue slot instead), to be made
// durable at the next checkpoint.
func (j *journal) done(seq uint64, files []string) {
	j.mu.Lock()
	j.pending[seq] = true
	j.unsynced = append(j.unsynced, files...)
	n := len(j.unsynced)
	j.mu.Unlock()
	if n >= checkpointAfter {
		j.kickCheckpoint()
	}
}

// kickCheckpoint asks for a checkpoint now rather than at the next tick.
func (j *journal) kickCheckpoint() {
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

// checkpoint makes the Maildir files written since the last one durable,
// moves the checkpoint past every record that is done, and recycles the
// segments wholly behind it as spares (recycle).
func (j *journal) checkpoint() error {
	if j.hold.Load() {
		return nil
	}
	j.ckptMu.Lock()
	defer j.ckptMu.Unlock()
	j.mu.Lock()
	files := j.unsynced
	j.unsynced = nil
	j.appended = 0
	var finished []uint64
	for seq, ok := range j.pending {
		if ok {
			finished = append(finished, seq)
		}
	}
	j.mu.Unlock()
	if len(finished) == 0 && len(files) == 0 {
		// Nothing arrived since the last tick: a server idle for a while
		// keeps less disk for spares.
		if time.Since(j.busyAt) >= j.idleAfter {
			j.trimSpares(sparesIdle)
		}
		return nil
	}
	j.busyAt = time.Now()
	if err := syncMaildirFiles(files); err != nil {
		// Keep everything pending: the next checkpoint tries again, and a
		// replay after a crash rewrites the files.
		j.mu.Lock()
		j.unsynced = append(j.unsynced, files...)
		j.mu.Unlock()
		return fmt.Errorf("queue: journal checkpoint: %w", err)
	}
	j.mu.Lock()
	for _, seq := range finished {
		delete(j.pending, seq)
	}
	upTo := j.next
	for seq := range j.pending {
		upTo = min(upTo, seq)
	}
	j.mu.Unlock()
	if upTo <= j.ckptAt {
		return nil
	}
	if err := j.writeCheckpoint(upTo); err != nil {
		return fmt.Errorf("queue: journal checkpoint: %w", err)
	}
	j.mu.Lock()
	keep := j.segs[:0]
	var drop []*segment
	for i, s := range j.segs {
		// A segment is behind the checkpoint when all its records are; the
		// last one takes appends and stays (emptied ones are few: one per
		// 16 MiB of mail).
		if i < len(j.segs)-1 && s.last < upTo {
			drop = append(drop, s)
			continue
		}
		keep = append(keep, s)
	}
	j.segs = keep
	j.mu.Unlock()
	for _, s := range drop {
		j.recycle(s)
	}
	return nil
}

// settle makes a checkpoint now if a delivered message is not yet behind
// one: a POP3 or IMAP client is about to delete messages (Queue.Settle,
// a maildir.Settler), and a replay after a crash must not bring back a
// message deleted after its delivery. It costs nothing when the checkpoint
// is up to date, as it is a second after the last delivery. It cannot help
// while an older record is still pending (a message whose copies could be
// neither written nor queued, see retryJournaled): the checkpoint stops
// there, so a message delivered after it and deleted before that record is
// placed comes back if the server crashes meanwhile.
func (j *journal) settle() {
	j.mu.Lock()
	due := len(j.unsynced) > 0
	for _, done := range j.pending {
		if due {
			break
		}
		due = done
	}
	closed := j.closed
	j.mu.Unlock()
	if !due || closed {
		return
	}
	if err := j.checkpoint(); err != nil {
		j.log.Error("queue: journal checkpoint before a deletion failed; a crash now could bring deleted messages back", "err", err)
	}
}

// run makes a checkpoint every checkpointEvery while there is anything to
// checkpoint, and when kicked; on ctx's end a last one, so a clean shutdown
// leaves nothing to replay.
func (j *journal) run(done <-chan struct{}) {
	t := time.NewTicker(j.every)
	defer t.Stop()
	for {
		select {
		case <-done:
			if err := j.checkpoint(); err != nil {
				j.log.Error("queue: last journal checkpoint failed; the next start replays the journal", "err", err)
			}
			return
		case <-t.C:
		case <-j.kick:
		}
		if err := j.checkpoint(); err != nil {
			j.log.Error("queue: journal checkpoint failed; will retry", "err", err)
		}
	}
}

// close stops appends and closes the files; pending records stay for the
// next Open's replay. When the checkpoint is past every record (a clean
// shutdown), the segments are deleted too: a preallocated segment is 16 MiB
// of disk that an idle data directory should not keep.
func (j *journal) close() {
	j.mu.Lock()
	j.closed = true
	segs := j.segs
	j.segs = nil
	clean := len(j.pending) == 0 && j.ckptAt == j.next
	spares := j.spares
	j.spares = nil
	j.mu.Unlock()
	for _, s := range segs {
		s.f.Close()
		if clean {
			os.Remove(s.path)
		}
	}
	for _, p := range spares {
		os.Remove(p)
	}
	j.ckpt.Close()
}

// replayJournal delivers every message record at or after the checkpoint
// that no queue slot holds (a message moved to a slot has its queue id
// there), then checkpoints past all of them and deletes the segments.
func (q *Queue) replayJournal() error {
	j := q.journal
	segPaths, err := j.listSegments()
	if err != nil {
		return err
	}
	todo, err := q.scanJournal(segPaths)
	if err != nil {
		return err
	}
	for _, r := range todo {
		q.ids.atLeast(r.rec.ID)
		q.mu.Lock()
		queued := q.msgs[r.rec.ID] != nil
		q.mu.Unlock()
		if queued || q.replayed[r.seq] {
			continue
		}
		if err := q.replayRecord(r.rec, r.data); err != nil {
			return err
		}
		if q.replayed == nil {
			q.replayed = map[uint64]bool{}
		}
		q.replayed[r.seq] = true
	}
	if len(segPaths) == 0 && j.next == j.ckptAt {
		return nil
	}
	// Everything replayed is fsynced (replayRecord delivers durably).
	if err := j.writeCheckpoint(j.next); err != nil {
		return fmt.Errorf("queue: journal checkpoint: %w", err)
	}
	for _, p := range segPaths {
		os.Remove(p)
	}
	q.replayed = nil
	return nil
}

// listSegments returns the journal's segments in sequence order, and takes
// the spares a crash left (reused if whole, else deleted).
func (j *journal) listSegments() ([]string, error) {
	entries, err := os.ReadDir(j.dir)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	var segPaths []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, segmentPrefix):
			segPaths = append(segPaths, filepath.Join(j.dir, name))
		case strings.HasPrefix(name, sparePrefix):
			p := filepath.Join(j.dir, name)
			if fi, err := e.Info(); err == nil && fi.Size() == segmentSize && len(j.spares) < sparesMax {
				j.spares = append(j.spares, p)
			} else {
				os.Remove(p)
			}
			if n, err := strconv.Atoi(strings.TrimPrefix(name, sparePrefix)); err == nil {
				j.spareN = max(j.spareN, n+1)
			}
		}
	}
	sort.Strings(segPaths) // named by their first sequence number, in hex of fixed width
	return segPaths, nil
}

// replay is a journaled message to put back: its record and data.
type replay struct {
	seq  uint64
	rec  journalRecord
	data []byte
}

// scanJournal reads the valid records of every segment that are at or
// after the checkpoint, and moves the journal's next sequence number past
// every record found.
func (q *Queue) scanJournal(segPaths []string) ([]replay, error) {
	j := q.journal
	var todo []replay
	for _, p := range segPaths {
		first, err := strconv.ParseUint(strings.TrimPrefix(filepath.Base(p), segmentPrefix), 16, 64)
		if err != nil {
			q.log.Warn("queue: a journal segment with an unexpected name; skipped", "path", p)
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("queue: %w", err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("queue: %w", err)
		}
		scanRecords(f, fi.Size(), first, func(seq uint64, env, data []byte) {
			j.next = max(j.next, seq+1)
			if seq < j.ckptAt {
				return
			}
			var rec journalRecord
			if err := json.Unmarshal(env, &rec); err != nil || !validID(rec.ID) || len(rec.Deliveries) == 0 {
				q.log.Error("queue: journal record with a valid checksum but an unreadable envelope; skipped", "seq", seq, "err", err)
				return
			}
			todo = append(todo, replay{seq, rec, data})
		})
		f.Close()
	}
	return todo, nil
}

// replayRecord makes sure each copy of a journaled message is durably in
// its Maildir: rewritten in place if the file is there (it may have been
// cut short), written if not. A copy that cannot be written goes to a queue
// slot, so the queue retries it and reports it as any other.
func (q *Queue) replayRecord(rec journalRecord, data []byte) error {
	var failed []string
	for _, d := range rec.Deliveries {
		if !maildir.ValidUser(d.User) || strings.ContainsAny(d.Unique, `/\`) {
			failed = append(failed, d.Rcpt)
			continue
		}
		root, err := q.mailboxRoot(d.User)
		if err != nil {
			q.log.Error("queue: replay: cannot create the Maildir", "id", rec.ID, "user", d.User, "err", err)
			failed = append(failed, d.Rcpt)
			continue
		}
		over := q.recoveredIndex(root)[d.Unique]
		_, err = maildir.Deliver(root, bytes.NewReader(data), maildir.DeliverOptions{
			Unique: d.Unique, Prepend: deliveryPrepend(rec.From, d.Rcpt), Over: over})
		if err != nil {
			q.log.Error("queue: replay: Maildir delivery failed; queueing", "id", rec.ID, "user", d.User, "err", err)
			failed = append(failed, d.Rcpt)
			continue
		}
		how := "written"
		if over != "" {
			how = "rewritten in place"
		}
		q.log.Info("queue: replayed a journaled message after a restart", "id", rec.ID, "user", d.User, "file", filepath.Base(over), "how", how)
	}
	if len(failed) == 0 {
		return nil
	}
	env := rec.Envelope
	env.To = failed
	if _, err := q.commitSlot(rec.ID, data, env); err != nil {
		return fmt.Errorf("queue: replay of journaled message %s: %w", rec.ID, err)
	}
	return nil
}
