package lessons

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Exchange is one line (or a group of lines) the student sent in a talk
// session and the response it got: the unit a talk step is checked on. Besides
// the raw lines it carries what they meant, as the explorer understood them
// from proto's state tables, so that checks never depend on spelling.
type Exchange struct {
	Session  string    `json:"session"`          // the Talk.Key of the session
	Typed    string    `json:"typed"`            // what the student typed (a meta-command stays as typed)
	Sent     []string  `json:"sent"`             // the lines that went on the wire
	Status   string    `json:"status,omitempty"` // "250", "+OK", "OK", "+" ...
	Response []string  `json:"response,omitempty"`
	Time     time.Time `json:"time"`

	Verb   string `json:"verb,omitempty"`   // the command as the protocol reads it: "EHLO", "RETR", "UID FETCH"; "." ends SMTP message text
	Arg    string `json:"arg,omitempty"`    // what follows the verb (IMAP: without the tag)
	Before string `json:"before,omitempty"` // the session state before the line: "greeted", "transaction" ...
	State  string `json:"state,omitempty"`  // the session state after the response
	TLS    bool   `json:"tls,omitempty"`    // the connection is encrypted
	// SMTP: the open transaction after this exchange (or the one the message
	// text just completed): its envelope sender and accepted recipients.
	Sender     string   `json:"sender,omitempty"`
	Recipients []string `json:"recipients,omitempty"`
	Extensions []string `json:"extensions,omitempty"` // SMTP: the keywords of an EHLO reply
}

// Protocol returns the protocol the exchange was in, from its session key.
func (x Exchange) Protocol() string {
	p, _, _ := strings.Cut(x.Session, " ")
	return p
}

// RunResult is one mailx command the student ran at the lesson prompt.
type RunResult struct {
	Dir    string   `json:"dir,omitempty"` // the working folder it ran in
	Args   []string `json:"args"`
	Exit   int      `json:"exit"`
	Output string   `json:"output"`
	Answer string   `json:"answer,omitempty"` // an ask step's typed answer
}

// QueueEntry is one recipient of one queued message, as checks see it.
type QueueEntry struct {
	ID          string    `json:"id"`
	Recipient   string    `json:"recipient"`
	State       string    `json:"state"`
	LastError   string    `json:"last_error,omitempty"`
	Attempts    int       `json:"attempts,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitempty"`
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
	// Failed names the expectation that did not hold ("verb", "state",
	// "reply", "sender", "flags" ...), so that the step's hints can be chosen
	// by what actually happened.
	Failed string `json:"failed,omitempty"`
}

func pass() Verdict { return Verdict{OK: true} }
func fail(key, format string, args ...any) Verdict {
	return Verdict{Why: fmt.Sprintf(format, args...), Failed: key}
}

// stateWords says what a protocol state means, for the student.
var stateWords = map[string]map[string]string{
	"smtp": {
		"connected": "connected but not yet greeted (no HELO or EHLO accepted)",
		"greeted":   "greeted with HELO or EHLO, with no mail transaction open",
		"mail":      "a mail transaction open (MAIL FROM accepted), no recipient yet",
		"rcpt":      "a mail transaction with at least one recipient accepted (RCPT TO)",
		"data":      "sending the message text (DATA answered 354)",
		"closed":    "the session closed",
	},
	"pop3": {
		"authorization": "not logged in (the AUTHORIZATION state)",
		"transaction":   "logged in (the TRANSACTION state)",
		"update":        "ending the session (the UPDATE state)",
		"closed":        "the session closed",
	},
	"imap": {
		"not-authenticated": "not logged in",
		"authenticated":     "logged in, with no mailbox selected",
		"selected":          "a mailbox selected",
		"logout":            "the session over (the server said BYE)",
	},
}

// StateWords describes state of protocol proto ("submission" is SMTP).
func StateWords(proto, state string) string {
	if proto == "submission" {
		proto = "smtp"
	}
	if w, ok := stateWords[proto][state]; ok {
		return w
	}
	return "the state " + state
}

// knownState reports whether state is a state name of proto.
func knownState(proto, state string) bool {
	if proto == "submission" {
		proto = "smtp"
	}
	_, ok := stateWords[proto][state]
	return ok
}

func describeVerbs(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		if v == "." {
			q[i] = `the line "." that ends the message`
		} else {
			q[i] = v
		}
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

func sentWhat(x Exchange) string {
	switch {
	case x.Verb == ".":
		return `the line "."`
	case x.Verb != "":
		return x.Verb
	case len(x.Sent) > 0:
		return fmt.Sprintf("%q", x.Sent[0])
	}
	return "that"
}

// normArg reads a command argument loosely: case, runs of spaces and IMAP's
// quotes around a mailbox name do not matter.
func normArg(s string) string {
	f := strings.Fields(strings.ToUpper(s))
	for i, w := range f {
		if len(w) >= 2 && w[0] == '"' && w[len(w)-1] == '"' {
			f[i] = w[1 : len(w)-1]
		}
	}
	return strings.Join(f, " ")
}

// sameArg compares arguments loosely; IMAP mailbox names keep their case
// (RFC 3501 §5.1: only INBOX is case-insensitive).
func sameArg(proto, got, want string) bool {
	if proto != "imap" {
		return normArg(got) == normArg(want)
	}
	g, w := strings.Fields(got), strings.Fields(want)
	if len(g) != len(w) {
		return false
	}
	for i := range g {
		a, b := strings.Trim(g[i], `"`), strings.Trim(w[i], `"`)
		if a != b && !(strings.EqualFold(a, "INBOX") && strings.EqualFold(b, "INBOX")) {
			return false
		}
	}
	return true
}

// MatchExchange checks the talk parts of an expectation against one
// exchange. Each condition is checked on what the line meant (the command,
// the state it led to, the transaction it built), never on its spelling.
func (e Expect) MatchExchange(x Exchange) Verdict {
	proto := x.Protocol()
	if len(e.Verb) > 0 {
		found := false
		for _, v := range e.Verb {
			if strings.EqualFold(v, x.Verb) {
				found = true
			}
		}
		if !found {
			return fail("verb", "you sent %s; this step asks for %s", sentWhat(x), describeVerbs(e.Verb))
		}
	}
	if e.Arg != "" && !sameArg(proto, x.Arg, e.Arg) {
		if x.Arg == "" {
			return fail("arg", "%s needs the argument %s here", x.Verb, e.Arg)
		}
		return fail("arg", "you sent %s %s; this step asks for %s %s", x.Verb, x.Arg, x.Verb, e.Arg)
	}
	if e.Command != nil {
		last := ""
		if len(x.Sent) > 0 {
			last = x.Sent[len(x.Sent)-1]
		}
		if !e.Command.MatchString(last) && !e.Command.MatchString(x.Typed) {
			return fail("command", "the line you sent is not the one this step asks for (\\lesson shows it again)")
		}
	}
	if e.Reply != nil && !e.Reply.Match(x.Status) {
		got := x.Status
		if got == "" {
			got = "nothing"
		}
		return fail("reply", "the server answered %s to %s; this step needs %s", got, sentWhat(x), e.Reply.Words())
	}
	if e.State != "" && !strings.EqualFold(e.State, x.State) {
		return fail("state", "the session is now %s; this step needs %s", StateWords(proto, x.State), StateWords(proto, e.State))
	}
	if e.Sender != "" {
		switch {
		case x.Sender == "":
			return fail("sender", "no mail transaction is open: the server has accepted no MAIL FROM")
		case !strings.EqualFold(x.Sender, e.Sender):
			return fail("sender", "the envelope sender is <%s>; this step asks for <%s>", x.Sender, e.Sender)
		}
	}
	if e.Recipient != "" {
		found := false
		for _, r := range x.Recipients {
			if strings.EqualFold(r, e.Recipient) {
				found = true
			}
		}
		if !found {
			if len(x.Recipients) == 0 {
				return fail("recipient", "the server has accepted no recipient yet; this step needs <%s>", e.Recipient)
			}
			return fail("recipient", "the accepted recipients are <%s>; this step needs <%s>", strings.Join(x.Recipients, ">, <"), e.Recipient)
		}
	}
	for _, ext := range e.Extensions {
		found := false
		for _, have := range x.Extensions {
			if strings.EqualFold(have, ext) {
				found = true
			}
		}
		if !found {
			if len(x.Extensions) == 0 {
				return fail("extension", "no extension list came back; only an accepted EHLO lists them (HELO does not)")
			}
			return fail("extension", "the server's extensions (%s) do not include %s", strings.Join(x.Extensions, ", "), ext)
		}
	}
	if e.TLS != nil && *e.TLS != x.TLS {
		if *e.TLS {
			return fail("tls", "the connection is not encrypted yet")
		}
		return fail("tls", "the connection is encrypted; this step is about a plain one")
	}
	if len(e.Shows) > 0 {
		if w := missingWord(strings.Join(x.Response, "\n"), e.Shows); w != "" {
			return fail("shows", "the server's answer does not show %s", w)
		}
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
			return fail("response", "the server's answer does not show what this step looks for")
		}
	}
	return pass()
}

// missingWord returns the first of words that text does not contain
// (case-insensitively), or "".
func missingWord(text string, words []string) string {
	lt := strings.ToLower(text)
	for _, w := range words {
		if !strings.Contains(lt, strings.ToLower(w)) {
			return fmt.Sprintf("%q", w)
		}
	}
	return ""
}

// MatchRun checks the run parts of an expectation (flags, exit, output
// facts). vars fills placeholders such as {dns} in flag values.
func (e Expect) MatchRun(r RunResult, vars map[string]string) Verdict {
	if v := e.checkFlags(r.Args, vars); !v.OK {
		return v
	}
	if e.Exit != nil && r.Exit != *e.Exit {
		return fail("exit", "the command failed (exit status %d); this step needs it to succeed (%d) — its output above says why", r.Exit, *e.Exit)
	}
	if f := e.File; f != nil {
		data, err := os.ReadFile(filepath.Join(r.Dir, f.Name))
		if err != nil {
			return fail("file", "there is no file %s in your lesson folder", f.Name)
		}
		if w := missingWord(string(data), f.Shows); w != "" {
			return fail("file", "%s does not contain %s", f.Name, w)
		}
	}
	if len(e.MX) > 0 {
		have := ParseMXOutput(r.Output)
		for _, want := range e.MX {
			if !hasMX(have, want) {
				if len(have) == 0 {
					return fail("mx", "the output shows no mail exchanger; this step looks for %s", want)
				}
				return fail("mx", "the output shows %s; this step looks for %s", mxList(have), want)
			}
		}
	}
	if len(e.Shows) > 0 {
		if w := missingWord(r.Output, e.Shows); w != "" {
			return fail("shows", "the command's output does not show %s", w)
		}
	}
	if e.Output != nil && !e.Output.MatchString(r.Output) {
		return fail("output", "the command's output does not show what this step looks for")
	}
	return pass()
}

// checkFlags checks the options a run step asks for on a command line.
func (e Expect) checkFlags(args []string, vars map[string]string) Verdict {
	for _, f := range e.Flags {
		want := Fill(f.Value, vars)
		if uq, err := SplitCommandLine(want); err == nil && len(uq) == 1 {
			want = uq[0] // a {data:...} path quoted for the command line
		}
		got, ok := flagValue(args, f.Name)
		switch {
		case !ok:
			return fail("flags", "your command has no %s option", f.Name)
		case want != "" && got != want:
			if got == "" {
				return fail("flags", "%s needs a value: %s %s", f.Name, f.Name, want)
			}
			return fail("flags", "your command has %s %s; the lab's is %s %s", f.Name, got, f.Name, want)
		}
	}
	return pass()
}

// flagValue finds --name VALUE or --name=VALUE in args.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if a == name {
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				return args[i+1], true
			}
			return "", true
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// HasLabCheck reports whether the expectation looks at the lab's state.
func (e Expect) HasLabCheck() bool {
	return e.Mailbox != nil || e.Queue != nil || e.Listed.IsValid() || e.Bridge != nil
}

// BlocklistView is a lab whose blocklist (bl.lab.test) checks can read.
type BlocklistView interface {
	Blocklist() ([]BlockEntry, error)
}

// CheckLab checks the mailbox and queue parts of an expectation, polling
// until they hold or e.Within (default 5 s) passes: delivery takes a moment.
func (e Expect) CheckLab(ctx context.Context, lab LabView) Verdict {
	return e.CheckLabProgress(ctx, lab, nil)
}

// CheckLabProgress is CheckLab that calls progress every five seconds while
// it waits, with how long it has waited, the limit, and what still does not
// hold, so that the runner can show a progress line.
func (e Expect) CheckLabProgress(ctx context.Context, lab LabView, progress func(waited, limit time.Duration, v Verdict)) Verdict {
	within := e.Within
	if within == 0 {
		within = 5 * time.Second
	}
	start := time.Now()
	deadline := start.Add(within)
	lastShown := start
	for {
		v := e.checkLabOnce(lab)
		if v.OK || time.Now().After(deadline) {
			return v
		}
		if progress != nil && time.Since(lastShown) >= 5*time.Second {
			lastShown = time.Now()
			progress(time.Since(start).Round(time.Second), within, v)
		}
		select {
		case <-ctx.Done():
			return fail(v.Failed, "interrupted while waiting: %s", v.Why)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (e Expect) checkLabOnce(lab LabView) Verdict {
	if b := e.Bridge; b != nil {
		if v := b.check(lab); !v.OK {
			return v
		}
	}
	if mc := e.Mailbox; mc != nil {
		if v := mc.check(lab); !v.OK {
			return v
		}
	}
	if e.Listed.IsValid() {
		if v := checkListed(lab, e.Listed); !v.OK {
			return v
		}
	}
	if qc := e.Queue; qc != nil {
		entries, err := lab.Queue(qc.Domain)
		if err != nil {
			return fail("queue", "cannot read %s's queue: %v", qc.Domain, err)
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
			return fail("queue", "%s's queue holds no message for %s", qc.Domain, orAny(qc.Recipient))
		}
		return fail("queue", "in %s's queue %s; this step waits for %s", qc.Domain, strings.Join(states, ", "), qc.State)
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
		return fail("mailbox", "cannot read the mailbox of %s: %v", where, err)
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
			return fail("count", "the mailbox of %s holds %d message(s); this step expects %d", where, len(msgs), *mc.Count)
		}
		if *mc.Count == 0 || mc.onlyCounts() {
			return pass()
		}
	}
	if mc.AtLeast != nil {
		if len(msgs) < *mc.AtLeast {
			return fail("count", "the mailbox of %s holds %d message(s); this step expects at least %d", where, len(msgs), *mc.AtLeast)
		}
		if mc.onlyCounts() {
			return pass()
		}
	}
	if matching > 0 {
		return pass()
	}
	if len(msgs) == 0 {
		return fail("mailbox", "the mailbox of %s is empty", where)
	}
	return fail("mailbox", "no message in the mailbox of %s fits: %s", where, last)
}

func (mc *MailboxCheck) onlyCounts() bool {
	return len(mc.Headers) == 0 && len(mc.Fields) == 0 && mc.Body == nil && !mc.Bounce && mc.Sender == "" && len(mc.Shows) == 0 && len(mc.Omits) == 0
}

func (mc *MailboxCheck) matches(m StoredMessage) string {
	if mc.Bounce && !m.isBounce() {
		return "it is not a bounce (a multipart/report delivery status notification)"
	}
	if mc.Sender != "" {
		if got := m.envelopeSender(); !strings.EqualFold(got, mc.Sender) {
			return fmt.Sprintf("its envelope sender is <%s>, not <%s>", got, mc.Sender)
		}
	}
	names := make([]string, 0, len(mc.Headers))
	for name := range mc.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		re := mc.Headers[name]
		if v := m.decodedHeader(name); !re.MatchString(v) {
			return fmt.Sprintf("its %s header is %q", name, v)
		}
	}
	fields := make([]string, 0, len(mc.Fields))
	for name := range mc.Fields {
		fields = append(fields, name)
	}
	sort.Strings(fields)
	for _, name := range fields {
		if why := m.fieldMisses(name, mc.Fields[name]); why != "" {
			return why
		}
	}
	for _, h := range []string{"From", "To", "Cc", "Subject"} {
		for _, w := range mc.Omits {
			if strings.Contains(strings.ToLower(m.decodedHeader(h)), strings.ToLower(w)) {
				return fmt.Sprintf("its %s header names %s", h, w)
			}
		}
	}
	if w := missingWord(m.decodedHeader("Subject")+"\n"+m.Body, mc.Shows); len(mc.Shows) > 0 && w != "" {
		return fmt.Sprintf("it does not mention %s", w)
	}
	if mc.Body != nil && !mc.Body.MatchString(m.Body) {
		return "its text is not what this step looks for"
	}
	return ""
}

func orAny(s string) string {
	if s == "" {
		return "anyone"
	}
	return s
}

// checkListed checks that the lab's blocklist lists addr.
func checkListed(lab LabView, addr netip.Addr) Verdict {
	bv, ok := lab.(BlocklistView)
	if !ok {
		return fail("listed", "this lab has no blocklist to look at")
	}
	entries, err := bv.Blocklist()
	if err != nil {
		return fail("listed", "cannot read the lab's blocklist: %v", err)
	}
	for _, en := range entries {
		if en.Addr == addr {
			return pass()
		}
	}
	return fail("listed", "%s is not listed in bl.lab.test (yet)", addr)
}
