package cmd

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
)

func TestLessonsFlags(t *testing.T) {
	ios, _, _ := TestIO("")
	var got *lessonsStartOptions
	c := newLessonsStartCmd(ios, func(_ context.Context, o *lessonsStartOptions) error { got = o; return nil })
	c.SetArgs([]string{"pop3", "--reset", "--script", "a.txt"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Name != "pop3" || !got.Reset || got.Script != "a.txt" {
		t.Errorf("opts = %+v", got)
	}
}

func TestLessonsListJSON(t *testing.T) {
	ios, out, _ := TestIO("")
	home := t.TempDir()
	ios.Env = func(k string) string {
		if k == "MAILX_HOME" {
			return home
		}
		return ""
	}
	if code := run(context.Background(), []string{"lessons", "--json"}, ios); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	var list []lessonListEntry
	if err := json.Unmarshal(out.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) < 12 || list[1].Name != "smtp-by-hand" || list[1].Steps == 0 || list[1].Completed {
		t.Errorf("list = %+v", list)
	}
}

func TestLessonsValidateBinary(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: Bad Name\ntitle: x\nsteps:\n  - title: one\n    talk: smtp nowhere.test\n    expect:\n      reply: \"99\"\n"), 0o644)
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("name: good\ntitle: Good\nsteps:\n  - title: read me\n    read: true\n    explain: fine\nanswers:\n  right:\n    - name: read\n"), 0o644)
	noAnswers := filepath.Join(dir, "no-answers.yaml")
	os.WriteFile(noAnswers, []byte("name: greet\ntitle: Greet\nlab:\n  domains:\n    - name: hill.test\nsteps:\n  - title: hello\n    talk: smtp hill.test\n    expect:\n      state: greeted\n"), 0o644)

	c := exec.Command(bin, "lessons", "validate", good, bad, noAnswers)
	out, err := c.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != ExitFailure {
		t.Fatalf("exit = %v, want 1\n%s", err, out)
	}
	for _, want := range []string{"good.yaml: a valid lesson with 1 steps", "bad.yaml:1: name \"Bad Name\"",
		"bad.yaml:5: talk names domain \"nowhere.test\"", "bad.yaml:7: expect.reply \"99\"",
		"no-answers.yaml:1: the lesson has no answer scripts", "2 of 3 lesson file(s) have mistakes"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code := exec.Command(bin, "lessons", "validate").Run().(*exec.ExitError).ExitCode(); code != ExitUsage {
		t.Errorf("validate without files: exit %d, want 2", code)
	}
}

// TestLessonsStartScriptedBinary completes a lesson from a script through the
// real binary, then grades it.
func TestLessonsStartScriptedBinary(t *testing.T) {
	bin := buildBinary(t)
	home := t.TempDir()
	env := append(os.Environ(), "MAILX_HOME="+home, "NO_COLOR=1")
	script := filepath.Join(home, "answers.txt")
	os.WriteFile(script, []byte("ehlo laptop.crepes.test\nstarttls\nHELO laptop\n"), 0o644)
	c := exec.Command(bin, "lessons", "start", "starttls", "--script", script)
	c.Env = env
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	for _, want := range []string{"== Lesson 10: STARTTLS", "C: starttls", "S: 220", "ok: Lesson complete"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	checkCompleted(t, bin, env, "starttls", 3)

	for _, f := range []struct{ format, want string }{
		{"junit", `<testsuite name="mailx lessons starttls" tests="3" failures="0">`},
		{"gradescope", `"max_score": 1`},
	} {
		c = exec.Command(bin, "lessons", "check", "starttls", "--format", f.format)
		c.Env = env
		out, err = c.Output()
		if err != nil || !strings.Contains(string(out), f.want) {
			t.Errorf("check --format %s: %v\n%s", f.format, err, out)
		}
	}
	var gs struct {
		Score float64
		Tests []struct {
			Name     string
			Score    float64
			MaxScore float64 `json:"max_score"`
			Output   string
		}
	}
	c = exec.Command(bin, "lessons", "check", "starttls", "--format", "gradescope")
	c.Env = env
	out, _ = c.Output()
	if err := json.Unmarshal(out, &gs); err != nil || gs.Score != 3 || len(gs.Tests) != 3 || gs.Tests[0].MaxScore != 1 || gs.Tests[0].Name == "" {
		t.Errorf("gradescope results = %s (%v)", out, err)
	}

	// An unfinished script: exit 1, and check says what is missing.
	c = exec.Command(bin, "lessons", "start", "starttls", "--reset")
	c.Env, c.Stdin = env, strings.NewReader("EHLO me\n")
	if err := c.Run(); err == nil || err.(*exec.ExitError).ExitCode() != ExitFailure {
		t.Errorf("unfinished lesson: %v, want exit 1", err)
	}
	c = exec.Command(bin, "lessons", "check", "starttls")
	c.Env = env
	out, _ = c.CombinedOutput()
	if c.ProcessState.ExitCode() != ExitFailure || !strings.Contains(string(out), "not attempted") {
		t.Errorf("check of unfinished lesson: exit %d\n%s", c.ProcessState.ExitCode(), out)
	}
	c = exec.Command(bin, "lessons", "check", "starttls", "--format", "junit")
	c.Env = env
	out, _ = c.Output()
	if c.ProcessState.ExitCode() != ExitFailure || !strings.Contains(string(out), `failures="2"`) || !strings.Contains(string(out), "<failure message=") {
		t.Errorf("junit of unfinished lesson: exit %d\n%s", c.ProcessState.ExitCode(), out)
	}

	// Started again, it continues at step 2 on the same lab.
	c = exec.Command(bin, "lessons")
	c.Env = env
	out, _ = c.Output()
	if !strings.Contains(string(out), "1/3 done") || !strings.Contains(string(out), "continues at step 2") {
		t.Errorf("list after stopping at step 2:\n%s", out)
	}
	c = exec.Command(bin, "lessons", "start", "starttls")
	c.Env, c.Stdin = env, strings.NewReader("STARTTLS\n")
	out, _ = c.CombinedOutput()
	if !strings.Contains(string(out), "Continuing at step 2 of 3") || strings.Contains(string(out), "Step 1 of 3") {
		t.Errorf("the second start did not continue at step 2:\n%s", out)
	}
}

func TestLessonsFormatBinary(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "lessons", "format").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Writing mailx lessons", "### expect: talk steps", "## Answer scripts", "--format gradescope"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("lessons format lacks %q", want)
		}
	}
}

// TestLessonsValidateRunBinary plays the answer scripts of the example in the
// format guide (so the guide's example is a working lesson), then of a copy
// whose wrong answer expects a hint that never comes.
func TestLessonsValidateRunBinary(t *testing.T) {
	bin := buildBinary(t)
	doc, err := os.ReadFile("../lessons/README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "```yaml\n")
	example, _, _ := strings.Cut(rest, "```")
	dir := t.TempDir()
	good := filepath.Join(dir, "greet.yaml")
	os.WriteFile(good, []byte(example), 0o644)
	c := exec.Command(bin, "lessons", "validate", "--run", good)
	c.Env = append(os.Environ(), "NO_COLOR=1", "MAILX_HOME="+dir)
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("validate --run of the guide's example: %v\n%s", err, out)
	}
	for _, want := range []string{`right answer "helo" behaves as it should`, `right answer "ehlo-lower-case" behaves as it should`, `wrong answer "no-greeting" behaves as it should`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(example, "hint: the server wants HELO or EHLO first", "hint: a hint nobody wrote", 1)), 0o644)
	c = exec.Command(bin, "lessons", "validate", "--run", bad)
	c.Env = append(os.Environ(), "NO_COLOR=1", "MAILX_HOME="+dir)
	out, err = c.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != ExitFailure || !strings.Contains(string(out), `wrong answer "no-greeting": the output does not show the hint "a hint nobody wrote"`) {
		t.Errorf("validate --run with a broken answer: %v\n%s", err, out)
	}
}

// TestLessonsReport: --report writes the lesson's talk sessions as a lab
// report, with the password of AUTH hidden, and a bad name is refused
// before the lab starts.
func TestLessonsReport(t *testing.T) {
	bin := buildBinary(t)
	home := t.TempDir()
	env := append(os.Environ(), "MAILX_HOME="+home, "NO_COLOR=1")
	script := filepath.Join(home, "answers.txt")
	os.WriteFile(script, []byte("ehlo laptop.crepes.test\nstarttls\nHELO laptop\n"), 0o644)
	rep := filepath.Join(home, "lesson10.md")
	c := exec.Command(bin, "lessons", "start", "starttls", "--script", script, "--report", rep)
	c.Env = env
	if out, err := c.CombinedOutput(); err != nil || !strings.Contains(string(out), "the lesson's sessions are in "+rep) {
		t.Fatalf("start --report: %v\n%s", err, out)
	}
	b, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Lesson: STARTTLS", "C: ehlo laptop.crepes.test", "C: starttls", "S: 220"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the report lacks %q:\n%s", want, b)
		}
	}
	c = exec.Command(bin, "lessons", "start", "starttls", "--script", script, "--report", filepath.Join(home, "lab.txt"))
	c.Env = env
	if out, err := c.CombinedOutput(); err == nil || !strings.Contains(string(out), "must end in .html or .md") || strings.Contains(string(out), "starting the lab") {
		t.Errorf("a bad report name: %v\n%s", err, out)
	}
}

// TestLessonsWebMailBinary does lesson 11 from a script through the real
// binary: curl logs in to the lab's web mail with a cookie and opens the
// inbox and a message as a browser would, sends through the JSON API, and
// the answers are checked against the bridge's transcripts; the grader
// then reads the same transcripts from disk.
func TestLessonsWebMailBinary(t *testing.T) {
	testkit.NeedCommand(t, "curl", "curl") // the web mail lesson's scripts use it
	bin := buildBinary(t)
	home := t.TempDir()
	env := append(os.Environ(), "MAILX_HOME="+home, "NO_COLOR=1")
	script := filepath.Join(home, "answers.txt")
	os.WriteFile(script, []byte(`curl -s -o inbox.html -L -c jar.txt -b jar.txt -H 'Origin: {web:crepes.test}' -d user=alice -d password=hungry {web:crepes.test}/login
FETCH
select
curl -s -o msg.html -b jar.txt {web:crepes.test}/m/INBOX/1
uid store
curl -s -u alice:hungry -H 'Content-Type: application/json' -d '{"to":["bob@crepes.test"],"subject":"Noon","text":"See you"}' {web:crepes.test}/api/v1/send
mail from, rcpt to, data
append
`), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, bin, "lessons", "start", "web-mail-bridge", "--script", script)
	c.Env = env
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	for _, want := range []string{"== Lesson 11: Web mail is a bridge", "web mail http://127.0.0.1:",
		`Not yet: "FETCH" is not the answer to this question`, "hint: FETCH came after", "ok: Lesson complete"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	checkCompleted(t, bin, env, "web-mail-bridge", 7)
}

// checkCompleted runs `mailx lessons check LESSON --json` and wants the
// lesson completed with passed checks passing.
func checkCompleted(t *testing.T, bin string, env []string, lesson string, passed int) {
	t.Helper()
	c := exec.Command(bin, "lessons", "check", lesson, "--json")
	c.Env = env
	var stderr strings.Builder // kept out of the JSON
	c.Stderr = &stderr
	out := testkit.Run(t, time.Minute, c)
	var res struct {
		Completed bool
		Passed    int
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || !res.Completed || res.Passed != passed {
		t.Errorf("lessons check %s = %+v (%v), want completed with %d passed\n%s", lesson, res, err, passed, out)
	}
}
