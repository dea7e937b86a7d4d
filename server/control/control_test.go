package control

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/server/queue"
)

// queueWith opens a queue in data holding one message to a remote address
// (it stays queued: there is no remote deliverer and the queue is not
// started).
func queueWith(t *testing.T, data string) (*queue.Queue, string) {
	t.Helper()
	q, err := queue.Open(queue.Options{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	w, err := q.Begin()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "Subject: held for the test\r\n\r\nbody\r\n")
	id, err := w.Commit(queue.Envelope{From: "alice@mx.test", To: []string{"bob@far.test"}, Received: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return q, id
}

func TestQueueThroughRunningServer(t *testing.T) {
	data := t.TempDir()
	q, id := queueWith(t, data)
	ctx := context.Background()
	s, err := Start(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	RegisterQueue(s, q)
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Errorf("control endpoint on %s, want loopback", s.Addr())
	}
	if fi, err := os.Stat(filepath.Join(data, FileName)); err != nil || fi.Mode().Perm()&0o077 != 0 && os.PathSeparator == '/' {
		t.Errorf("control.json: %v %v", fi, err)
	}

	admin, err := OpenQueue(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	if !admin.Live() {
		t.Fatal("OpenQueue did not use the running server")
	}
	list, err := admin.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("List = %v, %v", list, err)
	}
	msg, err := admin.Show(ctx, id)
	if err != nil || !strings.Contains(msg.Header, "Subject: held for the test") || msg.Envelope.From != "alice@mx.test" {
		t.Fatalf("Show = %+v, %v", msg, err)
	}
	if err := admin.Hold(ctx, id); err != nil {
		t.Fatal(err)
	}
	if s, _ := q.Get(id); s.Recipients[0].State != queue.Held {
		t.Errorf("after hold: %s", s.Recipients[0].State)
	}
	if _, err := admin.Show(ctx, "0000000000000000"); !errors.Is(err, queue.ErrNotFound) {
		t.Errorf("Show(unknown) = %v, want ErrNotFound", err)
	}
	if err := admin.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if len(q.List()) != 0 {
		t.Error("message still queued after delete through the endpoint")
	}

	// Without the token, or with a wrong one, nothing happens.
	for _, auth := range []string{"", "Bearer nope"} {
		req, _ := http.NewRequest("POST", "http://"+s.Addr()+"/v1/"+CallQueueList, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("auth %q: status %d, want 401", auth, resp.StatusCode)
		}
	}
	c, _ := Dial(ctx, data)
	var ce *Error
	if err := c.Call(ctx, "queue.nonesuch", nil, nil); !errors.As(err, &ce) || ce.Code != "unknown_call" {
		t.Errorf("unknown call: %v", err)
	}

	s.Close()
	if _, err := os.Stat(filepath.Join(data, FileName)); !os.IsNotExist(err) {
		t.Errorf("control.json left after Close: %v", err)
	}
}

func TestQueueWithoutServer(t *testing.T) {
	data := t.TempDir()
	q, id := queueWith(t, data)
	ctx := context.Background()
	// A server that owns the queue but whose endpoint is gone (killed):
	// the stale control.json must not send us to a dead address, and the
	// lock must stop a second owner.
	os.WriteFile(filepath.Join(data, FileName), []byte(`{"addr":"127.0.0.1:1","token":"x"}`), 0o600)
	if _, err := OpenQueue(ctx, data); !errors.Is(err, queue.ErrLocked) {
		t.Fatalf("OpenQueue with the queue locked = %v, want ErrLocked", err)
	}
	q.Close()
	admin, err := OpenQueue(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if admin.Live() {
		t.Error("Live with no server")
	}
	list, err := admin.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("List = %v, %v", list, err)
	}
	if err := admin.Bounce(ctx, id, ""); err == nil {
		t.Error("offline bounce succeeded; it needs the server")
	}
}
