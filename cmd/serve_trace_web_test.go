package cmd

import (
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/note"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// A web mail session's lines reach `mailx serve --trace` explained by the
// bridge (its first event is HTTP, so the trace has no annotator of its
// own for it): the trace prints the notes the events carry.
func TestTraceRendererPrintsTheBridgesNotes(t *testing.T) {
	var b strings.Builder
	tr := newTraceRenderer(render.New(&b, render.Options{}))
	for _, ev := range []transcript.Event{
		{Proto: "http", Dir: transcript.Meta, Line: "connect web session for alice from 127.0.0.1:40000"},
		{Proto: "imap", Dir: transcript.Client, Line: "T3 SELECT INBOX",
			Notes: []note.Note{{Summary: "SELECT opens a mailbox read-write"}}},
		{Proto: "imap", Dir: transcript.Server, Line: "T3 OK [READ-WRITE] SELECT completed",
			Notes: []note.Note{{Summary: "the mailbox is open; FETCH may follow"}}},
		{Proto: "http", Dir: transcript.Meta, Line: "http GET /f/INBOX -> 200 (3.1 ms)"},
		{Proto: "smtp", Dir: transcript.Client, Line: "MAIL FROM:<alice@mailx.test>"},
	} {
		ev.Session = "w1"
		tr.hook(ev)
	}
	out := b.String()
	for _, want := range []string{
		"[w1] # connect web session for alice",
		"[w1] C: T3 SELECT INBOX",
		"SELECT opens a mailbox read-write",
		"the mailbox is open; FETCH may follow",
		"[w1] C: MAIL FROM:<alice@mailx.test>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "SELECT opens") < strings.Index(out, "C: T3 SELECT") {
		t.Errorf("the note comes before its line:\n%s", out)
	}
}
