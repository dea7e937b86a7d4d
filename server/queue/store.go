package queue

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strconv"
	"sync"
)

// The queue directory's layout, inside Data/queue:
//
//	msg/<name>        a slot: a committed message (data, envelope JSON with
//	                  the queue id, footer), or a free slot (empty or torn)
//	                  that Begin reuses; <name> is the id of its first message
//	tmp/              left from older versions; emptied at start
//	state/<id>.json   recipients' state, once it differs from "all pending"
//	journal/seg-<seq> the intake journal's segments (journal.go): messages
//	                  for local accounts, until a checkpoint is past them
//	journal/spare-<n> segments behind the checkpoint, kept for reuse
//	journal/checkpoint the sequence number the journal is done up to
//	lock              held (flock / LockFileEx) by the process owning the queue
const (
	queueDir = "queue"
	tmpDir   = "tmp"
	msgDir   = "msg"
	stateDir = "state"
	lockName = "lock"
)

// footer layout: magic, data length, envelope length, CRC-32C of the data,
// CRC-32C of the envelope. It is written last, so a file cut short anywhere
// has no valid footer, and the checksums catch a file whose length is right
// but whose blocks never reached the disk.
const (
	footerMagic = "MXQ1"
	footerLen   = 4 + 8 + 4 + 4 + 4
	maxEnvelope = 16 << 20 // far above 100 recipients; bounds what a damaged file can make us allocate
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func encodeFooter(dataLen int64, envLen int, dataCRC, envCRC uint32) []byte {
	b := make([]byte, footerLen)
	copy(b, footerMagic)
	binary.BigEndian.PutUint64(b[4:], uint64(dataLen))
	binary.BigEndian.PutUint32(b[12:], uint32(envLen))
	binary.BigEndian.PutUint32(b[16:], dataCRC)
	binary.BigEndian.PutUint32(b[20:], envCRC)
	return b
}

// fileRecord is the envelope as stored in a message file, with the queue id:
// files are slots reused by later messages (see Queue.remove), so a file's
// name says nothing about what it holds.
type fileRecord struct {
	ID string `json:"queue_id"`
	Envelope
}

// readMessageFile reads the record of a committed message file and, when
// verify is set, checks the data's checksum too (at recovery: a file that
// fails holds no acknowledged message).
func readMessageFile(path string, verify bool) (rec fileRecord, dataLen int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return rec, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return rec, 0, err
	}
	size := fi.Size()
	if size < footerLen {
		return rec, 0, errIncomplete("shorter than its footer")
	}
	foot := make([]byte, footerLen)
	if _, err := f.ReadAt(foot, size-footerLen); err != nil {
		return rec, 0, err
	}
	if string(foot[:4]) != footerMagic {
		return rec, 0, errIncomplete("no footer")
	}
	dataLen = int64(binary.BigEndian.Uint64(foot[4:]))
	envLen := int64(binary.BigEndian.Uint32(foot[12:]))
	if envLen > maxEnvelope || dataLen < 0 || dataLen+envLen+footerLen != size {
		return rec, 0, errIncomplete("lengths do not add up")
	}
	eb := make([]byte, envLen)
	if _, err := f.ReadAt(eb, dataLen); err != nil {
		return rec, 0, err
	}
	if crc32.Checksum(eb, castagnoli) != binary.BigEndian.Uint32(foot[20:]) {
		return rec, 0, errIncomplete("envelope checksum mismatch")
	}
	if err := json.Unmarshal(eb, &rec); err != nil {
		return rec, 0, errIncomplete("envelope unreadable: " + err.Error())
	}
	if !validID(rec.ID) {
		return rec, 0, errIncomplete("no valid queue id")
	}
	if len(rec.To) == 0 {
		return rec, 0, errIncomplete("envelope without recipients")
	}
	if verify {
		h := crc32.New(castagnoli)
		if _, err := io.Copy(h, io.NewSectionReader(f, 0, dataLen)); err != nil {
			return rec, 0, err
		}
		if h.Sum32() != binary.BigEndian.Uint32(foot[16:]) {
			return rec, 0, errIncomplete("data checksum mismatch")
		}
	}
	return rec, dataLen, nil
}

// incompleteError marks a message file that was never fully committed.
type incompleteError string

func errIncomplete(why string) error { return incompleteError(why) }

func (e incompleteError) Error() string { return "incomplete message file: " + string(e) }

// stateRecord is queue/state/<id>.json.
type stateRecord struct {
	Recipients []*Recipient `json:"recipients"`
}

// writeFileDurably writes data to path via a temporary file, fsyncs it and
// renames it over path; the caller syncs the directory.
func writeFileDurably(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// validID reports whether s can be a queue id (16 upper-case hex digits), so
// ids from the command line or the control endpoint never name other files.
func validID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// idGen hands out queue ids: the time in microseconds as 16 hex digits, kept
// strictly increasing, so ids sort by arrival and never repeat within a
// process, nor across restarts (Open starts above the largest id on disk).
type idGen struct {
	mu   sync.Mutex
	last uint64
}

func (g *idGen) next(nowMicro int64) string {
	g.mu.Lock()
	v := uint64(nowMicro)
	if v <= g.last {
		v = g.last + 1
	}
	g.last = v
	g.mu.Unlock()
	return fmt.Sprintf("%016X", v)
}

func (g *idGen) atLeast(id string) {
	v, err := strconv.ParseUint(id, 16, 64)
	if err != nil {
		return
	}
	g.mu.Lock()
	if v > g.last {
		g.last = v
	}
	g.mu.Unlock()
}

// dirSyncer groups directory fsyncs: a caller needs an fsync that starts
// after its own rename. While one runs, newcomers wait and the next one
// (started by whichever waiter wakes first) covers them all. This is the
// queue's group commit.
type dirSyncer struct {
	mu   sync.Mutex
	dirs map[string]*dirSync
	sync func(dir string) error
}

type dirSync struct {
	mu      sync.Mutex
	cond    *sync.Cond
	running bool
	started uint64 // fsyncs started
	done    uint64 // the last finished fsync's number
	err     error  // its result
}

func newDirSyncer(sync func(string) error) *dirSyncer {
	return &dirSyncer{dirs: map[string]*dirSync{}, sync: sync}
}

// Sync returns once an fsync of dir that began after the call has finished.
func (s *dirSyncer) Sync(dir string) error {
	s.mu.Lock()
	d := s.dirs[dir]
	if d == nil {
		d = &dirSync{}
		d.cond = sync.NewCond(&d.mu)
		s.dirs[dir] = d
	}
	s.mu.Unlock()

	d.mu.Lock()
	defer d.mu.Unlock()
	target := d.started + 1 // a running fsync (number started) may predate our rename
	for d.done < target {
		if d.running {
			d.cond.Wait()
			continue
		}
		d.running = true
		d.started++
		n := d.started
		d.mu.Unlock()
		err := s.sync(dir)
		d.mu.Lock()
		d.running = false
		d.done, d.err = n, err
		d.cond.Broadcast()
	}
	return d.err
}
