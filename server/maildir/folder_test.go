package maildir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// deliver puts a message into root's new/ the way the queue does.
func deliver(t *testing.T, root, body string) string {
	t.Helper()
	name, err := Deliver(root, strings.NewReader(body), DeliverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// reopen forgets the shared Folder so the next OpenFolder reads the disk
// again, as after a server restart.
func reopen(t *testing.T, dir string) *Folder {
	t.Helper()
	abs, _ := filepath.Abs(dir)
	forget(abs)
	f, err := OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func newRoot(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "alice")
	if err := Create(root); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestFolderUIDsSurviveRestart(t *testing.T) {
	root := newRoot(t)
	deliver(t, root, "Subject: one\r\n\r\nfirst\r\n")
	deliver(t, root, "Subject: two\r\n\r\n.dot\r\nsecond\r\n")
	f := reopen(t, root)
	msgs, err := f.Messages()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].UID != 1 || msgs[1].UID != 2 {
		t.Fatalf("messages = %+v, want UIDs 1 and 2", msgs)
	}
	if want := int64(len("Subject: one\r\n\r\nfirst\r\n")); msgs[0].Size != want {
		t.Errorf("size = %d, want %d (octets with CRLF)", msgs[0].Size, want)
	}
	st1, _ := f.Status()
	if err := f.SeeNew(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Expunge([]uint32{1}, nil); err != nil {
		t.Fatal(err)
	}
	deliver(t, root, "Subject: three\r\n\r\nthird\r\n")

	f = reopen(t, root)
	msgs, _ = f.Messages()
	if len(msgs) != 2 || msgs[0].UID != 2 || msgs[1].UID != 3 {
		t.Fatalf("after restart: %+v, want UIDs 2 and 3", msgs)
	}
	st2, _ := f.Status()
	if st2.UIDValidity != st1.UIDValidity || st2.UIDNext != 4 {
		t.Errorf("status after restart = %+v, want same UIDVALIDITY %d and UIDNEXT 4", st2, st1.UIDValidity)
	}
	rc, m, err := f.Open(2)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "Subject: two\r\n\r\n.dot\r\nsecond\r\n" || int64(len(b)) != m.Size {
		t.Errorf("Open(2) = %q (%d octets, size says %d)", b, len(b), m.Size)
	}
}

func TestFlagsAreFileNames(t *testing.T) {
	root := newRoot(t)
	deliver(t, root, "Subject: x\n\nbody\n")
	f := reopen(t, root)
	var changes []Change
	if detach, err := f.Attach(func(uint32) func(Change) { return func(c Change) { changes = append(changes, c) } }); err != nil {
		t.Fatal(err)
	} else {
		defer detach()
	}
	out, err := f.SetFlags([]uint32{1}, Add, Seen|Flagged, "me")
	if err != nil || len(out) != 1 {
		t.Fatalf("SetFlags = %v, %v", out, err)
	}
	names, _ := readNames(filepath.Join(root, Cur))
	if len(names) != 1 || !strings.HasSuffix(names[0], InfoPrefix+"FS") {
		t.Fatalf("cur/ = %v, want a name ending in %q", names, InfoPrefix+"FS")
	}
	if len(changes) != 1 || changes[0].Kind != FlagsChanged || changes[0].Source != "me" {
		t.Errorf("changes = %+v", changes)
	}
	// Another program (mutt) marks it replied: a refresh picks that up.
	key, _, _ := SplitName(names[0])
	os.Rename(filepath.Join(root, Cur, names[0]), filepath.Join(root, Cur, key+InfoPrefix+"FRS"))
	f.mu.Lock()
	f.refreshLocked(true)
	f.mu.Unlock()
	msgs, _ := f.Messages()
	if msgs[0].Flags != Flagged|Replied|Seen {
		t.Errorf("flags = %v, want FRS", msgs[0].Flags)
	}
}

func TestForeignNamesAndBareLF(t *testing.T) {
	root := newRoot(t)
	os.WriteFile(filepath.Join(root, Cur, "1000.foreign.host;2,S"), []byte("A: b\n\nline\n"), 0o600)
	os.WriteFile(filepath.Join(root, Cur, ".hidden"), []byte("x"), 0o600)
	f := reopen(t, root)
	msgs, _ := f.Messages()
	if len(msgs) != 1 || msgs[0].Flags != Seen || msgs[0].Size != int64(len("A: b\r\n\r\nline\r\n")) {
		t.Fatalf("messages = %+v", msgs)
	}
	rc, _, err := f.Open(msgs[0].UID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "A: b\r\n\r\nline\r\n" {
		t.Errorf("Open = %q, want CRLF line ends", b)
	}
}

func TestAppendCopyAndNotify(t *testing.T) {
	root := newRoot(t)
	mb, err := OpenMailbox(root)
	if err != nil {
		t.Fatal(err)
	}
	inbox, _ := mb.Folder("inbox")
	sent, err := mb.Folder("Sent")
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	uid, err := inbox.Append(strings.NewReader("Subject: a\r\n\r\nhi\r\n"), Seen, date)
	if err != nil || uid != 1 {
		t.Fatalf("Append = %d, %v", uid, err)
	}
	src, dst, err := inbox.CopyTo([]uint32{1}, sent)
	if err != nil || len(src) != 1 || len(dst) != 1 || dst[0] != 1 {
		t.Fatalf("CopyTo = %v %v %v", src, dst, err)
	}
	msgs, _ := reopen(t, sent.Dir()).Messages()
	if len(msgs) != 1 || !msgs[0].Date.Equal(date) || msgs[0].Flags != Seen || msgs[0].Size != 18 {
		t.Fatalf("copied = %+v", msgs)
	}

	// A watcher sees a delivery within a second.
	inbox, _ = mb.Folder("INBOX")
	got := make(chan Change, 4)
	detach, _ := inbox.Attach(func(uint32) func(Change) { return func(c Change) { got <- c } })
	defer detach()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); inbox.Watch(stop) }()
	defer func() { close(stop); wg.Wait() }()
	deliver(t, root, "Subject: new\r\n\r\nx\r\n")
	Notify(root)
	select {
	case c := <-got:
		if c.Kind != Exists || c.Count != 2 {
			t.Errorf("change = %+v, want Exists 2", c)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no change within 2 s of a delivery")
	}
}

func TestFolderNames(t *testing.T) {
	for _, bad := range []string{"", "..", "../x", "a/b", `a\b`, "a\x00b", ".Sent", "Sent.", "a..b", "/etc", "C:x", "a\nb"} {
		if _, err := CheckName(bad); !errors.Is(err, ErrBadName) {
			t.Errorf("CheckName(%q) = %v, want ErrBadName", bad, err)
		}
	}
	for in, want := range map[string]string{"inbox": "INBOX", "Archive.2024": "Archive.2024", "inbox.x": "INBOX.x", "Reçus": "Reçus"} {
		if got, err := CheckName(in); err != nil || got != want {
			t.Errorf("CheckName(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	root := newRoot(t)
	mb, _ := OpenMailbox(root)
	if err := mb.Create("Archive.2024"); err != nil {
		t.Fatal(err)
	}
	if err := mb.Create("Archive.2024"); !errors.Is(err, ErrExistsF) {
		t.Errorf("second Create = %v", err)
	}
	list, _ := mb.List()
	var names []string
	for _, fi := range list {
		n := fi.Name
		if fi.NoSelect {
			n += "(noselect)"
		}
		names = append(names, n)
	}
	if got := strings.Join(names, " "); got != "INBOX Archive(noselect) Archive.2024 Drafts Junk Sent Trash" {
		t.Errorf("List = %s", got)
	}
	if err := mb.Rename("Archive", "Old"); !errors.Is(err, ErrNoFolder) {
		t.Errorf("Rename of a noselect level = %v", err)
	}
	if err := mb.Rename("Archive.2024", "Old"); err != nil {
		t.Fatal(err)
	}
	if err := mb.Delete("Old"); err != nil {
		t.Fatal(err)
	}
	if err := mb.Delete("INBOX"); !errors.Is(err, ErrInbox) {
		t.Errorf("Delete INBOX = %v", err)
	}
	list, _ = mb.List()
	if len(list) != 5 { // INBOX and the default folders: Drafts, Junk, Sent, Trash
		t.Errorf("after delete: %+v", list)
	}
	// RENAME INBOX moves its messages.
	deliver(t, root, "Subject: a\r\n\r\nx\r\n")
	if err := mb.Rename("INBOX", "Saved"); err != nil {
		t.Fatal(err)
	}
	in, _ := mb.Folder(Inbox)
	saved, _ := mb.Folder("Saved")
	a, _ := in.Messages()
	b, _ := saved.Messages()
	if len(a) != 0 || len(b) != 1 {
		t.Errorf("after RENAME INBOX: inbox %d, Saved %d messages", len(a), len(b))
	}
}

func TestUIDListIgnoresDamage(t *testing.T) {
	l, err := parseUIDList([]byte("mailx-uidlist 1 V7 N3\n1 10 9 0 a\nbroken\n2 x 1 0 b\n5 1 1 0 ../evil\n"))
	if err != nil {
		t.Fatal(err)
	}
	if l.validity != 7 || l.next != 3 || len(l.entries) != 1 {
		t.Errorf("parsed = %+v", l)
	}
	if _, err := parseUIDList([]byte("garbage\n")); err == nil {
		t.Error("a file without the header parsed")
	}
}

func TestFolderNamesModifiedUTF7(t *testing.T) {
	root := t.TempDir()
	// A Maildir from an older mailx: the folder directory in UTF-8.
	if err := createDir(filepath.Join(root, ".Alte Entwürfe")); err != nil {
		t.Fatal(err)
	}
	mb, err := OpenMailbox(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(mb.Migrated) != 1 || !strings.Contains(mb.Migrated[0], ".Alte Entw&APw-rfe") {
		t.Errorf("Migrated = %q", mb.Migrated)
	}
	if err := mb.Create("Entwürfe.2024"); err != nil {
		t.Fatal(err)
	}
	if err := mb.Create("a&b"); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{".Alte Entw&APw-rfe", ".Entw&APw-rfe.2024", ".a&-b"} {
		if !isMaildir(filepath.Join(root, dir)) {
			t.Errorf("no folder directory %s", dir)
		}
	}
	if err := mb.Rename("Entwürfe", "Brouillons"); err == nil {
		t.Error("RENAME of a missing folder succeeded")
	}
	if err := mb.Rename("Entwürfe.2024", "Küche"); err != nil {
		t.Fatal(err)
	}
	list, err := mb.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fi := range list {
		names = append(names, fi.Name)
	}
	got := strings.Join(names, "|")
	if got != "INBOX|Alte Entwürfe|Drafts|Junk|Küche|Sent|Trash|a&b" {
		t.Errorf("List = %s", got)
	}
	if !isMaildir(filepath.Join(root, ".K&APw-che")) {
		t.Error("RENAME did not name the directory in modified UTF-7")
	}
	// A second open has nothing left to migrate.
	if mb2, err := OpenMailbox(root); err != nil || len(mb2.Migrated) != 0 {
		t.Errorf("second open: %v, %q", err, mb2.Migrated)
	}
}

// TestUIDsSurviveStaleIndex: APPEND fsyncs the message and cur/ but not
// the index; each file carries its UID in its name. After a crash that
// left an older index, the messages keep their UIDs and no UID is given
// twice. Expunging a message whose UID only its name records makes the
// index durable first.
func TestUIDsSurviveStaleIndex(t *testing.T) {
	dir := t.TempDir()
	if err := createDir(dir); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	appendN := func(f *Folder, from, to int) {
		for i := from; i < to; i++ {
			if _, err := f.Append(strings.NewReader(fmt.Sprintf("Subject: %d\r\n\r\nx\r\n", i)), 0, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendN(f, 0, 3)
	old, err := os.ReadFile(filepath.Join(dir, UIDListName))
	if err != nil {
		t.Fatal(err)
	}
	appendN(f, 3, 6)
	// The crash: the index on disk is the old one (UIDNEXT 4), and the
	// process's memory is gone.
	if err := os.WriteFile(filepath.Join(dir, UIDListName), old, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, DovecotUIDListName))
	forget(dir)
	f2, err := OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := f2.Messages()
	if err != nil {
		t.Fatal(err)
	}
	var uids []uint32
	for _, m := range msgs {
		uids = append(uids, m.UID)
	}
	if fmt.Sprint(uids) != "[1 2 3 4 5 6]" {
		t.Errorf("UIDs after a crash with a stale index = %v, want [1 2 3 4 5 6]", uids)
	}
	if uid, err := f2.Append(strings.NewReader("Subject: new\r\n\r\nx\r\n"), 0, time.Time{}); err != nil || uid != 7 {
		t.Errorf("next APPEND got UID %d, %v; want 7", uid, err)
	}
	// UID 7 is recorded only in its name until the index is durable:
	// expunging it must make the index durable first.
	if _, err := f2.Expunge([]uint32{7}, nil); err != nil {
		t.Fatal(err)
	}
	if idx, _ := os.ReadFile(filepath.Join(dir, UIDListName)); !strings.Contains(string(idx), " N8\n") && !strings.Contains(string(idx), " N8 R") {
		t.Errorf("index after expunging UID 7 = %q: want UIDNEXT 8 on disk", idx)
	}
}
