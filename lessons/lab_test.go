package lessons

import (
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

	"github.com/mailx-edu/mailx/proto/testkit"
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

// commandRunner runs lesson commands as the built binary, as `mailx lessons
// start` does, with the mailx state under home.
func commandRunner(t *testing.T, home string) CommandRunner {
	bin := mailxBinary(t)
	return func(ctx context.Context, args []string, dir string, w io.Writer) int {
		c := exec.CommandContext(ctx, bin, args...)
		c.Dir, c.Stdout, c.Stderr = dir, w, w
		c.Env = append(os.Environ(), "NO_COLOR=1", "MAILX_HOME="+home)
		if err := c.Run(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return ee.ExitCode()
			}
			return 127
		}
		return 0
	}
}

// TestBuiltinAnswers plays every answer script of every built-in lesson
// against a real lab (MTAs, lab DNS) through the real explorer: each right
// way through must complete without one "Not yet", each wrong try must get
// the hint that names its mistake. A built-in lesson needs at least four
// right ways and three wrong ones.
func TestBuiltinAnswers(t *testing.T) {
	all, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range all {
		t.Run(l.Name, func(t *testing.T) {
			right, wrong := 0, 0
			for _, a := range l.Answers {
				if a.Right {
					right++
				} else {
					wrong++
				}
			}
			if right < 4 || wrong < 3 {
				t.Errorf("%s has %d right and %d wrong answer scripts; a built-in lesson needs at least 4 and 3", l.Name, right, wrong)
			}
			if usesCurl(l) {
				testkit.NeedCommand(t, "curl", "curl") // the web mail lesson's answer scripts use it
			}
			if l.Lab.Lifetime > 20*time.Second {
				// The queue lesson gives a student time to look; its answer
				// scripts only need the bounce to come.
				l.Lab.Lifetime = 20 * time.Second
			}
			played := map[bool]bool{}
			for _, a := range l.Answers {
				kind := "wrong"
				if a.Right {
					kind = "right"
				}
				// With -short (CI's race run), one right and one wrong script
				// a lesson: every lab still starts, is played and is checked,
				// in a fraction of the time all the scripts take.
				if testing.Short() && played[a.Right] {
					continue
				}
				played[a.Right] = true
				t.Run(kind+"/"+a.Name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
					defer cancel()
					dir := t.TempDir()
					o, err := PlayAnswer(ctx, l, a, dir, commandRunner(t, filepath.Join(dir, "home")))
					if err != nil {
						t.Fatal(err)
					}
					if o.Problem != "" {
						t.Errorf("%s\n%s", o.Problem, o.Output)
					}
					if testing.Verbose() {
						t.Log(o.Output)
					}
				})
			}
		})
	}
}

// TestBuiltinLessonsShowNoPatterns keeps regular expressions out of the
// built-in lessons: students must never see one, and a check on spelling
// rejects right answers.
func TestBuiltinLessonsShowNoPatterns(t *testing.T) {
	all, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range all {
		for i, s := range l.Steps {
			e := s.Expect
			if e.Command != nil || e.Response != nil || e.Output != nil || e.Mailbox != nil && e.Mailbox.Body != nil {
				t.Errorf("%s step %d (%s) checks text with a regular expression", l.Name, i+1, s.Title)
			}
			for _, h := range append([]string{s.Hint, s.Text}, hintTexts(s)...) {
				if strings.Contains(h, `\s`) || strings.Contains(h, `\d`) || strings.Contains(h, `.*`) {
					t.Errorf("%s step %d (%s) shows a pattern: %q", l.Name, i+1, s.Title, h)
				}
			}
		}
	}
}

func usesCurl(l *Lesson) bool {
	for _, s := range l.Steps {
		if s.Action == ActWeb {
			return true
		}
	}
	return false
}

func hintTexts(s Step) []string {
	var out []string
	for _, h := range s.Hints {
		out = append(out, h.Hint)
	}
	return out
}
