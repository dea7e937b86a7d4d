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
	"time"
)

// UIDListName is the index file kept in every folder, next to cur/ new/ tmp/.
// Like Dovecot's dovecot-uidlist it maps each message's unique key to its
// IMAP UID, so UIDs (and POP3 UIDLs, built from them) survive restarts, and
// it caches each message's size and arrival time, so opening a folder of
// 10,000 messages lists two directories instead of opening 10,000 files.
//
// Format, one record per line:
//
//	mailx-uidlist 1 V<uidvalidity> N<uidnext> [R<reserved>]
//	<uid> <octets with CRLF> <octets on disk> <arrival, Unix nanoseconds> <key>
//
// R, when present, says UIDs below it may have been handed out to files
// that carry their UID only in their names (",U="): a load gives new
// messages UIDs from R on, so none is ever given twice, while such a file
// still found keeps the UID its name records (see reserveChunk).
const UIDListName = "mailx-uidlist"

const uidlistMagic = "mailx-uidlist 1"

// entry is one uidlist record.
type entry struct {
	uid  uint32
	size int64 // octets as sent to clients, with CRLF line ends
	raw  int64 // octets in the file
	date time.Time
}

// uidlist is the parsed index.
type uidlist struct {
	validity uint32
	next     uint32
	reserved uint32 // R: UIDs below it may be in use (0: none beyond next)
	entries  map[string]entry
}

// readUIDList parses the index. A missing file is not an error: it returns
// nil, and the caller starts a new UIDVALIDITY.
func readUIDList(dir string) (*uidlist, error) {
	data, err := os.ReadFile(filepath.Join(dir, UIDListName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseUIDList(data)
}

// parseUIDList reads the index text. A damaged record is skipped rather than
// failing the folder: the message then gets a new UID, which IMAP clients
// handle, while refusing to open the mailbox would lock the user out.
func parseUIDList(data []byte) (*uidlist, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 4096), 1<<20)
	if !sc.Scan() {
		return nil, fmt.Errorf("maildir: %s is empty", UIDListName)
	}
	head := strings.Fields(sc.Text())
	var reserved uint64
	if len(head) == 5 && strings.HasPrefix(head[4], "R") {
		r, err := strconv.ParseUint(head[4][1:], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("maildir: %s: bad reservation in %q", UIDListName, clip(sc.Text()))
		}
		reserved, head = r, head[:4]
	}
	if len(head) != 4 || head[0]+" "+head[1] != uidlistMagic || !strings.HasPrefix(head[2], "V") || !strings.HasPrefix(head[3], "N") {
		return nil, fmt.Errorf("maildir: %s: first line %q is not a mailx uidlist header", UIDListName, clip(sc.Text()))
	}
	v, err1 := strconv.ParseUint(head[2][1:], 10, 32)
	n, err2 := strconv.ParseUint(head[3][1:], 10, 32)
	if err1 != nil || err2 != nil || v == 0 || n == 0 {
		return nil, fmt.Errorf("maildir: %s: bad UIDVALIDITY or UIDNEXT in %q", UIDListName, clip(sc.Text()))
	}
	l := &uidlist{validity: uint32(v), next: uint32(n), reserved: uint32(reserved), entries: map[string]entry{}}
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), " ", 5)
		if len(f) != 5 || !validFileName(f[4]) {
			continue
		}
		uid, err := strconv.ParseUint(f[0], 10, 32)
		size, err2 := strconv.ParseInt(f[1], 10, 64)
		raw, err3 := strconv.ParseInt(f[2], 10, 64)
		ns, err4 := strconv.ParseInt(f[3], 10, 64)
		if err != nil || err2 != nil || err3 != nil || err4 != nil || uid == 0 || uid >= 1<<32-1 || size < 0 || raw < 0 {
			// (UID 2^32-1 would leave no UIDNEXT: a damaged record.)
			continue
		}
		if uint32(uid) >= l.next {
			l.next = uint32(uid) + 1
		}
		l.entries[f[4]] = entry{uid: uint32(uid), size: size, raw: raw, date: time.Unix(0, ns)}
	}
	return l, sc.Err()
}

// writeUIDList replaces the index atomically: write a temporary file, fsync
// it, rename it over the old one, fsync the directory. A crash leaves the old
// or the new index, never half of one, so no UID is ever handed out twice.
//
// Without durable, the file is written and renamed but not fsynced: a crash
// may then leave the previous index, which is safe for the changes that ask
// for no more (see needIndex).
func writeUIDList(dir string, validity, next, reserved uint32, msgs []*Message, durable bool) error {
	var b bytes.Buffer
	b.Grow(64 + len(msgs)*80)
	fmt.Fprintf(&b, "%s V%d N%d", uidlistMagic, validity, next)
	if reserved > next {
		fmt.Fprintf(&b, " R%d", reserved)
	}
	b.WriteByte('\n')
	for _, m := range msgs {
		fmt.Fprintf(&b, "%d %d %d %d %s\n", m.UID, m.Size, m.raw, m.Date.UnixNano(), m.Key)
	}
	tmp := filepath.Join(dir, UIDListName+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b.Bytes())
	if err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, UIDListName))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("maildir: write %s: %w", UIDListName, err)
	}
	if !durable {
		return nil
	}
	return SyncDir(dir)
}

// lastValidity hands out UIDVALIDITY values: the current Unix time, but
// always above the previous one, so a folder deleted and created again within
// the same second still gets a new value, as RFC 9051 §2.3.1.1 requires.
var lastValidity struct {
	sync.Mutex
	v uint32
}

func newValidity() uint32 {
	lastValidity.Lock()
	defer lastValidity.Unlock()
	v := uint32(time.Now().Unix())
	if v <= lastValidity.v {
		v = lastValidity.v + 1
	}
	lastValidity.v = v
	return v
}

// lockStale is how old a lock file may grow before another process assumes
// its owner died: far longer than any index update takes.
const lockStale = 30 * time.Second

// lockFolder takes the folder's cross-process lock, a file created with
// O_EXCL (which works the same on every OS and network file system mailx
// supports). Within one process the Folder mutex already serialises access;
// the file guards against a second mailx process, such as a command-line
// tool, updating the same index.
func lockFolder(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, UIDListName+".lock")
	deadline := time.Now().Add(10 * time.Second)
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("maildir: lock %s: %w", dir, err)
		}
		if st, serr := os.Stat(path); serr == nil && time.Since(st.ModTime()) > lockStale {
			os.Remove(path)
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("maildir: %s is locked by another process (remove %s if none is running)", dir, path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// wireSize returns a message's size as POP3 and IMAP report it: octets with
// every line ending as CRLF. Mail stored with bare LF (as many tools write
// it) grows by one octet per line.
func wireSize(r io.Reader) (wire, raw int64, err error) {
	br := bufio.NewReaderSize(r, 32*1024)
	var prev byte
	for {
		chunk, err := br.ReadSlice('\n')
		raw += int64(len(chunk))
		wire += int64(len(chunk))
		if n := len(chunk); n > 0 && chunk[n-1] == '\n' {
			before := prev
			if n > 1 {
				before = chunk[n-2]
			}
			if before != '\r' {
				wire++
			}
		}
		if n := len(chunk); n > 0 {
			prev = chunk[n-1]
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			return wire, raw, nil
		}
		if err != nil {
			return wire, raw, err
		}
	}
}
