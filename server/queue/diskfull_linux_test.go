//go:build linux

package queue

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
)

// copyTree copies the crash image src into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReplayOnAFullDiskWaitsForSpace: a crash leaves journaled messages
// whose Maildir copies never reached the disk, and the server restarts on a
// full disk. Open still succeeds, new mail is refused, nothing is lost; once
// space returns the replay runs by itself and each message arrives once.
func TestReplayOnAFullDiskWaitsForSpace(t *testing.T) {
	saved := replayRetryEvery
	replayRetryEvery = 50 * time.Millisecond
	t.Cleanup(func() { replayRetryEvery = saved })

	q := runningQueue(t, t.TempDir())
	ids := []string{commit(t, q, "carol@far.test", "bob@mx.test"), commit(t, q, "carol@far.test", "bob@mx.test", "alice@mx.test")}
	image := crashImage(t, q.opts.Data)
	// The copies vanished with the crash: the replay must write them all.
	for _, u := range []string{"bob", "alice"} {
		for _, p := range maildirFiles(t, image, u) {
			os.Remove(p)
		}
	}
	data := filepath.Join(testkit.SmallDisk(t, "48m"), "data")
	copyTree(t, image, data)
	filler := testkit.FillDisk(t, filepath.Dir(data))

	q2, err := Open(Options{Data: data, Resolve: localUsers, IsLocalDomain: isLocal})
	if err != nil {
		t.Fatalf("Open on a full disk: %v (the server must start)", err)
	}
	t.Cleanup(func() { q2.Close() })
	if !q2.ReplayPending() {
		t.Fatal("the replay could not have worked on a full disk, yet nothing is pending")
	}
	if _, err := q2.Begin(); !errors.Is(err, ErrReplayPending) {
		t.Errorf("Begin while the replay waits = %v, want ErrReplayPending", err)
	}
	q2.Start(context.Background())
	time.Sleep(3 * replayRetryEvery)
	if !q2.ReplayPending() {
		t.Fatal("the replay says it worked on a still-full disk")
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 30*time.Second, func() bool { return !q2.ReplayPending() },
		"the replay did not run after space returned")
	for user, want := range map[string][]string{"bob": ids, "alice": ids[1:]} {
		got := subjects(t, data, user)
		for _, id := range want {
			if got["test "+id] != 1 {
				t.Errorf("%s has message %s %d times, want once (all: %v)", user, id, got["test "+id], got)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s has %v, want exactly %v", user, got, want)
		}
	}
	commit(t, q2, "carol@far.test", "bob@mx.test") // new mail is taken again
}
