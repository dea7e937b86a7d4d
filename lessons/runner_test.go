package lessons

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/explore/render"
)

// scriptInput feeds lines as a student would type them.
type scriptInput struct{ lines []string }

func (s *scriptInput) ReadLine(prompt string) (string, error) {
	if len(s.lines) == 0 {
		return "", io.EOF
	}
	l := s.lines[0]
	s.lines = s.lines[1:]
	return l, nil
}

// fakeTalker answers each line with a status chosen by its first word.
type fakeTalker struct {
	replies map[string]string
	ended   bool
}

func (f *fakeTalker) Send(ctx context.Context, typed string) (*Exchange, error) {
	verb := strings.ToUpper(strings.Fields(typed + " x")[0])
	st, ok := f.replies[verb]
	if !ok {
		st = "500"
	}
	if verb == "QUIT" {
		f.ended = true
	}
	state := "connected"
	if st == "250" {
		state = "greeted"
	}
	return &Exchange{Typed: typed, Sent: []string{typed}, Status: st, Response: []string{st + " fake"}, Verb: verb, State: state}, nil
}
func (f *fakeTalker) Prompt() string { return "smtp:fake" }
func (f *fakeTalker) Ended() bool    { return f.ended }
func (f *fakeTalker) Drop() error    { f.ended = true; return nil }
func (f *fakeTalker) Close() error   { return nil }

type fakeLab struct{ dir string }

func (l fakeLab) DataDir(domain string) string                { return filepath.Join(l.dir, domain) }
func (l fakeLab) Queue(string) ([]QueueEntry, error)          { return nil, nil }
func (l fakeLab) Addr(kind, domain string) string             { return "127.0.0.1:1" }
func (l fakeLab) Placeholders() map[string]string             { return map[string]string{"dns": "127.0.0.1:53"} }
func (l fakeLab) Do(ctx context.Context, action string) error { return nil }
func (l fakeLab) Close() error                                { return nil }

const fakeLesson = `name: fake
title: Fake
order: 1
lab:
  domains:
    - name: hill.test
      users: ["jill:water"]
steps:
  - id: helo
    title: Greet
    text: "HELO town.test (DNS at {dns})"
    talk: smtp hill.test
    expect:
      state: greeted
    hint: Type HELO town.test
    hints:
      - when: {reply: "500"}
        hint: That is no SMTP command.
    explain: Greeted.
  - id: lookup
    title: Lookup
    run: mx lookup
    expect:
      exit: 0
      mx: "10 mx.hill.test"
    hint: mailx mx lookup hill.test
    explain: Looked up.
  - id: arrived
    title: Arrived
    check: true
    expect:
      mailbox:
        address: jill@hill.test
        headers:
          Subject: 'water'
    hint: Not there.
    explain: There.
answers:
  right:
    - name: as-shown
      script: |
        HELO town.test
        mailx mx lookup hill.test
  wrong:
    - name: not-a-command
      step: helo
      hint: That is no SMTP command.
      script: BLAH
`

func newFakeRunner(t *testing.T, input ...string) (*Runner, *bytes.Buffer, string) {
	t.Helper()
	l, err := Parse("fake.yaml", []byte(fakeLesson))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var out bytes.Buffer
	r := &Runner{
		Lesson: l, Out: render.New(&out, render.Options{}), In: &scriptInput{lines: input},
		Lab: fakeLab{dir: dir},
		Dial: func(ctx context.Context, tk Talk, addr string, out *render.Renderer) (Talker, error) {
			return &fakeTalker{replies: map[string]string{"HELO": "250", "QUIT": "221"}}, nil
		},
		RunCommand: func(ctx context.Context, args []string, wd string, w io.Writer) int {
			fmt.Fprintf(w, "hill.test.  300  IN  MX  10 mx.hill.test. (%s)\n", strings.Join(args, " "))
			return 0
		},
		Workspace: NewWorkspace(dir, "fake"),
	}
	return r, &out, dir
}

func deliver(t *testing.T, dataDir, user, subject string) {
	t.Helper()
	nd := filepath.Join(dataDir, "mail", user, "new")
	if err := os.MkdirAll(nd, 0o700); err != nil {
		t.Fatal(err)
	}
	msg := "From: jack@town.test\r\nSubject: " + subject + "\r\n\r\nhello\r\n"
	if err := os.WriteFile(filepath.Join(nd, "1.M1P1.test"), []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestRunnerCompletesAndHintsOnWrongTry(t *testing.T) {
	r, out, dir := newFakeRunner(t, "BLAH wrong", `\hint`, "HELO town.test", "dig hill.test MX", "mailx mx lookup hill.test")
	deliver(t, filepath.Join(dir, "hill.test"), "jill", "pail of water")
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Completed || res.Passed != 3 {
		t.Fatalf("result = %+v\n%s", res, out)
	}
	got := out.String()
	for _, want := range []string{
		"== Step 1 of 3: Greet", "HELO town.test (DNS at 127.0.0.1:53)",
		"warning: Not yet: the session is now connected but not yet greeted", "note: hint: That is no SMTP command.",
		"ok: Greet", "warning: Not yet: this step asks you to run a 'mailx mx lookup ...' command",
		"hill.test.  300  IN  MX  10 mx.hill.test. (mx lookup hill.test)", "ok: Lesson complete",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "note: hint: That is no SMTP command."); n != 2 {
		t.Errorf("\\hint after a wrong try should repeat that try's hint: shown %d times\n%s", n, got)
	}
	if res.Steps[0].Tries != 1 || res.Steps[1].Tries != 1 || res.Steps[2].Tries != 0 {
		t.Errorf("tries = %+v", res.Steps)
	}
	p, err := r.Workspace.LoadProgress("fake")
	if err != nil || !p.Completed || !p.Steps["helo"] || !p.Steps["arrived"] {
		t.Errorf("progress = %+v, %v", p, err)
	}
}

func TestRunnerStopsWhenInputEnds(t *testing.T) {
	r, out, _ := newFakeRunner(t, "NOOP")
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Completed || res.Passed != 0 || len(res.Steps) != 3 || res.StoppedAt != 1 || res.Steps[0].Why == "" {
		t.Fatalf("result = %+v", res)
	}
	if !strings.Contains(out.String(), "Lesson stopped at step 1 of 3") {
		t.Errorf("output:\n%s", out)
	}
}

func TestRunnerFailedCheckIsReported(t *testing.T) {
	r, out, _ := newFakeRunner(t, "HELO x", "mx lookup hill.test")
	r.Lesson.Steps[2].Expect.Within = 1 // poll once
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Completed || res.Passed != 2 {
		t.Fatalf("result = %+v", res)
	}
	if !strings.Contains(out.String(), "the mailbox of jill@hill.test is empty") {
		t.Errorf("output:\n%s", out)
	}
}

func TestSplitCommandLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`mx lookup hill.test`, []string{"mx", "lookup", "hill.test"}},
		{`smtp send --subject "Crêpe time" --body 'it''s'`, []string{"smtp", "send", "--subject", "Crêpe time", "--body", "its"}},
		{`a\ b "c\"d"`, []string{"a b", `c"d`}},
		{`  `, nil},
	} {
		got, err := SplitCommandLine(tc.in)
		if err != nil || strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("SplitCommandLine(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := SplitCommandLine(`say "unclosed`); err == nil {
		t.Error("unclosed quote accepted")
	}
}

func TestGradeReplaysRecords(t *testing.T) {
	r, _, dir := newFakeRunner(t, "BLAH wrong", "HELO town.test", "mx lookup hill.test")
	deliver(t, filepath.Join(dir, "hill.test"), "jill", "pail of water")
	if res, err := r.Run(context.Background()); err != nil || !res.Completed {
		t.Fatalf("run: %+v %v", res, err)
	}
	g, err := Grade(context.Background(), r.Lesson, r.Workspace, r.Lab)
	if err != nil {
		t.Fatal(err)
	}
	if !g.Completed || g.Passed != 3 || g.Steps[0].Tries != 2 {
		t.Fatalf("grade = %+v", g)
	}
	// The mailbox is emptied after the lesson: the final check fails on regrade.
	os.RemoveAll(filepath.Join(dir, "hill.test", "mail", "jill", "new"))
	g, err = Grade(context.Background(), r.Lesson, r.Workspace, r.Lab)
	if err != nil {
		t.Fatal(err)
	}
	if g.Completed || g.Passed != 2 || g.Steps[2].OK || !strings.Contains(g.Steps[2].Why, "empty") {
		t.Errorf("regrade = %+v", g)
	}
}

func TestGradeUnattempted(t *testing.T) {
	r, _, _ := newFakeRunner(t)
	g, err := Grade(context.Background(), r.Lesson, r.Workspace, r.Lab)
	if err != nil {
		t.Fatal(err)
	}
	if g.Completed || g.Passed != 0 || g.Steps[0].Why != "not attempted" {
		t.Errorf("grade = %+v", g)
	}
}
