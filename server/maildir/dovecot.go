package maildir

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DovecotUIDListName is Dovecot's UID index of a Maildir folder. mailx reads
// it when it takes over a folder Dovecot kept, so UIDs and UIDVALIDITY
// survive the move (a client would otherwise download everything again),
// and writes it next to its own index, so Dovecot sees the UIDs mailx gave.
// mailx's own index (UIDListName) stays the authority; this one is a copy.
//
// Format (version 3; version 1 is "1 <validity> <next>" and "<uid> <name>"):
//
//	3 V<uidvalidity> N<uidnext> [G<guid>] [other fields]
//	<uid> [fields] :<last known file name>
const DovecotUIDListName = "dovecot-uidlist"

// parseDovecotUIDList reads a dovecot-uidlist. Entries have unknown sizes
// (-1): the caller measures those messages.
func parseDovecotUIDList(data []byte) (*uidlist, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 4096), 1<<20)
	if !sc.Scan() {
		return nil, errors.New("maildir: dovecot-uidlist is empty")
	}
	head := strings.Fields(sc.Text())
	l := &uidlist{entries: map[string]entry{}}
	version := ""
	if len(head) > 0 {
		version = head[0]
	}
	switch version {
	case "1":
		if len(head) < 3 {
			return nil, errors.New("maildir: dovecot-uidlist: short version 1 header")
		}
		v, err1 := strconv.ParseUint(head[1], 10, 32)
		n, err2 := strconv.ParseUint(head[2], 10, 32)
		if err1 != nil || err2 != nil {
			return nil, errors.New("maildir: dovecot-uidlist: bad version 1 header")
		}
		l.validity, l.next = uint32(v), uint32(n)
	case "3":
		for _, f := range head[1:] {
			if len(f) < 2 {
				continue
			}
			n, err := strconv.ParseUint(f[1:], 10, 32)
			if err != nil {
				continue
			}
			switch f[0] {
			case 'V':
				l.validity = uint32(n)
			case 'N':
				l.next = uint32(n)
			}
		}
	default:
		return nil, fmt.Errorf("maildir: dovecot-uidlist: unknown version %q", clip(version))
	}
	if l.validity == 0 {
		return nil, errors.New("maildir: dovecot-uidlist: no UIDVALIDITY")
	}
	if l.next == 0 {
		l.next = 1
	}
	for sc.Scan() {
		line := sc.Text()
		num, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		uid, err := strconv.ParseUint(num, 10, 32)
		if err != nil || uid == 0 {
			continue
		}
		name := rest
		if version == "3" {
			i := strings.IndexByte(rest, ':')
			if i < 0 {
				continue
			}
			name = rest[i+1:]
		}
		key, _, _ := SplitName(name)
		if !validFileName(key) {
			continue
		}
		if uint32(uid) >= l.next {
			l.next = uint32(uid) + 1
		}
		l.entries[key] = entry{uid: uint32(uid), size: -1}
	}
	return l, sc.Err()
}

// readDovecotUIDList reads the folder's dovecot-uidlist; nil if it has none
// or it cannot be read.
func readDovecotUIDList(dir string) *uidlist {
	data, err := os.ReadFile(filepath.Join(dir, DovecotUIDListName))
	if err != nil {
		return nil
	}
	l, err := parseDovecotUIDList(data)
	if err != nil {
		return nil
	}
	return l
}

// mergeUIDLists combines mailx's index with Dovecot's: with no mailx index,
// Dovecot's is taken whole (a folder taken over from Dovecot); with the same
// UIDVALIDITY, messages only Dovecot numbered keep Dovecot's UIDs.
func mergeUIDLists(own, dv *uidlist) *uidlist {
	switch {
	case dv == nil:
		return own
	case own == nil:
		return dv
	case own.validity != dv.validity:
		return own
	}
	used := make(map[uint32]bool, len(own.entries))
	for _, e := range own.entries {
		used[e.uid] = true
	}
	for k, e := range dv.entries {
		if _, ok := own.entries[k]; ok || used[e.uid] {
			continue
		}
		own.entries[k] = e
		used[e.uid] = true
	}
	if dv.next > own.next {
		own.next = dv.next
	}
	return own
}

// writeDovecotUIDList writes the copy for Dovecot under Dovecot's own lock
// (dovecot-uidlist.lock, a dot-lock); when Dovecot holds it, the copy waits
// for the next save. It is replaced with rename(), as Dovecot requires.
func writeDovecotUIDList(dir string, validity, next uint32, msgs []*Message) {
	lock := filepath.Join(dir, DovecotUIDListName+".lock")
	lf, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return
	}
	lf.Close()
	defer os.Remove(lock)
	var b bytes.Buffer
	fmt.Fprintf(&b, "3 V%d N%d\n", validity, next)
	for _, m := range msgs {
		fmt.Fprintf(&b, "%d :%s\n", m.UID, m.Key)
	}
	tmp := filepath.Join(dir, DovecotUIDListName+".mailx-tmp")
	if err := os.WriteFile(tmp, b.Bytes(), 0o600); err != nil {
		os.Remove(tmp)
		return
	}
	if err := os.Rename(tmp, filepath.Join(dir, DovecotUIDListName)); err != nil {
		os.Remove(tmp)
	}
}
