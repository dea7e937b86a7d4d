package lessons

import (
	"bufio"
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/explore/render"
)

// playPart runs lesson l from the workspace ws with script, starting (or
// resuming) a lab the way `mailx lessons start` does.
func playPart(t *testing.T, l *Lesson, ws Workspace, resume bool, script string) (*Result, string, map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := ws.LoadProgress(l.Name)
	if err != nil {
		t.Fatal(err)
	}
	lab, err := StartLabWith(ctx, l.Lab, ws, LabOptions{Keep: resume, Addrs: p.Addrs})
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	var out bytes.Buffer
	r := &Runner{Lesson: l, Out: render.New(&out, render.Options{}), Lab: lab, Dial: ExplorerDialer, Workspace: ws,
		In: &scriptLines{sc: bufio.NewScanner(strings.NewReader(script))}, RunCommand: commandRunner(t, ws.Dir), Resume: resume}
	res, err := r.Run(ctx)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	return res, out.String(), lab.Placeholders()
}

// TestQuitAndResume quits lesson 2 after the message was sent and starts it
// again: it continues at the same step, on the same ports, with Jill's
// mailbox as it was, and completes without sending the message again.
func TestQuitAndResume(t *testing.T) {
	l, err := Find("smtp-by-hand")
	if err != nil {
		t.Fatal(err)
	}
	ws := NewWorkspace(t.TempDir(), l.Name)
	res, out, addrs := playPart(t, l, ws, false, "HELO town.test\nMAIL FROM:<jack@town.test>\nRCPT TO:<jill@hill.test>\nDATA\nHello Jill\n.\n\\quit\n")
	if res.Completed || res.StoppedAt != 6 || res.Passed != 5 {
		t.Fatalf("first part: %+v\n%s", res, out)
	}
	if !strings.Contains(out, "Lesson stopped at step 6 of 7") || !strings.Contains(out, "continues here") {
		t.Errorf("the stop does not say that progress is saved:\n%s", out)
	}
	p, err := ws.LoadProgress(l.Name)
	if err != nil || !p.Resumable(l) || p.Step != 5 || p.Done(l) != 5 {
		t.Fatalf("progress = %+v, %v", p, err)
	}

	res, out, addrs2 := playPart(t, l, ws, true, "QUIT\n")
	if !res.Completed || res.Passed != 7 {
		t.Fatalf("resumed: %+v\n%s", res, out)
	}
	if !strings.Contains(out, "Continuing at step 6 of 7 (Say goodbye)") || strings.Contains(out, "Step 1 of 7") {
		t.Errorf("the lesson did not continue at step 6:\n%s", out)
	}
	for _, k := range []string{"smtp:hill.test", "pop3:hill.test", "dns"} {
		// The ports were free a moment ago: the resumed lab must take them
		// again, so that commands in the shell's history still work.
		if addrs2[k] != addrs[k] {
			t.Errorf("the %s address changed from %s to %s", k, addrs[k], addrs2[k])
		}
	}
	msgs, err := ReadMailbox(ws.LabDir("hill.test"), "jill", "")
	if err != nil || len(msgs) != 1 {
		t.Errorf("Jill's mailbox after resuming holds %d message(s), %v; want the 1 sent before quitting", len(msgs), err)
	}
	g, err := Grade(context.Background(), l, ws, StoredLab(ws))
	if err != nil || !g.Completed {
		t.Errorf("grade after a resumed lesson = %+v, %v", g, err)
	}
}

// TestBackRedoesTheSession goes back from the middle of an SMTP session: the
// lesson returns to the session's first step on a new connection.
func TestBackRedoesTheSession(t *testing.T) {
	l, err := Find("smtp-by-hand")
	if err != nil {
		t.Fatal(err)
	}
	ws := NewWorkspace(t.TempDir(), l.Name)
	script := "HELO town.test\nMAIL FROM:<jack@town.test>\n\\back\nEHLO town.test\nMAIL FROM:<jack@town.test>\nRCPT TO:<jill@hill.test>\nDATA\nHi\n.\nQUIT\n"
	res, out, _ := playPart(t, l, ws, false, script)
	if !res.Completed {
		t.Fatalf("not completed: %+v\n%s", res, out)
	}
	if !strings.Contains(out, "Back to step 1 of 7 (Say hello)") || strings.Count(out, "== Connected to") != 2 {
		t.Errorf("\\back did not restart the session at step 1:\n%s", out)
	}
}

// TestNewConnectionIsNoDeadEnd: QUIT in the middle of a transaction closes
// the session; the lesson reconnects, says so, and the student carries on.
func TestNewConnectionIsNoDeadEnd(t *testing.T) {
	l, err := Find("smtp-by-hand")
	if err != nil {
		t.Fatal(err)
	}
	ws := NewWorkspace(t.TempDir(), l.Name)
	script := "HELO town.test\nMAIL FROM:<jack@town.test>\nQUIT\nHELO town.test\nMAIL FROM:<jack@town.test>\nRCPT TO:<jill@hill.test>\nDATA\nHi\n.\nQUIT\n"
	res, out, _ := playPart(t, l, ws, false, script)
	if !res.Completed {
		t.Fatalf("not completed: %+v\n%s", res, out)
	}
	for _, want := range []string{"This is a new connection", "from step 1", "That worked. The session is now"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, s := range res.Steps {
		if s.Tries > 0 {
			t.Errorf("step %s counted %d wrong tries for commands that worked", s.Key, s.Tries)
		}
	}
}
