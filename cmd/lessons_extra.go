package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/lessons"
)

func newLessonsFormatCmd(ios *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "format",
		Short: "Print the lesson file format, for teachers writing their own lessons",
		Long: `Print the guide to writing lesson files (the same text as lessons/README.md
in mailx's sources): the lab, the steps, how a step states what must be true,
hints for each kind of mistake, answer scripts, progress and grading.`,
		Example: `  mailx lessons format
  mailx lessons format > LESSONS.md`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			_, err := fmt.Fprint(ios.Out, lessons.FormatDoc)
			return err
		},
	}
}

// writeGrade writes a check result in a grading format.
func writeGrade(opts *lessonsCheckOptions, l *lessons.Lesson, res *lessons.Result) error {
	switch opts.Format {
	case "gradescope":
		return lessons.Gradescope(opts.IO.Out, l, res)
	case "junit":
		return lessons.JUnit(opts.IO.Out, l, res)
	}
	return usageError("Use --format gradescope or --format junit (or --json).", "unknown --format %q", opts.Format)
}

// playAnswers runs every answer script of l against a fresh lab and reports
// each; it returns the number that did not behave as their answer says.
func playAnswers(ctx context.Context, opts *lessonsValidateOptions, l *lessons.Lesson) ([]lessons.Problem, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, failure("", "cannot find the mailx program to run lesson commands: %v", err)
	}
	tmp, err := os.MkdirTemp("", "mailx-lesson-answers-")
	if err != nil {
		return nil, failure("", "%v", err)
	}
	defer os.RemoveAll(tmp)
	r := opts.IO.Renderer(false)
	var bad []lessons.Problem
	for i, a := range l.Answers {
		dir := filepath.Join(tmp, fmt.Sprint(i))
		o, err := lessons.PlayAnswer(ctx, l, a, dir, subprocessRunner(self, filepath.Join(dir, "home")))
		if err != nil {
			return nil, failure("", "answer script %q: %v", a.Name, err)
		}
		kind := "wrong"
		if a.Right {
			kind = "right"
		}
		if o.Problem == "" {
			if !opts.JSON {
				r.Success(fmt.Sprintf("%s answer %q behaves as it should", kind, a.Name))
			}
			continue
		}
		p := lessons.Problem{File: l.Source, Line: a.Line, Msg: fmt.Sprintf("%s answer %q: %s", kind, a.Name, o.Problem)}
		bad = append(bad, p)
		if opts.JSON || !opts.Verbose {
			continue // the problems are listed with the file's others
		}
		r.Warning(p.String())
		for _, line := range strings.Split(strings.TrimRight(o.Output, "\n"), "\n") {
			r.Text("    " + line)
		}
	}
	return bad, nil
}
