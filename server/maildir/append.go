package maildir

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Append stores a message given by a client (IMAP APPEND, COPY, MOVE) in the
// folder with the given flags and arrival date (zero: now), and returns its
// new UID. Like a delivery it is written to tmp/, fsynced and renamed, but
// into cur/, because the client has obviously seen it. The file is stored
// with LF line ends and both sizes in its name, like Deliver's.
func (f *Folder) Append(src io.Reader, flags Flags, date time.Time) (uint32, error) {
	return f.AppendKeywords(src, flags, nil, date)
}

// AppendKeywords is Append with keywords (IMAP APPEND with $Label1 or
// $Junk among the flags).
func (f *Folder) AppendKeywords(src io.Reader, flags Flags, keywords []string, date time.Time) (uint32, error) {
	unique := UniqueName(time.Now())
	tmp := filepath.Join(f.dir, Tmp, unique)
	fh, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("maildir: append: %w", err)
	}
	lw := &lfWriter{w: bufio.NewWriterSize(fh, 64<<10)}
	_, err = io.Copy(lw, src)
	if err == nil {
		err = lw.Close()
	}
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("maildir: append: %w", err)
	}
	if date.IsZero() {
		date = time.Now()
	}
	// INTERNALDATE is the file's mtime, as Dovecot and Courier keep it.
	os.Chtimes(tmp, date, date)
	key := unique + ",S=" + strconv.FormatInt(lw.size, 10) + ",W=" + strconv.FormatInt(lw.size+lw.lines, 10)
	return f.adopt(tmp, key, flags, keywords, lw.size+lw.lines, lw.size, date)
}

// adopt moves a complete file from tmp/ into cur/ and gives it the next UID.
func (f *Folder) adopt(tmp, key string, flags Flags, keywords []string, size, raw int64, date time.Time) (uid uint32, err error) {
	f.mu.Lock()
	var v uint64
	defer func() {
		if v > 0 {
			if cerr := f.commitIndex(v, needCur|needIndex); err == nil {
				err = cerr
			}
		}
	}()
	defer f.mu.Unlock()
	// No look at the disk beyond the first: deliveries found later get
	// later UIDs, which IMAP allows, and this lock is what every session
	// of the folder waits for.
	if err := f.loadedLocked(); err != nil {
		os.Remove(tmp)
		return 0, err
	}
	// The UID goes into the name: with cur/ fsynced the message is durable
	// with its UID, and the index need not be (see needCur).
	key += ",U=" + strconv.FormatUint(uint64(f.next), 10)
	letters, err := f.lettersLocked(keywords, true)
	if err != nil {
		os.Remove(tmp)
		return 0, err
	}
	extra := combineExtra("", Add, letters)
	name := curName(key, flags, extra)
	if err := os.Rename(tmp, filepath.Join(f.dir, Cur, name)); err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("maildir: append: %w", err)
	}
	m := &Message{UID: f.next, Key: key, Flags: flags, Extra: extra, Size: size, Date: date, raw: raw, name: name}
	f.next++
	f.msgs = append(f.msgs, m)
	f.byKey[key] = m
	f.emit(Change{Kind: Exists, Count: uint32(len(f.msgs))})
	// cur/ is synced by commitIndex; the index (and with it Dovecot's
	// copy) is rewritten at most once per indexEvery.
	v = f.dirtyLocked()
	return m.UID, nil
}

// CopyTo copies the messages with the given UIDs into dest, keeping their
// flags and arrival dates, and returns the UIDs they got there, in the same
// order as the source UIDs that were found. Files are hard-linked when the
// file system allows it (a copy costs no space), else copied.
func (f *Folder) CopyTo(uids []uint32, dest *Folder) (src, dst []uint32, err error) {
	type item struct {
		msg      Message
		path     string
		keywords []string
	}
	var items []item
	f.mu.Lock()
	for _, u := range uids {
		if _, m := f.findLocked(u); m != nil {
			items = append(items, item{*m, f.path(m), f.keywordNamesLocked(m.Extra)})
		}
	}
	f.mu.Unlock()
	for _, it := range items {
		unique := UniqueName(time.Now())
		tmp := filepath.Join(dest.dir, Tmp, unique)
		if err := linkOrCopy(it.path, tmp); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // expunged meanwhile
			}
			return src, dst, fmt.Errorf("maildir: copy: %w", err)
		}
		key := unique + ",S=" + strconv.FormatInt(it.msg.raw, 10) + ",W=" + strconv.FormatInt(it.msg.Size, 10)
		uid, err := dest.adopt(tmp, key, it.msg.Flags, it.keywords, it.msg.Size, it.msg.raw, it.msg.Date)
		if err != nil {
			return src, dst, err
		}
		src = append(src, it.msg.UID)
		dst = append(dst, uid)
	}
	return src, dst, nil
}

// linkOrCopy makes to a hard link of from, or a durable copy where links are
// not possible (FAT, some network file systems, another device).
func linkOrCopy(from, to string) error {
	if err := os.Link(from, to); err == nil {
		return nil
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(to)
		return err
	}
	return os.Chtimes(to, st.ModTime(), st.ModTime())
}

// Renumber gives the messages with the given UIDs new UIDs in the same
// folder: IMAP MOVE into the mailbox the messages are in (RFC 6851 allows
// it; clients use it to reorder). Each file is renamed to a new unique key
// in one atomic rename, so a crash leaves it under its old or its new name,
// never both and never neither. Listeners see every Expunged first, then
// one Exists, as MOVE's responses must be ordered.
func (f *Folder) Renumber(uids []uint32, src any) (from, to []uint32, err error) {
	if len(uids) > 0 {
		// The old names disappear: settle the intake journal first, or a
		// replay after a crash would write them again (see Settler).
		f.settler.settle()
	}
	f.mu.Lock()
	var v uint64
	need := needIndex
	defer func() {
		if v > 0 {
			if cerr := f.commitIndex(v, need); err == nil {
				err = cerr
			}
		}
	}()
	defer f.mu.Unlock()
	if err := f.refreshLocked(false); err != nil {
		return nil, nil, err
	}
	need = f.needForRemovalLocked(uids) | needCur
	next := f.next
	want := make(map[uint32]bool, len(uids))
	for _, u := range uids {
		want[u] = true
	}
	var moved []*Message
	for i := len(f.msgs) - 1; i >= 0; i-- {
		m := f.msgs[i]
		if !want[m.UID] || m.expunging {
			continue
		}
		key := UniqueName(time.Now()) + ",S=" + strconv.FormatInt(m.raw, 10) + ",W=" + strconv.FormatInt(m.Size, 10) +
			",U=" + strconv.FormatUint(uint64(next), 10)
		next++
		name := curName(key, m.Flags, m.Extra)
		if rerr := os.Rename(f.path(m), filepath.Join(f.dir, Cur, name)); rerr != nil {
			if !errors.Is(rerr, os.ErrNotExist) {
				err = fmt.Errorf("maildir: move: %w", rerr)
			}
			continue
		}
		f.emit(Change{Kind: Expunged, Seq: uint32(i + 1), UID: m.UID, Source: src})
		delete(f.byKey, m.Key)
		f.msgs = append(f.msgs[:i], f.msgs[i+1:]...)
		nm := *m
		nm.Key, nm.name, nm.New = key, name, false
		moved = append([]*Message{&nm}, moved...)
	}
	for _, m := range moved {
		from = append(from, m.UID)
		m.UID = f.next
		f.next++
		to = append(to, m.UID)
		f.msgs = append(f.msgs, m)
		f.byKey[m.Key] = m
	}
	if len(moved) > 0 {
		f.emit(Change{Kind: Exists, Count: uint32(len(f.msgs))})
		v = f.dirtyLocked()
	}
	return from, to, err
}
