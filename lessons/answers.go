package lessons

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/mailx-edu/mailx/explore/render"
)

// AnswerOutcome is what playing one answer script showed.
type AnswerOutcome struct {
	Answer  Answer
	Result  *Result
	Output  string // everything the lesson printed, without colour
	Problem string // "" when the script behaved as the answer says it must
}

// PlayAnswer runs one answer script of l against a fresh lab in a workspace
// under dir, through the real explorer, with run, and judges it: a right
// answer must complete the lesson without a single "Not yet"; a wrong one
// must make its step miss (or nudge) and show the words of its hint, and,
// when it says completes, still complete the lesson.
func PlayAnswer(ctx context.Context, l *Lesson, a Answer, dir string, run CommandRunner) (*AnswerOutcome, error) {
	ws := NewWorkspace(dir, l.Name)
	lab, err := StartLab(ctx, l.Lab, ws)
	if err != nil {
		return nil, err
	}
	defer lab.Close()
	var out bytes.Buffer
	r := &Runner{
		Lesson: l, Out: render.New(&out, render.Options{}), Lab: lab, Dial: ExplorerDialer, Workspace: ws,
		In: &scriptLines{sc: bufio.NewScanner(strings.NewReader(a.Script))}, RunCommand: run,
	}
	res, err := r.Run(ctx)
	if err != nil {
		return nil, err
	}
	o := &AnswerOutcome{Answer: a, Result: res, Output: out.String()}
	if a.Right {
		switch {
		case !res.Completed:
			why := ""
			if res.StoppedAt > 0 {
				why = fmt.Sprintf(" (stopped at step %d: %s)", res.StoppedAt, res.Steps[res.StoppedAt-1].Why)
			}
			o.Problem = "the lesson did not complete" + why
		default:
			for i, s := range res.Steps {
				if s.Tries > 0 {
					o.Problem = fmt.Sprintf("step %d (%s) said \"Not yet\" %d time(s) to a right answer: %s", i+1, s.Key, s.Tries, s.Why)
					break
				}
			}
		}
		return o, nil
	}
	var sr *StepResult
	for i := range res.Steps {
		if res.Steps[i].Key == a.Step {
			sr = &res.Steps[i]
		}
	}
	switch {
	case sr == nil:
		o.Problem = fmt.Sprintf("no step %q", a.Step)
	case sr.Tries+sr.Nudges == 0:
		o.Problem = fmt.Sprintf("step %q took the wrong answer without a word", a.Step)
	case !strings.Contains(o.Output, a.Hint):
		o.Problem = fmt.Sprintf("the output does not show the hint %q", a.Hint)
	case a.Completes && !res.Completed:
		o.Problem = "after the mistake the lesson did not complete (the script says completes: true)"
		if res.StoppedAt > 0 {
			o.Problem += fmt.Sprintf(": stopped at step %d: %s", res.StoppedAt, res.Steps[res.StoppedAt-1].Why)
		}
	}
	return o, nil
}

// scriptLines reads a script line by line.
type scriptLines struct{ sc *bufio.Scanner }

func (s *scriptLines) ReadLine(string) (string, error) {
	if !s.sc.Scan() {
		return "", io.EOF
	}
	return s.sc.Text(), nil
}
