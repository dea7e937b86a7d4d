package lessons

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Exchange is one line (or a group of lines) the student sent in a talk
// session and the response it got: the unit a talk step is checked on.
type Exchange struct {
	Session  string    `json:"session"`          // the Talk.Key of the session
	Typed    string    `json:"typed"`            // what the student typed (a meta-command stays as typed)
	Sent     []string  `json:"sent"`             // the lines that went on the wire
	Status   string    `json:"status,omitempty"` // "250", "+OK", "OK", "+" ...
	Response []string  `json:"response,omitempty"`
	Time     time.Time `json:"time"`
}

// RunResult is one mailx command the student ran at the lesson prompt.
type RunResult struct {
	Args   []string `json:"args"`
	Exit   int      `json:"exit"`
	Output string   `json:"output"`
}

// QueueEntry is one recipient of one queued message, as checks see it.
type QueueEntry struct {
	ID        string `json:"id"`
	Recipient string `json:"recipient"`
	State     string `json:"state"`
	LastError string `json:"last_error,omitempty"`
}

// LabView is what checks may look at: the lab domains' data directories and
// queues. A running lab implements it, and so does a stopped one on disk
// (for `mailx lessons check`).
type LabView interface {
	DataDir(domain string) string
	Queue(domain string) ([]QueueEntry, error)
}

// Verdict is the outcome of one check.
type Verdict struct {
	OK  bool   `json:"ok"`
	Why string `json:"why,omitempty"` // what did not hold, in the student's terms
}

func pass() Verdict                           { return Verdict{OK: true} }
func fail(format string, args ...any) Verdict { return Verdict{Why: fmt.Sprintf(format, args...)} }

// MatchExchange checks the talk parts of an expectation (command, reply,
// response) against one exchange.
func (e Expect) MatchExchange(x Exchange) Verdict {
	if e.Command != nil {
		last := ""
		if len(x.Sent) > 0 {
			last = x.Sent[len(x.Sent)-1]
		}
		if !e.Command.MatchString(last) && !e.Command.MatchString(x.Typed) {
			return fail("this step expects a command like %s", pattern(e.Command.String()))
		}
	}
	if e.Reply != nil && !e.Reply.Match(x.Status) {
		got := x.Status
		if got == "" {
			got = "no reply"
		}
		return fail("the server answered %s; this step expects %s", got, e.Reply)
	}
	if e.Response != nil {
		found := false
		for _, l := range x.Response {
			if e.Response.MatchString(l) {
				found = true
				break
			}
		}
		if !found {
			return fail("the response has no line matching %s", pattern(e.Response.String()))
		}
	}
	return pass()
}

// MatchRun checks the run parts of an expectation (exit, output).
func (e Expect) MatchRun(r RunResult) Verdict {
	if e.Exit != nil && r.Exit != *e.Exit {
		return fail("the command exited with status %d; this step expects %d", r.Exit, *e.Exit)
	}
	if e.Output != nil && !e.Output.MatchString(r.Output) {
		return fail("the command's output has nothing matching %s", pattern(e.Output.String()))
	}
	return pass()
}

// HasLabCheck reports whether the expectation looks at the lab's state.
func (e Expect) HasLabCheck() bool { return e.Mailbox != nil || e.Queue != nil }

// CheckLab checks the mailbox and queue parts of an expectation, polling
// until they hold or e.Within (default 5 s) passes: delivery takes a moment.
func (e Expect) CheckLab(ctx context.Context, lab LabView) Verdict {
	within := e.Within
	if within == 0 {
		within = 5 * time.Second
	}
	deadline := time.Now().Add(within)
	for {
		v := e.checkLabOnce(lab)
		if v.OK || time.Now().After(deadline) {
			return v
		}
		select {
		case <-ctx.Done():
			return fail("interrupted while waiting: %s", v.Why)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (e Expect) checkLabOnce(lab LabView) Verdict {
	if mc := e.Mailbox; mc != nil {
		if v := mc.check(lab); !v.OK {
			return v
		}
	}
	if qc := e.Queue; qc != nil {
		entries, err := lab.Queue(qc.Domain)
		if err != nil {
			return fail("cannot read %s's queue: %v", qc.Domain, err)
		}
		var states []string
		for _, en := range entries {
			if qc.Recipient != "" && !strings.EqualFold(en.Recipient, qc.Recipient) {
				continue
			}
			if en.State == qc.State {
				return pass()
			}
			states = append(states, en.Recipient+" is "+en.State)
		}
		if len(states) == 0 {
			return fail("%s's queue holds no message for %s", qc.Domain, orAny(qc.Recipient))
		}
		return fail("in %s's queue %s; this step expects %s", qc.Domain, strings.Join(states, ", "), qc.State)
	}
	return pass()
}

func (mc *MailboxCheck) check(lab LabView) Verdict {
	user, domain, _ := strings.Cut(mc.Address, "@")
	msgs, err := ReadMailbox(lab.DataDir(domain), user, mc.Folder)
	where := mc.Address
	if mc.Folder != "" {
		where += " (folder " + mc.Folder + ")"
	}
	if err != nil {
		return fail("cannot read the mailbox of %s: %v", where, err)
	}
	matching := 0
	var last string
	for _, m := range msgs {
		if why := mc.matches(m); why != "" {
			last = why
			continue
		}
		matching++
	}
	if mc.Count != nil {
		if len(msgs) != *mc.Count {
			return fail("the mailbox of %s holds %d message(s); this step expects %d", where, len(msgs), *mc.Count)
		}
		if *mc.Count == 0 || mc.onlyCounts() {
			return pass()
		}
	}
	if matching > 0 {
		return pass()
	}
	if len(msgs) == 0 {
		return fail("the mailbox of %s is empty", where)
	}
	return fail("no message in the mailbox of %s fits: %s", where, last)
}

func (mc *MailboxCheck) onlyCounts() bool {
	return len(mc.Headers) == 0 && mc.Body == nil && !mc.Bounce
}

func (mc *MailboxCheck) matches(m StoredMessage) string {
	if mc.Bounce && !m.isBounce() {
		return "it is not a bounce (a multipart/report delivery status notification)"
	}
	for name, re := range mc.Headers {
		if v := m.decodedHeader(name); !re.MatchString(v) {
			return fmt.Sprintf("its %s header is %q, not matching %s", name, v, pattern(re.String()))
		}
	}
	if mc.Body != nil && !mc.Body.MatchString(m.Body) {
		return fmt.Sprintf("its body does not match %s", pattern(mc.Body.String()))
	}
	return ""
}

// pattern shows a compiled pattern without the case-insensitivity flag the
// parser added.
func pattern(re string) string { return "/" + strings.TrimPrefix(re, "(?i)") + "/" }

func orAny(s string) string {
	if s == "" {
		return "anyone"
	}
	return s
}
