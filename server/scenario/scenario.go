package scenario

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	smtp "github.com/mailx-edu/mailx/proto/smtp"
)

// The scenario names.
const (
	Normal      = "normal"
	Down        = "down"
	Greylist    = "greylist"
	MailboxFull = "mailbox-full"
	UnknownUser = "unknown-user"
	Slow        = "slow"
	RejectNext  = "reject-next"
	// The sender-authentication scenarios (see server/spam_scenario.go).
	Spoof      = "spoof"
	Forward    = "forward"
	ListFooter = "list-footer"
	OpenRelay  = "open-relay"
)

// Descriptions says in one line what each scenario does, for --help, the
// banner and error messages.
var Descriptions = map[string]string{
	Normal:      "no interference",
	Down:        "refuse every connection with 421 (the sender retries later)",
	Greylist:    "451 4.7.1 for the first attempt of each sender/recipient pair; retries after SECS (default 300) pass",
	MailboxFull: "452 4.2.2 mailbox full for USER (all users if omitted); add 552 for a permanent 552 5.2.2",
	UnknownUser: "550 5.1.1 for USER (all users if omitted): the sender bounces at once",
	Slow:        "hold back each reply DELAY (default 3s): a tarpit",
	RejectNext:  "the next transaction's final reply is CODE (e.g. 451 or 554), once",
	Spoof:       "this domain's outgoing mail leaves unsigned from a forger's address (203.0.113.66), as if someone else sent it in the domain's name: SPF and DMARC fail at the receiver",
	Forward:     "mail for this domain's users is forwarded to ADDRESS from this domain's address, envelope unchanged: SPF fails there, DKIM survives, DMARC passes on DKIM",
	ListFooter:  "a mailing list in front of the mailboxes appends a footer to each message before it is checked: the DKIM body hash no longer matches",
	OpenRelay:   "the domain becomes an open relay: a spammer abuses it at once, the lab's abuse desk lists it in bl.lab.test, and its own users' mail then bounces",
}

// Names returns the scenario names, sorted.
func Names() []string {
	out := make([]string, 0, len(Descriptions))
	for n := range Descriptions {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Defaults of the scenarios' arguments.
const (
	// DefaultGreylist is how long a greylisted pair must wait, in lesson
	// time: postgrey's default, shorter than the queue's first retry (5 min),
	// so the first retry passes.
	DefaultGreylist = 300 * time.Second
	// DefaultSlow is the tarpit's delay per reply, in real time: long enough
	// to notice, far below RFC 5321's client timeouts.
	DefaultSlow = 3 * time.Second
)

// Scenario is a parsed scenario: a name and its arguments.
type Scenario struct {
	Name  string        `json:"name"`
	User  string        `json:"user,omitempty"` // mailbox-full, unknown-user: one user only
	Code  int           `json:"code,omitempty"` // reject-next: the reply code; mailbox-full: 452 or 552
	Delay time.Duration `json:"-"`              // greylist (lesson time), slow (real time)
}

// scenarioJSON is Scenario on the wire and in --json output: the delay as
// Go duration text ("5m0s") and in seconds, never in nanoseconds, which
// no reader of a grading script expects.
type scenarioJSON struct {
	Name         string  `json:"name"`
	User         string  `json:"user,omitempty"`
	Code         int     `json:"code,omitempty"`
	Delay        string  `json:"delay,omitempty"`
	DelaySeconds float64 `json:"delay_seconds,omitempty"`
}

// MarshalJSON writes the delay as "5m0s" and delay_seconds.
func (s Scenario) MarshalJSON() ([]byte, error) {
	j := scenarioJSON{Name: s.Name, User: s.User, Code: s.Code}
	if s.Delay != 0 {
		j.Delay, j.DelaySeconds = s.Delay.String(), s.Delay.Seconds()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Scenario) UnmarshalJSON(b []byte) error {
	var j scenarioJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = Scenario{Name: j.Name, User: j.User, Code: j.Code}
	switch {
	case j.Delay != "":
		d, err := time.ParseDuration(j.Delay)
		if err != nil {
			return fmt.Errorf("scenario delay: %w", err)
		}
		s.Delay = d
	case j.DelaySeconds != 0:
		s.Delay = time.Duration(j.DelaySeconds * float64(time.Second))
	}
	return nil
}

// String writes the scenario as Parse reads it.
func (s Scenario) String() string {
	parts := []string{s.Name}
	switch s.Name {
	case Greylist:
		if s.Delay != 0 && s.Delay != DefaultGreylist {
			parts = append(parts, strconv.Itoa(int(s.Delay/time.Second)))
		}
	case MailboxFull, UnknownUser:
		if s.User != "" {
			parts = append(parts, s.User)
		}
		if s.Name == MailboxFull && s.Code == 552 {
			parts = append(parts, "552")
		}
	case Slow:
		if s.Delay != 0 && s.Delay != DefaultSlow {
			parts = append(parts, s.Delay.String())
		}
	case RejectNext:
		parts = append(parts, strconv.Itoa(s.Code))
	case Forward:
		parts = append(parts, s.User)
	}
	return strings.Join(parts, " ")
}

// Parse reads "NAME [ARGS]" as typed after --scenario DOMAIN= or in
// `mailx serve scenario DOMAIN NAME [ARGS]`; "greylist:60" and
// "reject-next=554" are accepted too.
func Parse(text string) (Scenario, error) {
	f := strings.FieldsFunc(strings.TrimSpace(text), func(r rune) bool { return r == ' ' || r == '\t' || r == ':' || r == '=' })
	if len(f) == 0 {
		return Scenario{}, fmt.Errorf("no scenario given; choose one of: %s", strings.Join(Names(), ", "))
	}
	s := Scenario{Name: strings.ToLower(f[0])}
	args := f[1:]
	bad := func(why string) (Scenario, error) {
		return Scenario{}, fmt.Errorf("scenario %q: %s (%s: %s)", text, why, s.Name, Descriptions[s.Name])
	}
	switch s.Name {
	case Normal, Down:
		if len(args) > 0 {
			return bad("takes no arguments")
		}
	case Greylist:
		s.Delay = DefaultGreylist
		if len(args) > 1 {
			return bad("takes at most one argument, the seconds to wait")
		}
		if len(args) == 1 {
			n, err := strconv.Atoi(args[0])
			if err != nil || n < 0 || n > 86400 {
				return bad("the wait must be a number of seconds from 0 to 86400")
			}
			s.Delay = time.Duration(n) * time.Second
		}
	case MailboxFull, UnknownUser:
		s.Code = 0
		for _, a := range args {
			switch {
			case s.Name == MailboxFull && (a == "552" || a == "452"):
				if a == "552" {
					s.Code = 552
				}
			case s.User == "" && !strings.ContainsAny(a, " \t"):
				s.User = strings.ToLower(a)
			default:
				return bad(fmt.Sprintf("unexpected argument %q", a))
			}
		}
	case Slow:
		s.Delay = DefaultSlow
		if len(args) > 1 {
			return bad("takes at most one argument, the delay per reply")
		}
		if len(args) == 1 {
			d, err := time.ParseDuration(args[0])
			if err != nil {
				if n, err2 := strconv.Atoi(args[0]); err2 == nil {
					d, err = time.Duration(n)*time.Second, nil
				}
			}
			if err != nil || d < 0 || d > 10*time.Minute {
				return bad("the delay must be a duration such as 3s, at most 10m")
			}
			s.Delay = d
		}
	case Spoof, ListFooter, OpenRelay:
		if len(args) > 0 {
			return bad("takes no arguments")
		}
	case Forward:
		if len(args) != 1 || !strings.Contains(args[0], "@") || strings.ContainsAny(args[0], "<> \t") {
			return bad("needs the address to forward to, e.g. forward alice@crepes.test")
		}
		s.User = strings.ToLower(args[0])
	case RejectNext:
		if len(args) != 1 {
			return bad("needs the reply code, e.g. reject-next 451")
		}
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 400 || n > 599 {
			return bad("the code must be a 4xx or 5xx reply code, such as 451 or 554")
		}
		s.Code = n
	default:
		return Scenario{}, fmt.Errorf("unknown scenario %q; choose one of: %s", f[0], strings.Join(Names(), ", "))
	}
	return s, nil
}

// Decision is a scenario's refusal, with why, for the trace.
type Decision struct {
	Reply smtp.Reply
	Why   string
}

// Engine is one domain's scenario switch. It is safe for concurrent use.
type Engine struct {
	// Host names the server in replies.
	Host string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Scale divides lesson-time waits (greylisting); ≤ 1 is real time.
	Scale float64

	mu    sync.Mutex
	cur   Scenario
	grey  map[string]time.Time // "from\x00to" → first attempt
	fired bool                 // reject-next has been used
}

// NewEngine returns an engine in the normal scenario.
func NewEngine(host string) *Engine {
	return &Engine{Host: host, cur: Scenario{Name: Normal}}
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Set switches to s, forgetting the previous scenario's state.
func (e *Engine) Set(s Scenario) {
	if s.Name == "" {
		s.Name = Normal
	}
	e.mu.Lock()
	e.cur, e.grey, e.fired = s, nil, false
	e.mu.Unlock()
}

// Current returns the scenario in force.
func (e *Engine) Current() Scenario {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cur
}

func (e *Engine) real(d time.Duration) time.Duration {
	if e.Scale <= 1 {
		return d
	}
	return time.Duration(float64(d) / e.Scale)
}

// Connect decides about a new connection: "down" answers 421 and closes.
func (e *Engine) Connect(client netip.Addr) *Decision {
	if e.Current().Name != Down {
		return nil
	}
	return &Decision{
		Reply: smtp.NewReply(421, "4.3.2", e.Host+" is down (lab scenario \"down\"): try again later"),
		Why:   "scenario down: refusing the connection with 421; a sending server keeps the message and retries",
	}
}

// Mail decides about MAIL FROM. No scenario refuses at MAIL: refusals come
// per recipient or at the end of the message, where they teach more.
func (e *Engine) Mail(from string) *Decision { return nil }

// Rcpt decides about one recipient the server would accept.
func (e *Engine) Rcpt(from, to string) *Decision {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.cur
	local := strings.ToLower(to)
	if i := strings.LastIndexByte(local, '@'); i >= 0 {
		local = local[:i]
	}
	if j := strings.IndexByte(local, '+'); j >= 0 {
		local = local[:j]
	}
	forUser := s.User == "" || s.User == local || s.User == strings.ToLower(to)
	switch s.Name {
	case Greylist:
		key := strings.ToLower(from) + "\x00" + strings.ToLower(to)
		if e.grey == nil {
			e.grey = map[string]time.Time{}
		}
		now := e.now()
		first, seen := e.grey[key]
		if !seen {
			e.grey[key] = now
			return &Decision{
				Reply: smtp.NewReply(451, "4.7.1", fmt.Sprintf("<%s>: greylisted, please try again in %d seconds", to, int(s.Delay/time.Second))),
				Why:   fmt.Sprintf("scenario greylist: first attempt from <%s> to <%s>; a real server retries and passes after %s", from, to, e.describe(s.Delay)),
			}
		}
		if wait := e.real(s.Delay); now.Sub(first) < wait {
			return &Decision{
				Reply: smtp.NewReply(451, "4.7.1", fmt.Sprintf("<%s>: greylisted, retried too soon; wait %d seconds in all", to, int(s.Delay/time.Second))),
				Why:   fmt.Sprintf("scenario greylist: <%s> to <%s> retried after %s, before the %s wait", from, to, now.Sub(first).Round(time.Millisecond), e.describe(s.Delay)),
			}
		}
		return nil
	case MailboxFull:
		if !forUser {
			return nil
		}
		if s.Code == 552 {
			return &Decision{Reply: smtp.NewReply(552, "5.2.2", fmt.Sprintf("<%s>: mailbox full, and it will stay full", to)),
				Why: "scenario mailbox-full (permanent): the sender bounces at once"}
		}
		return &Decision{Reply: smtp.NewReply(452, "4.2.2", fmt.Sprintf("<%s>: mailbox full, try again later", to)),
			Why: "scenario mailbox-full: a temporary refusal; the sender keeps the message and retries"}
	case UnknownUser:
		if !forUser {
			return nil
		}
		return &Decision{Reply: smtp.NewReply(550, "5.1.1", fmt.Sprintf("<%s>: no such user here", to)),
			Why: "scenario unknown-user: a permanent refusal; the sender bounces at once"}
	}
	return nil
}

// Data decides about a complete message, before it is queued:
// "reject-next" refuses the next one, once.
func (e *Engine) Data(from string, to []string) *Decision {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur.Name != RejectNext || e.fired {
		return nil
	}
	e.fired = true
	code := e.cur.Code
	return &Decision{
		Reply: smtp.NewReply(code, enhancedFor(code), fmt.Sprintf("message refused (lab scenario \"reject-next %d\"); the next one will be accepted", code)),
		Why:   fmt.Sprintf("scenario reject-next: answering the end of DATA with %d once", code),
	}
}

// Delay is how long to hold back each reply ("slow").
func (e *Engine) Delay() time.Duration {
	s := e.Current()
	if s.Name != Slow {
		return 0
	}
	return s.Delay
}

func (e *Engine) describe(d time.Duration) string {
	if e.Scale <= 1 {
		return d.String()
	}
	return fmt.Sprintf("%s (%s real time)", d, e.real(d).Round(time.Millisecond))
}

// enhancedFor picks an RFC 3463 code matching a reply code.
func enhancedFor(code int) string {
	switch code {
	case 421:
		return "4.3.2"
	case 450:
		return "4.2.0"
	case 550:
		return "5.7.1"
	case 451:
		return "4.3.0"
	case 452:
		return "4.3.1"
	case 552:
		return "5.3.4"
	case 554:
		return "5.7.1"
	}
	if code >= 500 {
		return "5.0.0"
	}
	return "4.0.0"
}
