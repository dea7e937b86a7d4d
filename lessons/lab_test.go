package lessons

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/explore/render"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// mailxBinary builds cmd/mailx once: run steps execute the real command, as
// `mailx lessons start` does.
func mailxBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mailx-lessons-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "mailx")
		if runtime.GOOS == "windows" {
			binPath += ".exe"
		}
		if out, err := exec.Command("go", "build", "-o", binPath, "../cmd/mailx").CombinedOutput(); err != nil {
			binErr = errors.New(string(out))
		}
	})
	if binErr != nil {
		t.Fatalf("build mailx: %v", binErr)
	}
	return binPath
}

// linesInput reads a script line by line, as `--script` does.
type linesInput struct{ sc *bufio.Scanner }

func (l linesInput) ReadLine(string) (string, error) {
	if !l.sc.Scan() {
		return "", io.EOF
	}
	return l.sc.Text(), nil
}

func runLesson(t *testing.T, l *Lesson, script string) (*Result, string, Workspace) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ws := NewWorkspace(t.TempDir(), l.Name)
	lab, err := StartLab(ctx, l.Lab, ws)
	if err != nil {
		t.Fatalf("start lab: %v", err)
	}
	defer lab.Close()
	bin := mailxBinary(t)
	var out bytes.Buffer
	r := &Runner{
		Lesson: l, Out: render.New(&out, render.Options{}), Lab: lab, Dial: ExplorerDialer, Workspace: ws,
		In: linesInput{bufio.NewScanner(strings.NewReader(script))},
		RunCommand: func(ctx context.Context, args []string, dir string, w io.Writer) int {
			c := exec.CommandContext(ctx, bin, args...)
			c.Dir, c.Stdout, c.Stderr = dir, w, w
			c.Env = append(os.Environ(), "NO_COLOR=1", "MAILX_HOME="+filepath.Join(ws.Dir, "home"))
			if err := c.Run(); err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					return ee.ExitCode()
				}
				return 127
			}
			return 0
		},
	}
	res, err := r.Run(ctx)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	return res, out.String(), ws
}

// TestBuiltinLessonsEndToEnd completes every built-in lesson from its answer
// script against a real lab (MTAs, lab DNS) through the real explorer. Each
// script starts with a wrong try, which must get the first step's hint.
func TestBuiltinLessonsEndToEnd(t *testing.T) {
	all, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range all {
		t.Run(l.Name, func(t *testing.T) {
			script, err := os.ReadFile(filepath.Join("testdata", "answers", l.Name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			wrong := "NOOP\n" // a protocol command no lesson asks for first
			if l.Steps[0].Action == ActRun {
				wrong = "mailx version\n"
			}
			res, out, ws := runLesson(t, l, wrong+string(script))
			if !res.Completed {
				t.Fatalf("lesson not completed: %+v\n%s", res, out)
			}
			hint := "note: hint: " + firstLine(Fill(l.Steps[0].Hint, map[string]string{}))
			if res.Steps[0].Tries != 1 || !strings.Contains(out, "warning: Not yet:") || !strings.Contains(out, hint[:min(len(hint), 40)]) {
				t.Errorf("the wrong first try did not get the hint %q (tries %d):\n%s", hint, res.Steps[0].Tries, out)
			}
			g, err := Grade(context.Background(), l, ws, StoredLab(ws))
			if err != nil || !g.Completed {
				t.Errorf("grade after completion = %+v, %v", g, err)
			}
		})
	}
}

// TestWrongStepGetsHint makes a classic mistake (RCPT before MAIL) in the
// SMTP lesson and checks that the hint comes and the lesson still completes.
func TestWrongStepGetsHint(t *testing.T) {
	l, err := Find("smtp-by-hand")
	if err != nil {
		t.Fatal(err)
	}
	script := "HELO town.test\nRCPT TO:<jill@hill.test>\nMAIL FROM:<jack@town.test>\nRCPT TO:<jill@hill.test>\nDATA\npail of water\n.\nQUIT\n"
	res, out, _ := runLesson(t, l, script)
	if !res.Completed {
		t.Fatalf("not completed: %+v\n%s", res, out)
	}
	for _, want := range []string{"S: 503 5.5.1", "warning: Not yet: this step expects a command like /^MAIL FROM:/", "note: hint: Write the address in angle brackets"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
