package lessons

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
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
	// Resume continues at the step saved in the progress file (the lab must
	// then have been started with its data kept); otherwise the lesson starts
	// at step 1.
	Resume bool

	sessions map[string]Talker
	progress *Progress
	records  io.Writer
	results  []StepResult
	lastHint string // the hint given for the latest wrong try, for \hint
}

// StepResult is how one step went.
type StepResult struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	OK    bool   `json:"ok"`
	Tries int    `json:"tries"`
	// Nudges counts lines that worked but were not what the step asked for
	// (see Runner.nudge); they are not mistakes.
	Nudges int    `json:"nudges,omitempty"`
	Why    string `json:"why,omitempty"` // what was still wrong when the step ended unfinished
}

// Result is how the lesson went.
type Result struct {
	Lesson    string       `json:"lesson"`
	Completed bool         `json:"completed"`
	Passed    int          `json:"passed"`
	Total     int          `json:"total"`
	Steps     []StepResult `json:"steps"`
	// StoppedAt is the 1-based step the lesson stopped at, 0 when it ran to
	// the end.
	StoppedAt int `json:"stopped_at,omitempty"`
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

// errQuit ends the lesson at the student's request; errBack goes back to an
// earlier step.
var (
	errQuit = errors.New("lesson stopped")
	errBack = errors.New("back")
)

// Run guides the student through every step and returns how it went. It
// returns an error only when the lesson could not run at all; an unfinished
// lesson is a Result with Completed false, and its progress is saved so that
// the next start continues at the same step.
func (r *Runner) Run(ctx context.Context) (*Result, error) {
	l := r.Lesson
	r.sessions = map[string]Talker{}
	defer r.closeSessions()
	p, err := r.Workspace.LoadProgress(l.Name)
	if err != nil {
		return nil, err
	}
	r.progress = p
	start := 0
	if r.Resume && p.Resumable(l) {
		start = p.Step
	} else {
		p.Steps, p.Completed = map[string]bool{}, false
	}
	if p.Started.IsZero() {
		p.Started = time.Now()
	}
	p.Attempts++
	p.Addrs = r.Lab.Placeholders()
	if err := os.MkdirAll(r.Workspace.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("lessons: %w", err)
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if start > 0 {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	rec, err := os.OpenFile(r.Workspace.exchangesFile(), flags, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lessons: %w", err)
	}
	defer rec.Close()
	r.records = rec

	r.In = fillingInput{r.In, r.Lab}
	r.results = make([]StepResult, len(l.Steps))
	for i, s := range l.Steps {
		r.results[i] = StepResult{Key: StepKey(i, s), Title: s.Title, OK: p.Steps[StepKey(i, s)]}
	}
	r.intro()
	if start > 0 {
		// The lab was restarted: put its domains back in the scenarios the
		// earlier steps left them in (a server that was down is down again).
		for _, s := range l.Steps[:start] {
			for _, act := range s.Do {
				if strings.HasPrefix(act, "scenario ") {
					if err := r.Lab.Do(ctx, act); err != nil {
						return nil, fmt.Errorf("lab action %q: %w", act, err)
					}
				}
			}
		}
		r.Out.Note(note.Note{Summary: fmt.Sprintf("Continuing at step %d of %d (%s), with the lab as you left it.", start+1, len(l.Steps), l.Steps[start].Title),
			Next: fmt.Sprintf("mailx lessons start %s --reset starts over", l.Name)})
	}
	i := start
	for i < len(l.Steps) {
		p.Step = i
		p.Updated = time.Now()
		if err := r.Workspace.SaveProgress(p); err != nil {
			return r.result(), err
		}
		r.lastHint = ""
		next, err := r.step(ctx, i)
		if errors.Is(err, errBack) {
			target := l.backTarget(i)
			r.closeSessions()
			for k := target; k < len(l.Steps); k++ {
				delete(p.Steps, r.results[k].Key)
				r.results[k].OK = false
			}
			r.Out.Blank()
			r.Out.Note(note.Note{Summary: fmt.Sprintf("Back to step %d of %d (%s).", target+1, len(l.Steps), l.Steps[target].Title)})
			i = target
			continue
		}
		if err == nil && next <= i {
			err = errStopped // a check that did not pass without a person to retry it
		}
		if err != nil {
			p.Step = i
			p.Updated = time.Now()
			res := r.result()
			res.StoppedAt = i + 1
			if serr := r.Workspace.SaveProgress(p); serr != nil {
				return res, serr
			}
			r.Out.Blank()
			switch {
			case errors.Is(err, errQuit) || errors.Is(err, io.EOF) || errors.Is(err, explore.ErrInterrupt) || errors.Is(err, errStopped):
				r.Out.Note(note.Note{Summary: fmt.Sprintf("Lesson stopped at step %d of %d (%s). Your progress and the lab's mailboxes are saved.", i+1, len(l.Steps), l.Steps[i].Title),
					Next: fmt.Sprintf("mailx lessons start %s continues here; add --reset to start over", l.Name), Severity: note.Warning})
			default:
				r.Out.Error(err.Error())
			}
			return res, nil
		}
		i = next
	}
	p.Completed = true
	p.Step = 0
	p.Updated = time.Now()
	res := r.result()
	r.Out.Blank()
	r.Out.Success(fmt.Sprintf("Lesson complete: %s — %d of %d steps.", l.Title, res.Passed, res.Total))
	return res, r.Workspace.SaveProgress(p)
}

var errStopped = errors.New("stopped at a failed check")

func (r *Runner) result() *Result {
	res := &Result{Lesson: r.Lesson.Name, Total: len(r.Lesson.Steps), Steps: append([]StepResult(nil), r.results...)}
	for _, s := range res.Steps {
		if s.OK {
			res.Passed++
		}
	}
	res.Completed = res.Passed == res.Total
	return res
}

// blockStart is the first step of the run of talk steps in the same session
// that step i belongs to: where that connection's story begins.
func (l *Lesson) blockStart(i int) int {
	s := l.Steps[i]
	if s.Action != ActTalk {
		return i
	}
	for i > 0 && l.Steps[i-1].Action == ActTalk && l.Steps[i-1].Talk.Key() == s.Talk.Key() {
		i--
	}
	return i
}

// backTarget is where \back at step i goes: the start of the current
// session's steps when i is in the middle of them (a new connection needs
// them again), else the start of the step before.
func (l *Lesson) backTarget(i int) int {
	if b := l.blockStart(i); b < i {
		return b
	}
	if i == 0 {
		return 0
	}
	return l.blockStart(i - 1)
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
			r.Lab.Addr("smtp", d.Name), r.Lab.Addr("submission", d.Name), r.Lab.Addr("pop3", d.Name), r.Lab.Addr("imap", d.Name))+webMail(r.Lab, d.Name))
	}
	if l.Lab.DNS {
		r.Out.Field("lab DNS", r.Lab.Addr("dns", ""))
	}
	r.Out.Note(note.Note{Summary: `While a step waits for you: \hint shows a hint, \lesson repeats the instructions, \back goes back a step, \quit saves and stops.`})
}

func (r *Runner) showStep(i int) {
	s := r.Lesson.Steps[i]
	r.Out.Blank()
	r.Out.Heading(fmt.Sprintf("Step %d of %d: %s", i+1, len(r.Lesson.Steps), s.Title))
	if s.Text != "" {
		for _, line := range strings.Split(strings.TrimRight(Fill(s.Text, r.Lab.Placeholders()), "\n"), "\n") {
			r.Out.Text(line)
		}
	}
}

// step runs step i (and, for an any-order group, the steps after it in the
// group) until it passes, the input ends, or the student quits or goes back.
// It returns the index of the next step; i itself when a check failed and
// nobody is there to try again.
func (r *Runner) step(ctx context.Context, i int) (int, error) {
	s := r.Lesson.Steps[i]
	if s.Group != "" {
		return r.groupStep(ctx, i)
	}
	r.showStep(i)
	for _, act := range s.Do {
		if act == "disconnect" {
			r.dropSessions()
			r.Out.Note(note.Note{Summary: "mailx dropped the connection without a goodbye, as a failing network would.", Severity: note.Warning})
			continue
		}
		if err := r.Lab.Do(ctx, act); err != nil {
			return i, fmt.Errorf("lab action %q: %w", act, err)
		}
		r.Out.Note(note.Note{Summary: "lab: " + act})
	}
	sr := &r.results[i]
	var err error
	switch s.Action {
	case ActRead:
		if r.Interactive {
			if _, err := r.nextLine(i, "(press Enter) "); err != nil {
				return i, err
			}
		}
		r.succeed(s, sr, record{})
	case ActCheck:
		err = r.checkStep(ctx, i)
	case ActTalk:
		err = r.talkSteps(ctx, []int{i})
	case ActRun:
		err = r.runStep(ctx, i)
	case ActWeb:
		err = r.webStep(ctx, i)
	case ActAsk:
		err = r.askStep(ctx, i)
	default:
		err = fmt.Errorf("step %q has no action", s.Title)
	}
	if err != nil {
		return i, err
	}
	if !sr.OK {
		return i, nil
	}
	r.progress.Steps[sr.Key] = true
	return i + 1, nil
}

// groupStep runs the consecutive steps of an any-order group together:
// each exchange may complete any of them.
func (r *Runner) groupStep(ctx context.Context, i int) (int, error) {
	l := r.Lesson
	var idx []int
	for j := i; j < len(l.Steps) && l.Steps[j].Group == l.Steps[i].Group; j++ {
		if !r.results[j].OK {
			idx = append(idx, j)
		}
	}
	end := i
	for end < len(l.Steps) && l.Steps[end].Group == l.Steps[i].Group {
		end++
	}
	if len(idx) > 1 {
		r.Out.Blank()
		r.Out.Heading(fmt.Sprintf("Steps %d to %d of %d, in any order", i+1, end, len(l.Steps)))
	}
	for _, j := range idx {
		r.showStep(j)
	}
	if err := r.talkSteps(ctx, idx); err != nil {
		return i, err
	}
	for _, j := range idx {
		r.progress.Steps[r.results[j].Key] = true
	}
	return end, nil
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

// miss reports a wrong try: which condition did not hold, in words, and the
// hint for what actually happened.
func (r *Runner) miss(s Step, sr *StepResult, v Verdict, x *Exchange, run *RunResult, rec record) {
	sr.Tries++
	sr.Why = v.Why
	r.record(sr.Key, rec)
	r.Out.Warning("Not yet: " + v.Why)
	if h := HintFor(s, x, run, v); h != "" {
		r.lastHint = h
		h = Fill(h, r.Lab.Placeholders())
		r.Out.Note(note.Note{Summary: "hint: " + firstLine(h), Detail: restLines(h)})
	}
}

// nudge answers a line that worked but is not (yet) what the step asks
// for: retyping an earlier command on a new connection, USER again after a
// refused PASS, RETR before DELE. It is not a mistake, so it counts no try
// and shows only a hint written for exactly this case.
func (r *Runner) nudge(s Step, sr *StepResult, v Verdict, x *Exchange, rec record) {
	sr.Nudges++
	r.record(sr.Key, rec)
	r.Out.Notef("That worked. %s (step: %s).", upperFirst(v.Why), s.Title)
	for _, h := range s.Hints {
		if h.When.Holds(x, nil, v) {
			r.lastHint = h.Hint
			h := Fill(h.Hint, r.Lab.Placeholders())
			r.Out.Note(note.Note{Summary: "hint: " + firstLine(h), Detail: restLines(h)})
			return
		}
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// positive reports whether a status is a success: 2xx or 3xx, +OK, OK, "+".
func positive(status string) bool {
	switch {
	case status == "+OK" || status == "OK" || status == "+":
		return true
	case len(status) == 3 && (status[0] == '2' || status[0] == '3'):
		return true
	}
	return false
}

// HintFor chooses the hint for a wrong try: the step's first hint whose
// condition describes what happened, else one mailx knows from the protocol
// (a 503 says which command the server wants first), else the step's hint.
func HintFor(s Step, x *Exchange, run *RunResult, v Verdict) string {
	for _, h := range s.Hints {
		if h.When.Holds(x, run, v) {
			return h.Hint
		}
	}
	if x != nil {
		if h := protocolHint(x); h != "" {
			return h
		}
	}
	return s.Hint
}

// protocolHint knows the mistakes every lesson shares, from the state the
// explorer tracked.
func protocolHint(x *Exchange) string {
	switch {
	case x.Protocol() != "pop3" && x.Protocol() != "imap" && x.Status == "503":
		switch x.State {
		case "connected":
			return "503 means the order is wrong: the server wants HELO or EHLO first."
		case "greeted":
			return "503 means the order is wrong: you need MAIL FROM:<address> first; it opens the transaction."
		case "mail":
			return "503 means the order is wrong: the server needs at least one accepted RCPT TO:<address> first."
		}
		return "503 means the order is wrong: \\help shows the commands allowed now."
	case x.Protocol() == "pop3" && x.Verb == "PASS" && x.Status == "-ERR" && x.State == "authorization":
		return "The password was refused and the server forgot the user name: send USER again, then PASS with the right password."
	case x.Protocol() == "pop3" && x.Verb == "PASS" && x.Status == "-ERR":
		return "PASS only follows an accepted USER: send USER first."
	case x.Protocol() == "imap" && x.Verb == "LOGIN" && x.Status == "NO":
		return "The server refused the user name or the password: LOGIN USER PASSWORD, as the lesson shows them."
	}
	return ""
}

func (r *Runner) record(step string, rec record) {
	rec.Step, rec.Time = step, time.Now()
	if b, err := json.Marshal(rec); err == nil {
		r.records.Write(append(b, '\n'))
	}
}

func (r *Runner) checkStep(ctx context.Context, i int) error {
	s := r.Lesson.Steps[i]
	sr := &r.results[i]
	for {
		v := s.Expect.CheckLabProgress(ctx, r.Lab, r.waiting)
		if v.OK {
			r.succeed(s, sr, record{Lab: &v})
			return nil
		}
		r.miss(s, sr, v, nil, nil, record{Lab: &v})
		if !r.Interactive {
			return nil
		}
		back := r.Lesson.backTarget(i)
		line, err := r.In.ReadLine(fmt.Sprintf(`(Enter checks again, \back redoes from step %d, \quit saves and stops) `, back+1))
		if err != nil {
			return err
		}
		if handled, err := r.lessonMeta(i, line); handled && err != nil {
			return err
		}
	}
}

// waiting shows a progress line while a check waits: what is still missing
// and, when a queue is involved, each deferred recipient's next attempt.
func (r *Runner) waiting(waited, limit time.Duration, v Verdict) {
	msg := fmt.Sprintf("waiting %s of at most %s: %s", waited, limit, v.Why)
	var queued []string
	for _, d := range r.Lesson.Lab.Domains {
		entries, err := r.Lab.Queue(d.Name)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.State != "deferred" && e.State != "pending" {
				continue
			}
			s := fmt.Sprintf("%s's queue: %s %s after %d attempt(s)", d.Name, e.Recipient, e.State, e.Attempts)
			if !e.NextAttempt.IsZero() {
				if in := time.Until(e.NextAttempt).Round(time.Second); in > 0 {
					s += fmt.Sprintf(", next attempt in %s", in)
				} else {
					s += ", next attempt now"
				}
			}
			queued = append(queued, s)
		}
	}
	r.Out.Note(note.Note{Summary: msg, Detail: strings.Join(queued, "\n")})
}

// lessonMeta handles the lesson's own backslash commands; handled is false for
// anything else, which goes to the explorer or the shell.
func (r *Runner) lessonMeta(i int, line string) (handled bool, err error) {
	s := r.Lesson.Steps[i]
	switch strings.TrimSpace(line) {
	case `\hint`:
		h := s.Hint
		if r.lastHint != "" {
			h = r.lastHint // the hint for what went wrong last
		}
		if h == "" {
			r.Out.Notef("This step has no hint; \\lesson repeats its instructions.")
		} else {
			h = Fill(h, r.Lab.Placeholders())
			r.Out.Note(note.Note{Summary: "hint: " + firstLine(h), Detail: restLines(h)})
		}
		return true, nil
	case `\lesson`:
		r.showStep(i)
		return true, nil
	case `\back`:
		return true, errBack
	case `\quit`:
		return true, errQuit
	}
	return false, nil
}

// talkSteps runs talk steps of one session (one step, or the unfinished
// steps of an any-order group) until every one of them passed.
func (r *Runner) talkSteps(ctx context.Context, idx []int) error {
	l := r.Lesson
	first := l.Steps[idx[0]]
	key := first.Talk.Key()
	done := map[int]bool{}
	for len(done) < len(idx) {
		cur := idx[0]
		for _, j := range idx {
			if !done[j] {
				cur = j
				break
			}
		}
		sess, ok := r.sessions[key]
		if !ok || sess.Ended() {
			if ok {
				sess.Close()
			}
			kind := first.Talk.Protocol
			addr := r.Lab.Addr(kind, first.Talk.Domain)
			var err error
			sess, err = r.Dial(ctx, first.Talk, addr, r.Out)
			if err != nil {
				return fmt.Errorf("cannot connect to the lab's %s server at %s: %w", kind, addr, err)
			}
			r.sessions[key] = sess
			if b := l.blockStart(cur); b < cur {
				r.Out.Note(note.Note{Summary: "This is a new connection: the server remembers nothing of what you typed before it.",
					Next: fmt.Sprintf("type the earlier commands of this session again here (from step %d), or \\back to redo them step by step", b+1), Severity: note.Warning})
			}
		}
		line, err := r.nextLine(cur, sess.Prompt()+"> ")
		if err != nil {
			return err
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
		var best Verdict
		bestStep := -1
		passed := false
		for _, j := range idx {
			if done[j] {
				continue
			}
			s := l.Steps[j]
			v := s.Expect.MatchExchange(*x)
			if v.OK && s.Expect.HasLabCheck() {
				v = s.Expect.CheckLab(ctx, r.Lab)
			}
			if v.OK {
				r.succeed(s, &r.results[j], record{Exchange: x})
				done[j] = true
				passed = true
				break
			}
			// Report on the step the line was meant for: the first whose
			// command it is, else the first step left.
			if bestStep < 0 || best.Failed == "verb" && v.Failed != "verb" {
				best, bestStep = v, j
			}
		}
		if !passed && bestStep >= 0 {
			if positive(x.Status) && (best.Failed == "verb" || best.Failed == "state") {
				r.nudge(l.Steps[bestStep], &r.results[bestStep], best, x, record{Exchange: x})
			} else {
				r.miss(l.Steps[bestStep], &r.results[bestStep], best, x, nil, record{Exchange: x})
			}
		}
	}
	return nil
}

// nextLine reads the student's next line at step i, for every kind of step
// that reads one (read, talk, run, web, ask); the lesson's own
// meta-commands (\hint, \lesson, \back, \quit) are handled here, and an
// error from them (\back, \quit) ends the step as a read error would.
func (r *Runner) nextLine(i int, prompt string) (string, error) {
	for {
		line, err := r.In.ReadLine(prompt)
		if err != nil {
			return "", err
		}
		handled, err := r.lessonMeta(i, line)
		if !handled {
			return line, nil
		}
		if err != nil {
			return "", err
		}
	}
}

func (r *Runner) runStep(ctx context.Context, i int) error {
	s := r.Lesson.Steps[i]
	sr := &r.results[i]
	want := strings.Fields(s.Run)
	for {
		line, err := r.nextLine(i, "lesson$ ")
		if err != nil {
			return err
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
			rr := &RunResult{Args: args, Exit: -1}
			r.miss(s, sr, fail("run", "this step asks you to run a 'mailx %s ...' command", s.Run), nil, rr, record{Run: rr})
			continue
		}
		// Options are checked before the command runs: a lookup without the
		// lab's --server would go to the student's real DNS.
		if v := s.Expect.checkFlags(args, r.Lab.Placeholders()); !v.OK {
			rr := &RunResult{Args: args, Exit: -1}
			r.miss(s, sr, v, nil, rr, record{Run: rr})
			continue
		}
		var out bytes.Buffer
		code := r.RunCommand(ctx, args, r.Workspace.WorkDir(), io.MultiWriter(&out, r.Out.Writer()))
		res := &RunResult{Dir: r.Workspace.WorkDir(), Args: args, Exit: code, Output: out.String()}
		v := s.Expect.MatchRun(*res, r.Lab.Placeholders())
		if v.OK && s.Expect.HasLabCheck() {
			v = s.Expect.CheckLab(ctx, r.Lab)
		}
		if v.OK {
			r.succeed(s, sr, record{Run: res})
			return nil
		}
		r.miss(s, sr, v, nil, res, record{Run: res})
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
// knowing the ports the lab got. Scripts may also write {queue-id:DOMAIN},
// the ID of the oldest message in that domain's queue, which a student
// copies from 'mailx queue list'.
type fillingInput struct {
	in  Input
	lab Lab
}

var queueIDPlaceholder = regexp.MustCompile(`\{queue-id:([a-z0-9.-]+)\}`)

func (f fillingInput) ReadLine(prompt string) (string, error) {
	line, err := f.in.ReadLine(prompt)
	line = Fill(line, f.lab.Placeholders())
	line = queueIDPlaceholder.ReplaceAllStringFunc(line, func(m string) string {
		entries, qerr := f.lab.Queue(queueIDPlaceholder.FindStringSubmatch(m)[1])
		if qerr != nil || len(entries) == 0 {
			return m
		}
		return entries[0].ID
	})
	return line, err
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

// webMail names a domain's web mail for the lab's summary, when it runs.
func webMail(l Lab, domain string) string {
	if u := l.Placeholders()["web:"+domain]; u != "" {
		return ", web mail " + u
	}
	return ""
}
