package maildir

import (
	"strings"
	"sync/atomic"
	"testing"
)

// countingSettler counts its calls.
type countingSettler struct{ n atomic.Int32 }

func (c *countingSettler) Settle() { c.n.Add(1) }

// TestSettlerRunsBeforeEveryRemoval: the Settler a Mailbox is given runs
// before each operation that removes message files (Expunge, Renumber,
// Delete, Rename), and not for what removes nothing. A mailbox without one
// settles nothing, and no other data directory's Settler is consulted.
func TestSettlerRunsBeforeEveryRemoval(t *testing.T) {
	root := t.TempDir()
	for range 3 {
		if _, err := Deliver(root, strings.NewReader("Subject: x\r\n\r\nhi\r\n"), DeliverOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	other, err := OpenMailbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var stranger countingSettler
	other.SetSettler(&stranger)

	mb, err := OpenMailbox(root)
	if err != nil {
		t.Fatal(err)
	}
	var s countingSettler
	mb.SetSettler(&s)
	inbox, err := mb.Folder(Inbox)
	if err != nil {
		t.Fatal(err)
	}
	if err := inbox.SeeNew(); err != nil {
		t.Fatal(err)
	}
	msgs, err := inbox.Messages()
	if err != nil || len(msgs) != 3 {
		t.Fatalf("INBOX: %d messages, %v; want 3", len(msgs), err)
	}
	step := func(what string, want int32, op func() error) {
		t.Helper()
		if err := op(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := s.n.Load(); got != want {
			t.Errorf("after %s the Settler ran %d times, want %d", what, got, want)
		}
	}
	step("Expunge of nothing", 0, func() error { _, err := inbox.Expunge(nil, nil); return err })
	step("Expunge", 1, func() error { _, err := inbox.Expunge([]uint32{msgs[0].UID}, nil); return err })
	step("Renumber", 2, func() error { _, _, err := inbox.Renumber([]uint32{msgs[1].UID}, nil); return err })
	step("Create", 2, func() error { return mb.Create("Archive") })
	step("Rename", 3, func() error { return mb.Rename("Archive", "Old") })
	step("Delete", 4, func() error { return mb.Delete("Old") })
	if n := stranger.n.Load(); n != 0 {
		t.Errorf("another mailbox's Settler ran %d times", n)
	}

	// Without a Settler: nothing to run, and nothing fails.
	bare, err := OpenMailbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := bare.Create("X"); err != nil {
		t.Fatal(err)
	}
	if err := bare.Delete("X"); err != nil {
		t.Errorf("Delete without a Settler: %v", err)
	}
}
