package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/server/control"
	"github.com/mailx-edu/mailx/server/queue"
)

// queuedData makes a data directory whose queue holds one deferred message
// (to a remote address; no server delivers it) and returns it with the id.
func queuedData(t *testing.T) (string, string) {
	t.Helper()
	data := t.TempDir()
	q, err := queue.Open(queue.Options{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	w, _ := q.Begin()
	fmt.Fprintf(w, "Received: from pc by mx.test id %s\r\nSubject: for the queue test\r\n\r\nhi\r\n", w.ID())
	id, err := w.Commit(queue.Envelope{From: "alice@mx.test", To: []string{"bob@far.test"},
		Received: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), SessionID: "s3", Helo: "pc.test"})
	if err != nil {
		t.Fatal(err)
	}
	q.Close()
	return data, id
}

func TestQueueFlags(t *testing.T) {
	ios, _, _ := TestIO("")
	var got *queueShowOptions
	c := newQueueShowCmd(ios, func(_ context.Context, o *queueShowOptions) error { got = o; return nil })
	c.SetArgs([]string{"00063F2A1B2C3D4E", "--data", "/x", "--json"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.ID != "00063F2A1B2C3D4E" || got.Data != "/x" || !got.JSON {
		t.Errorf("options = %+v", got)
	}
	if code := Main([]string{"queue", "show"}, ios); code != ExitUsage {
		t.Errorf("queue show without ID exits %d, want %d", code, ExitUsage)
	}
}

func TestQueueCommandsOffline(t *testing.T) {
	data, id := queuedData(t)
	ios, out, errOut := TestIO("")
	if code := Main([]string{"queue", "list", "--data", data}, ios); code != 0 {
		t.Fatalf("list exit %d: %s", code, errOut)
	}
	for _, want := range []string{"1 message in the queue (no server running", id, "alice@mx.test", "    bob@far.test  pending"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("list output lacks %q:\n%s", want, out)
		}
	}

	ios, out, _ = TestIO("")
	if code := Main([]string{"queue", "show", strings.ToLower(id), "--data", data}, ios); code != 0 {
		t.Fatalf("show exit %d", code)
	}
	for _, want := range []string{"== message " + id, "  from: <alice@mx.test>", "  helo: pc.test", "Subject: for the queue test", "Received: from pc by mx.test id " + id} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("show output lacks %q:\n%s", want, out)
		}
	}

	ios, out, errOut = TestIO("")
	if code := Main([]string{"queue", "show", "0000000000000000", "--data", data}, ios); code != ExitFailure ||
		!strings.Contains(errOut.String(), "no message 0000000000000000 in the queue") || !strings.Contains(errOut.String(), "mailx queue list") {
		t.Errorf("show unknown: exit %d, stderr %q", code, errOut)
	}

	ios, out, _ = TestIO("")
	if code := Main([]string{"queue", "delete", id, "--data", data, "--json"}, ios); code != 0 || strings.TrimSpace(out.String()) != `{"deleted":"`+id+`"}` {
		t.Fatalf("delete: exit %d, %q", code, out)
	}
	ios, out, _ = TestIO("")
	if code := Main([]string{"queue", "list", "--data", data, "--json"}, ios); code != 0 || strings.TrimSpace(out.String()) != "[]" {
		t.Errorf("list --json of an empty queue: exit %d, %q", code, out)
	}
}

func TestQueueWithoutData(t *testing.T) {
	ios, _, errOut := TestIO("")
	dir := t.TempDir()
	if code := Main([]string{"queue", "list", "--data", dir}, ios); code != ExitFailure ||
		!strings.Contains(errOut.String(), "mailx serve has never run with this data directory") {
		t.Errorf("list on an empty directory: exit %d, %q", code, errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("list created %v in a directory that held no queue", entries)
	}
}

// serveQueue opens the queue on data and its control endpoint, as a
// running mailx serve does, until the test ends.
func serveQueue(t *testing.T, data string) *queue.Queue {
	t.Helper()
	q, err := queue.Open(queue.Options{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	s, err := control.Start(context.Background(), data, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	control.RegisterQueue(s, q)
	return q
}

func TestQueueCommandsThroughRunningServer(t *testing.T) {
	data, id := queuedData(t)
	q := serveQueue(t, data)

	ios, out, errOut := TestIO("")
	if code := Main([]string{"queue", "list", "--data", data, "--json"}, ios); code != 0 {
		t.Fatalf("list exit %d: %s", code, errOut)
	}
	var list []queue.Snapshot
	if err := json.Unmarshal(out.Bytes(), &list); err != nil || len(list) != 1 || list[0].ID != id || list[0].Recipients[0].Addr != "bob@far.test" {
		t.Fatalf("list --json = %s (%v)", out, err)
	}
	ios, out, _ = TestIO("")
	Main([]string{"queue", "list", "--data", data}, ios)
	if !strings.Contains(out.String(), "live, from the server running on") {
		t.Errorf("list did not say it asked the running server:\n%s", out)
	}
	ios, _, _ = TestIO("")
	if code := Main([]string{"queue", "delete", id, "--data", data}, ios); code != 0 {
		t.Fatalf("delete exit %d", code)
	}
	if len(q.List()) != 0 {
		t.Error("the running server's queue still holds the message")
	}
}
