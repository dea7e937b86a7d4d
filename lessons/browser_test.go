package lessons

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/server/servertest"
)

// TestWebLessonInBrowser does lesson 11 as a student does: Chromium logs in
// to the lab's web mail, opens the inbox, reads Bob's message and sends him
// a reply through the compose page; the student only presses Enter at the
// web steps and types the answers. Every check reads the bridge's record
// of what the real page did.
func TestWebLessonInBrowser(t *testing.T) {
	bctx := servertest.Chromium(t, 3*time.Minute)
	l, err := Find("web-mail-bridge")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ws := NewWorkspace(t.TempDir(), l.Name)
	lab, err := StartLab(ctx, l.Lab, ws)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	base := lab.Placeholders()["web:crepes.test"]
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("web mail at %q", base)
	}

	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	step("log in as alice", chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#user"),
		chromedp.SendKeys("#user", "alice"), chromedp.SendKeys("#password", "hungry"),
		chromedp.Click("form.card button"), chromedp.WaitVisible("#list"))
	step("open Bob's message", chromedp.Click(`#list .subject a`), chromedp.WaitVisible("section.tab"))
	step("compose", chromedp.Navigate(base+"/compose"), chromedp.WaitVisible("#to"),
		chromedp.SendKeys("#to", "bob@crepes.test"), chromedp.SendKeys("#subject", "Re: Lunch"),
		chromedp.SendKeys("#body", "Noon is fine."), chromedp.Click("form.card button.primary"), chromedp.WaitVisible("#list"))

	// Enter at each web step, the answers at the ask steps.
	script := "\nselect\n\nstore\n\nMAIL FROM, RCPT TO, DATA\nappend\n"
	var out bytes.Buffer
	r := &Runner{Lesson: l, Out: render.New(&out, render.Options{}), Lab: lab, Dial: ExplorerDialer, Workspace: ws,
		In: &scriptLines{sc: bufio.NewScanner(strings.NewReader(script))}}
	res, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Completed {
		files, _ := filepath.Glob(filepath.Join(ws.LabDir("crepes.test"), "web", "transcripts", "*.txt"))
		for _, f := range files {
			data, _ := os.ReadFile(f)
			t.Logf("%s:\n%s", f, data)
		}
		t.Fatalf("the lesson did not complete:\n%s", out.String())
	}
	for _, s := range res.Steps {
		if s.Tries > 0 || s.Nudges > 0 {
			t.Errorf("step %s: %d tries, %d nudges: %s\n%s", s.Key, s.Tries, s.Nudges, s.Why, out.String())
		}
	}
	// The page, unlike the JSON API, marks the message read with STORE.
	b := &BridgeCheck{Domain: "crepes.test", User: "alice", Request: []string{"GET /m/INBOX/"}, Sent: []string{"UID FETCH", "UID STORE"}}
	if v := b.check(lab); !v.OK {
		t.Errorf("the page's message view: %s", v.Why)
	}
	b = &BridgeCheck{Domain: "crepes.test", User: "alice", Request: []string{"POST /send"}, Sent: []string{"AUTH PLAIN", "MAIL FROM:<alice@crepes.test>", "RCPT TO:<bob@crepes.test>", "DATA", `APPEND "Sent"`}}
	if v := b.check(lab); !v.OK {
		t.Errorf("the compose page: %s", v.Why)
	}
}
