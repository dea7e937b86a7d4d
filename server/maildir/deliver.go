package maildir

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrExists is returned by Deliver when a message with the same unique name
// is already in the Maildir (in new/ or cur/): the delivery happened before,
// for example just before a crash, and must not be repeated.
var ErrExists = errors.New("maildir: message already delivered")

// DeliverOptions tunes one delivery.
type DeliverOptions struct {
	// Unique is the unique part of the file name. Empty means a fresh one
	// from UniqueName. A caller that may repeat a delivery after a crash (the
	// queue) passes a name derived from the message and recipient, so the
	// repeat is recognised (see Find); such a caller must never run two
	// deliveries with the same name at once, as a leftover tmp/ file of
	// that name is taken to be from a dead attempt and overwritten.
	Unique string
	// Prepend is written before the message: trace fields that final
	// delivery adds, such as "Return-Path: <alice@example.org>\r\n"
	// (RFC 5321 §4.4) and "Delivered-To:". Same line-ending rules as the
	// message.
	Prepend []byte
	// SyncDir makes a directory's entries durable. Nil means fsync it at once;
	// the queue passes a function that groups the fsyncs of concurrent
	// deliveries to the same directory into one.
	SyncDir func(dir string) error
	// Unsynced skips the fsyncs of the file and of new/: the file is renamed
	// into new/ at once but may not survive a power cut. Only for a caller
	// that keeps its own durable copy of the message until it has made the
	// file durable later (the queue's journal).
	Unsynced bool
	// Over, when set, is the path of an existing message file (in new/ or
	// cur/) that the delivery replaces, keeping its name and flags: how a
	// delivery repeated after a crash restores a file that may have been
	// cut short, since a rename does not make the file's data durable.
	Over string
}

// deliverBufs recycles Deliver's write buffers: a busy server delivers
// hundreds of messages a second, and a fresh 64 KiB buffer for each is
// garbage the collector must chase.
var deliverBufs = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

// Deliver stores the message read from src in the Maildir at root and returns
// the file name it got in new/. src holds the message with CRLF (or LF) line
// endings, as SMTP carries it; the file is written with LF line endings, the
// Unix convention that mutt, Dovecot and Postfix's local delivery use.
//
// The Maildir rules make the delivery safe against readers and crashes:
// the file is written in tmp/ under a unique name, fsynced, renamed into new/
// (readers never see half a message) and then the new/ directory is fsynced,
// so that when Deliver returns nil the message survives a power cut.
//
// The final name is "<unique>,S=<size>,W=<crlf-size>": S is the file size and
// W the size with CRLF line endings (the size POP3 and IMAP report), so a
// reader needs no stat and no scan to list a mailbox.
//
// On error the name is empty, except when only the final fsync of new/
// failed: the file is in new/ then, and its name is returned with the error.
// Options.Unsynced and Options.Over change these rules for the queue's
// journal (see their comments).
func Deliver(root string, src io.Reader, o DeliverOptions) (name string, err error) {
	unique := o.Unique
	if unique == "" {
		unique = UniqueName(time.Now())
	} else if strings.ContainsAny(unique, "/\\:;,") {
		return "", fmt.Errorf("maildir: unique name %q contains a separator", unique)
	}
	tmp := filepath.Join(root, Tmp, unique)
	// A fresh name must not exist yet; a caller-chosen one may be left in
	// tmp/ by an attempt that died half-way, which is overwritten.
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if o.Unique != "" {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := createFile(tmp, flags, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		// A root created by hand or deleted by the user: recreate it rather
		// than lose the message.
		if cerr := createDir(root); cerr != nil {
			return "", cerr
		}
		f, err = createFile(tmp, flags, 0o600)
	}
	if err != nil {
		return "", fmt.Errorf("maildir: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := deliverBufs.Get().(*bufio.Writer)
	bw.Reset(f)
	defer func() {
		bw.Reset(nil)
		deliverBufs.Put(bw)
	}()
	cw := &lfWriter{w: bw}
	if _, err := cw.Write(o.Prepend); err != nil {
		return "", fmt.Errorf("maildir: write %s: %w", tmp, err)
	}
	if _, err := io.Copy(cw, src); err != nil {
		return "", fmt.Errorf("maildir: write %s: %w", tmp, err)
	}
	if err := cw.Close(); err != nil {
		return "", fmt.Errorf("maildir: write %s: %w", tmp, err)
	}
	if !o.Unsynced {
		if err := f.Sync(); err != nil {
			return "", fmt.Errorf("maildir: fsync %s: %w", tmp, err)
		}
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("maildir: close %s: %w", tmp, err)
	}
	name = unique + ",S=" + strconv.FormatInt(cw.size, 10) + ",W=" + strconv.FormatInt(cw.size+cw.lines, 10)
	newDir := filepath.Join(root, New)
	target := filepath.Join(newDir, name)
	if o.Over != "" {
		target, newDir, name = o.Over, filepath.Dir(o.Over), filepath.Base(o.Over)
	}
	if err := renameFile(tmp, target); err != nil {
		return "", fmt.Errorf("maildir: %w", err)
	}
	committed = true
	if o.Unsynced {
		return name, nil
	}
	syncDir := o.SyncDir
	if syncDir == nil {
		syncDir = SyncDir
	}
	if err := syncDir(newDir); err != nil {
		// The file is in new/ but may not survive a power cut: the name
		// comes back with the error, so a caller can take it back.
		return name, fmt.Errorf("maildir: fsync %s: %w", newDir, err)
	}
	return name, nil
}

// Find looks for a message whose unique part is unique in new/ and cur/ of
// the Maildir at root and returns its path. It is how a repeated delivery is
// detected after a crash; it reads both directories, so it is meant for that
// rare case, not for every delivery (see Index for many lookups).
func Find(root, unique string) (path string, found bool, err error) {
	idx, err := Index(root)
	if err != nil {
		return "", false, err
	}
	path, found = idx[unique]
	return path, found, nil
}

// Index maps the unique part of every message file in new/ and cur/ of the
// Maildir at root to its path. A missing Maildir gives an empty index.
func Index(root string) (map[string]string, error) {
	idx := map[string]string{}
	for _, sub := range []string{New, Cur} {
		dir := filepath.Join(root, sub)
		entries, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("maildir: %w", err)
		}
		for _, e := range entries {
			idx[UniquePart(e.Name())] = filepath.Join(dir, e.Name())
		}
	}
	return idx, nil
}

// UniquePart returns the unique part of a message file name: the name without
// its ",S=…" style fields and without its info.
func UniquePart(name string) string {
	base, _, _ := SplitName(name)
	if i := strings.IndexByte(base, ','); i >= 0 {
		base = base[:i]
	}
	return base
}

var (
	pid      = os.Getpid()
	counter  atomic.Uint64
	hostName = safeHost()
)

// UniqueName returns a fresh unique name in the Maildir specification's
// style, "<seconds>.M<microseconds>P<pid>Q<counter>.<host>": unique across
// processes (pid), within one (counter) and across machines sharing a
// Maildir over a network file system (host).
func UniqueName(now time.Time) string {
	return fmt.Sprintf("%d.M%dP%dQ%d.%s", now.Unix(), now.Nanosecond()/1000, pid, counter.Add(1), hostName)
}

// Host returns this machine's host name as it appears in unique names, with
// the characters the specification forbids there replaced.
func Host() string { return hostName }

// safeHost returns the host name with '/' and ':' (and ';', ',' and '\')
// written as octal escapes, as the Maildir specification asks.
func safeHost() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "localhost"
	}
	r := strings.NewReplacer("/", `\057`, ":", `\072`, ";", `\073`, ",", `\054`, `\`, `\134`)
	return r.Replace(h)
}

// lfWriter turns CRLF line endings into LF as it writes and counts what it
// wrote: size is the number of bytes written and lines the number of LFs, so
// the CRLF size is size+lines. A lone CR is kept as it is (the SMTP server
// refuses bare CR, so this only matters for messages from elsewhere).
type lfWriter struct {
	w     *bufio.Writer
	cr    bool // the previous Write ended with a CR not yet written
	size  int64
	lines int64
}

func (l *lfWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if l.cr {
			l.cr = false
			if p[0] != '\n' {
				if err := l.put([]byte{'\r'}); err != nil {
					return 0, err
				}
			}
		}
		i := bytes.IndexByte(p, '\r')
		if i < 0 {
			if err := l.put(p); err != nil {
				return 0, err
			}
			break
		}
		if err := l.put(p[:i]); err != nil {
			return 0, err
		}
		p = p[i+1:]
		if len(p) == 0 {
			l.cr = true
			break
		}
		if p[0] != '\n' {
			if err := l.put([]byte{'\r'}); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (l *lfWriter) put(b []byte) error {
	l.size += int64(len(b))
	l.lines += int64(bytes.Count(b, []byte{'\n'}))
	_, err := l.w.Write(b)
	return err
}

// Close writes a trailing CR held back and flushes.
func (l *lfWriter) Close() error {
	if l.cr {
		l.cr = false
		if err := l.put([]byte{'\r'}); err != nil {
			return err
		}
	}
	return l.w.Flush()
}
