package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/explore"
	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/explore/report"
	"github.com/mailx-edu/mailx/lessons"
	"github.com/mailx-edu/mailx/proto/note"
)

func newLessonsCmd(ios *IOStreams) *cobra.Command {
	list := &lessonsListOptions{IO: ios}
	c := &cobra.Command{
		Use:   "lessons",
		Short: "Guided labs that start what they need and check each step",
		Long: `Guided labs: each lesson starts the mail servers it needs on your own machine
(free loopback ports, nothing to configure), tells you what to do step by step
inside the real explorer, checks each step as you do it, and explains it.

Without a subcommand, lists the built-in lessons and your progress.
Teachers: 'mailx lessons format' prints the lesson file format.`,
		Example: `  mailx lessons
  mailx lessons start smtp-by-hand
  mailx lessons start 2 --reset
  mailx lessons run --file my-lab.yaml
  mailx lessons validate my-lab.yaml --run
  mailx lessons check smtp-by-hand --json
  mailx lessons check smtp-by-hand --format junit > results.xml
  mailx lessons format`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			return usageError("Run 'mailx lessons --help' to see its subcommands.", "unknown command %q for \"mailx lessons\"", args[0])
		},
		RunE: func(c *cobra.Command, args []string) error { return runLessonsList(c.Context(), list) },
	}
	c.Flags().BoolVar(&list.JSON, "json", false, "print the list as JSON")
	c.AddCommand(newLessonsListCmd(ios, nil), newLessonsStartCmd(ios, nil), newLessonsRunCmd(ios, nil),
		newLessonsValidateCmd(ios, nil), newLessonsCheckCmd(ios, nil), newLessonsFormatCmd(ios))
	return c
}

type lessonsListOptions struct {
	IO   *IOStreams
	JSON bool
}

func newLessonsListCmd(ios *IOStreams, runF func(context.Context, *lessonsListOptions) error) *cobra.Command {
	opts := &lessonsListOptions{IO: ios}
	c := &cobra.Command{
		Use:     "list",
		Short:   "List the built-in lessons and your progress",
		Example: "  mailx lessons list\n  mailx lessons list --json",
		Args:    noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if runF == nil {
				runF = runLessonsList
			}
			return runF(c.Context(), opts)
		},
	}
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the list as JSON")
	return c
}

// lessonListEntry is one lesson in `mailx lessons --json`.
type lessonListEntry struct {
	Order     int    `json:"order"`
	Name      string `json:"name"`
	Title     string `json:"title"`
	Summary   string `json:"summary"`
	Steps     int    `json:"steps"`
	Done      int    `json:"done"`
	Completed bool   `json:"completed"`
	// Resume is the 1-based step `lessons start` continues at; 0 when the
	// lesson is not under way.
	Resume int `json:"resume,omitempty"`
}

func runLessonsList(ctx context.Context, opts *lessonsListOptions) error {
	all, err := lessons.Builtin()
	if err != nil {
		return failure("This is a bug in mailx; please report it.", "%v", err)
	}
	state, err := opts.IO.StateDir()
	if err != nil {
		return err
	}
	var entries []lessonListEntry
	for _, l := range all {
		e := lessonListEntry{Order: l.Order, Name: l.Name, Title: l.Title, Summary: l.Summary, Steps: len(l.Steps)}
		if p, err := lessons.NewWorkspace(state, l.Name).LoadProgress(l.Name); err == nil {
			e.Completed = p.Completed
			e.Done = p.Done(l)
			if p.Resumable(l) {
				e.Resume = p.Step + 1
			}
		}
		entries = append(entries, e)
	}
	r := opts.IO.Renderer(opts.JSON)
	if opts.JSON {
		return r.JSON(entries)
	}
	r.Heading("mailx lessons")
	width := 22 // the names' column: as wide as the longest name
	for _, e := range entries {
		width = max(width, len(e.Name))
	}
	for _, e := range entries {
		mark := ""
		switch {
		case e.Completed:
			mark = "done"
		case e.Done > 0 || e.Resume > 0:
			mark = fmt.Sprintf("%d/%d done", e.Done, e.Steps)
		}
		line := fmt.Sprintf("%2d. %-10s %-*s %s", e.Order, mark, width, e.Name, e.Title)
		if e.Resume > 0 {
			line += fmt.Sprintf(" (continues at step %d)", e.Resume)
		}
		r.Text(line)
	}
	r.Blank()
	for _, e := range entries {
		if !e.Completed {
			r.Note(note.Note{Summary: fmt.Sprintf("numbers work too: mailx lessons start %d", e.Order), Next: "mailx lessons start " + e.Name})
			return nil
		}
	}
	r.Success("every lesson is complete; 'mailx lessons start NAME --reset' does one again")
	return nil
}

type lessonsStartOptions struct {
	IO     *IOStreams
	Name   string // built-in lesson, by name or number
	File   string // a teacher's lesson file (run --file)
	Script string // --script FILE: the student's lines, non-interactively
	Reset  bool
	Report string // --report FILE.html|FILE.md: the lesson's sessions for a lab report
}

func newLessonsStartCmd(ios *IOStreams, runF func(context.Context, *lessonsStartOptions) error) *cobra.Command {
	opts := &lessonsStartOptions{IO: ios}
	c := &cobra.Command{
		Use:   "start NAME",
		Short: "Start a lesson's lab and its guided session",
		Long: `Start a built-in lesson (by name or number): its lab starts on free loopback
ports, then each step tells you what to type and checks it as you go.

Your progress is saved after every step and when you stop (\quit, Ctrl-D).
Starting the lesson again continues at the step where you stopped, with the
lab as you left it: the same mailboxes and queues, and the same ports when
they are free. At a terminal mailx asks first; --reset starts over.

While a step waits: \hint shows a hint, \lesson repeats the instructions,
\back goes back a step (to the start of the session in a talk step), \quit
saves and stops. In talk steps the explorer's commands (\help, \explain CODE,
\auth ...) work as in 'mailx smtp talk'.

Without a terminal (or with --script FILE), lines are read from the input
one by one, which completes a lesson non-interactively; lines may use the
lab's placeholders such as {smtp:hill.test} and {dns}.`,
		Example: `  mailx lessons start smtp-by-hand
  mailx lessons start 2 --reset
  mailx lessons start pop3 --script answers.txt`,
		Args: exactArgs(1, "the lesson's name or number (see 'mailx lessons')"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF == nil {
				runF = runLessonsStart
			}
			return runF(c.Context(), opts)
		},
	}
	c.Flags().BoolVar(&opts.Reset, "reset", false, "start over: forget your progress and the lab's data")
	c.Flags().StringVar(&opts.Script, "script", "", "read your lines from `FILE` instead of the keyboard")
	c.Flags().StringVar(&opts.Report, "report", "", "when you stop, write the lesson's sessions to `FILE`.html (a web page) or FILE.md (Markdown) for a lab report")
	return c
}

func newLessonsRunCmd(ios *IOStreams, runF func(context.Context, *lessonsStartOptions) error) *cobra.Command {
	opts := &lessonsStartOptions{IO: ios}
	c := &cobra.Command{
		Use:   "run --file FILE",
		Short: "Run a lesson from a file (a teacher's own lab)",
		Long: `Run a lesson file written by a teacher, exactly as built-in lessons run.
The file is validated first; see 'mailx lessons validate', and 'mailx lessons format' for the file format.`,
		Example: `  mailx lessons run --file my-lab.yaml
  mailx lessons run --file my-lab.yaml --script answers.txt`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if opts.File == "" {
				return usageError("Example: mailx lessons run --file my-lab.yaml", "missing --file: name the lesson file to run")
			}
			if runF == nil {
				runF = runLessonsStart
			}
			return runF(c.Context(), opts)
		},
	}
	c.Flags().StringVar(&opts.File, "file", "", "the lesson `FILE` (YAML)")
	c.Flags().BoolVar(&opts.Reset, "reset", false, "forget progress and the lab's data first")
	c.Flags().StringVar(&opts.Script, "script", "", "read the student's lines from `FILE` instead of the keyboard")
	c.Flags().StringVar(&opts.Report, "report", "", "when the lesson stops, write its sessions to `FILE`.html or FILE.md for a lab report")
	return c
}

// loadLesson finds a built-in lesson or reads a lesson file.
func loadLesson(name, file string) (*lessons.Lesson, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, failure("Check the file name.", "cannot read the lesson file: %v", err)
		}
		l, err := lessons.Parse(filepath.Base(file), data)
		if err != nil {
			return nil, failure(fmt.Sprintf("Fix the lines above; 'mailx lessons validate %s' checks the file again.", file), "%s is not a valid lesson:\n%v", file, err)
		}
		return l, nil
	}
	l, err := lessons.Find(name)
	if err != nil {
		return nil, usageError("Run 'mailx lessons' to see them.", "%v", err)
	}
	return l, nil
}

func runLessonsStart(ctx context.Context, opts *lessonsStartOptions) error {
	l, err := loadLesson(opts.Name, opts.File)
	if err != nil {
		return err
	}
	state, err := opts.IO.StateDir()
	if err != nil {
		return err
	}
	ws := lessons.NewWorkspace(state, l.Name)
	var lastAddrs map[string]string // the ports of the last run, reused when free
	if opts.Reset {
		if old, err := ws.LoadProgress(l.Name); err == nil {
			lastAddrs = old.Addrs
		}
		if err := ws.Reset(); err != nil {
			return failure("", "%v", err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return failure("", "cannot find the mailx program to run lesson commands: %v", err)
	}
	if err := checkReportPath(opts.Report); err != nil {
		return err
	}

	r := opts.IO.RendererWith(render.Options{Width: terminalWidth(opts.IO)})
	var input lessons.Input
	interactive := false
	switch {
	case opts.Script != "":
		f, err := os.Open(opts.Script)
		if err != nil {
			return failure("Check the file name; the script holds one line per line you would type.", "cannot read the script: %v", err)
		}
		defer f.Close()
		input = explore.NewScriptInput(f)
	case opts.IO.StdinTTY && opts.IO.StdoutTTY:
		repl, err := explore.NewREPL(explore.REPLOptions{HistoryFile: filepath.Join(state, "history", "lessons"),
			Stdin: readCloser(opts.IO.In), Stdout: opts.IO.Out, Stderr: opts.IO.ErrOut})
		if err != nil {
			return failure("", "cannot start the interactive prompt: %v", err)
		}
		defer repl.Close()
		input, interactive = repl, true
		r = render.New(repl.Stdout(), render.Options{Color: opts.IO.ColorEnabled(), Width: terminalWidth(opts.IO)})
	default:
		input = explore.NewScriptInput(opts.IO.In)
	}

	p, err := ws.LoadProgress(l.Name)
	if err != nil {
		return failure(fmt.Sprintf("mailx lessons start %s --reset starts over.", l.Name), "%v", err)
	}
	if p.Addrs == nil {
		p.Addrs = lastAddrs
	}
	resume := p.Resumable(l)
	if resume && interactive {
		answer, err := input.ReadLine(fmt.Sprintf("You stopped at step %d of %d (%s). Continue there? [Y/n] ", p.Step+1, len(l.Steps), l.Steps[p.Step].Title))
		if err != nil {
			return &SilentError{Code: ExitFailure}
		}
		if a := strings.ToLower(strings.TrimSpace(answer)); a == "n" || a == "no" {
			resume = false
		}
	}
	if !resume && !opts.Reset && (p.Step > 0 || len(p.Steps) > 0) {
		// Starting over: the lab's data starts fresh too.
		addrs := p.Addrs
		if err := ws.Reset(); err != nil {
			return failure("", "%v", err)
		}
		p = &lessons.Progress{Addrs: addrs}
	}

	r.Notef("starting the lab for %q ...", l.Title)
	lab, err := lessons.StartLabWith(ctx, l.Lab, ws, lessons.LabOptions{Keep: resume, Addrs: p.Addrs})
	if err != nil {
		return failure("Another program may hold the lab's files; try again with --reset.", "cannot start the lab: %v", err)
	}
	defer lab.Close()

	dial := lessons.ExplorerDialer
	var collected report.Collector
	if opts.Report != "" {
		dial = lessons.ReportingDialer(collected.Hook)
	}
	runner := &lessons.Runner{
		Lesson: l, Out: r, In: input, Interactive: interactive, Lab: lab, Dial: dial,
		Workspace: ws, RunCommand: subprocessRunner(self, state), Resume: resume,
	}
	started := time.Now()
	res, err := runner.Run(ctx)
	if opts.Report != "" {
		// Written however the lesson ended: a student who stopped half-way
		// hands in what they did.
		rerr := report.WriteFile(opts.Report, report.Session{
			Header: report.Header{Title: "Lesson: " + l.Title, Protocol: "lesson", Server: "the lesson's lab (loopback)",
				Started: started, Ended: time.Now(), Version: Version(), Command: "mailx lessons start " + l.Name},
			Events: collected.Events(),
		})
		if rerr != nil {
			return failure("Check the free space and permissions there.", "writing the report %s: %v", opts.Report, rerr)
		}
		fmt.Fprintf(opts.IO.ErrOut, "mailx: the lesson's sessions are in %s%s\n", opts.Report, reportHint(opts.Report))
	}
	if err != nil {
		return failure("", "%v", err)
	}
	if !res.Completed {
		return &SilentError{Code: ExitFailure}
	}
	return nil
}

// subprocessRunner runs lesson commands as the real mailx program in the
// lesson's working folder, so a student's command behaves exactly as it does
// in their own shell, and a crash in it cannot take the lesson down.
func subprocessRunner(self, state string) lessons.CommandRunner {
	return func(ctx context.Context, args []string, dir string, out io.Writer) int {
		c := exec.CommandContext(ctx, self, args...)
		c.Dir, c.Stdout, c.Stderr = dir, out, out
		c.Env = append(os.Environ(), "MAILX_HOME="+state)
		if err := c.Run(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return ee.ExitCode()
			}
			fmt.Fprintf(out, "mailx: cannot run the command: %v\n", err)
			return ExitFailure
		}
		return ExitOK
	}
}

type lessonsValidateOptions struct {
	IO      *IOStreams
	Files   []string
	JSON    bool
	Run     bool // --run: play the answer scripts against the lab
	Verbose bool // --verbose: show a failing script's whole session
}

func newLessonsValidateCmd(ios *IOStreams, runF func(context.Context, *lessonsValidateOptions) error) *cobra.Command {
	opts := &lessonsValidateOptions{IO: ios}
	c := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check lesson files and report every mistake with its line number",
		Long: `Check lesson files: every mistake is reported as FILE:LINE: message. A lesson
must carry answer scripts (answers.right and answers.wrong; see 'mailx lessons
format'). With --run, each script is also played against a fresh lab through
the real explorer: a right answer must complete the lesson without a single
"Not yet", a wrong one must get the hint it names.`,
		Example: `  mailx lessons validate my-lab.yaml
  mailx lessons validate my-lab.yaml --run
  mailx lessons validate labs/*.yaml --json`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("Example: mailx lessons validate my-lab.yaml", "missing the lesson file(s) to check")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			opts.Files = args
			if runF == nil {
				runF = runLessonsValidate
			}
			return runF(c.Context(), opts)
		},
	}
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the problems as JSON")
	c.Flags().BoolVar(&opts.Run, "run", false, "also play the answer scripts against the lab")
	c.Flags().BoolVar(&opts.Verbose, "verbose", false, "with --run: show the whole session of a script that misbehaves")
	return c
}

// validateResult is one file in `mailx lessons validate --json`.
type validateResult struct {
	File     string            `json:"file"`
	OK       bool              `json:"ok"`
	Steps    int               `json:"steps,omitempty"`
	Problems []lessons.Problem `json:"problems,omitempty"`
}

func runLessonsValidate(ctx context.Context, opts *lessonsValidateOptions) error {
	r := opts.IO.Renderer(opts.JSON)
	var results []validateResult
	bad := 0
	for _, f := range opts.Files {
		res := validateResult{File: f}
		data, err := os.ReadFile(f)
		if err != nil {
			res.Problems = lessons.Problems{{File: f, Msg: "cannot read the file: " + err.Error()}}
		} else if l, err := lessons.Parse(f, data); err != nil {
			var ps lessons.Problems
			if errors.As(err, &ps) {
				res.Problems = ps
			} else {
				res.Problems = lessons.Problems{{File: f, Msg: err.Error()}}
			}
		} else {
			res.OK, res.Steps = true, len(l.Steps)
			if opts.Run {
				ps, err := playAnswers(ctx, opts, l)
				if err != nil {
					return err
				}
				if len(ps) > 0 {
					res.OK = false
					res.Problems = ps
				}
			}
		}
		if !res.OK {
			bad++
		}
		results = append(results, res)
	}
	if opts.JSON {
		if err := r.JSON(results); err != nil {
			return err
		}
	} else {
		for _, res := range results {
			if res.OK {
				r.Success(fmt.Sprintf("%s: a valid lesson with %d steps", res.File, res.Steps))
				continue
			}
			for _, p := range res.Problems {
				r.Text(p.String())
			}
		}
	}
	if bad > 0 {
		if !opts.JSON {
			return failure("Fix the lines named above and run the command again; mailx lessons format describes every key.",
				"%d of %d lesson file(s) have mistakes", bad, len(opts.Files))
		}
		return &SilentError{Code: ExitFailure}
	}
	return nil
}

type lessonsCheckOptions struct {
	IO     *IOStreams
	Name   string
	File   string
	JSON   bool
	Format string // --format gradescope|junit
}

func newLessonsCheckCmd(ios *IOStreams, runF func(context.Context, *lessonsCheckOptions) error) *cobra.Command {
	opts := &lessonsCheckOptions{IO: ios}
	c := &cobra.Command{
		Use:   "check NAME",
		Short: "Re-run a lesson's checks on what the student did, for grading",
		Long: `Re-run every check of a lesson on what was recorded while the student
worked (the exchanges and commands) and on the lab's mailboxes and queues as
they are now. Exit code 0 only when every step passed; --json for a grading
script.

--format gradescope prints Gradescope's results.json (one test per step, one
point each; the autograder's run_autograder can redirect it to
/autograder/results/results.json). --format junit prints a JUnit XML report,
which GitHub Classroom, GitLab and most CI systems read.`,
		Example: `  mailx lessons check smtp-by-hand
  mailx lessons check 6 --json
  mailx lessons check pop3 --format gradescope > /autograder/results/results.json
  mailx lessons check pop3 --format junit > report.xml
  mailx lessons check --file my-lab.yaml my-lab`,
		Args: exactArgs(1, "the lesson's name or number"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF == nil {
				runF = runLessonsCheck
			}
			return runF(c.Context(), opts)
		},
	}
	c.Flags().StringVar(&opts.File, "file", "", "the lesson `FILE`, for a teacher's own lesson")
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	c.Flags().StringVar(&opts.Format, "format", "", "print the result for a grading system: `gradescope` or junit")
	return c
}

func runLessonsCheck(ctx context.Context, opts *lessonsCheckOptions) error {
	l, err := loadLesson(opts.Name, opts.File)
	if err != nil {
		return err
	}
	state, err := opts.IO.StateDir()
	if err != nil {
		return err
	}
	if opts.Format != "" && opts.JSON {
		return usageError("Choose one output.", "--json and --format cannot be used together")
	}
	if opts.Format != "" && opts.Format != "gradescope" && opts.Format != "junit" {
		return usageError("Use --format gradescope or --format junit.", "unknown --format %q", opts.Format)
	}
	ws := lessons.NewWorkspace(state, l.Name)
	res, err := lessons.Grade(ctx, l, ws, lessons.StoredLab(ws))
	if err != nil {
		return failure("", "%v", err)
	}
	if opts.Format != "" {
		if err := writeGrade(opts, l, res); err != nil {
			return err
		}
		if !res.Completed {
			return &SilentError{Code: ExitFailure}
		}
		return nil
	}
	r := opts.IO.Renderer(opts.JSON)
	if opts.JSON {
		if err := r.JSON(res); err != nil {
			return err
		}
	} else {
		r.Heading(fmt.Sprintf("%s: %d of %d steps passed", l.Title, res.Passed, res.Total))
		for i, s := range res.Steps {
			if s.OK {
				r.Success(fmt.Sprintf("%d. %s", i+1, s.Title))
			} else {
				r.Warning(fmt.Sprintf("%d. %s: %s", i+1, s.Title, s.Why))
			}
		}
	}
	if !res.Completed {
		return &SilentError{Code: ExitFailure}
	}
	return nil
}
