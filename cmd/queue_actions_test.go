package cmd

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/server/queue"
)

func TestQueueActionFlags(t *testing.T) {
	ios, _, _ := TestIO("")
	var got *queueActionOptions
	c := newQueueActionCmd(ios, "bounce", func(_ context.Context, o *queueActionOptions) error { got = o; return nil })
	c.SetArgs([]string{"00063F2A1B2C3D4E", "--reason", "554 5.0.0 no", "--data", "/x", "--json"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.ID != "00063F2A1B2C3D4E" || got.Reason != "554 5.0.0 no" || got.Data != "/x" || !got.JSON || got.Action != "bounce" {
		t.Errorf("options = %+v", got)
	}
	for _, args := range [][]string{{"queue", "bounce"}, {"queue", "retry", "a", "b"}, {"queue", "hold", "--reason", "x"}} {
		ios, _, _ := TestIO("")
		if code := Main(args, ios); code != ExitUsage {
			t.Errorf("%q exits %d, want %d", args, code, ExitUsage)
		}
	}
}

// TestQueueActions drives hold, release, retry and bounce through a
// running queue's control endpoint and checks the recipient's state after
// each.
func TestQueueActions(t *testing.T) {
	data, id := queuedData(t)
	q := serveQueue(t, data)
	state := func() queue.State {
		snap, err := q.Get(id)
		if err != nil {
			return "gone"
		}
		return snap.Recipients[0].State
	}
	steps := []struct {
		args []string
		want queue.State
		out  string
	}{
		{[]string{"queue", "hold", id}, queue.Held, "is on hold"},
		{[]string{"queue", "release"}, queue.Pending, "held recipients of every queued message are released"},
		{[]string{"queue", "retry", id}, queue.Pending, "are due now"},
		{[]string{"queue", "bounce", id, "--reason", "554 5.0.0 the party is off"}, "gone", "is returned to its sender"},
	}
	for _, st := range steps {
		ios, out, errOut := TestIO("")
		if code := Main(append(st.args, "--data", data), ios); code != 0 {
			t.Fatalf("%q: exit %d: %s", st.args, code, errOut)
		}
		if !strings.Contains(out.String(), st.out) || strings.Contains(out.String(), "no server is running") {
			t.Errorf("%q printed %q, want %q (through the running server)", st.args, out, st.out)
		}
		if got := state(); got != st.want {
			t.Errorf("after %q the recipient is %s, want %s", st.args, got, st.want)
		}
	}
	ios, _, errOut := TestIO("")
	if code := Main([]string{"queue", "retry", id, "--data", data}, ios); code != ExitFailure || !strings.Contains(errOut.String(), "no message "+id) {
		t.Errorf("retry of a bounced message: exit %d, %q", code, errOut)
	}
}

func TestQueueActionOffline(t *testing.T) {
	data, id := queuedData(t)
	ios, out, errOut := TestIO("")
	if code := Main([]string{"queue", "hold", id, "--data", data, "--json"}, ios); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res queueActionResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Action != "hold" || res.ID != id || res.Live {
		t.Errorf("--json = %q (%v)", out, err)
	}
	q, err := queue.Open(queue.Options{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if snap, _ := q.Get(id); snap.Recipients[0].State != queue.Held {
		t.Errorf("hold without a server was not saved: %s", snap.Recipients[0].State)
	}
}
