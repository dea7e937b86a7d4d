package maildir

import "sync"

// Settler runs before message files leave a Maildir for good: a POP3 or
// IMAP deletion (Folder.Expunge), a MOVE (Folder.Renumber), a folder's
// DELETE or RENAME (Mailbox.Delete, Mailbox.Rename).
//
// mailx serve's queue is one (queue.Queue.Settle): it writes the Maildir
// copies of a message for local accounts without fsyncs and keeps its
// intake journal's record of them until a checkpoint has flushed them. A
// reader's deletion must not come before that checkpoint, or a crash would
// replay the record and bring the deleted message back; Settle makes the
// checkpoint when one is due, and costs nothing when none is.
//
// server/mta.go gives the queue's Settler to the POP3 and IMAP servers,
// which give it to each Mailbox they open (SetSettler). A Mailbox or Folder
// without one (a test, a tool reading a Maildir) settles nothing.
type Settler interface {
	Settle()
}

// SetSettler makes every removal of message files in this mailbox's
// folders run s first. The Folders it opens are shared by all the sessions
// of a process, so they keep the last Settler given; one data directory
// has one queue, so that is the same one.
func (mb *Mailbox) SetSettler(s Settler) {
	mb.settler = s
}

// runSettler runs s if there is one.
func runSettler(s Settler) {
	if s != nil {
		s.Settle()
	}
}

// settlerSlot is a Folder's Settler, set by the Mailbox that opens it and
// read by every session's Expunge.
type settlerSlot struct {
	mu sync.Mutex
	s  Settler
}

func (sl *settlerSlot) set(s Settler) {
	if s == nil {
		return
	}
	sl.mu.Lock()
	sl.s = s
	sl.mu.Unlock()
}

func (sl *settlerSlot) settle() {
	sl.mu.Lock()
	s := sl.s
	sl.mu.Unlock()
	runSettler(s)
}
