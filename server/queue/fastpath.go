package queue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/maildir"
)

// The local fast path (why there are two durable paths: durable.go). A
// message whose recipients are all local accounts is appended to the
// journal (journal.go); the 250 goes out, and then it is written into each
// recipient's Maildir (tmp/, rename into new/) without fsyncs, so a POP3 or
// IMAP client finds it moments after the sender has its reply (see
// Writer.CommitThen for when exactly the SMTP server writes it). Those
// files get their flush at the journal's next checkpoint, many at once;
// until then the journal record is what a crash recovers from.
//
// Crash safety: nothing is written into a Maildir before the journal record
// is durable, and the record names each copy's file (the unique part holds
// the queue id), so a replay after a crash rewrites a copy that is there
// and writes one that is not: each recipient has the message exactly once,
// whether the crash came before, during or after the Maildir writes.
// A message whose journal append never finished was not acknowledged and is
// never delivered. A record that was durable when a crash cut off its 250
// is delivered, which the client cannot tell from a lost reply (RFC 5321
// §6.1 prefers a duplicate to a loss), exactly as with a queue slot.
//
// A copy that cannot be written (a Maildir that is not writable, a full
// disk) goes to a queue slot under the same queue id, with only the
// recipients that failed, and the queue's retries and error reports deal
// with it; the replay skips a journal record whose queue id is in a slot.
// If even the slot cannot be written, the record stays pending (the
// checkpoint stops before it, and a restart delivers it) and the queue
// tries again every journalRetryEvery.

// fastPath reports whether a committed message can bypass the queue slots:
// the queue delivers (it is started and not closing) and every recipient is
// a local account; it returns the accounts, in recipient order.
func (q *Queue) fastPath(env Envelope) ([]string, bool) {
	if len(env.To) == 0 || q.opts.Resolve == nil || q.journal == nil {
		return nil, false
	}
	if len(env.Folders) > 0 {
		// Copies for other folders than INBOX (Junk) take the queue slot's
		// path, whose local delivery knows folders.
		return nil, false
	}
	q.mu.Lock()
	running := q.started && !q.closed
	q.mu.Unlock()
	if !running {
		return nil, false
	}
	users := make([]string, len(env.To))
	for i, to := range env.To {
		u, ok := q.opts.Resolve(to)
		if !ok || !maildir.ValidUser(u) {
			return nil, false
		}
		users[i] = u
	}
	return users, true
}

// fastUnique is the Maildir unique name of recipient i of a message
// delivered through the journal: unique across processes and restarts
// (time, pid), and naming the queue id as the Received: field does. The
// journal record keeps it, so a replay finds the file.
func fastUnique(id string, i int, now time.Time) string {
	return strconv.FormatInt(now.Unix(), 10) + ".M" + strconv.Itoa(now.Nanosecond()/1000) +
		"P" + processID + "Q" + id + "R" + strconv.Itoa(i) + "." + maildir.Host()
}

// processID is this process's id for fastUnique, read once.
var processID = strconv.Itoa(os.Getpid())

// leftoverTmp matches the names deliveries by the queue put in a Maildir's
// tmp/ (fastUnique and uniqueFor): one left there by a crash is garbage.
var leftoverTmp = regexp.MustCompile(`^\d+\.(M\d+P\d+)?Q[0-9A-F]{16}R\d+\.`)

// journalCommit commits a message for local accounts users (one per
// recipient) through the journal (fastIntake.commit). ok false means the
// journal could not take it (closed, or its write failed) and the caller
// queues the message in a slot instead. ok true means the message is on
// stable storage, and deliver writes it into the Maildirs: the caller runs
// it once its 250 is sent (see Writer.CommitThen), with data still in hand.
func (q *Queue) journalCommit(id string, data []byte, env Envelope, users []string) (deliver func(), ok bool) {
	now := q.now()
	rec := journalRecord{ID: id, Envelope: env, Deliveries: make([]journalDelivery, len(env.To))}
	for i, to := range env.To {
		rec.Deliveries[i] = journalDelivery{Rcpt: to, User: users[i], Unique: fastUnique(id, i, now)}
	}
	eb, err := json.Marshal(rec)
	if err != nil {
		return nil, false
	}
	seq, err := q.journal.append(eb, data)
	if err != nil {
		if !errors.Is(err, errJournalClosed) {
			// If the record reached the disk after all, the slot that now
			// takes the message has its queue id, and a replay skips it.
			q.log.Warn("queue: journal append failed; queueing in a slot instead", "id", id, "err", err)
		}
		return nil, false
	}
	return func() { q.deliverJournaled(seq, rec, data) }, true
}

// deliverJournaled writes the copies of journaled message rec (record seq)
// into their Maildirs without fsyncs (the journal holds the message).
func (q *Queue) deliverJournaled(seq uint64, rec journalRecord, data []byte) {
	files, roots, stuck, err := q.placeJournaled(rec, rec.Deliveries, nil, data)
	if stuck == nil {
		q.journal.done(seq, files)
		notifyAll(roots)
		return
	}
	notifyAll(roots)
	// The client has its 250. The record stays pending, so the checkpoint
	// stays before it and a restart's replay writes every copy (rewriting
	// those written here); meanwhile the queue tries again.
	rcpts := deliveryRcpts(stuck)
	q.log.Error("queue: cannot deliver a journaled message nor queue it; retrying, and the next start delivers it from the journal", "id", rec.ID, "recipients", rcpts, "err", err, "retry_every", journalRetryEvery)
	q.traceSession(rec.SessionID, fmt.Sprintf("queue id %s: cannot write the Maildir copies for %s nor queue them (%v); the message is safe in the journal: the server tries again every %s, and its next start delivers it", rec.ID, strings.Join(rcpts, ", "), err, journalRetryEvery))
	q.retryJournaled(seq, rec, files, stuck, bytes.Clone(data))
}

// journalRetryEvery is how often a journaled message whose copies could be
// neither written nor queued is tried again (a full disk, a Maildir made
// unwritable); tests shorten it.
var journalRetryEvery = 30 * time.Second

// retryJournaled tries the deliveries stuck of record seq again every
// journalRetryEvery until they are placed or the queue stops (the record
// then stays for the next start's replay). files are the copies already
// written.
func (q *Queue) retryJournaled(seq uint64, rec journalRecord, files []string, stuck []journalDelivery, data []byte) {
	q.mu.Lock()
	if q.closed || q.stopped == nil {
		q.mu.Unlock()
		return
	}
	stop := q.stopped
	q.wg.Add(1)
	q.mu.Unlock()
	go func() {
		defer q.wg.Done()
		t := time.NewTicker(journalRetryEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			var roots []string
			var err error
			files, roots, stuck, err = q.placeJournaled(rec, stuck, files, data)
			if stuck == nil {
				q.journal.done(seq, files)
				notifyAll(roots)
				q.log.Info("queue: journaled message placed on a later try", "id", rec.ID)
				return
			}
			notifyAll(roots)
			q.log.Warn("queue: journaled message still cannot be delivered nor queued; will retry", "id", rec.ID, "recipients", deliveryRcpts(stuck), "err", err)
		}
	}()
}

// placeJournaled writes the copies of todo, deliveries of journaled message
// rec, into their Maildirs, and puts the recipients whose copy cannot be
// written into a queue slot under the message's queue id. files are copies
// written before (an earlier try); all is every copy written so far and
// roots the Maildirs written to now. When even the slot cannot be written,
// stuck holds the deliveries still to place and err says why.
func (q *Queue) placeJournaled(rec journalRecord, todo []journalDelivery, files []string, data []byte) (all, roots []string, stuck []journalDelivery, err error) {
	id, env := rec.ID, rec.Envelope
	var failed []journalDelivery
	for _, d := range todo {
		name, err := q.writeUnsynced(data, env.From, d)
		if err != nil {
			q.log.Warn("queue: Maildir delivery failed; queueing that recipient", "id", id, "user", d.User, "err", err)
			failed = append(failed, d)
			continue
		}
		root := maildir.Root(q.opts.Data, d.User)
		files = append(files, filepath.Join(root, maildir.New, name))
		roots = append(roots, root)
		q.traceSession(env.SessionID, fmt.Sprintf("delivered to %s's Maildir as new/%s (queue id %s: journaled and fdatasynced before the 250, so it was on disk already; the Maildir file gets its own flush at the next checkpoint, within a second; nothing stays queued)", d.User, name, id))
	}
	if len(failed) == 0 {
		return files, roots, nil, nil
	}
	// The copies written stand on the journal record, which the replay
	// skips once the slot holds the queue id: make them durable first.
	err = syncMaildirFiles(files)
	if err == nil {
		slotEnv := env
		slotEnv.To = deliveryRcpts(failed)
		_, err = q.commitSlot(id, data, slotEnv)
	}
	if err != nil {
		return files, roots, failed, err
	}
	return files, roots, nil, nil
}

// deliveryRcpts lists the recipients of deliveries.
func deliveryRcpts(ds []journalDelivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Rcpt
	}
	return out
}

// notifyAll tells IMAP sessions in IDLE on each Maildir that mail arrived.
// It is called once the journal record is done, so a deletion they make is
// never ahead of the checkpoint that must pass the record first (see
// journal.settle).
func notifyAll(roots []string) {
	for _, root := range roots {
		maildir.Notify(root)
	}
}

// writeUnsynced writes one journaled copy into its Maildir without fsyncs
// (the journal holds the message).
func (q *Queue) writeUnsynced(data []byte, from string, d journalDelivery) (string, error) {
	root, err := q.mailboxRoot(d.User)
	if err != nil {
		return "", err
	}
	return maildir.Deliver(root, bytes.NewReader(data), maildir.DeliverOptions{
		Unique: d.Unique, Prepend: deliveryPrepend(from, d.Rcpt), Unsynced: true})
}

// traceSession reports a queue decision on an SMTP session's trace.
func (q *Queue) traceSession(session, line string) {
	if q.opts.Trace != nil {
		q.opts.Trace(transcript.Event{Time: q.now(), Session: session, Proto: "smtp", Dir: transcript.Meta, Line: line})
	}
}

// cleanMaildirTmp removes from every account's Maildir tmp/ the files that
// deliveries by the queue left there when the process died: such a file
// was never renamed into new/, so its message is either queued (and will
// be delivered again) or was never acknowledged.
func (q *Queue) cleanMaildirTmp() {
	users, err := os.ReadDir(filepath.Join(q.opts.Data, maildir.MailDir))
	if err != nil {
		return
	}
	for _, u := range users {
		if !u.IsDir() {
			continue
		}
		tmp := filepath.Join(q.opts.Data, maildir.MailDir, u.Name(), maildir.Tmp)
		entries, _ := os.ReadDir(tmp)
		for _, e := range entries {
			if leftoverTmp.MatchString(e.Name()) {
				os.Remove(filepath.Join(tmp, e.Name()))
			}
		}
	}
}
