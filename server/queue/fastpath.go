package queue

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/maildir"
)

// The local fast path. A message for one local account needs no queue:
// writing it into the account's Maildir (file fsynced, renamed into new/,
// new/ fsynced) makes it as durable as a queue slot would, and the 250 can
// follow. That saves the slot's fsync, the later re-read and the queue's
// bookkeeping, which is most of what a message costs beyond the Maildir
// delivery itself. The new/ fsyncs of concurrent sessions are grouped by the
// queue's dirSyncer, as the slots' directory fsyncs are.
//
// Crash safety is the queue's: the rename into new/ is the commit, atomic
// like a slot's fsync. Nothing appears in new/ before the whole message
// arrived and was fsynced, so a message whose DATA never ended never
// appears; a file in tmp/ left by a crash is removed at the next Open. A
// message renamed into new/ whose 250 a crash cut off is delivered, which
// the client cannot tell from a lost reply (RFC 5321 §6.1 prefers a
// duplicate to a loss), exactly as with a queue slot fsynced just before the
// crash.
//
// Several recipients keep the queue path: their Maildir files are written
// one after the other (each gets its own Delivered-To:, so one file cannot
// be linked into every Maildir), and a crash between two of them would
// leave the message with some recipients and no 250, so the client's retry
// would give those a second copy. A slot commit is all or nothing.

// fastPath reports whether a committed message can bypass the queue: the
// queue delivers (it is started and not closing) and its one recipient is a
// local account, which it returns.
func (q *Queue) fastPath(env Envelope) (string, bool) {
	if len(env.To) != 1 || q.opts.Resolve == nil {
		return "", false
	}
	q.mu.Lock()
	running := q.started && !q.closed
	q.mu.Unlock()
	if !running {
		return "", false
	}
	u, ok := q.opts.Resolve(env.To[0])
	if !ok || !maildir.ValidUser(u) {
		return "", false
	}
	return u, true
}

// fastUnique is the Maildir unique name of recipient i of a message
// delivered at once: unique across processes and restarts (time, pid), and
// naming the queue id as the Received: field does.
func fastUnique(id string, i int, now time.Time) string {
	return strconv.FormatInt(now.Unix(), 10) + ".M" + strconv.Itoa(now.Nanosecond()/1000) +
		"P" + strconv.Itoa(os.Getpid()) + "Q" + id + "R" + strconv.Itoa(i) + "." + maildir.Host()
}

// leftoverTmp matches the names deliveries by the queue put in a Maildir's
// tmp/ (fastUnique and uniqueFor): one left there by a crash is garbage.
var leftoverTmp = regexp.MustCompile(`^\d+\.(M\d+P\d+)?Q[0-9A-F]{16}R\d+\.`)

// deliverNow writes data (the message as received, CRLF lines) into the
// Maildir of user, the account of the message's one recipient, with the
// prepend a queued delivery would add, and reports whether it is durable.
// On false nothing is left in the Maildir and the caller queues the message
// instead: the queue's retries and error reports then deal with the problem
// (a full disk, a Maildir that cannot be written).
func (q *Queue) deliverNow(id string, data []byte, env Envelope, user string) bool {
	root := maildir.Root(q.opts.Data, user)
	if _, ok := q.mailbox.Load(user); !ok {
		if err := maildir.Create(root); err != nil {
			q.log.Warn("queue: cannot create Maildir; queueing instead", "id", id, "user", user, "err", err)
			return false
		}
		q.mailbox.Store(user, struct{}{})
	}
	prepend := []byte("Return-Path: <" + env.From + ">\r\nDelivered-To: " + env.To[0] + "\r\n")
	name, err := maildir.Deliver(root, bytes.NewReader(data), maildir.DeliverOptions{
		Unique: fastUnique(id, 0, q.now()), Prepend: prepend, SyncDir: q.syncer.Sync})
	if err != nil {
		q.log.Warn("queue: direct Maildir delivery failed; queueing instead", "id", id, "user", user, "err", err)
		if name != "" {
			// In new/ but not durable: take it back, the queue delivers it.
			dir := filepath.Join(root, maildir.New)
			if rerr := os.Remove(filepath.Join(dir, name)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
				q.log.Error("queue: cannot take back a failed delivery; the recipient may get the message twice", "id", id, "file", name, "err", rerr)
			}
			q.syncer.Sync(dir)
		}
		return false
	}
	maildir.Notify(root) // an IMAP session in IDLE sees it at once
	q.traceSession(env.SessionID, fmt.Sprintf("delivered to %s's Maildir as new/%s at once, before the 250 (queue id %s; its one recipient is local, so the fsynced Maildir file is the commit and nothing stays queued)", user, name, id))
	return true
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
