package lessons

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mailx-edu/mailx/explore"
	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/imap"
	"github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// explorerTalker drives a real explore.Session one line at a time, so the
// student sees exactly what `mailx smtp talk` shows. It also keeps the facts
// checks look at: the protocol state before and after each exchange (from
// the explorer's own state machine, which follows proto's tables), and for
// SMTP the open transaction's sender and accepted recipients.
type explorerTalker struct {
	s    *explore.Session
	last *explore.Exchange
	all  []explore.Exchange // every exchange of the current line (\auth login makes three)

	sender     string   // SMTP: MAIL FROM accepted in the open transaction
	recipients []string // SMTP: RCPT TO accepted in the open transaction
	inTx       bool
	saslVerb   string // the SASL command whose challenge the next line answers
}

// protocols builds the explorer's protocol description for a talk step.
// "submission" is SMTP on the submission port.
var protocols = map[string]func() explore.Protocol{
	"smtp":       func() explore.Protocol { return explore.NewSMTP() },
	"submission": func() explore.Protocol { return explore.NewSMTP() },
	"pop3":       func() explore.Protocol { return explore.NewPOP3() },
	"imap":       func() explore.Protocol { return explore.NewIMAP() },
}

// ExplorerDialer opens real explorer sessions to lab servers. The lab's
// certificate is self-signed, so verification is skipped (and reported by
// the explorer when the student upgrades with STARTTLS).
func ExplorerDialer(ctx context.Context, t Talk, addr string, out *render.Renderer) (Talker, error) {
	return dialExplorer(ctx, t, addr, out, nil)
}

// ReportingDialer is ExplorerDialer that also hands every line of every
// talk step to hook, for a lab report of the whole lesson
// (`mailx lessons start N --report lab.html`).
func ReportingDialer(hook transcript.Hook) Dialer {
	return func(ctx context.Context, t Talk, addr string, out *render.Renderer) (Talker, error) {
		return dialExplorer(ctx, t, addr, out, hook)
	}
}

func dialExplorer(ctx context.Context, t Talk, addr string, out *render.Renderer, hook transcript.Hook) (Talker, error) {
	newProto, ok := protocols[t.Protocol]
	if !ok {
		return nil, fmt.Errorf("this mailx cannot talk %s yet", t.Protocol)
	}
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("bad port in %q", addr)
	}
	conn, err := explore.Dial(ctx, host, port, explore.DialOptions{Timeout: 10 * time.Second, Insecure: true})
	if err != nil {
		return nil, err
	}
	et := &explorerTalker{}
	out.Heading(fmt.Sprintf("Connected to %s (%s)", addr, t.Protocol))
	et.s = explore.NewSession(conn, explore.Options{
		Protocol:        newProto(),
		Render:          out,
		ResponseTimeout: 30 * time.Second,
		Hook:            hook,
		OnExchange:      func(x explore.Exchange) { et.last = &x; et.all = append(et.all, x) },
	})
	if err := et.s.Open(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return et, nil
}

// state names the session's protocol state as proto spells it: SMTP
// "greeted", "mail", "rcpt", "data"; POP3 "authorization", "transaction";
// IMAP "not-authenticated", "authenticated", "selected".
func (et *explorerTalker) state() string {
	switch p := et.s.Protocol().(type) {
	case *explore.SMTP:
		return p.State().String()
	case *explore.POP3:
		return p.State().String()
	case *explore.IMAP:
		return p.State().String()
	}
	return ""
}

func (et *explorerTalker) Send(ctx context.Context, typed string) (*Exchange, error) {
	et.last, et.all = nil, nil
	before := et.state()
	err := et.s.Line(ctx, typed)
	if et.last == nil || et.last.Response == nil {
		return nil, err
	}
	x := &Exchange{Typed: typed, Sent: et.last.Sent, Status: et.last.Response.Status, Response: et.last.Response.Raw(), Time: time.Now(),
		Before: before, State: et.state()}
	if c := et.s.Conn(); c != nil && c.TLSState != nil {
		x.TLS = true
	}
	for _, ex := range et.all {
		if ex.Response == nil {
			continue
		}
		verb, arg := "", ""
		switch {
		case et.saslVerb != "":
			// The line answered a SASL challenge (334, "+"): it belongs to
			// the AUTH command that asked for it, however it is spelt.
			verb = et.saslVerb
		case len(ex.Sent) > 0:
			verb, arg = commandOf(et.s.Protocol().Name(), ex.Sent[0], before)
		}
		et.saslVerb = ""
		if st := ex.Response.Status; (st == "334" || st == "+") && (verb == "AUTH" || verb == "AUTHENTICATE") {
			et.saslVerb = verb
		}
		x.Verb, x.Arg = verb, arg
	}
	if _, ok := et.s.Protocol().(*explore.SMTP); ok {
		et.smtpFacts(x, et.last.Response)
	}
	return x, err
}

// commandOf splits the first line sent into the command and its argument
// the way the protocol reads it: IMAP's tag is dropped; the end of SMTP
// message text is the pseudo-command ".".
func commandOf(proto, line, before string) (verb, arg string) {
	switch proto {
	case "imap":
		c := imap.ParseCommand(line)
		verb, arg = c.Name, c.Args
		if c.Sub != "" {
			verb = c.Name + " " + c.Sub
		}
		return verb, strings.TrimSpace(arg)
	case "smtp":
		if before == smtp.InData.String() {
			return ".", ""
		}
	}
	return smtp.Verb(line)
}

// smtpFacts records what the exchange did to the SMTP transaction, using
// proto/smtp's path parser and EHLO keyword parser.
func (et *explorerTalker) smtpFacts(x *Exchange, resp *explore.Response) {
	ok := len(x.Status) == 3 && x.Status[0] == '2'
	switch x.Verb {
	case "MAIL":
		if ok {
			et.sender, et.recipients, et.inTx = "", nil, true
			if pa, err := smtp.ParsePathArg(x.Arg, "FROM"); err == nil {
				et.sender = strings.ToLower(pa.Address)
				if pa.Address == "" {
					et.sender = "<>"
				}
			}
		}
	case "RCPT":
		if ok {
			if pa, err := smtp.ParsePathArg(x.Arg, "TO"); err == nil {
				et.recipients = append(et.recipients, strings.ToLower(pa.Address))
			}
		}
	case "EHLO":
		if r, isReply := resp.Value.(smtp.Reply); isReply && ok {
			for k := range smtp.Extensions(r) {
				x.Extensions = append(x.Extensions, k)
			}
			sort.Strings(x.Extensions)
		}
	}
	if et.inTx {
		x.Sender, x.Recipients = et.sender, append([]string(nil), et.recipients...)
	}
	// The transaction ends with the reply to the message text, RSET, a new
	// greeting, or the end of the session: what it was is still on x.
	if x.State != smtp.InMail.String() && x.State != smtp.InRcpt.String() && x.State != smtp.InData.String() {
		et.sender, et.recipients, et.inTx = "", nil, false
	}
}

func (et *explorerTalker) Prompt() string { return et.s.Protocol().Prompt() }
func (et *explorerTalker) Ended() bool    { return et.s.Ended() }
func (et *explorerTalker) Drop() error {
	if c := et.s.Conn(); c != nil {
		return c.Close()
	}
	return nil
}

func (et *explorerTalker) Close() error {
	if !et.s.Ended() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		et.s.Line(ctx, et.s.Protocol().Quit())
		cancel()
	}
	return et.Drop()
}
