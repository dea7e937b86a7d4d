// Package queue is mailx serve's durable mail queue: it takes a message from
// the SMTP server, makes it survive a crash before the server may answer 250,
// and delivers it, recipient by recipient, into local Maildirs or through a
// remote deliverer, keeping each recipient's state and attempt history.
//
// # Intake (used by the SMTP server)
//
//	w, err := q.Begin()        // *Writer: an io.Writer into a slot of queue/msg/
//	id := w.ID()               // known at once, for the Received: header
//	w.Write(p)                 // the message exactly as it will be delivered:
//	                           // CRLF lines, dot-unstuffed, Received: first
//	id, err = w.Commit(env)    // Envelope{From, To, Received, ClientAddr, ...}
//	w.Abort()                  // discard: client gone, smuggling, too large
//
// Commit returns only when the message and its envelope are on stable
// storage, by one of two durable paths: a queue slot or the intake journal
// (durable.go says why there are two, and holds the seam between them).
// The data waits in memory until Commit (a large message spills
// into its slot as it arrives). On a running queue, a message whose
// recipients are all local accounts takes the fast path: Commit appends it
// to the intake journal (queue/journal/, one fdatasync grouped with
// concurrent sessions: the durable commit), writes it into each Maildir
// (tmp/, rename into new/, no fsync; CommitThen leaves that to after the
// caller's reply) and the queue keeps nothing; the
// Maildir files are flushed many at once at the journal's checkpoints, at
// least every second (sooner under a heavy load), and a restart replays the journal past the last
// checkpoint (journal.go, fastpath.go). A Maildir that cannot be written
// sends its recipients to a queue slot. Every other message goes into a
// queue slot. A message file is a slot in queue/msg/: data, the envelope (JSON,
// with the queue id) and a footer with both lengths and CRC-32C checksums,
// written last. Commit fsyncs the slot; a slot created for this message also
// needs its directory fsynced, and those directory fsyncs of concurrent
// sessions are grouped (while one runs, later commits wait and share the
// next). Only then may the server reply "250 2.0.0 queued as <id>". When a
// message leaves the queue its slot is emptied and reused by a later Begin,
// so a busy queue creates and deletes no file per message, and a commit into
// a reused slot (whose name is already durable) costs a single fsync. On
// start (Open) the queue reads every slot: one whose footer or checksums do
// not match holds no acknowledged message (its commit never finished) and is
// kept as free; every other message is delivered.
//
// # Delivery
//
// Workers deliver each due recipient. Options.Resolve (accounts.Directory's
// Resolve) says whether an address is a local account; local recipients go
// into DATA/mail/<user>/ with maildir.Deliver, with Return-Path (RFC 5321
// §4.4) and Delivered-To prepended. Other recipients go to Options.Remote, a
// Deliverer (the relay client); without one they are deferred with an
// explanation. A Deliverer answers each recipient with an SMTP-style Result:
// 2xx delivered, 4xx deferred until the time the retry Schedule picks
// (Options.Policy: Postfix's 5 minutes doubling to 4000 s, counting the
// recipient's temporary failures, with a time scale for lessons), or failed
// once the message has been queued for the Schedule's lifetime (5 days),
// 5xx failed. Failed recipients are handed to Options.Bounce (Bouncer, the
// DSN builder), which makes them bounced. When every recipient is final
// the message leaves the queue. A recipient's State and a message's phase
// in the queue, with every transition, are in state.go. While recipients
// remain, their state is kept durably in queue/state/<id>.json. Emptying a slot is
// fsynced unless every recipient was delivered into a local Maildir (then a
// slot brought back by a crash finds its Maildir files, see below).
//
// Exactly once: local delivery uses a Maildir file name derived from the
// queue id and the recipient's position, "<seconds>.Q<id>R<n>.<host>". If the
// server dies after the Maildir rename but before the queue recorded it, the
// recovered message finds that name in the Maildir and is marked delivered
// instead of being delivered twice.
//
// # Administration
//
// List, Get, Header, Delete, Retry, Hold, Release and Bounce work on a
// running queue (through server/control) and on an opened but not started
// one (mailx queue with no server running). A lock file (queue/lock) makes
// sure only one process ever owns a queue directory.
//
// The trace: every decision is reported as a transcript.Meta event on the
// message's SMTP session ("delivered to bob's Maildir as …", "deferred: …").
//
// Deletions by POP3 and IMAP clients: a message the journal delivered
// stays in the journal until a checkpoint has flushed its Maildir files, so
// a reader's deletion must first wait for that checkpoint, or a crash would
// bring the message back. Queue.Settle does it; it is the maildir.Settler
// server/mta.go gives the POP3 and IMAP servers.
//
// What it is not: it does not speak SMTP (server/smtp and server/relay do)
// nor choose a remote route (Options.Remote); the retry Schedule and the
// Bouncer live here but are configured by server/relay_ext.go. It follows RFC 5321 §4.4 (trace fields at final delivery),
// §6.1 (reliable delivery: never lose an acknowledged message) and the Maildir
// specification.
package queue
