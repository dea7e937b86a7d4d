//go:build linux

package maildir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/proto/testkit"
)

// TestReadingOnAFullDisk: a message delivered before the disk filled up,
// which no reader has numbered yet, is still listed when the folder's index
// cannot be written (POP3 and IMAP logins must not fail on a full disk), with
// the UIDs the index gets once space returns.
func TestReadingOnAFullDisk(t *testing.T) {
	dir := testkit.SmallDisk(t, "2m")
	root := filepath.Join(dir, "alice")
	if err := Create(root); err != nil {
		t.Fatal(err)
	}
	deliver := func(subject string) {
		t.Helper()
		if _, err := Deliver(root, strings.NewReader("Subject: "+subject+"\r\n\r\nhello\r\n"), DeliverOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	deliver("one")
	deliver("two")

	// Fill the disk to the last byte.
	filler := testkit.FillDisk(t, dir)

	folder, err := OpenFolder(root)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := folder.Messages()
	if err != nil {
		t.Fatalf("listing on a full disk: %v", err)
	}
	if len(msgs) != 2 || msgs[0].UID != 1 || msgs[1].UID != 2 {
		t.Fatalf("on a full disk: %+v", msgs)
	}
	if idx, err := readUIDList(root); err == nil && idx != nil && len(idx.entries) != 0 {
		t.Fatalf("the index was written on a full disk: %+v", idx.entries)
	}

	os.Remove(filler)
	if _, err := folder.Messages(); err != nil {
		t.Fatal(err)
	}
	idx, err := readUIDList(root)
	if err != nil || idx == nil || len(idx.entries) != 2 {
		t.Fatalf("once space returned, the index holds %+v (%v), want both messages", idx, err)
	}
	for _, m := range msgs {
		if e, ok := idx.entries[m.Key]; !ok || e.uid != m.UID {
			t.Errorf("the index gives %s UID %d, the full-disk listing gave %d", m.Key, e.uid, m.UID)
		}
	}
}
