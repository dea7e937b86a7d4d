package lessons

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/mailx-edu/mailx/server/scenario"
)

// Lesson is one parsed and validated lesson file.
type Lesson struct {
	Name    string   // identifier used on the command line: "smtp-by-hand"
	Title   string   // "SMTP by hand"
	Order   int      // position in `mailx lessons`; 0 sorts last
	Summary string   // one line for the list
	Goals   []string // what the student will be able to do
	Lab     LabSpec  // what the lesson starts
	Steps   []Step
	// Answers are the lesson's answer scripts: ways through that must pass
	// and mistakes that must get a given hint. `go test ./lessons` and
	// `mailx lessons validate --run` play them against the real lab.
	Answers []Answer
	Source  string // file name it came from, for messages
}

// Answer is one answer script: what a student types, line by line (protocol
// lines in talk steps, command lines in run steps), and what must follow.
type Answer struct {
	Name   string
	Right  bool   // a correct way through: the lesson must complete
	Script string // the lines; lab placeholders such as {dns} are filled in
	// For a wrong try: the step whose check must miss, and words its hint (or
	// its "Not yet" line) must contain.
	Step string
	Hint string
	// Completes says a wrong try followed by the rest of the script must
	// still complete the lesson: the student who made the mistake and
	// carried on is not stuck.
	Completes bool
	Line      int
}

// LabSpec is what a lesson needs running: mail domains, each a separate MTA, and
// optionally the lab DNS that answers MX and A queries for them.
type LabSpec struct {
	Domains []LabDomain
	DNS     bool // start the lab DNS server (always on when there are 2+ domains)
	// MaxSize overrides the servers' message size limit (lesson 4 provokes 552).
	MaxSize int64
	// Records are extra DNS records the lab DNS serves, in zone-file syntax
	// ("school.test. 300 IN MX 10 mx1.school.test."), for MX lessons.
	Records []string
	// Lifetime is how long the lab's queues keep trying before they bounce
	// (the relay lesson makes it short so the bounce arrives during class).
	Lifetime time.Duration
	// Files are example files copied into the student's workspace (the
	// crepe picture of the MIME lesson), by name from the embedded assets.
	Files []string
	// Web starts web mail (server/web) for every domain, at {web:DOMAIN};
	// automatic when a step is a web step or names {web:DOMAIN}.
	Web bool
	// Blocklist are addresses listed in the lab's DNS blocklist bl.lab.test
	// from the start (the spam lesson's spammer), with the reason its TXT
	// record gives.
	Blocklist []BlockEntry
}

// BlockEntry is one address listed in the lab's blocklist.
type BlockEntry struct {
	Addr   netip.Addr
	Reason string
}

// LabDomain is one mail domain of the lab.
type LabDomain struct {
	Name     string
	Users    []LabUser
	Scenario string // a teaching scenario started with the lab ("down", "greylist" ...)
	Messages []LabMessage
	Line     int
}

// LabMessage is a message already in a user's mailbox when the lab starts.
type LabMessage struct {
	To, From, Subject, Body string
}

// LabUser is a practice account.
type LabUser struct{ Name, Password string }

// Action says what the student does in a step.
type Action int

const (
	// ActTalk: the student types protocol lines in a talk session.
	ActTalk Action = iota + 1
	// ActRun: the student runs a mailx command at the lesson prompt.
	ActRun
	// ActCheck: nothing to type; the runner checks the lab (a delivery, a bounce).
	ActCheck
	// ActRead: read and press Enter; the step explains something.
	ActRead
	// ActWeb: the student uses the web mail page (or curl against it); the
	// runner checks what the bridge did.
	ActWeb
	// ActAsk: the student answers a question in words.
	ActAsk
)

// String names the action as it appears in lesson files.
func (a Action) String() string {
	switch a {
	case ActTalk:
		return "talk"
	case ActRun:
		return "run"
	case ActCheck:
		return "check"
	case ActRead:
		return "read"
	case ActWeb:
		return "web"
	case ActAsk:
		return "ask"
	}
	return "?"
}

// Step is one thing the student does and how it is checked.
type Step struct {
	ID     string
	Title  string
	Text   string // instructions; {smtp:DOMAIN}, {submission:DOMAIN}, {pop3:DOMAIN}, {imap:DOMAIN}, {dns} are replaced by lab addresses, {data:DOMAIN} by its data directory
	Action Action
	Talk   Talk   // for ActTalk
	Run    string // for ActRun: the mailx subcommand the line must start with, e.g. "mx lookup"
	Web    string // for ActWeb: the lab domain whose web mail the student uses
	Expect Expect
	Hint   string
	// Hints are hints chosen by what actually happened on a wrong try; the
	// first whose When holds is shown, else Hint.
	Hints   []WhenHint
	Explain string
	// Group names consecutive talk steps of one session that may be done in
	// any order (RETR and DELE of the same message).
	Group string
	// Do is what the runner itself does when the step starts, before it checks:
	// "scenario DOMAIN NAME", "retry DOMAIN" or "disconnect" (drop the talk
	// session without QUIT, as a failing network would).
	Do   []string
	Line int // where the step starts in the file
}

// Talk says which session a talk step happens in.
type Talk struct {
	Protocol string // "smtp", "submission", "pop3", "imap"
	Domain   string // which lab domain's server
	TLS      string // "" plain, "starttls" for the student to upgrade
	Session  string // "" or a name such as "#2", for a second session to the same server
}

// Key identifies the session a talk step happens in: steps with the same key
// continue one connection.
func (t Talk) Key() string { return t.Protocol + " " + t.Domain + " " + t.Session }

// Expect is the check of a step. Every field that is set must hold.
type Expect struct {
	// Talk steps, on what the line meant (see lessons/README.md).
	Verb       []string    // the command sent is one of these ("HELO", "EHLO"; "." ends SMTP message text)
	Arg        string      // its argument, compared loosely ("1", "INBOX")
	State      string      // the session's state after the response: "greeted", "transaction", "selected" ...
	Sender     string      // SMTP: the open transaction's envelope sender
	Recipient  string      // SMTP: one of the transaction's accepted recipients
	Extensions []string    // SMTP: keywords the EHLO reply must list
	TLS        *bool       // the connection is encrypted
	Reply      *ReplyMatch // the response's status
	Shows      []string    // talk: words in the response; run: words in the output

	// Run steps.
	Flags []FlagCheck // options the command line must carry
	Exit  *int        // exit code
	MX    []MXFact    // exchangers the `mx lookup` output shows, in any of its formats
	File  *FileCheck  // a file the command must have written in the working folder

	// Escape hatches for teachers' own files: regular expressions on the raw
	// text. Built-in lessons do not use them; students never see them.
	Command  *regexp.Regexp // talk: the line the student typed (case-insensitive)
	Response *regexp.Regexp // talk: any line of the response
	Output   *regexp.Regexp // run: the command's output

	Mailbox *MailboxCheck // check/talk/run: a message present in a mailbox
	Queue   *QueueCheck   // a queue entry in a state
	// Listed is an address the lab's blocklist bl.lab.test must list (the
	// open-relay scenario lists the relay's address a moment after its abuse).
	Listed netip.Addr
	Bridge *BridgeCheck  // web mail's bridge answered a request with these commands
	Answer []string      // ask: alternatives, each a set of words the answer must contain
	Within time.Duration // how long the lab may take to get there (default 5s for mailbox/queue checks)
}

// FileCheck asks for a file in the student's working folder and words in it.
type FileCheck struct {
	Name  string
	Shows []string
}

// FlagCheck asks for an option on a run step's command line; Value may use
// lab placeholders ("{dns}"); "" means present with any value.
type FlagCheck struct{ Name, Value string }

// WhenHint is a hint for one kind of wrong try.
type WhenHint struct {
	When When
	Hint string
}

// When describes a wrong try. Every field that is set must hold.
type When struct {
	Verb   []string    // the command sent
	Reply  *ReplyMatch // the status the server answered
	State  string      // the session state after it
	Failed string      // the expectation that did not hold: verb, arg, reply, state, sender, recipient, extension, tls, shows, flags, exit, mx, mailbox, queue, count
	Exit   *int        // run: the exit status
	Answer []string    // ask: the answer contains every word of one of these
}

// Holds reports whether the wrong try x (talk) or r (run) with verdict v is
// the one w describes.
func (w When) Holds(x *Exchange, r *RunResult, v Verdict) bool {
	if w.Failed != "" && !strings.EqualFold(w.Failed, v.Failed) {
		return false
	}
	if len(w.Verb) > 0 {
		if x == nil {
			return false
		}
		ok := false
		for _, vb := range w.Verb {
			ok = ok || strings.EqualFold(vb, x.Verb)
		}
		if !ok {
			return false
		}
	}
	if w.Reply != nil && (x == nil || !w.Reply.Match(x.Status)) {
		return false
	}
	if w.State != "" && (x == nil || !strings.EqualFold(w.State, x.State)) {
		return false
	}
	if w.Exit != nil && (r == nil || r.Exit != *w.Exit) {
		return false
	}
	if len(w.Answer) > 0 && (r == nil || !answerHas(r.Answer, w.Answer)) {
		return false
	}
	return true
}

// ReplyMatch matches a response's status: an exact SMTP code ("250"), a
// class ("2xx"), or a POP3/IMAP status ("+OK", "-ERR", "OK", "NO", "BAD").
type ReplyMatch struct{ Pattern string }

// Match reports whether status satisfies the pattern.
func (m ReplyMatch) Match(status string) bool {
	p := strings.ToUpper(m.Pattern)
	if len(p) == 3 && strings.HasSuffix(p, "XX") && len(status) == 3 {
		return status[0] == p[0]
	}
	return strings.EqualFold(status, m.Pattern)
}

// String returns the pattern.
func (m ReplyMatch) String() string { return m.Pattern }

// Words says what the pattern asks for: "250", "a 5xx refusal", "+OK".
func (m ReplyMatch) Words() string {
	p := strings.ToUpper(m.Pattern)
	if strings.HasSuffix(p, "XX") {
		switch p[0] {
		case '2':
			return "a 2xx success"
		case '3':
			return "a 3xx go-ahead"
		case '4':
			return "a 4xx temporary refusal"
		case '5':
			return "a 5xx permanent refusal"
		}
	}
	return m.Pattern
}

// MailboxCheck asks for messages in a user's mailbox.
type MailboxCheck struct {
	Address string                    // user@domain
	Folder  string                    // "" for INBOX
	Headers map[string]*regexp.Regexp // header name → pattern on its decoded value
	// Fields are header fields that must contain these words (plain text,
	// case-insensitive), in any of the field's instances: "spf=fail" in
	// Authentication-Results, "BAYES_99" in X-Spam-Status.
	Fields map[string][]string
	Body   *regexp.Regexp
	Sender string   // the envelope sender (Return-Path) the message came with
	Shows  []string // words in its subject or text
	Omits  []string // words the headers the sender wrote (From, To, Cc, Subject) must not contain
	Count  *int     // exact number of messages in the folder (0 = empty)
	// AtLeast is the fewest messages the folder may hold: for steps a
	// student may overdo without being wrong (COPY twice into Junk).
	AtLeast *int
	Bounce  bool // the message must be a delivery status notification
}

// QueueCheck asks for a queue entry.
type QueueCheck struct {
	Domain    string // whose queue
	Recipient string // pattern on a recipient address
	State     string // "deferred", "bounced", "delivered", "held", "pending"
}

// ValidReplyPattern reports whether s is an SMTP code, a code class or a
// POP3/IMAP status.
func ValidReplyPattern(s string) bool {
	u := strings.ToUpper(s)
	switch u {
	case "+OK", "-ERR", "OK", "NO", "BAD", "+", "BYE":
		return true
	}
	if len(u) != 3 || u[0] < '2' || u[0] > '5' {
		return false
	}
	if u[1:] == "XX" {
		return true
	}
	return u[1] >= '0' && u[1] <= '9' && u[2] >= '0' && u[2] <= '9'
}

// Protocols a talk step may use.
var talkProtocols = map[string]bool{"smtp": true, "submission": true, "pop3": true, "imap": true}

// Scenarios a lab domain may start with; they are the teaching scenarios of
// `mailx serve` (see `mailx serve scenario --help`).
var labScenarios = map[string]bool{"": true, "normal": true, "down": true, "greylist": true, "mailbox-full": true, "unknown-user": true, "slow": true,
	"spoof": true, "forward": true, "list-footer": true, "open-relay": true}

// labScenarioNames lists the scenarios a lesson may use, for messages.
const labScenarioNames = "normal, down, greylist, mailbox-full, unknown-user, slow, spoof, forward ADDRESS, list-footer, open-relay"

// checkScenario says what is wrong with a scenario as a lesson writes it
// ("greylist", "forward alice@crepes.test"), or "".
func checkScenario(text string) string {
	f := strings.Fields(text)
	if len(f) == 0 {
		return ""
	}
	if !labScenarios[strings.ToLower(f[0])] {
		return fmt.Sprintf("unknown scenario %q; known: %s", text, labScenarioNames)
	}
	if _, err := scenario.Parse(text); err != nil {
		return err.Error()
	}
	return ""
}

// Fill replaces the lab placeholders in text with the addresses the lab got.
func Fill(text string, addrs map[string]string) string {
	for k, v := range addrs {
		text = strings.ReplaceAll(text, "{"+k+"}", v)
	}
	return text
}

// placeholder matches {smtp:hill.test}, {dns} ...
var placeholder = regexp.MustCompile(`\{(smtp|submission|pop3|imap|data|web):([a-z0-9.-]+)\}|\{dns\}`)

func (l *Lesson) String() string { return fmt.Sprintf("%s (%s)", l.Name, l.Title) }
