package lessons

import (
	"fmt"
	"regexp"
	"strings"
	"time"
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
	Source  string // file name it came from, for messages
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
	}
	return "?"
}

// Step is one thing the student does and how it is checked.
type Step struct {
	ID      string
	Title   string
	Text    string // instructions; {smtp:DOMAIN}, {submission:DOMAIN}, {pop3:DOMAIN}, {imap:DOMAIN}, {dns} are replaced by lab addresses
	Action  Action
	Talk    Talk   // for ActTalk
	Run     string // for ActRun: the mailx subcommand the line must start with, e.g. "mx lookup"
	Expect  Expect
	Hint    string
	Explain string
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
	Command  *regexp.Regexp // talk: the line the student typed (case-insensitive)
	Reply    *ReplyMatch    // talk: the response to that line
	Response *regexp.Regexp // talk: any line of the response
	Exit     *int           // run: exit code
	Output   *regexp.Regexp // run: the command's output
	Mailbox  *MailboxCheck  // check/talk/run: a message present in a mailbox
	Queue    *QueueCheck    // a queue entry in a state
	Within   time.Duration  // how long the lab may take to get there (default 5s for mailbox/queue checks)
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

// MailboxCheck asks for messages in a user's mailbox.
type MailboxCheck struct {
	Address string                    // user@domain
	Folder  string                    // "" for INBOX
	Headers map[string]*regexp.Regexp // header name → pattern on its decoded value
	Body    *regexp.Regexp
	Count   *int // exact number of messages in the folder (0 = empty)
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
var labScenarios = map[string]bool{"": true, "normal": true, "down": true, "greylist": true, "mailbox-full": true, "unknown-user": true, "slow": true}

// Fill replaces the lab placeholders in text with the addresses the lab got.
func Fill(text string, addrs map[string]string) string {
	for k, v := range addrs {
		text = strings.ReplaceAll(text, "{"+k+"}", v)
	}
	return text
}

// placeholder matches {smtp:hill.test}, {dns} ...
var placeholder = regexp.MustCompile(`\{(smtp|submission|pop3|imap):([a-z0-9.-]+)\}|\{dns\}`)

func (l *Lesson) String() string { return fmt.Sprintf("%s (%s)", l.Name, l.Title) }
