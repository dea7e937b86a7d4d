package queue

// Two durable paths, and the seam between them.
//
// A message the SMTP server answers with 250 must survive a crash (RFC 5321
// §6.1), so Writer.Commit returns only once it is on stable storage. The
// queue has two ways to get it there, because neither alone does both jobs:
//
//   - The slot (writer.go, store.go, queue.go): the message, its envelope
//     and a checksummed footer in a file of queue/msg/, fsynced (with its
//     directory when the file is new, grouped with concurrent commits).
//     It takes any message: remote recipients, a message larger than
//     memory allows (it spills into its slot as it arrives), copies for a
//     folder (Junk), and every message whose delivery must wait, be retried
//     on the Schedule, be bounced or be handled by mailx queue. Delivery
//     happens later, by a worker that reads the slot back.
//   - The intake journal (journal.go, fastpath.go): for a message still in
//     memory whose recipients are all local accounts, on a running queue.
//     One append and an fdatasync shared with the sessions committing at
//     the same moment make it durable; the Maildir copies are written
//     right after the 250 without fsyncs and flushed many at once at the
//     journal's next checkpoint. That spares the two flushes in a row per
//     copy that Maildir's own rules need, the slot's fsync and the re-read.
//     Before it, a message for a local account reached 2.07× Postfix's rate
//     (1 session, 1 KB) and 2.89× (20 sessions); with it, 3.3× to 7.2×
//     (docs/performance.md), and most mail in a classroom is local. But a
//     journal record cannot wait for days, be retried or be listed, so
//     whatever the journal cannot place goes to a slot under the same
//     queue id.
//
// Crash safety is the same on both: a commit that did not finish was never
// acknowledged and leaves nothing; everything acknowledged is delivered
// exactly once after a restart (Open recovers the slots, then replays the
// journal past its checkpoint, skipping records whose queue id a slot
// holds). The SIGKILL tests in crash_test.go and cmd/queue_crash_test.go
// check both.
//
// The seam is fastIntake: Writer.CommitThen offers each message held in
// memory to it first, and stores it in a slot when it declines.

// fastIntake is the journal's side of the seam (see above).
type fastIntake interface {
	// commit makes a message whose data is all in hand durable without a
	// slot, if it can. ok false: it declined (a recipient is not a local
	// account, a folder is named, the queue is not running, the journal is
	// closed or its write failed) and nothing was acknowledged; the caller
	// stores the message in a slot. ok true: the message is on stable
	// storage, and finish, which the caller must call once after its reply,
	// writes the Maildir copies (data must stay untouched until then).
	commit(id string, data []byte, env Envelope) (finish func(), ok bool)
}

// journalIntake is the fastIntake of a Queue: its intake journal.
type journalIntake struct{ q *Queue }

func (ji journalIntake) commit(id string, data []byte, env Envelope) (func(), bool) {
	users, ok := ji.q.fastPath(env)
	if !ok {
		return nil, false
	}
	return ji.q.journalCommit(id, data, env, users)
}
