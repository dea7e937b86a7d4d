package maildir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrGone means the folder was deleted or renamed while it was open.
var ErrGone = errors.New("maildir: the folder no longer exists (deleted or renamed by another session)")

// ErrNoMessage means a UID names no message in the folder, usually because
// another session expunged it a moment ago.
var ErrNoMessage = errors.New("maildir: no such message (another session may have expunged it)")

// Message is one message of a folder, as a client sees it.
type Message struct {
	UID   uint32    // IMAP UID; also the basis of the POP3 UIDL
	Key   string    // unique part of the file name, before the info separator
	Flags Flags     // standard flags from the file name's info
	Extra string    // other info letters (Dovecot keywords), kept on renames
	New   bool      // still in new/: no client has seen it (IMAP \Recent)
	Size  int64     // octets with CRLF line ends, as POP3 LIST and IMAP RFC822.SIZE report
	Date  time.Time // arrival time, IMAP INTERNALDATE (the file's mtime when first seen)

	raw  int64  // octets in the file; equal to Size when it is stored with CRLF
	name string // current file name within new/ or cur/
	// expunging: Expunge is unlinking the file with the folder unlocked;
	// nothing may rename it meanwhile.
	expunging bool
}

// ChangeKind says what a Change reports.
type ChangeKind int

const (
	// Expunged: the message at Seq is gone; later messages move down by one.
	Expunged ChangeKind = iota + 1
	// Exists: the folder now holds Count messages (new ones were appended).
	Exists
	// FlagsChanged: the message at Seq now has Flags.
	FlagsChanged
	// KeywordsChanged: the folder's keyword list is now Keywords.
	KeywordsChanged
)

// Change is one update to a folder, delivered to every Attach listener in
// order, so that each IMAP session can tell its client (EXPUNGE, EXISTS,
// FETCH FLAGS) what other sessions and deliveries did.
type Change struct {
	Kind  ChangeKind
	Seq   uint32 // for Expunged and FlagsChanged: sequence number at that moment
	UID   uint32
	Flags Flags
	// Keywords are the message's keywords after a FlagsChanged.
	Keywords []string
	Count    uint32 // for Exists
	Source   any    // who made the change; nil when it was discovered on disk
}

// Folder is one Maildir folder (INBOX or a Maildir++ ".Name" folder). There is
// one Folder value per directory in a process (see OpenFolder), shared by all
// sessions, so that every session sees the others' changes at once. Its
// methods are safe for concurrent use.
type Folder struct {
	dir string

	mu     sync.Mutex
	loaded bool
	gone   bool
	dirty  bool // Notify was called: rescan even if mtimes look unchanged
	// indexOwed: UIDs were given that the index on disk lacks, because
	// the disk was full when the scan tried to write them.
	indexOwed      bool
	validity, next uint32
	msgs           []*Message // sorted by UID; index+1 is the sequence number
	byKey          map[string]*Message
	newMod, curMod time.Time
	scanned        time.Time
	listeners      map[*listener]struct{}
	wakers         map[chan struct{}]struct{}

	kw     []string // keyword names by letter (a = 0), from KeywordsName
	kwMod  time.Time
	kwSize int64
	// version counts changes to what the index records; idxDone is the
	// version last made durable, idxWriting says an index write is under
	// way (see commitIndex).
	version    uint64
	idxMu      sync.Mutex
	idxCond    *sync.Cond
	idxWriting bool
	writeMu    sync.Mutex // serialises index file writes; never waits for mu
	written    uint64     // version of the index file
	curSynced  uint64     // version up to which cur/ was fsynced
	durable    uint64     // version of the index last fsynced
	// durableNext is UIDNEXT, or the reservation R when higher, in the
	// durable index: UIDs from it on are recorded only in their files'
	// names (",U=") until the next durable write. Written under writeMu,
	// read without it: a removal checks it with the folder locked, and
	// must not wait for an fsync under way.
	durableNext atomic.Uint32
	// reserve is the highest reservation R written into an index since
	// the last Tighten: every later index carries at least this much, so
	// whichever one a crash leaves on disk covers the UIDs given.
	reserve    uint32
	indexAt    time.Time // when the index was last written
	dovecotAt  time.Time // when dovecot-uidlist was last written
	dovecotVer uint64    // and which version it holds
	checked    time.Time // last RefreshSoon that looked at the disk
	// recentFloor is the lowest UID no session has claimed as \Recent
	// yet (RFC 3501 §2.3.2: a message is recent in one session only).
	recentFloor uint32
	// settler runs before message files are removed (see Settler).
	settler settlerSlot
}

type listener struct{ fn func(Change) }

var registry = struct {
	sync.Mutex
	m map[string]*Folder
}{m: map[string]*Folder{}}

// OpenFolder returns the shared Folder for a Maildir directory, creating its
// cur/, new/ and tmp/ subdirectories if they are missing. The directory itself
// must exist.
func OpenFolder(dir string) (*Folder, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("maildir: %s is not a directory", dir)
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(abs, sub), 0o700); err != nil {
			return nil, fmt.Errorf("maildir: %w", err)
		}
	}
	registry.Lock()
	defer registry.Unlock()
	if f := registry.m[abs]; f != nil {
		return f, nil
	}
	f := &Folder{dir: abs, byKey: map[string]*Message{}, listeners: map[*listener]struct{}{}, wakers: map[chan struct{}]struct{}{}}
	f.idxCond = sync.NewCond(&f.idxMu)
	registry.m[abs] = f
	return f, nil
}

// forget drops folders at or below dir from the registry and marks them gone,
// after a DELETE or RENAME.
func forget(dirs ...string) {
	registry.Lock()
	defer registry.Unlock()
	for _, d := range dirs {
		if f := registry.m[d]; f != nil {
			delete(registry.m, d)
			f.mu.Lock()
			f.gone = true
			f.mu.Unlock()
			f.wake()
		}
	}
}

// Dir returns the folder's directory.
func (f *Folder) Dir() string { return f.dir }

// Attach subscribes to the folder's changes. start is called once, with
// the folder locked, with the number of messages at this moment, and returns
// the function that receives every Change from then on: an IMAP mailbox
// tracker can start in step without missing or doubling an update. The
// returned function runs with the folder locked and must not call back into
// the folder. Call detach when done.
func (f *Folder) Attach(start func(count uint32) func(Change)) (detach func(), err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.refreshLocked(false); err != nil {
		return nil, err
	}
	l := &listener{fn: start(uint32(len(f.msgs)))}
	f.listeners[l] = struct{}{}
	return func() {
		f.mu.Lock()
		delete(f.listeners, l)
		f.mu.Unlock()
	}, nil
}

func (f *Folder) emit(c Change) {
	for l := range f.listeners {
		l.fn(c)
	}
}

// Refresh brings the folder up to date with the disk: new deliveries get
// UIDs, messages removed by other programs are expunged, flag changes made by
// other programs are picked up. It costs two stat calls when nothing changed.
func (f *Folder) Refresh() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refreshLocked(false)
}

// pollEvery is how often RefreshSoon looks at the disk. Changes made
// through this process reach every session at once (Attach) and mailx's
// own deliveries call Notify; only other programs' changes (mutt, Dovecot)
// wait up to this long, instead of every IMAP command of every session
// listing a busy folder's cur/ again.
const pollEvery = 100 * time.Millisecond

// RefreshSoon is Refresh for the check IMAP makes after every command: it
// does nothing if the folder was looked at within pollEvery and nothing
// notified it since.
func (f *Folder) RefreshSoon() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refreshSoonLocked()
}

// refreshSoonLocked is refreshLocked for the checks every IMAP command
// makes (SELECT, STATUS, APPEND): within pollEvery of the last look, and
// with nothing notified, the folder as this process knows it is current.
func (f *Folder) refreshSoonLocked() error {
	if f.loaded && !f.dirty && !f.gone && time.Since(f.checked) < pollEvery {
		return nil
	}
	return f.refreshLocked(false)
}

// settle is how long after a directory's last change a rescan is still done
// even if its mtime looks the same: file systems with coarse timestamps
// (FAT: 2 s) could otherwise hide a second delivery in the same tick.
const settle = 2 * time.Second

type onDisk struct {
	name  string
	isNew bool
}

func (f *Folder) refreshLocked(force bool) error {
	if f.gone {
		return ErrGone
	}
	f.checked = time.Now()
	nst, err := os.Stat(filepath.Join(f.dir, "new"))
	if err != nil {
		return f.vanished(err)
	}
	cst, err := os.Stat(filepath.Join(f.dir, "cur"))
	if err != nil {
		return f.vanished(err)
	}
	mod := nst.ModTime()
	if cst.ModTime().After(mod) {
		mod = cst.ModTime()
	}
	if f.loaded && !force && !f.dirty && !f.indexOwed && nst.ModTime().Equal(f.newMod) && cst.ModTime().Equal(f.curMod) && f.scanned.Sub(mod) > settle {
		return nil
	}
	scanned := time.Now()
	f.loadKeywordsLocked()
	wasLoaded := f.loaded
	disk := make(map[string]onDisk, len(f.msgs)+16)
	for _, sub := range []string{"new", "cur"} {
		names, err := readNames(filepath.Join(f.dir, sub))
		if err != nil {
			return f.vanished(err)
		}
		for _, n := range names {
			if !validFileName(n) {
				continue
			}
			key, _, _ := SplitName(n)
			if prev, dup := disk[key]; dup && !prev.isNew {
				continue // the same key in new/ and cur/: trust cur/
			}
			disk[key] = onDisk{name: n, isNew: sub == "new"}
		}
	}

	var idx *uidlist
	if !f.loaded {
		if idx, err = readUIDList(f.dir); err != nil {
			idx = nil // damaged: start afresh with a new UIDVALIDITY
		}
		idx = mergeUIDLists(idx, readDovecotUIDList(f.dir))
		if idx == nil {
			idx = &uidlist{validity: newValidity(), next: 1, entries: map[string]entry{}}
		}
		f.validity, f.next = idx.validity, idx.next
	}
	var reserved uint32 // the loaded index's reservation, applied after the scan
	if idx != nil {
		reserved = idx.reserved
	}
	changed := !f.loaded // UIDs were given: the index must be durable
	vanished := false    // messages went: the index may follow lazily

	// Messages that vanished: expunge from the highest sequence number down,
	// so each number is still valid when the listener sees it. Those that
	// Expunge is unlinking are its to report.
	for i := len(f.msgs) - 1; i >= 0; i-- {
		m := f.msgs[i]
		if _, ok := disk[m.Key]; ok || m.expunging {
			continue
		}
		f.emit(Change{Kind: Expunged, Seq: uint32(i + 1), UID: m.UID})
		delete(f.byKey, m.Key)
		f.msgs = append(f.msgs[:i], f.msgs[i+1:]...)
		vanished = true
	}
	// Messages still there: pick up renames (flags changed by another program).
	for i, m := range f.msgs {
		d, ok := disk[m.Key]
		delete(disk, m.Key)
		if !ok || d.name == m.name && d.isNew == m.New {
			continue // unchanged, or being expunged
		}
		_, info, _ := SplitName(d.name)
		fl, ex := ParseInfo(info)
		m.name, m.New = d.name, d.isNew
		if fl != m.Flags || ex != m.Extra {
			m.Flags, m.Extra = fl, ex
			f.emit(Change{Kind: FlagsChanged, Seq: uint32(i + 1), UID: m.UID, Flags: fl, Keywords: f.keywordNamesLocked(ex)})
		}
	}
	// New messages: the index may already know them (first load); the rest
	// get the next UIDs in delivery order.
	if len(disk) > 0 {
		keys := make([]string, 0, len(disk))
		for k := range disk {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return deliveryOrder(keys[i], keys[j]) })
		var added []*Message
		used := make(map[uint32]bool, len(f.msgs))
		for _, m := range f.msgs {
			used[m.UID] = true
		}
		for _, k := range keys {
			d := disk[k]
			_, info, _ := SplitName(d.name)
			fl, ex := ParseInfo(info)
			m := &Message{Key: k, Flags: fl, Extra: ex, New: d.isNew, name: d.name}
			if e, ok := idx.lookup(k); ok && !used[e.uid] && e.size < 0 {
				// Numbered by Dovecot: keep the UID, measure the rest.
				if err := f.measure(m); err != nil {
					continue
				}
				m.UID = e.uid
			} else if ok && !used[e.uid] {
				m.UID, m.Size, m.raw, m.Date = e.uid, e.size, e.raw, e.date
			} else {
				if err := f.measure(m); err != nil {
					continue // removed between listing and opening
				}
				// A file mailx named with its UID (APPEND, COPY) that the
				// index does not know yet: a crash came before the index
				// was written. It keeps its UID.
				if u := sizeFromKey(k, "U"); u >= int64(f.next) && u < 1<<32-1 && !used[uint32(u)] {
					m.UID, f.next = uint32(u), uint32(u)+1
				} else {
					m.UID = f.next
					f.next++
				}
			}
			used[m.UID] = true
			added = append(added, m)
		}
		if len(added) > 0 {
			f.msgs = append(f.msgs, added...)
			sort.Slice(f.msgs, func(i, j int) bool { return f.msgs[i].UID < f.msgs[j].UID })
			for _, m := range added {
				f.byKey[m.Key] = m
			}
			f.emit(Change{Kind: Exists, Count: uint32(len(f.msgs))})
			changed = true
		}
	}
	if reserved > f.next {
		// UIDs up to the reservation may have been given to files a crash
		// took before the index saw them go: new messages start above.
		f.next = reserved
		changed = true
	}
	f.loaded, f.dirty = true, false
	f.newMod, f.curMod, f.scanned = nst.ModTime(), cst.ModTime(), scanned
	if !wasLoaded {
		// Messages still in new/ were seen by no client: they are recent.
		f.recentFloor = f.next
		for _, m := range f.msgs {
			if m.New {
				f.recentFloor = m.UID
				break
			}
		}
	}
	if vanished && !changed && !f.indexOwed {
		// Removals a crash may undo harmlessly: written like EXPUNGE's.
		return f.writeIndex(f.dirtyLocked(), f.validity, f.next, f.msgs, needIndex)
	}
	if changed || f.indexOwed {
		// Durable at once: rare (new deliveries found, or changes made by
		// another program), and it makes the UIDs given durable.
		err := f.writeIndex(f.dirtyLocked(), f.validity, f.next, f.msgs, needDurable)
		if errors.Is(err, syscall.ENOSPC) {
			// A full disk must not lock users out of the mail they have:
			// the UIDs just given stay in memory, where every session of
			// this process shares them, and the next scan writes them once
			// it can. A crash before that numbers the same messages again
			// in the same delivery order, from the same UIDNEXT.
			f.indexOwed = true
			return nil
		}
		if err != nil {
			return err
		}
		f.indexOwed = false
	}
	return nil
}

// lookup finds a key in an index being loaded; a nil index knows nothing.
func (l *uidlist) lookup(key string) (entry, bool) {
	if l == nil {
		return entry{}, false
	}
	e, ok := l.entries[key]
	return e, ok
}

func (f *Folder) vanished(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		f.gone = true
		return ErrGone
	}
	return fmt.Errorf("maildir: %w", err)
}

// measure reads a newly seen message once to learn its size with CRLF line
// ends and its arrival time; both go into the index so it never happens again.
func (f *Folder) measure(m *Message) error {
	st, err := os.Stat(f.path(m))
	if err != nil {
		return err
	}
	m.Date = st.ModTime()
	if w := sizeFromKey(m.Key, "W"); w >= 0 && w >= st.Size() && sizeFromKey(m.Key, "S") == st.Size() {
		// mailx's own deliveries (and Dovecot's) name both sizes: trust them
		// when the file is still the size the name says.
		m.Size, m.raw = w, st.Size()
		return nil
	}
	fh, err := os.Open(f.path(m))
	if err != nil {
		return err
	}
	defer fh.Close()
	m.Size, m.raw, err = wireSize(fh)
	return err
}

// What a change needs of commitIndex before it may be reported.
const (
	// needIndex: the index file rewritten (its rename makes it whole, but
	// not durable). Enough for changes a crash may undo harmlessly:
	// expunging messages whose UIDs a durable index already covers.
	needIndex = 1 << iota
	// needCur: an fsync of cur/, making the renames into it durable
	// (APPEND, COPY). The index need not be durable for them: each such
	// file carries its UID in its name (",U=<uid>"), which a load after a
	// crash reads back.
	needCur
	// needDurable: the index written and fsynced, with its directory:
	// before files whose UIDs only their names recorded go away (a later
	// load could otherwise give those UIDs again), and for RENAME INBOX.
	needDurable
	// needReserve, with needDurable: the durable index also reserves the
	// next reserveChunk UIDs, so that removing the messages appended
	// meanwhile needs no fsync of its own (asked for before removals).
	needReserve
)

// indexEvery is how often at most the index is rewritten for changes that
// need no durable index: appended messages carry their UIDs in their names
// (needCur) and expunged ones are merely ignored by a load that does not
// find their files, so a crash before the write loses nothing. Rewriting
// the whole index for every APPEND and EXPUNGE of a busy folder is what
// this saves; FlushDovecot writes what is left when a session leaves.
const indexEvery = time.Second

// covered reports whether what version v needs is on disk already (or,
// for needIndex, deferred by indexEvery). writeMu must be held.
func (f *Folder) covered(v uint64, need int) bool {
	return (need&needIndex == 0 || f.written >= v || time.Since(f.indexAt) < indexEvery) &&
		(need&needCur == 0 || f.curSynced >= v) && (need&needDurable == 0 || f.durable >= v)
}

// writeIndex writes the index of the given version as need asks, unless
// that is on disk already. It never waits for the folder lock: a caller
// may hold it.
func (f *Folder) writeIndex(version uint64, validity, next uint32, msgs []*Message, need int) error {
	if need == needIndex {
		// Nothing waits for this write (see indexEvery): with another
		// under way (perhaps an fsync), it is left to a later one rather
		// than waited for with the folder locked.
		if !f.writeMu.TryLock() {
			return nil
		}
	} else {
		f.writeMu.Lock()
	}
	defer f.writeMu.Unlock()
	if f.covered(version, need) {
		return nil
	}
	if need&(needCur|needDurable) != 0 && f.curSynced < version {
		if err := SyncDir(filepath.Join(f.dir, Cur)); err != nil {
			return err
		}
		f.curSynced = version
	}
	durable := need&needDurable != 0 && f.durable < version
	if !durable && (need&needIndex == 0 || f.written >= version || time.Since(f.indexAt) < indexEvery) {
		return nil // needCur alone, or deferred (see indexEvery)
	}
	if durable {
		// The cross-process lock guards the durable index; the writes in
		// between are atomic renames that the next durable one supersedes.
		unlock, err := lockFolder(f.dir)
		if err != nil {
			return err
		}
		defer unlock()
	}
	// A durable write before a removal reserves the next reserveChunk
	// UIDs, so that EXPUNGE of the messages appended meanwhile needs no
	// fsync of its own; every write carries the highest reservation made.
	reserved := max(next, f.reserve)
	if durable && need&needReserve != 0 {
		reserved = max(next+reserveChunk, f.reserve)
	}
	if err := writeUIDList(f.dir, validity, next, reserved, msgs, durable); err != nil {
		return err
	}
	f.reserve = reserved
	// Dovecot's copy: with every durable write, and otherwise at most once
	// a second (FlushDovecot catches up when the last session leaves).
	if durable || time.Since(f.dovecotAt) > time.Second {
		writeDovecotUIDList(f.dir, validity, next, msgs)
		f.dovecotAt, f.dovecotVer = time.Now(), version
	}
	f.written, f.indexAt = version, time.Now()
	if durable {
		f.durable = version
		f.durableNext.Store(reserved)
	}
	return nil
}

// reserveChunk is how many UIDs past UIDNEXT a durable index write
// reserves. A removal of a message appended under the reservation needs no
// durable index write first (see needForRemovalLocked); the price is that
// after a crash UIDNEXT jumps by up to this much, which IMAP allows (UIDs
// only have to grow). A clean end (Tighten) leaves no gap.
const reserveChunk = 512

// Tighten gives back the UIDs reserved and not used, so that UIDNEXT after
// a restart continues without a gap. It runs when a session leaves the
// folder; the write is atomic but not fsynced: whichever index a crash
// leaves covers every UID handed out (later removals of UIDs from UIDNEXT
// on make the index durable first again).
func (f *Folder) Tighten() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writeMu.Lock()
	defer f.writeMu.Unlock()
	if !f.loaded || f.gone || f.reserve <= f.next {
		return
	}
	msgs := make([]*Message, len(f.msgs))
	for i, m := range f.msgs {
		c := *m
		msgs[i] = &c
	}
	f.version++
	if err := writeUIDList(f.dir, f.validity, f.next, f.next, msgs, false); err != nil {
		return
	}
	f.written, f.reserve, f.indexAt = f.version, f.next, time.Now()
	f.durableNext.Store(min(f.durableNext.Load(), f.next))
}

// FlushDovecot brings the folder's index and dovecot-uidlist up to date
// if writes since the last ones were deferred (see indexEvery), so that
// Dovecot taking over the Maildir sees every UID mailx gave, and gives back
// unused reserved UIDs (Tighten). The IMAP server calls it when a session
// leaves the folder.
func (f *Folder) FlushDovecot() {
	f.Tighten()
	f.mu.Lock()
	if f.gone || !f.loaded {
		f.mu.Unlock()
		return
	}
	version, validity, next := f.version, f.validity, f.next
	f.writeMu.Lock()
	stale := f.written < version || f.dovecotVer < version
	f.writeMu.Unlock()
	if !stale {
		f.mu.Unlock()
		return
	}
	msgs := make([]*Message, len(f.msgs))
	for i, m := range f.msgs {
		c := *m
		msgs[i] = &c
	}
	f.mu.Unlock()
	f.writeMu.Lock()
	defer f.writeMu.Unlock()
	if f.written < version {
		reserved := max(next, f.reserve)
		if writeUIDList(f.dir, validity, next, reserved, msgs, false) == nil {
			f.written, f.reserve, f.indexAt = version, reserved, time.Now()
		}
	}
	if version > f.dovecotVer {
		writeDovecotUIDList(f.dir, validity, next, msgs)
		f.dovecotAt, f.dovecotVer = time.Now(), version
	}
}

// FlushDovecotUnder runs FlushDovecot for every open folder under root (a
// user's Maildir), when one of the user's sessions ends.
func FlushDovecotUnder(root string) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return
	}
	var list []*Folder
	registry.Lock()
	for dir, f := range registry.m {
		if dir == abs || strings.HasPrefix(dir, abs+string(filepath.Separator)) {
			list = append(list, f)
		}
	}
	registry.Unlock()
	for _, f := range list {
		f.FlushDovecot()
	}
}

// dirtyLocked records a change the index must get and returns its
// version, for commitIndex once the folder is unlocked.
func (f *Folder) dirtyLocked() uint64 {
	f.version++
	return f.version
}

// needForRemovalLocked is what removing files of the given UIDs needs:
// a durable index if one of them is above what the durable index covers
// (its UID lives only in its file name, which is going away).
func (f *Folder) needForRemovalLocked(uids []uint32) int {
	dn := f.durableNext.Load()
	for _, u := range uids {
		if u >= dn && u < f.next {
			return needDurable | needReserve
		}
	}
	return needIndex
}

// commitIndex returns once the index holds version v or later as need
// asks: it writes, or waits for the write under way and writes again if
// that one did not cover v. The folder is not locked meanwhile, so sessions
// go on reading and flagging while the disk syncs, and concurrent APPENDs
// share one fsync: a group commit.
func (f *Folder) commitIndex(v uint64, need int) error {
	if need == needIndex {
		// Nothing waits for this one (see indexEvery): with a write under
		// way, or one done within indexEvery, it is left to a later one.
		f.idxMu.Lock()
		busy := f.idxWriting
		f.idxMu.Unlock()
		if busy || !f.writeMu.TryLock() {
			return nil
		}
		done := f.covered(v, need)
		f.writeMu.Unlock()
		if done {
			return nil
		}
	}
	f.idxMu.Lock()
	for f.idxWriting {
		f.idxCond.Wait()
	}
	f.writeMu.Lock()
	done := f.covered(v, need)
	if need&needIndex != 0 && need != needIndex && (f.written >= v || time.Since(f.indexAt) < indexEvery) {
		need &^= needIndex // the index part is deferred: no snapshot for it
	}
	f.writeMu.Unlock()
	if done {
		f.idxMu.Unlock()
		return nil
	}
	f.idxWriting = true
	f.idxMu.Unlock()

	f.mu.Lock()
	version, validity, next := f.version, f.validity, f.next
	var msgs []*Message
	if need&(needIndex|needDurable) != 0 {
		msgs = make([]*Message, len(f.msgs))
		for i, m := range f.msgs {
			c := *m
			msgs[i] = &c
		}
	}
	f.mu.Unlock()
	err := f.writeIndex(version, validity, next, msgs, need)

	f.idxMu.Lock()
	f.idxWriting = false
	f.idxCond.Broadcast()
	f.idxMu.Unlock()
	return err
}

func (f *Folder) path(m *Message) string {
	sub := "cur"
	if m.New {
		sub = "new"
	}
	return filepath.Join(f.dir, sub, m.name)
}

// readNames lists a directory without stat-ing each entry, which is what
// keeps opening a 10,000-message folder fast.
func readNames(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}

// deliveryOrder sorts Maildir keys in the order they were delivered, going
// by the parts of "<seconds>.M<microseconds>P<pid>Q<counter>.host" that are
// there, so that messages found together get UIDs in arrival order.
func deliveryOrder(a, b string) bool {
	sa, ua, qa := keyTime(a)
	sb, ub, qb := keyTime(b)
	switch {
	case sa != sb:
		return sa < sb
	case ua != ub:
		return ua < ub
	case qa != qb:
		return qa < qb
	}
	return a < b
}

func keyTime(k string) (sec, usec, q int64) {
	sec, k = leadingNumber(k)
	if rest, ok := strings.CutPrefix(k, ".M"); ok {
		usec, rest = leadingNumber(rest)
		if i := strings.IndexByte(rest, 'Q'); i >= 0 && i < 12 {
			q, _ = leadingNumber(rest[i+1:])
		}
	}
	return sec, usec, q
}

func leadingNumber(s string) (int64, string) {
	var n int64
	i := 0
	for ; i < len(s) && i < 18; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n, s[i:]
}

// Status is a summary of a folder, for IMAP SELECT and STATUS and POP3 STAT.
type Status struct {
	Messages    uint32
	Recent      uint32 // still in new/
	Unseen      uint32
	Deleted     uint32
	Size        int64
	FirstUnseen uint32 // sequence number, 0 if all are seen
	UIDValidity uint32
	UIDNext     uint32
}

// Status refreshes the folder and summarises it.
func (f *Folder) Status() (Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.refreshSoonLocked(); err != nil {
		return Status{}, err
	}
	s := Status{Messages: uint32(len(f.msgs)), UIDValidity: f.validity, UIDNext: f.next}
	for i, m := range f.msgs {
		if m.UID >= f.recentFloor {
			s.Recent++
		}
		if m.Flags&Seen == 0 {
			s.Unseen++
			if s.FirstUnseen == 0 {
				s.FirstUnseen = uint32(i + 1)
			}
		}
		if m.Flags&Trashed != 0 {
			s.Deleted++
		}
		s.Size += m.Size
	}
	return s, nil
}

// Messages returns a copy of the folder's message list in sequence order,
// after a refresh.
func (f *Folder) Messages() ([]Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.refreshLocked(false); err != nil {
		return nil, err
	}
	return f.copyLocked(), nil
}

func (f *Folder) copyLocked() []Message {
	out := make([]Message, len(f.msgs))
	for i, m := range f.msgs {
		out[i] = *m
	}
	return out
}

// View calls fn with the current message list (sequence order) while the
// folder is locked, without copying it: SEARCH and FETCH FLAGS over 10,000
// messages stay allocation-free. fn must not keep the slice or call back
// into the folder.
func (f *Folder) View(fn func(msgs []*Message)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.msgs)
}

// SeeNew moves every message from new/ to cur/, giving it an info part, as
// the Maildir specification asks of a client that has shown the user the
// list. POP3 does it at login and IMAP at SELECT (not EXAMINE).
func (f *Folder) SeeNew() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.refreshSoonLocked(); err != nil {
		return err
	}
	for _, m := range f.msgs {
		if !m.New || m.expunging {
			continue
		}
		to := curName(m.Key, m.Flags, m.Extra)
		err := os.Rename(filepath.Join(f.dir, "new", m.name), filepath.Join(f.dir, "cur", to))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("maildir: %w", err)
		}
		if err == nil {
			m.name, m.New = to, false
		}
	}
	return nil
}

// Op is how SetFlags combines flags with the ones a message has.
type Op int

const (
	// Add sets the given flags (IMAP +FLAGS).
	Add Op = iota
	// Remove clears the given flags (IMAP -FLAGS).
	Remove
	// Replace makes the given flags the whole set (IMAP FLAGS).
	Replace
)

// SetFlags changes the flags of the messages with the given UIDs by renaming
// their files, and reports each change to listeners with source src. It
// returns the messages as they are afterwards (changed or not).
func (f *Folder) SetFlags(uids []uint32, op Op, flags Flags, src any) ([]Message, error) {
	return f.SetFlagsKeywords(uids, op, flags, nil, src)
}

// SetFlagsKeywords is SetFlags with keywords too: the op applies to the
// keywords as to the flags (Replace with no keywords clears them). New
// keywords get letters in the folder's keywords file; a folder whose 26
// letters are taken refuses new ones with ErrTooManyKeywords.
func (f *Folder) SetFlagsKeywords(uids []uint32, op Op, flags Flags, keywords []string, src any) ([]Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gone {
		return nil, ErrGone
	}
	letters, err := f.lettersLocked(keywords, op != Remove)
	if err != nil {
		return nil, err
	}
	var out []Message
	for _, uid := range uids {
		i, m := f.findLocked(uid)
		if m == nil || m.expunging {
			continue // gone, or going (Expunge is unlinking it)
		}
		nf := m.Flags
		switch op {
		case Add:
			nf |= flags
		case Remove:
			nf &^= flags
		case Replace:
			nf = flags
		}
		nx := combineExtra(m.Extra, op, letters)
		if nf != m.Flags || nx != m.Extra || m.New {
			to := curName(m.Key, nf, nx)
			if err := os.Rename(f.path(m), filepath.Join(f.dir, "cur", to)); err != nil {
				if errors.Is(err, os.ErrNotExist) {
					continue // removed by another program; the next refresh expunges it
				}
				return out, fmt.Errorf("maildir: set flags: %w", err)
			}
			m.name, m.New = to, false
			if nf != m.Flags || nx != m.Extra {
				m.Flags, m.Extra = nf, nx
				f.emit(Change{Kind: FlagsChanged, Seq: uint32(i + 1), UID: m.UID, Flags: nf, Keywords: f.keywordNamesLocked(nx), Source: src})
			}
		}
		out = append(out, *m)
	}
	return out, nil
}

func (f *Folder) findLocked(uid uint32) (int, *Message) {
	i := sort.Search(len(f.msgs), func(i int) bool { return f.msgs[i].UID >= uid })
	if i < len(f.msgs) && f.msgs[i].UID == uid {
		return i, f.msgs[i]
	}
	return -1, nil
}

// Expunge deletes the messages with the given UIDs for good. The files go
// first, then the index; a crash in between only leaves index lines that the
// next load ignores. Before any file goes, the folder's Settler runs,
// outside the folder's lock.
func (f *Folder) Expunge(uids []uint32, src any) (removed []uint32, err error) {
	if len(uids) > 0 {
		f.settler.settle()
	}
	for {
		f.mu.Lock()
		if f.gone {
			f.mu.Unlock()
			return nil, ErrGone
		}
		if len(uids) == 0 || f.needForRemovalLocked(uids)&needDurable == 0 {
			break
		}
		// Some of these UIDs are recorded only in their files' names: make
		// the index durable before the files go (a load after a crash
		// must not hand those UIDs out again). The write runs with the
		// folder unlocked, shared with any other waiting for one.
		v := f.dirtyLocked()
		f.mu.Unlock()
		if err := f.commitIndex(v, needDurable|needReserve); err != nil {
			return nil, err
		}
	}
	// The files are unlinked with the folder unlocked: on a busy disk an
	// unlink takes a fraction of a millisecond, and every other session's
	// FETCH, STORE and after-command check would wait for an EXPUNGE of
	// fifty messages. Marked expunging, the messages stay listed meanwhile
	// but nothing renames their files (SetFlags, SeeNew, Renumber skip
	// them), so the names unlinked are the names they have.
	want := make(map[uint32]bool, len(uids))
	for _, u := range uids {
		want[u] = true
	}
	type victim struct {
		m    *Message
		path string
	}
	var victims []victim
	for _, m := range f.msgs {
		if want[m.UID] && !m.expunging {
			m.expunging = true
			victims = append(victims, victim{m, f.path(m)})
		}
	}
	f.mu.Unlock()
	unlinked := make(map[*Message]bool, len(victims))
	for _, vc := range victims {
		if rerr := os.Remove(vc.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = fmt.Errorf("maildir: expunge: %w", rerr)
			continue
		}
		unlinked[vc.m] = true
	}
	f.mu.Lock()
	for i := len(f.msgs) - 1; i >= 0; i-- {
		m := f.msgs[i]
		if !unlinked[m] {
			continue
		}
		f.emit(Change{Kind: Expunged, Seq: uint32(i + 1), UID: m.UID, Source: src})
		delete(f.byKey, m.Key)
		f.msgs = append(f.msgs[:i], f.msgs[i+1:]...)
		removed = append(removed, m.UID)
	}
	for _, vc := range victims {
		vc.m.expunging = false // only those whose unlink failed are still listed
	}
	var v uint64
	if len(removed) > 0 {
		v = f.dirtyLocked()
	}
	f.mu.Unlock()
	if v > 0 {
		if cerr := f.commitIndex(v, needIndex); err == nil {
			err = cerr
		}
	}
	return removed, err
}

// Open returns a reader of the message with the given UID, with CRLF line
// ends whatever the file uses, and the message's current state.
func (f *Folder) Open(uid uint32) (io.ReadCloser, Message, error) {
	f.mu.Lock()
	_, m := f.findLocked(uid)
	if m == nil {
		f.mu.Unlock()
		return nil, Message{}, ErrNoMessage
	}
	msg := *m
	path := f.path(m)
	f.mu.Unlock()
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		// Renamed since: by another session of this process (STORE), which
		// the list already shows, or by another program, which a rescan
		// finds.
		f.mu.Lock()
		_, m = f.findLocked(uid)
		switch {
		case m == nil || m.expunging:
			f.mu.Unlock()
			return nil, msg, ErrNoMessage
		case f.path(m) != path:
			msg, path = *m, f.path(m)
			f.mu.Unlock()
			fh, err = os.Open(path)
		default:
			f.mu.Unlock()
		}
	}
	if errors.Is(err, os.ErrNotExist) {
		if rerr := f.Refresh(); rerr != nil {
			return nil, msg, rerr
		}
		f.mu.Lock()
		_, m = f.findLocked(uid)
		if m == nil || m.expunging {
			f.mu.Unlock()
			return nil, msg, ErrNoMessage
		}
		msg, path = *m, f.path(m)
		f.mu.Unlock()
		fh, err = os.Open(path)
	}
	if err != nil {
		return nil, msg, fmt.Errorf("maildir: open message %d: %w", uid, err)
	}
	if msg.raw == msg.Size {
		return fh, msg, nil
	}
	return newCRLFReader(fh), msg, nil
}

// UIDValidity returns the folder's UIDVALIDITY, loading it if needed. It
// never changes for a Folder (a folder deleted and created again is
// another Folder), so it needs no look at the disk once loaded.
func (f *Folder) UIDValidity() (uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.loadedLocked(); err != nil {
		return 0, err
	}
	return f.validity, nil
}

// loadedLocked loads the folder if it is not yet, and reports ErrGone for
// one deleted or renamed.
func (f *Folder) loadedLocked() error {
	if f.gone {
		return ErrGone
	}
	if !f.loaded {
		return f.refreshLocked(false)
	}
	return nil
}

// ClaimRecent returns the UIDs from..to-1 of the messages that are \Recent
// for the caller: those no session has claimed yet. A read-write session
// claims them (claim true), so that no later session sees them as recent;
// a read-only one (EXAMINE) sees them without claiming (RFC 3501 §2.3.2).
func (f *Folder) ClaimRecent(claim bool) (from, to uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.loaded {
		f.refreshLocked(false)
	}
	from, to = f.recentFloor, f.next
	if claim {
		f.recentFloor = f.next
	}
	return from, to
}
