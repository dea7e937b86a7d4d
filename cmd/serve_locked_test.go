package cmd

import (
	"errors"
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/server"
	"github.com/mailx-edu/mailx/server/queue"
)

// TestServeErrorLockedDataDirectory: a second mailx serve on a data
// directory whose queue another process holds is told to stop the other
// one or choose another --data. The error is recognised by
// errors.Is(err, queue.ErrLocked), not by its text.
func TestServeErrorLockedDataDirectory(t *testing.T) {
	data := t.TempDir()
	q, err := queue.Open(queue.Options{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	_, err = server.New(server.Config{Data: data, SMTPAddr: "127.0.0.1:0", POP3Addr: "off", IMAPAddr: "off"})
	if !errors.Is(err, queue.ErrLocked) {
		t.Fatalf("server.New on a locked data directory: %v, want queue.ErrLocked", err)
	}
	cfg := server.Config{Data: data}
	for _, e := range []error{err, errors.Join(errors.New("worded differently"), queue.ErrLocked)} {
		var ue *UserError
		if !errors.As(serveError(e, cfg), &ue) || !strings.Contains(ue.Hint, "give this one its own --data directory") {
			t.Errorf("serveError(%v) = %+v, want the hint to stop the other server or use another --data", e, ue)
		}
	}
}
