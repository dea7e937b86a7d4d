package queue

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/server/maildir"
)

// crashImage copies the data directory of a running queue: what the disk
// holds if the process dies now (a SIGKILL keeps the page cache, so every
// write made so far is in it, synced or not).
func crashImage(t *testing.T, data string) string {
	t.Helper()
	image := t.TempDir()
	err := filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(data, p)
		dst := filepath.Join(image, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return image
}

// runningQueue opens and starts a queue whose journal is not checkpointed
// by itself, so a crash image keeps every record for a replay.
func runningQueue(t *testing.T, data string) *Queue {
	t.Helper()
	q := openQueue(t, Options{Data: data})
	q.journal.every = time.Hour
	q.journal.kickAfter = 0
	q.Start(context.Background())
	return q
}

var subjectRE = regexp.MustCompile(`(?m)^Subject: (test [0-9A-F]{16})$`)

// subjects counts the messages in user's Maildir by subject, failing on a
// file that is not a whole message.
func subjects(t *testing.T, data, user string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, p := range maildirFiles(t, data, user) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m := subjectRE.FindSubmatch(b)
		if m == nil || !strings.HasSuffix(string(b), "\n\nHello\n") || !strings.HasPrefix(string(b), "Return-Path: <carol@far.test>\nDelivered-To: "+user+"@mx.test\n") {
			t.Errorf("%s: not a whole message: %s\n%s", user, filepath.Base(p), b)
			continue
		}
		out[string(m[1])]++
	}
	return out
}

// TestJournalReplayRestoresEveryCopyOnce: a crash leaves journaled messages
// whose Maildir files were never flushed. The replay writes the one whose
// file vanished, rewrites in place the one cut short (keeping it in cur/
// with its flags, where a reader had moved it) and leaves each message
// exactly once.
func TestJournalReplayRestoresEveryCopyOnce(t *testing.T) {
	data := t.TempDir()
	q := runningQueue(t, data)
	ids := []string{commit(t, q, "carol@far.test", "bob@mx.test"), commit(t, q, "carol@far.test", "bob@mx.test"), commit(t, q, "carol@far.test", "bob@mx.test")}
	image := crashImage(t, data)

	files := maildirFiles(t, image, "bob")
	if len(files) != 3 {
		t.Fatalf("bob has %d files before the crash, want 3", len(files))
	}
	byID := map[string]string{}
	for _, p := range files {
		for _, id := range ids {
			if strings.Contains(filepath.Base(p), "Q"+id+"R0.") {
				byID[id] = p
			}
		}
	}
	// The first message's file vanished (its rename never reached the disk).
	if err := os.Remove(byID[ids[0]]); err != nil {
		t.Fatal(err)
	}
	// The second's data was lost, and a reader had moved it to cur/ as seen.
	seen := filepath.Join(maildir.Root(image, "bob"), maildir.Cur, filepath.Base(byID[ids[1]])+maildir.InfoPrefix+"S")
	if err := os.Rename(byID[ids[1]], seen); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(seen, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	q2 := openQueue(t, Options{Data: image})
	got := subjects(t, image, "bob")
	for _, id := range ids {
		if got["test "+id] != 1 {
			t.Errorf("message %s is in bob's Maildir %d times after the replay, want once (all: %v)", id, got["test "+id], got)
		}
	}
	if _, err := os.Stat(seen); err != nil {
		t.Errorf("the copy in cur/ was not rewritten in place: %v", err)
	}
	if segs, _ := filepath.Glob(filepath.Join(image, "queue", journalDir, segmentPrefix+"*")); len(segs) != 0 {
		t.Errorf("journal segments left after the replay: %v", segs)
	}
	q2.Close()

	// A second start replays nothing: the checkpoint is past every record.
	openQueue(t, Options{Data: image}).Close()
	if got := subjects(t, image, "bob"); len(got) != 3 {
		t.Errorf("after a second start bob has %v", got)
	}
}

// TestJournalCheckpointDeletesSegments: a checkpoint flushes the Maildir
// files and moves past every delivered record; a restart then replays
// nothing, and segments behind the checkpoint are deleted.
func TestJournalCheckpointDeletesSegments(t *testing.T) {
	data := t.TempDir()
	q := runningQueue(t, data)
	commit(t, q, "carol@far.test", "bob@mx.test")
	j := q.journal
	j.mu.Lock()
	j.rotate(0) // a second segment, so the first is behind the checkpoint
	j.mu.Unlock()
	commit(t, q, "carol@far.test", "bob@mx.test")
	if err := j.checkpoint(); err != nil {
		t.Fatal(err)
	}
	if j.ckptAt != j.next || len(j.pending) != 0 {
		t.Errorf("checkpoint at %d with %d pending, want %d and none", j.ckptAt, len(j.pending), j.next)
	}
	segs, _ := filepath.Glob(filepath.Join(data, "queue", journalDir, segmentPrefix+"*"))
	if len(segs) != 1 {
		t.Errorf("segments after the checkpoint: %v, want only the active one", segs)
	}
	image := crashImage(t, data)
	q.Close()
	if segs, _ := filepath.Glob(filepath.Join(data, "queue", journalDir, segmentPrefix+"*")); len(segs) != 0 {
		t.Errorf("segments after a clean shutdown: %v, want none", segs)
	}
	for _, p := range maildirFiles(t, image, "bob") {
		os.Remove(p) // read and deleted by a POP3 client after the checkpoint
	}
	openQueue(t, Options{Data: image})
	if n := len(maildirFiles(t, image, "bob")); n != 0 {
		t.Errorf("the restart brought back %d messages deleted after the checkpoint", n)
	}
}

// TestJournalSettlesBeforeADeletion: a message a POP3 or IMAP client
// deletes (Folder.Expunge) within the second after its delivery does not
// come back after a crash: the deletion waits for a checkpoint past its
// journal record. Once the checkpoint is up to date, a deletion costs none.
func TestJournalSettlesBeforeADeletion(t *testing.T) {
	data := t.TempDir()
	q := runningQueue(t, data) // no checkpoint by itself
	var ids []string
	for range 3 {
		ids = append(ids, commit(t, q, "carol@far.test", "bob@mx.test"))
	}
	// As the POP3 and IMAP servers open a mailbox in mailx serve, whose
	// server/mta.go gives them the queue as their Settler.
	mb, err := maildir.OpenMailbox(maildir.Root(data, "bob"))
	if err != nil {
		t.Fatal(err)
	}
	mb.SetSettler(q)
	f, err := mb.Folder(maildir.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := f.Messages()
	if err != nil || len(msgs) != 3 {
		t.Fatalf("bob's folder: %d messages (%v), want 3", len(msgs), err)
	}
	checkpoints := func() uint64 {
		q.journal.ckptMu.Lock()
		defer q.journal.ckptMu.Unlock()
		return q.journal.ckptN
	}
	before := checkpoints()
	deleted := msgs[0]
	if _, err := f.Expunge([]uint32{deleted.UID}, nil); err != nil {
		t.Fatal(err)
	}
	if checkpoints() == before {
		t.Fatal("Expunge of a message delivered since the last checkpoint made no checkpoint")
	}
	image := crashImage(t, data)
	openQueue(t, Options{Data: image})
	got := subjects(t, image, "bob")
	if len(got) != 2 {
		t.Errorf("after a crash and restart bob has %v, want the 2 messages not deleted", got)
	}
	for _, id := range ids {
		if strings.Contains(deleted.Key, "Q"+id+"R") && got["test "+id] != 0 {
			t.Errorf("the deleted message %s came back after the crash", id)
		}
	}

	after := checkpoints()
	if _, err := f.Expunge([]uint32{msgs[1].UID}, nil); err != nil {
		t.Fatal(err)
	}
	if checkpoints() != after {
		t.Error("Expunge with the checkpoint up to date made another checkpoint")
	}
	q.Close()
	// After Close the queue no longer takes part in deletions.
	if _, err := f.Expunge([]uint32{msgs[2].UID}, nil); err != nil {
		t.Fatal(err)
	}
}

// TestJournalTornTail: a record torn by the crash ends the replay of its
// segment without harm, and queue ids restart above the journal's.
func TestJournalTornTail(t *testing.T) {
	data := t.TempDir()
	q := openQueue(t, Options{Data: data})
	j := q.journal
	appendFor := func(id string) uint64 {
		t.Helper()
		rec := journalRecord{ID: id, Envelope: Envelope{From: "carol@far.test", To: []string{"bob@mx.test"}},
			Deliveries: []journalDelivery{{Rcpt: "bob@mx.test", User: "bob", Unique: fastUnique(id, 0, time.Now())}}}
		eb, _ := json.Marshal(rec)
		seq, err := j.append(eb, []byte("Subject: test "+id+"\r\n\r\nHello\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		return seq
	}
	appendFor("000660E000000001")
	appendFor("000660E000000002")
	appendFor("000660E000000003")
	seg := j.active()
	torn := seg.size - 5
	q.Close()
	// The last record was half written when the process died.
	if err := os.Truncate(seg.path, torn); err != nil {
		t.Fatal(err)
	}
	q2 := openQueue(t, Options{Data: data})
	got := subjects(t, data, "bob")
	if len(got) != 2 || got["test 000660E000000001"] != 1 || got["test 000660E000000002"] != 1 {
		t.Errorf("after the replay bob has %v, want the first two messages once each", got)
	}
	if next := q2.ids.next(0); next <= "000660E000000002" {
		t.Errorf("queue ids restart at %s, below the journal's", next)
	}
}

// TestScanRecords: the scan takes records in sequence from the segment's
// first and stops at the first one damaged, cut short or out of sequence,
// so a recycled segment's old records are never taken for new ones.
func TestScanRecords(t *testing.T) {
	var seg []byte
	for seq := uint64(7); seq < 10; seq++ {
		r := encodeRecord(kindMessage, []byte(`{"queue_id":"x"}`), []byte("data"), seq)
		seg = append(seg, r...)
	}
	one := len(seg) / 3
	countFrom := func(b []byte, first uint64) (n int) {
		scanRecords(bytesReaderAt(b), int64(len(b)), first, func(uint64, []byte, []byte) { n++ })
		return n
	}
	count := func(b []byte) int { return countFrom(b, 7) }
	if n := count(seg); n != 3 {
		t.Errorf("whole segment: %d records, want 3", n)
	}
	if n := count(seg[:len(seg)-1]); n != 2 {
		t.Errorf("cut short: %d records, want 2", n)
	}
	damaged := append([]byte(nil), seg...)
	damaged[one+recordHeaderLen+2] ^= 1
	if n := count(damaged); n != 1 {
		t.Errorf("second record damaged: %d records, want 1", n)
	}
	skip := append(append([]byte(nil), seg[:one]...), seg[2*one:]...)
	if n := count(skip); n != 1 {
		t.Errorf("sequence broken: %d records, want 1", n)
	}
	// A record of another kind than a message (kind 2, a cancel, came
	// only from development builds) ends the scan like a damaged one.
	other := append(append([]byte(nil), seg[:one]...), encodeRecord(2, nil, make([]byte, 8), 8)...)
	if n := count(other); n != 1 {
		t.Errorf("record of kind 2: %d records, want 1", n)
	}
	// Recycled as segment 10: before its first new record nothing in it
	// counts, and after it the old ones that follow do not either.
	if n := countFrom(seg, 10); n != 0 {
		t.Errorf("recycled segment with no new record: %d records, want 0", n)
	}
	recycled := append([]byte(nil), seg...)
	r := encodeRecord(kindMessage, []byte(`{"queue_id":"y"}`), []byte("data"), 10)
	copy(recycled, r)
	if n := countFrom(recycled, 10); n != 1 {
		t.Errorf("recycled segment with one new record: %d records, want 1", n)
	}
}

// encodeRecord is a whole record as append writes it.
func encodeRecord(kind recordKind, env, data []byte, seq uint64) []byte {
	head, crc := recordHead(kind, env, data)
	sealHead(head, seq, crc)
	return append(head, data...)
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, os.ErrClosed
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, os.ErrClosed
	}
	return n, nil
}

// TestJournalRecyclesSegments: segments behind the checkpoint become spares
// that later rotations rename into place; a crash with records in recycled
// segments (their old records still behind the new ones) replays every
// acknowledged message exactly once; an idle tick keeps one spare and a
// clean close deletes them all.
// TestJournalCheckpointsByVolume: a journal that takes checkpointSegments
// segments' worth of records checkpoints at once, without waiting for its
// tick, so full segments become spares before the next rotations need
// them (large messages fill a segment in a fraction of a second).
func TestJournalCheckpointsByVolume(t *testing.T) {
	defer func(n int64) { segmentSize = n }(segmentSize)
	segmentSize = 4 << 10
	data := t.TempDir()
	q := openQueue(t, Options{Data: data})
	q.journal.every = time.Hour
	q.Start(context.Background())
	j := q.journal
	checkpointAt := func() uint64 {
		j.ckptMu.Lock()
		defer j.ckptMu.Unlock()
		return j.ckptAt
	}
	commit(t, q, "carol@far.test", "bob@mx.test")
	if at := checkpointAt(); at != 0 {
		t.Fatalf("one small message moved the checkpoint to %d; the tick is an hour away", at)
	}
	var ids []string
	for range 60 {
		ids = append(ids, commit(t, q, "carol@far.test", "bob@mx.test"))
	}
	waitFor(t, "a checkpoint made by volume", func() bool { return checkpointAt() > 0 })
	waitFor(t, "spare segments", func() bool {
		j.mu.Lock()
		defer j.mu.Unlock()
		return len(j.spares) > 0
	})
	got := subjects(t, data, "bob")
	for _, id := range ids {
		if got["test "+id] != 1 {
			t.Errorf("message %s is in bob's Maildir %d times, want once", id, got["test "+id])
		}
	}
}

func TestJournalRecyclesSegments(t *testing.T) {
	defer func(n int64) { segmentSize = n }(segmentSize)
	segmentSize = 4 << 10
	data := t.TempDir()
	q := runningQueue(t, data)
	j := q.journal
	journalFiles := func(dir, prefix string) (names []string) {
		es, _ := os.ReadDir(filepath.Join(dir, "queue", journalDir))
		for _, e := range es {
			if strings.HasPrefix(e.Name(), prefix) {
				names = append(names, e.Name())
			}
		}
		return names
	}
	var ids []string
	for range 40 {
		ids = append(ids, commit(t, q, "carol@far.test", "bob@mx.test"))
	}
	if segs := journalFiles(data, segmentPrefix); len(segs) < 3 {
		t.Fatalf("40 messages in 4 KiB segments made %d segments, want several", len(segs))
	}
	if err := j.checkpoint(); err != nil {
		t.Fatal(err)
	}
	spares := journalFiles(data, sparePrefix)
	if len(spares) < 2 {
		t.Fatalf("after the checkpoint %d spares (%v), want the segments behind it", len(spares), journalFiles(data, ""))
	}
	for range 40 {
		ids = append(ids, commit(t, q, "carol@far.test", "bob@mx.test"))
	}
	reused := 0
	for _, s := range spares {
		if _, err := os.Stat(filepath.Join(data, "queue", journalDir, s)); err != nil {
			reused++
		}
	}
	if reused == 0 {
		t.Fatalf("no spare was renamed into place by 40 more messages: before %v, after %v", spares, journalFiles(data, ""))
	}

	image := crashImage(t, data)
	openQueue(t, Options{Data: image})
	got := subjects(t, image, "bob")
	for _, id := range ids {
		if got["test "+id] != 1 {
			t.Errorf("message %s is in bob's Maildir %d times after the replay, want once", id, got["test "+id])
		}
	}
	if len(got) != len(ids) {
		t.Errorf("bob has %d messages after the replay, want %d", len(got), len(ids))
	}

	if err := j.checkpoint(); err != nil { // behind everything now
		t.Fatal(err)
	}
	before := len(journalFiles(data, sparePrefix))
	if err := j.checkpoint(); err != nil { // an idle tick right after work
		t.Fatal(err)
	}
	if n := len(journalFiles(data, sparePrefix)); n != before || n <= sparesIdle {
		t.Errorf("an idle tick right after work left %d of %d spares, want all of them (more than %d)", n, before, sparesIdle)
	}
	j.ckptMu.Lock()
	j.idleAfter = 0 // as if idle for sparesIdleAfter
	j.ckptMu.Unlock()
	if err := j.checkpoint(); err != nil {
		t.Fatal(err)
	}
	if n := len(journalFiles(data, sparePrefix)); n > sparesIdle {
		t.Errorf("an idle tick after a pause left %d spares, want at most %d", n, sparesIdle)
	}
	q.Close()
	if left := journalFiles(data, ""); len(left) != 1 || left[0] != checkpointName {
		t.Errorf("a clean close left %v in the journal directory, want only the checkpoint", left)
	}
}
