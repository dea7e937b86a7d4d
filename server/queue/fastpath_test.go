package queue

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/server/maildir"
)

func queueSlots(t *testing.T, data string) []os.DirEntry {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(data, "queue", "msg"))
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestFastPathDeliversBeforeCommitReturns: on a running queue, a message for
// one local account is journaled and in its Maildir (new/) when Commit
// returns, and the queue keeps nothing of it: no slot, no entry.
func TestFastPathDeliversBeforeCommitReturns(t *testing.T) {
	data := t.TempDir()
	ev := &events{}
	q := openQueue(t, Options{Data: data, Trace: ev.hook})
	q.Start(context.Background())
	id := commit(t, q, "carol@far.test", "bob+lists@MX.test")

	bob := maildirFiles(t, data, "bob")
	if len(bob) != 1 {
		t.Fatalf("right after Commit bob has %d messages, want 1", len(bob))
	}
	b, _ := os.ReadFile(bob[0])
	if !strings.HasPrefix(string(b), "Return-Path: <carol@far.test>\nDelivered-To: bob+lists@MX.test\nReceived: ") ||
		!strings.HasSuffix(string(b), "id "+id+"\nSubject: test "+id+"\n\nHello\n") {
		t.Errorf("delivered file:\n%s", b)
	}
	if name := filepath.Base(bob[0]); !strings.Contains(name, "Q"+id+"R0.") || !strings.HasSuffix(name, fmt.Sprintf(",S=%d,W=%d", len(b), len(b)+strings.Count(string(b), "\n"))) {
		t.Errorf("file name %s: want the queue id %s and the sizes", name, id)
	}
	if l := q.List(); len(l) != 0 {
		t.Errorf("queue holds %v after a direct delivery", l)
	}
	if s := queueSlots(t, data); len(s) != 0 {
		t.Errorf("direct delivery created queue slots: %v", s)
	}
	if !ev.has("s1 delivered to bob's Maildir as new/") || !ev.has("(queue id "+id+": journaled and fdatasynced before the 250") || ev.has("stored in queue slot") {
		t.Errorf("trace: %q, want the direct delivery and no queueing", ev.lines)
	}
	if tmp, _ := os.ReadDir(filepath.Join(maildir.Root(data, "bob"), maildir.Tmp)); len(tmp) != 0 {
		t.Errorf("bob's tmp/ not empty: %v", tmp)
	}
}

// TestFastPathForSeveralLocalRecipients: several local recipients share one
// journal record, and each has its own copy (its own Delivered-To:) in its
// Maildir when Commit returns; nothing is queued.
func TestFastPathForSeveralLocalRecipients(t *testing.T) {
	data := t.TempDir()
	ev := &events{}
	q := openQueue(t, Options{Data: data, Trace: ev.hook})
	q.Start(context.Background())
	id := commit(t, q, "carol@far.test", "bob@mx.test", "alice@mx.test")
	if ev.has("stored in queue slot") || len(q.List()) != 0 || len(queueSlots(t, data)) != 0 {
		t.Errorf("trace %q, queue %v: want the message journaled, not queued", ev.lines, q.List())
	}
	for i, user := range []string{"bob", "alice"} {
		files := maildirFiles(t, data, user)
		if len(files) != 1 {
			t.Fatalf("%s has %d copies right after Commit, want 1", user, len(files))
		}
		b, _ := os.ReadFile(files[0])
		if !strings.Contains(string(b), "Delivered-To: "+user+"@mx.test\n") || !strings.Contains(filepath.Base(files[0]), fmt.Sprintf("Q%sR%d.", id, i)) {
			t.Errorf("%s's copy %s:\n%s", user, filepath.Base(files[0]), b)
		}
	}
}

// TestFastPathNotForRemoteRecipients: one remote recipient sends the whole
// message through the queue (slot, then delivery by a worker).
func TestFastPathNotForRemoteRecipients(t *testing.T) {
	data := t.TempDir()
	ev := &events{}
	q := openQueue(t, Options{Data: data, Trace: ev.hook})
	q.Start(context.Background())
	id := commit(t, q, "carol@far.test", "dave@far.test")
	if !ev.has("s1 " + id + " stored in queue slot msg/") {
		t.Errorf("trace: %q, want the message queued", ev.lines)
	}
	if s := queueSlots(t, data); len(s) != 1 {
		t.Errorf("queue slots %v, want the message's", s)
	}
	waitFor(t, "dave deferred", func() bool {
		l := q.List()
		return len(l) == 1 && l[0].Recipients[0].State == Deferred
	})
}

// TestFastPathFallsBackToQueue: when the recipient's Maildir cannot be
// written, the message is queued, and the queue keeps retrying; a restart
// does not replay its journal record (the slot has its queue id).
func TestFastPathFallsBackToQueue(t *testing.T) {
	data := t.TempDir()
	ev := &events{}
	q := openQueue(t, Options{Data: data, Trace: ev.hook})
	q.journal.every = time.Hour // keep the record for the restart below
	// bob's tmp/ is a file: no delivery can be written there (not even as root).
	bobRoot := maildir.Root(data, "bob")
	if err := os.MkdirAll(bobRoot, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bobRoot, maildir.Tmp), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	q.Start(context.Background())
	id := commit(t, q, "carol@far.test", "bob@mx.test")
	if !ev.has("s1 " + id + " stored in queue slot msg/") {
		t.Fatalf("trace: %q, want the message queued after the direct delivery failed", ev.lines)
	}
	waitFor(t, "bob deferred", func() bool {
		l := q.List()
		return len(l) == 1 && l[0].Recipients[0].State == Deferred
	})

	// A crash now, and bob's Maildir repaired: one copy, from the slot.
	image := crashImage(t, data)
	if err := os.Remove(filepath.Join(maildir.Root(image, "bob"), maildir.Tmp)); err != nil {
		t.Fatal(err)
	}
	q2 := openQueue(t, Options{Data: image})
	q2.Start(context.Background())
	q2.Retry(id)
	waitFor(t, "the queued copy", func() bool { return len(q2.List()) == 0 })
	if n := len(maildirFiles(t, image, "bob")); n != 1 {
		t.Errorf("bob has %d copies after the restart, want 1", n)
	}
}

// TestOpenRemovesLeftoverTmp: a delivery cut short by a crash leaves a file
// in tmp/; the next Open removes the queue's leftovers and nothing else.
func TestOpenRemovesLeftoverTmp(t *testing.T) {
	data := t.TempDir()
	root := maildir.Root(data, "bob")
	if err := maildir.Create(root); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(root, maildir.Tmp)
	now := time.Now()
	leftovers := []string{fastUnique("000660DF9E87327E", 0, now), fmt.Sprintf("%d.Q000660DF9E87327FR1.%s", now.Unix(), maildir.Host())}
	other := maildir.UniqueName(now) // another program's delivery in progress
	for _, n := range append(leftovers, other) {
		if err := os.WriteFile(filepath.Join(tmp, n), []byte("Subject: half\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	openQueue(t, Options{Data: data})
	es, _ := os.ReadDir(tmp)
	if len(es) != 1 || es[0].Name() != other {
		t.Errorf("tmp/ after Open: %v, want only %s", es, other)
	}
}

// TestFastPathKeptInJournalWhenNothingCanTakeIt: when bob's copy cannot be
// written after the 250 and the queue slot that should take it cannot be
// either, the message stays in the journal (the checkpoint does not pass
// it): a restart would deliver it, each copy exactly once, and the running
// queue delivers it itself once bob's Maildir can be written again.
func TestFastPathKeptInJournalWhenNothingCanTakeIt(t *testing.T) {
	defer func(d time.Duration) { journalRetryEvery = d }(journalRetryEvery)
	journalRetryEvery = 20 * time.Millisecond
	data := t.TempDir()
	q := openQueue(t, Options{Data: data})
	bobRoot := maildir.Root(data, "bob")
	if err := os.MkdirAll(bobRoot, 0o700); err != nil {
		t.Fatal(err)
	}
	// bob's tmp/ and the queue's msg/ are files: nothing can be written there.
	if err := os.WriteFile(filepath.Join(bobRoot, maildir.Tmp), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	msg := filepath.Join(data, "queue", "msg")
	if err := os.Remove(msg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(msg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	q.Start(context.Background())
	id := commit(t, q, "carol@far.test", "alice@mx.test", "bob@mx.test")
	if n := len(maildirFiles(t, data, "alice")); n != 1 {
		t.Errorf("alice has %d copies, want 1", n)
	}
	if err := q.journal.checkpoint(); err != nil {
		t.Fatal(err)
	}
	q.journal.ckptMu.Lock()
	at, next := q.journal.ckptAt, q.journal.next
	q.journal.ckptMu.Unlock()
	if at >= next {
		t.Fatalf("the checkpoint (%d) passed the record of a message bob has not got (next %d)", at, next)
	}
	image := crashImage(t, data)
	os.Remove(filepath.Join(maildir.Root(image, "bob"), maildir.Tmp))
	os.Remove(filepath.Join(image, "queue", "msg"))
	openQueue(t, Options{Data: image})
	for _, user := range []string{"alice", "bob"} {
		if got := subjects(t, image, user); len(got) != 1 || got["test "+id] != 1 {
			t.Errorf("after the restart %s has %v, want message %s once", user, got, id)
		}
	}

	// The administrator repairs bob's Maildir: the next try delivers.
	if err := os.Remove(filepath.Join(bobRoot, maildir.Tmp)); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(bobRoot, maildir.Tmp), 0o700); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob's copy on a later try", func() bool { return len(maildirFiles(t, data, "bob")) == 1 })
	waitFor(t, "the checkpoint past the record", func() bool {
		if err := q.journal.checkpoint(); err != nil {
			t.Fatal(err)
		}
		q.journal.ckptMu.Lock()
		defer q.journal.ckptMu.Unlock()
		return q.journal.ckptAt == next
	})
	for _, user := range []string{"alice", "bob"} {
		if got := subjects(t, data, user); len(got) != 1 || got["test "+id] != 1 {
			t.Errorf("after the later try %s has %v, want message %s once", user, got, id)
		}
	}
}

// TestCommitThenLeavesTheCopiesToFinish: CommitThen returns with the message
// durable but not yet in the Maildir; a crash at that moment (between the
// 250 and finish) loses nothing, and finish delivers it.
func TestCommitThenLeavesTheCopiesToFinish(t *testing.T) {
	data := t.TempDir()
	q := runningQueue(t, data)
	w, err := q.Begin()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "Subject: test %s\r\n\r\nHello\r\n", w.ID())
	id, finish, err := w.CommitThen(Envelope{From: "carol@far.test", To: []string{"bob@mx.test"}, Received: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if finish == nil {
		t.Fatal("CommitThen left nothing to finish for a journaled message")
	}
	if n := len(maildirFiles(t, data, "bob")); n != 0 {
		t.Errorf("bob has %d messages before finish, want 0", n)
	}
	image := crashImage(t, data)
	openQueue(t, Options{Data: image})
	if got := subjects(t, image, "bob"); got["test "+id] != 1 || len(got) != 1 {
		t.Errorf("a crash before finish: after the restart bob has %v, want %s once", got, id)
	}
	finish()
	if got := subjects(t, data, "bob"); got["test "+id] != 1 || len(got) != 1 {
		t.Errorf("after finish bob has %v, want %s once", got, id)
	}
}
