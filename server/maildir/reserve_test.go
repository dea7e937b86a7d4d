package maildir

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func appendMsgs(t *testing.T, f *Folder, n int) []uint32 {
	t.Helper()
	var uids []uint32
	for i := 0; i < n; i++ {
		uid, err := f.Append(strings.NewReader(fmt.Sprintf("Subject: %d\r\n\r\nx\r\n", i)), 0, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, uid)
	}
	return uids
}

func freshFolder(t *testing.T) (string, *Folder) {
	t.Helper()
	dir := t.TempDir()
	if err := createDir(dir); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { forget(dir) })
	return dir, f
}

// TestExpungeAfterCrashNeverReusesUIDs: appended messages carry their UIDs
// only in their names; expunging them reserves UIDs in a durable index, so
// that a crash (no clean end, index writes deferred) followed by a restart
// never hands out an expunged message's UID again.
func TestExpungeAfterCrashNeverReusesUIDs(t *testing.T) {
	dir, f := freshFolder(t)
	uids := appendMsgs(t, f, 5)
	if _, err := f.Expunge(uids[3:], nil); err != nil {
		t.Fatal(err)
	}
	idx, err := readUIDList(dir)
	if err != nil || idx == nil {
		t.Fatalf("index after EXPUNGE: %v, %v", idx, err)
	}
	if idx.reserved <= uids[4] {
		t.Fatalf("index reserves up to %d, want above the expunged UID %d", idx.reserved, uids[4])
	}
	// More appends and expunges under the reservation need no new durable
	// index, and the crash loses the deferred index writes.
	more := appendMsgs(t, f, 3)
	if _, err := f.Expunge(more, nil); err != nil {
		t.Fatal(err)
	}
	forget(dir) // the crash: no Tighten, no flush
	f2, err := OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := f2.Messages()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 || msgs[2].UID != uids[2] {
		t.Fatalf("after the crash: %+v, want UIDs %v", msgs, uids[:3])
	}
	uid, err := f2.Append(strings.NewReader("Subject: after\r\n\r\nx\r\n"), 0, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if uid <= more[2] {
		t.Errorf("APPEND after the crash got UID %d; UIDs up to %d were given before and must not come back", uid, more[2])
	}
}

// TestCleanEndLeavesNoUIDGap: FlushDovecot (a session leaving) gives back
// the reserved UIDs, so UIDNEXT after a restart follows on.
func TestCleanEndLeavesNoUIDGap(t *testing.T) {
	dir, f := freshFolder(t)
	uids := appendMsgs(t, f, 4)
	if _, err := f.Expunge(uids[2:], nil); err != nil {
		t.Fatal(err)
	}
	f.FlushDovecot()
	idx, err := readUIDList(dir)
	if err != nil || idx == nil {
		t.Fatalf("index: %v, %v", idx, err)
	}
	if idx.reserved != 0 || idx.next != uids[3]+1 {
		t.Errorf("index after a clean end: next %d, reserved %d; want next %d and no reservation", idx.next, idx.reserved, uids[3]+1)
	}
	forget(dir)
	f2, _ := OpenFolder(dir)
	st, err := f2.Status()
	if err != nil {
		t.Fatal(err)
	}
	if st.UIDNext != uids[3]+1 || st.Messages != 2 {
		t.Errorf("after restart: %+v, want 2 messages and UIDNEXT %d", st, uids[3]+1)
	}
}

// TestExpungeRacingStoreLeavesNoFile: Expunge unlinks with the folder
// unlocked; a STORE on the same messages meanwhile must not rename a file
// away from under it (which would bring the message back on the next
// scan with a new UID).
func TestExpungeRacingStoreLeavesNoFile(t *testing.T) {
	dir, f := freshFolder(t)
	for round := 0; round < 5; round++ {
		uids := appendMsgs(t, f, 40)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				op := Add
				if i%2 == 1 {
					op = Remove
				}
				if _, err := f.SetFlags(uids, op, Flagged, nil); err != nil {
					t.Error(err)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := len(uids); i > 0; i -= 8 {
				if _, err := f.Expunge(uids[i-8:i], nil); err != nil {
					t.Error(err)
				}
			}
		}()
		wg.Wait()
	}
	names, _ := os.ReadDir(filepath.Join(dir, Cur))
	if len(names) != 0 {
		t.Errorf("%d files left in cur/ after every message was expunged, e.g. %s", len(names), names[0].Name())
	}
	if err := f.Refresh(); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := f.Messages(); len(msgs) != 0 {
		t.Errorf("%d messages after every one was expunged", len(msgs))
	}
}

// TestUIDListReservationParse: the reservation field is read back, and a
// damaged one is refused like any damaged header.
func TestUIDListReservationParse(t *testing.T) {
	l, err := parseUIDList([]byte("mailx-uidlist 1 V7 N3 R600\n1 10 9 0 a\n"))
	if err != nil || l.next != 3 || l.reserved != 600 {
		t.Fatalf("parse = %+v, %v; want next 3, reserved 600", l, err)
	}
	if _, err := parseUIDList([]byte("mailx-uidlist 1 V7 N3 Rx\n")); err == nil {
		t.Error("a bad reservation was accepted")
	}
	if _, err := parseUIDList([]byte("mailx-uidlist 1 V7 N3 X9\n")); err == nil {
		t.Error("an unknown fifth header field was accepted")
	}
}

// TestDamagedIndexIsRebuilt: an index a crash or another program damaged
// is rebuilt from the Maildir: a torn last record costs nothing (the file
// names carry the UIDs of appended messages), a garbage header starts a
// new UIDVALIDITY, and either way every message is there once.
func TestDamagedIndexIsRebuilt(t *testing.T) {
	for _, tc := range []struct {
		name         string
		damage       func(idx []byte) []byte
		sameValidity bool
	}{
		{"torn last record", func(idx []byte) []byte { return idx[:len(idx)-7] }, true},
		{"garbage record", func(idx []byte) []byte { return append(idx, "9 x y z ../../etc/passwd\n\x00\xff\n"...) }, true},
		{"garbage header", func(idx []byte) []byte { return append([]byte("\x00\x01garbage\n"), idx...) }, false},
		{"empty file", func([]byte) []byte { return nil }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, f := freshFolder(t)
			uids := appendMsgs(t, f, 4)
			f.FlushDovecot() // the index on disk lists all four
			before, _ := f.Status()
			path := filepath.Join(dir, UIDListName)
			idx, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(path, tc.damage(idx), 0o600)
			os.Remove(filepath.Join(dir, DovecotUIDListName))
			forget(dir)
			f2, _ := OpenFolder(dir)
			msgs, err := f2.Messages()
			if err != nil {
				t.Fatal(err)
			}
			seen := map[uint32]bool{}
			for _, m := range msgs {
				if seen[m.UID] {
					t.Errorf("UID %d given twice: %+v", m.UID, msgs)
				}
				seen[m.UID] = true
			}
			if len(msgs) != 4 {
				t.Fatalf("%d messages after the damage, want 4", len(msgs))
			}
			after, _ := f2.Status()
			if tc.sameValidity {
				// The message of a damaged record keeps its UID or, when the
				// index cannot vouch for it, gets a new one above all given
				// (to a client: expunged and appended again), never an old one.
				if after.UIDValidity != before.UIDValidity || msgs[2].UID != uids[2] || msgs[3].UID < uids[3] {
					t.Errorf("UIDVALIDITY %d -> %d, UIDs %v -> %d, %d: the intact records must keep their UIDs", before.UIDValidity, after.UIDValidity, uids, msgs[2].UID, msgs[3].UID)
				}
			} else if after.UIDValidity == before.UIDValidity {
				t.Errorf("UIDVALIDITY kept (%d) with an unreadable index: clients would trust stale UIDs", after.UIDValidity)
			}
			// And the rebuilt index is whole again.
			if l, err := readUIDList(dir); err != nil || l == nil || len(l.entries) != 4 {
				t.Errorf("rebuilt index: %+v, %v", l, err)
			}
		})
	}
}
