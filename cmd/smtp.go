package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/explore"
	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/mx"
	"github.com/mailx-edu/mailx/proto/note"
)

// newSMTPCmd is the `mailx smtp` group.
func newSMTPCmd(ios *IOStreams) *cobra.Command {
	c := groupCmd("smtp", "Talk SMTP by hand, send a message, or replay a recorded session",
		"  mailx smtp talk 127.0.0.1:2525\n  mailx smtp send --server 127.0.0.1:2525 --from alice@mailx.test --to bob@mailx.test --subject hi --body 'Hello'\n  mailx smtp replay --example hill")
	c.AddCommand(newSMTPTalkCmd(ios, nil), newSMTPSendCmd(ios, nil), newSMTPReplayCmd(ios, nil))
	return c
}

// smtpConnFlags are the connection flags `smtp talk` and `smtp send` share:
// those of every talk command, plus SMTP's own.
type smtpConnFlags struct {
	connFlags
	Port      int    // --port; 0 = from HOST:PORT or the default
	MX        string // --mx DOMAIN
	DNSServer string // --dns-server for --mx
	Helo      string // --helo NAME
}

func (f *smtpConnFlags) register(c *cobra.Command, mxHelp string) {
	f.connFlags.register(c, 465, "send EHLO then STARTTLS automatically, and stop if the server refuses")
	fl := c.Flags()
	fl.IntVar(&f.Port, "port", 0, "server port (default 25, or 465 with --tls)")
	fl.StringVar(&f.MX, "mx", "", mxHelp)
	fl.StringVar(&f.DNSServer, "dns-server", "", "DNS server for --mx, HOST[:PORT] (default: the system's resolver)")
	fl.StringVar(&f.Helo, "helo", "", "name to give in EHLO (default: this machine's host name)")
}

func (f *smtpConnFlags) check() error {
	if f.Port < 0 || f.Port > 65535 {
		return usageError("Ports run from 1 to 65535; SMTP uses 25, submission 587, SMTPS 465.", "--port %d is not a port number", f.Port)
	}
	return f.connFlags.check()
}

func (f *smtpConnFlags) helo() string {
	if f.Helo != "" {
		return f.Helo
	}
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \t") {
		return h
	}
	return "localhost"
}

func (f *smtpConnFlags) defaultPort() int {
	if f.TLS {
		return 465
	}
	return 25
}

// smtpTarget is one host to try, with the name its certificate must carry.
type smtpTarget struct {
	Dial       string // address or host name to dial
	ServerName string // the name for TLS verification
	Port       int
	Why        string // how --mx chose it
	lab        bool   // --mx found an exchanger on this machine (a lab)
}

// loopbackOnly reports whether every address of x is on this machine.
func loopbackOnly(x mx.Exchanger) bool {
	for _, a := range x.Addresses {
		if !a.IP.IsLoopback() {
			return false
		}
	}
	return len(x.Addresses) > 0
}

// smtpTargets resolves what to connect to: the HOST[:PORT] argument, or the
// mail exchangers of --mx DOMAIN in the order an MTA tries them.
func smtpTargets(ctx context.Context, r *render.Renderer, f *smtpConnFlags, arg string) ([]smtpTarget, error) {
	if f.MX == "" {
		host, port, err := splitHostPort(arg, f.Port, f.defaultPort())
		if err != nil {
			return nil, usageError("Give HOST or HOST:PORT, for example 127.0.0.1:2525.", "%v", err)
		}
		return []smtpTarget{{Dial: host, ServerName: host, Port: port}}, nil
	}
	res := &mx.Resolver{}
	if f.DNSServer != "" {
		addr, err := mx.ServerAddr(f.DNSServer)
		if err != nil {
			return nil, usageError("Give the DNS server as HOST or HOST:PORT, for example 1.1.1.1.", "--dns-server: %v", err)
		}
		res.Server = addr
	}
	setLabDomainsHint()
	result, err := res.Lookup(ctx, f.MX)
	if err != nil {
		var me *mx.Error
		if errors.As(err, &me) {
			// The resolver's hints name mx lookup's --server; here the
			// DNS server is --dns-server (--server is not a flag of this
			// command).
			return nil, failure(strings.ReplaceAll(me.Hint(), "--server", "--dns-server"), "%s", me.Error())
		}
		return nil, failure("Check the domain's spelling, or give a host instead of --mx.", "MX lookup for %s failed: %v", f.MX, err)
	}
	if !result.AcceptsMail() {
		return nil, failure("Nothing can be delivered there; check the address.", "%s publishes a null MX: it accepts no mail (RFC 7505)", f.MX)
	}
	r.Heading("Mail exchangers for " + f.MX)
	port := f.Port
	if port == 0 {
		port = f.defaultPort()
	}
	var out []smtpTarget
	for _, x := range result.Order(nil) {
		why := fmt.Sprintf("preference %d", x.Preference)
		if x.Implicit {
			why = "implicit MX: the domain has no MX record but has an address (RFC 5321 §5.1)"
		}
		if !x.Usable() {
			r.Warning(fmt.Sprintf("%s (%s) has no address; skipped", x.Host, why))
			continue
		}
		xport := port
		if f.Port == 0 && !f.TLS && loopbackOnly(x) {
			// A lab runs every exchanger on this machine, each on its
			// own port, and its DNS says which (an SRV record).
			if p := res.ExchangerPort(ctx, x.Host); p != 0 {
				xport = p
				why += fmt.Sprintf(", port %d from the lab DNS (SRV %s%s)", p, mx.LabPortPrefix, x.Host)
			}
		}
		r.Field(x.Host, why)
		for _, a := range x.Addresses {
			out = append(out, smtpTarget{Dial: a.IP.String(), ServerName: x.Host, Port: xport, Why: x.Host + ", " + why, lab: loopbackOnly(x)})
		}
	}
	if len(out) == 0 {
		return nil, failure("The domain's mail exchangers have no addresses: mail there cannot be delivered now.", "no mail exchanger of %s has an address", f.MX)
	}
	r.Note(note.Note{Summary: "an MTA tries the lowest preference first, equal preferences in random order, and the next one when a host fails", Ref: "RFC 5321 §5.1"})
	return out, nil
}

// connectSMTP resolves the targets (HOST[:PORT] or --mx) and connects to the
// first that answers.
func connectSMTP(ctx context.Context, r *render.Renderer, f *smtpConnFlags, arg string) (*explore.Conn, error) {
	targets, err := smtpTargets(ctx, r, f, arg)
	if err != nil {
		return nil, err
	}
	return dialSMTP(ctx, r, f, targets)
}

// dialSMTP connects to the first target that answers, as an MTA does, and
// explains each failure on the way.
func dialSMTP(ctx context.Context, r *render.Renderer, f *smtpConnFlags, targets []smtpTarget) (*explore.Conn, error) {
	var lastErr error
	for i, t := range targets {
		c, err := explore.Dial(ctx, t.Dial, t.Port, explore.DialOptions{
			Timeout:    f.Timeout,
			TLS:        f.TLS,
			Insecure:   f.Insecure,
			ServerName: t.ServerName,
		})
		if err == nil {
			what := c.Addr()
			if t.Why != "" {
				what += " (" + t.Why + ")"
			}
			r.Heading("Connected to " + what)
			if c.TLSState != nil {
				for _, n := range c.TLSNotes(time.Now()) {
					r.Note(n)
				}
			}
			return c, nil
		}
		lastErr = err
		if i < len(targets)-1 {
			msg, _ := explainConnErr(err)
			r.Warning(msg + "; trying the next exchanger, as an MTA would")
		}
	}
	msg, hint := explainConnErr(lastErr)
	if t := targets[len(targets)-1]; t.lab && f.Port == 0 {
		hint = fmt.Sprintf("%s is on this machine, as in a lab, where each exchanger has its own port: the lab's start-up banner (mailx serve --lab) lists them; add --port N. Port %d is what --mx uses on the Internet.", t.ServerName, t.Port)
	}
	if len(targets) > 1 {
		msg = fmt.Sprintf("all %d addresses failed; the last: %s", len(targets), msg)
	}
	return nil, failure(hint, "%s", msg)
}
