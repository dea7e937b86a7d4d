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
	return f.adopt(tmp, key, flags, lw.size+lw.lines, lw.size, date)
}

// adopt moves a complete file from tmp/ into cur/ and gives it the next UID.
func (f *Folder) adopt(tmp, key string, flags Flags, size, raw int64, date time.Time) (uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.refreshLocked(false); err != nil {
		os.Remove(tmp)
		return 0, err
	}
	name := curName(key, flags, "")
	if err := os.Rename(tmp, filepath.Join(f.dir, Cur, name)); err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("maildir: append: %w", err)
	}
	if err := SyncDir(filepath.Join(f.dir, Cur)); err != nil {
		return 0, fmt.Errorf("maildir: append: %w", err)
	}
	m := &Message{UID: f.next, Key: key, Flags: flags, Size: size, Date: date, raw: raw, name: name}
	f.next++
	f.msgs = append(f.msgs, m)
	f.byKey[key] = m
	f.emit(Change{Kind: Exists, Count: uint32(len(f.msgs))})
	return m.UID, f.saveLocked()
}

// CopyTo copies the messages with the given UIDs into dest, keeping their
// flags and arrival dates, and returns the UIDs they got there, in the same
// order as the source UIDs that were found. Files are hard-linked when the
// file system allows it (a copy costs no space), else copied.
func (f *Folder) CopyTo(uids []uint32, dest *Folder) (src, dst []uint32, err error) {
	type item struct {
		msg  Message
		path string
	}
	var items []item
	f.mu.Lock()
	for _, u := range uids {
		if _, m := f.findLocked(u); m != nil {
			items = append(items, item{*m, f.path(m)})
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
		uid, err := dest.adopt(tmp, key, it.msg.Flags, it.msg.Size, it.msg.raw, it.msg.Date)
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
