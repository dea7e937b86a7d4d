package cmd

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
	if len(list) != 10 || list[1].Name != "smtp-by-hand" || list[1].Steps == 0 || list[1].Completed {
		t.Errorf("list = %+v", list)
	}
}

func TestLessonsValidateBinary(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: Bad Name\ntitle: x\nsteps:\n  - title: one\n    talk: smtp nowhere.test\n    expect:\n      reply: \"99\"\n"), 0o644)
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("name: good\ntitle: Good\nsteps:\n  - title: read me\n    read: true\n    explain: fine\n"), 0o644)

	c := exec.Command(bin, "lessons", "validate", good, bad)
	out, err := c.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != ExitFailure {
		t.Fatalf("exit = %v, want 1\n%s", err, out)
	}
	for _, want := range []string{"good.yaml: a valid lesson with 1 steps", "bad.yaml:1: name \"Bad Name\"",
		"bad.yaml:5: talk names domain \"nowhere.test\"", "bad.yaml:7: expect.reply \"99\"", "1 of 2 lesson file(s) have mistakes"} {
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
	c := exec.Command(bin, "lessons", "start", "starttls", "--script", "../lessons/testdata/answers/starttls.txt")
	c.Env = env
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	for _, want := range []string{"== Lesson 10: STARTTLS", "C: STARTTLS", "S: 220", "ok: Lesson complete"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	c = exec.Command(bin, "lessons", "check", "starttls", "--json")
	c.Env = env
	out, err = c.Output()
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	var res struct {
		Completed bool
		Passed    int
	}
	if err := json.Unmarshal(out, &res); err != nil || !res.Completed || res.Passed != 3 {
		t.Errorf("check = %s (%v)", out, err)
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
}
