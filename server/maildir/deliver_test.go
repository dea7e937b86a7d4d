package maildir

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDeliverWritesLFAndSizesInName(t *testing.T) {
	root := filepath.Join(t.TempDir(), "bob")
	if err := Create(root); err != nil {
		t.Fatal(err)
	}
	msg := "Subject: hi\r\n\r\nline one\r\nline two\r\n"
	name, err := Deliver(root, strings.NewReader(msg), DeliverOptions{Prepend: []byte("Return-Path: <a@x.test>\r\n")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, New, name))
	if err != nil {
		t.Fatal(err)
	}
	want := "Return-Path: <a@x.test>\nSubject: hi\n\nline one\nline two\n"
	if string(got) != want {
		t.Fatalf("file = %q, want %q", got, want)
	}
	if s := sizeFromKey(name, "S"); s != int64(len(want)) {
		t.Errorf("S= in %q is %d, want %d", name, s, len(want))
	}
	if w := sizeFromKey(name, "W"); w != int64(len(want)+strings.Count(want, "\n")) {
		t.Errorf("W= in %q is %d, want the CRLF size %d", name, w, len(want)+strings.Count(want, "\n"))
	}
	if entries, _ := os.ReadDir(filepath.Join(root, Tmp)); len(entries) != 0 {
		t.Errorf("tmp/ not empty after delivery: %v", entries)
	}
}

func TestDeliverFixedUniqueIsFound(t *testing.T) {
	root := filepath.Join(t.TempDir(), "bob")
	if err := Create(root); err != nil {
		t.Fatal(err)
	}
	if _, found, err := Find(root, "1700000000.Q42R0.mx"); err != nil || found {
		t.Fatalf("Find before delivery = %v, %v; want not found", found, err)
	}
	name, err := Deliver(root, strings.NewReader("a\r\n"), DeliverOptions{Unique: "1700000000.Q42R0.mx"})
	if err != nil {
		t.Fatal(err)
	}
	// A reader moves it to cur/ with flags; it must still be found.
	if err := os.Rename(filepath.Join(root, New, name), filepath.Join(root, Cur, name+InfoPrefix+"S")); err != nil {
		t.Fatal(err)
	}
	p, found, err := Find(root, "1700000000.Q42R0.mx")
	if err != nil || !found || filepath.Base(filepath.Dir(p)) != Cur {
		t.Fatalf("Find after delivery = %q, %v, %v; want it in cur/", p, found, err)
	}
	if _, err := Deliver(root, strings.NewReader("a\r\n"), DeliverOptions{Unique: "bad/name"}); err == nil {
		t.Error("Deliver accepted a unique name with a slash")
	}
}

// TestDeliverRecreatesMissingMaildir: a Maildir removed by hand (or never
// made) is created again, with its three directories, and the message is in
// new/ with its content.
func TestDeliverRecreatesMissingMaildir(t *testing.T) {
	root := filepath.Join(t.TempDir(), "carol")
	name, err := Deliver(root, strings.NewReader("Subject: x\r\n\r\nhello\r\n"), DeliverOptions{})
	if err != nil {
		t.Fatalf("Deliver into a missing Maildir: %v", err)
	}
	for _, sub := range []string{Tmp, New, Cur} {
		if fi, err := os.Stat(filepath.Join(root, sub)); err != nil || !fi.IsDir() {
			t.Errorf("%s/ not created: %v", sub, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(root, New, name))
	if err != nil {
		t.Fatalf("the delivered message %q is not in new/: %v", name, err)
	}
	if string(b) != "Subject: x\n\nhello\n" {
		t.Errorf("new/%s holds %q, want the message with LF line endings", name, b)
	}
	if es, _ := os.ReadDir(filepath.Join(root, Tmp)); len(es) != 0 {
		t.Errorf("tmp/ still holds %d files after the delivery", len(es))
	}
}

func TestUniqueNamesDoNotCollide(t *testing.T) {
	now := time.Unix(1700000000, 0)
	seen := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				n := UniqueName(now)
				mu.Lock()
				if seen[n] {
					t.Errorf("duplicate unique name %q", n)
				}
				seen[n] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if strings.ContainsAny(UniqueName(now), "/:;,") {
		t.Errorf("unique name %q holds a separator", UniqueName(now))
	}
}

func TestLFWriterSplitsAnywhere(t *testing.T) {
	in := "a\r\nb\rc\r\n\r\nd\r"
	want := "a\nb\rc\n\nd\r"
	for cut := 0; cut <= len(in); cut++ {
		var buf bytes.Buffer
		w := &lfWriter{w: newBufWriter(&buf)}
		w.Write([]byte(in[:cut]))
		w.Write([]byte(in[cut:]))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if buf.String() != want {
			t.Errorf("cut at %d: %q, want %q", cut, buf.String(), want)
		}
		if w.size != int64(len(want)) || w.lines != 3 {
			t.Errorf("cut at %d: size %d lines %d, want %d and 3", cut, w.size, w.lines, len(want))
		}
	}
}

func TestCreateMakesFolders(t *testing.T) {
	root := filepath.Join(t.TempDir(), "alice")
	if err := Create(root); err != nil {
		t.Fatal(err)
	}
	for _, f := range append([]string{""}, Folders...) {
		for _, sub := range []string{Tmp, New, Cur} {
			if fi, err := os.Stat(filepath.Join(root, f, sub)); err != nil || !fi.IsDir() {
				t.Errorf("%s/%s missing: %v", f, sub, err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(root, ".Sent", FolderMarker)); err != nil {
		t.Errorf("no maildirfolder marker in .Sent: %v", err)
	}
	if !ValidUser("bob") || ValidUser("../x") || ValidUser("Bob") || ValidUser(".x") {
		t.Error("ValidUser accepts or refuses the wrong names")
	}
}

func newBufWriter(b *bytes.Buffer) *bufio.Writer { return bufio.NewWriter(b) }
