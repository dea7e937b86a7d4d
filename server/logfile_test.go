package server

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The log is bounded: past the limit it becomes mailx.log.1 and a new
// mailx.log starts, so at most two files of about max bytes remain.
func TestRotatingLogBoundsTheLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mailx.log")
	l, err := openRotatingLog(path, 1000)
	if err != nil {
		t.Fatal(err)
	}
	line := append(bytes.Repeat([]byte("x"), 99), '\n')
	for i := 0; i < 55; i++ {
		if _, err := l.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	cur, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.Stat(path + ".1")
	if err != nil {
		t.Fatalf("no mailx.log.1 after 5,500 bytes with a 1,000-byte limit: %v", err)
	}
	if cur.Size() != 500 || old.Size() != 1000 {
		t.Errorf("sizes: mailx.log %d, mailx.log.1 %d; want 500 and 1000 (whole lines, never past the limit)", cur.Size(), old.Size())
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "mailx.log*")); len(m) != 2 {
		t.Errorf("files: %v, want mailx.log and mailx.log.1 only", m)
	}

	// Reopening continues the file and counts what is already there.
	l, err = openRotatingLog(path, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		l.Write(line)
	}
	l.Close()
	if cur, _ := os.Stat(path); cur.Size() != 100 {
		t.Errorf("after reopening and 600 more bytes: mailx.log is %d bytes, want 100 (rotated at 1,000)", cur.Size())
	}

	// Negative never rotates.
	u := filepath.Join(dir, "unlimited.log")
	l, err = openRotatingLog(u, -1)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		l.Write(line)
	}
	l.Close()
	if st, _ := os.Stat(u); st.Size() != 3000 {
		t.Errorf("unlimited log: %d bytes, want 3000", st.Size())
	}
	if _, err := os.Stat(u + ".1"); err == nil {
		t.Error("an unlimited log was rotated")
	}
}
