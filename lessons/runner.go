package lessons

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mailx-edu/mailx/explore"
	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/note"
)

// Talker is one open talk session, driven line by line. The real one wraps
// an explore.Session, so the student sees exactly what `mailx smtp talk`
// shows: raw lines, colours and annotations.
type Talker interface {
	// Send runs one typed line through the explorer (a protocol line or one of
	// its meta-commands such as \auth). It returns the exchange when a
	// response was read, or nil when nothing was awaited (a line of message
	// text in DATA mode).
	Send(ctx context.Context, typed string) (*Exchange, error)
	Prompt() string // e.g. "smtp:mail"
	Ended() bool    // the server said goodbye or the connection closed
	Drop() error    // close the connection without a goodbye, like a network failure
	Close() error   // end politely (QUIT/LOGOUT when still open) and close
}

// Dialer opens a talk session to a lab server, showing the greeting.
type Dialer func(ctx context.Context, t Talk, addr string, out *render.Renderer) (Talker, error)

// Lab is a running lab.
type Lab interface {
	LabView
	// Addr returns HOST:PORT of a lab service: kind is smtp, submission, pop3,
	// imap (with a domain) or dns (domain "").
	Addr(kind, domain string) string
	// Placeholders maps {smtp:DOMAIN}-style names (without braces) to addresses.
	Placeholders() map[string]string
	// Do carries out a step's runner action: "scenario DOMAIN NAME" or "retry DOMAIN".
	Do(ctx context.Context, action string) error
	Close() error
}

// Input supplies the student's lines: readline at a terminal, a script otherwise.
type Input interface {
	// ReadLine shows prompt (at a terminal) and returns the next line without
	// its newline; io.EOF when the input ends.
	ReadLine(prompt string) (string, error)
}

// CommandRunner runs a mailx command line (without the leading "mailx") in
// dir, writing its output to out, and returns the exit code. cmd supplies it,
// so lessons never import cmd.
type CommandRunner func(ctx context.Context, args []string, dir string, out io.Writer) int

// Runner guides one student through one lesson.
type Runner struct {
	Lesson      *Lesson
	Out         *render.Renderer
	In          Input
	Interactive bool // a person at a terminal: wait at read steps, offer retries on failed checks
	Lab         Lab
	Dial        Dialer
	RunCommand  CommandRunner
	Workspace   Workspace

	sessions map[string]Talker
	progress *Progress
	records  io.Writer
}

// StepResult is how one step went.
type StepResult struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	OK    bool   `json:"ok"`
	Tries int    `json:"tries"`
	Why   string `json:"why,omitempty"` // what was still wrong when the step ended unfinished
}

// Result is how the lesson went.
type Result struct {
	Lesson    string       `json:"lesson"`
	Completed bool         `json:"completed"`
	Passed    int          `json:"passed"`
	Total     int          `json:"total"`
	Steps     []StepResult `json:"steps"`
}

// record is one line of the workspace's record file, read back by Grade.
type record struct {
	Step     string     `json:"step"`
	Exchange *Exchange  `json:"exchange,omitempty"`
	Run      *RunResult `json:"run,omitempty"`
	Lab      *Verdict   `json:"lab,omitempty"`
	Passed   bool       `json:"passed"`
	Time     time.Time  `json:"time"`
}

// errQuit ends the lesson at the student's request.
var errQuit = errors.New("lesson stopped")

// Run guides the student through every step and returns how it went. It
// returns an error only when the lesson could not run at all; an unfinished
// lesson is a Result with Completed false.
func (r *Runner) Run(ctx context.Context) (*Result, error) {
	l := r.Lesson
	r.sessions = map[string]Talker{}
	defer r.closeSessions()
	p, err := r.Workspace.LoadProgress(l.Name)
	if err != nil {
		return nil, err
	}
	r.progress = p
	if p.Started.IsZero() {
		p.Started = time.Now()
	}
	p.Attempts++
	if err := os.MkdirAll(r.Workspace.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("lessons: %w", err)
	}
	rec, err := os.OpenFile(r.Workspace.exchangesFile(), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lessons: %w", err)
	}
	defer rec.Close()
	r.records = rec

	r.In = fillingInput{r.In, r.Lab.Placeholders()}
	r.intro()
	res := &Result{Lesson: l.Name, Total: len(l.Steps)}
	for i, s := range l.Steps {
		sr := StepResult{Key: StepKey(i, s), Title: s.Title}
		r.Out.Blank()
		r.Out.Heading(fmt.Sprintf("Step %d of %d: %s", i+1, len(l.Steps), s.Title))
		if s.Text != "" {
			for _, line := range strings.Split(strings.TrimRight(Fill(s.Text, r.Lab.Placeholders()), "\n"), "\n") {
				r.Out.Text(line)
			}
		}
		err := r.step(ctx, s, &sr)
		res.Steps = append(res.Steps, sr)
		if sr.OK {
			res.Passed++
			p.Steps[sr.Key] = true
		}
		p.Updated = time.Now()
		if serr := r.Workspace.SaveProgress(p); serr != nil {
			return res, serr
		}
		if err != nil {
			r.Out.Blank()
			if errors.Is(err, errQuit) || errors.Is(err, io.EOF) || errors.Is(err, explore.ErrInterrupt) {
				r.Out.Warning(fmt.Sprintf("Lesson stopped at step %d of %d (%s). Run it again to start over.", i+1, len(l.Steps), s.Title))
			} else {
				r.Out.Error(err.Error())
			}
			return res, nil
		}
		if !sr.OK {
			return res, nil
		}
	}
	res.Completed = true
	p.Completed = true
	p.Updated = time.Now()
	r.Out.Blank()
	r.Out.Success(fmt.Sprintf("Lesson complete: %s — %d of %d steps.", l.Title, res.Passed, res.Total))
	return res, r.Workspace.SaveProgress(p)
}

func (r *Runner) intro() {
	l := r.Lesson
	r.Out.Heading(fmt.Sprintf("Lesson %d: %s", l.Order, l.Title))
	if l.Summary != "" {
		r.Out.Text(l.Summary)
	}
	if len(l.Goals) > 0 {
		r.Out.Text("You will learn to:")
		for _, g := range l.Goals {
			r.Out.Text("  - " + g)
		}
	}
	for _, d := range l.Lab.Domains {
		r.Out.Field(d.Name, fmt.Sprintf("SMTP %s, submission %s, POP3 %s, IMAP %s",
			r.Lab.Addr("smtp", d.Name), r.Lab.Addr("submission", d.Name), r.Lab.Addr("pop3", d.Name), r.Lab.Addr("imap", d.Name)))
	}
	if l.Lab.DNS {
		r.Out.Field("lab DNS", r.Lab.Addr("dns", ""))
	}
	r.Out.Note(note.Note{Summary: `While a step waits for you: \hint shows a hint, \lesson repeats the instructions, \quit stops.`})
}

// step runs one step until it passes, the input ends, or the student quits.
func (r *Runner) step(ctx context.Context, s Step, sr *StepResult) error {
	for _, act := range s.Do {
		if act == "disconnect" {
			r.dropSessions()
			r.Out.Note(note.Note{Summary: "mailx dropped the connection without a goodbye, as a failing network would.", Severity: note.Warning})
			continue
		}
		if err := r.Lab.Do(ctx, act); err != nil {
			return fmt.Errorf("lab action %q: %w", act, err)
		}
		r.Out.Note(note.Note{Summary: "lab: " + act})
	}
	switch s.Action {
	case ActRead:
		if r.Interactive {
			if _, err := r.In.ReadLine("(press Enter) "); err != nil {
				return err
			}
		}
		r.succeed(s, sr, record{})
		return nil
	case ActCheck:
		return r.checkStep(ctx, s, sr)
	case ActTalk:
		return r.talkStep(ctx, s, sr)
	case ActRun:
		return r.runStep(ctx, s, sr)
	}
	return fmt.Errorf("step %q has no action", s.Title)
}

func (r *Runner) succeed(s Step, sr *StepResult, rec record) {
	sr.OK, sr.Why = true, ""
	rec.Passed = true
	r.record(sr.Key, rec)
	r.Out.Success(s.Title)
	if s.Explain != "" {
		r.Out.Note(note.Note{Summary: firstLine(s.Explain), Detail: restLines(s.Explain), Severity: note.Success})
	}
}

func (r *Runner) miss(s Step, sr *StepResult, why string, rec record) {
	sr.Tries++
	sr.Why = why
	r.record(sr.Key, rec)
	r.Out.Warning("Not yet: " + why)
	if s.Hint != "" {
		r.Out.Note(note.Note{Summary: "hint: " + firstLine(Fill(s.Hint, r.Lab.Placeholders())), Detail: restLines(Fill(s.Hint, r.Lab.Placeholders()))})
	}
}

func (r *Runner) record(step string, rec record) {
	rec.Step, rec.Time = step, time.Now()
	if b, err := json.Marshal(rec); err == nil {
		r.records.Write(append(b, '\n'))
	}
}

func (r *Runner) checkStep(ctx context.Context, s Step, sr *StepResult) error {
	for {
		v := s.Expect.CheckLab(ctx, r.Lab)
		if v.OK {
			r.succeed(s, sr, record{Lab: &v})
			return nil
		}
		r.miss(s, sr, v.Why, record{Lab: &v})
		if !r.Interactive {
			return nil
		}
		line, err := r.In.ReadLine(`(Enter checks again, \quit stops) `)
		if err != nil {
			return err
		}
		if strings.TrimSpace(line) == `\quit` {
			return errQuit
		}
	}
}

// lessonMeta handles the lesson's own backslash commands; handled is false for
// anything else, which goes to the explorer or the shell.
func (r *Runner) lessonMeta(s Step, line string) (handled bool, err error) {
	switch strings.TrimSpace(line) {
	case `\hint`:
		if s.Hint == "" {
			r.Out.Notef("This step has no hint; \\lesson repeats its instructions.")
		} else {
			r.Out.Note(note.Note{Summary: "hint: " + firstLine(Fill(s.Hint, r.Lab.Placeholders())), Detail: restLines(Fill(s.Hint, r.Lab.Placeholders()))})
		}
		return true, nil
	case `\lesson`:
		r.Out.Heading(s.Title)
		for _, l := range strings.Split(strings.TrimRight(Fill(s.Text, r.Lab.Placeholders()), "\n"), "\n") {
			r.Out.Text(l)
		}
		return true, nil
	case `\quit`:
		return true, errQuit
	}
	return false, nil
}

func (r *Runner) talkStep(ctx context.Context, s Step, sr *StepResult) error {
	key := s.Talk.Key()
	for {
		sess, ok := r.sessions[key]
		if !ok || sess.Ended() {
			if ok {
				sess.Close()
				r.Out.Note(note.Note{Summary: "That session has ended; mailx connects again for you."})
			}
			kind := s.Talk.Protocol
			addr := r.Lab.Addr(kind, s.Talk.Domain)
			var err error
			sess, err = r.Dial(ctx, s.Talk, addr, r.Out)
			if err != nil {
				return fmt.Errorf("cannot connect to the lab's %s server at %s: %w", kind, addr, err)
			}
			r.sessions[key] = sess
		}
		line, err := r.In.ReadLine(sess.Prompt() + "> ")
		if err != nil {
			return err
		}
		if handled, err := r.lessonMeta(s, line); handled {
			if err != nil {
				return err
			}
			continue
		}
		x, err := sess.Send(ctx, line)
		if err != nil {
			r.Out.Error(err.Error())
			sess.Drop()
			delete(r.sessions, key)
			continue
		}
		if x == nil {
			continue
		}
		x.Session = key
		v := s.Expect.MatchExchange(*x)
		if v.OK && s.Expect.HasLabCheck() {
			v = s.Expect.CheckLab(ctx, r.Lab)
		}
		if v.OK {
			r.succeed(s, sr, record{Exchange: x})
			return nil
		}
		r.miss(s, sr, v.Why, record{Exchange: x})
	}
}

func (r *Runner) runStep(ctx context.Context, s Step, sr *StepResult) error {
	want := strings.Fields(s.Run)
	for {
		line, err := r.In.ReadLine("lesson$ ")
		if err != nil {
			return err
		}
		if handled, err := r.lessonMeta(s, line); handled {
			if err != nil {
				return err
			}
			continue
		}
		args, err := SplitCommandLine(line)
		if err != nil {
			r.Out.Warning(err.Error())
			continue
		}
		if len(args) > 0 && (args[0] == "mailx" || args[0] == "mailx.exe") {
			args = args[1:]
		}
		if len(args) == 0 {
			continue
		}
		if len(args) < len(want) || !equalFold(args[:len(want)], want) {
			r.miss(s, sr, fmt.Sprintf("this step asks you to run a `mailx %s ...` command", s.Run), record{Run: &RunResult{Args: args, Exit: -1}})
			continue
		}
		var out bytes.Buffer
		code := r.RunCommand(ctx, args, r.Workspace.WorkDir(), io.MultiWriter(&out, r.Out.Writer()))
		res := &RunResult{Args: args, Exit: code, Output: out.String()}
		v := s.Expect.MatchRun(*res)
		if v.OK && s.Expect.HasLabCheck() {
			v = s.Expect.CheckLab(ctx, r.Lab)
		}
		if v.OK {
			r.succeed(s, sr, record{Run: res})
			return nil
		}
		r.miss(s, sr, v.Why, record{Run: res})
	}
}

func (r *Runner) dropSessions() {
	for k, s := range r.sessions {
		s.Drop()
		delete(r.sessions, k)
	}
}

func (r *Runner) closeSessions() {
	for k, s := range r.sessions {
		s.Close()
		delete(r.sessions, k)
	}
}

// fillingInput replaces lab placeholders such as {smtp:hill.test} in every
// line read, so that scripts (and students) can name lab services without
// knowing the ports the lab got.
type fillingInput struct {
	in    Input
	addrs map[string]string
}

func (f fillingInput) ReadLine(prompt string) (string, error) {
	line, err := f.in.ReadLine(prompt)
	return Fill(line, f.addrs), err
}

func equalFold(a, b []string) bool {
	for i := range b {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return first
}

func restLines(s string) string {
	_, rest, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(rest)
}

// SplitCommandLine splits a command line into words the way a POSIX shell
// does for the simple cases a lesson needs: spaces separate words, single
// quotes keep everything literally, double quotes keep spaces, a backslash
// escapes the next character outside single quotes.
func SplitCommandLine(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	quote := byte(0)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case quote == '"':
			if c == '"' {
				quote = 0
			} else if c == '\\' && i+1 < len(line) && (line[i+1] == '"' || line[i+1] == '\\') {
				i++
				cur.WriteByte(line[i])
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed %c quote in the command line", quote)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
