package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/note"
	"github.com/mailx-edu/mailx/server"
	"github.com/mailx-edu/mailx/server/accounts"
	"github.com/mailx-edu/mailx/server/queue"
)

// serveFlagHooks let other files add flags to mailx serve that write into
// the server's Config (--pop3 and --imap, --route, --time-scale, --lab):
//
//	func init() { serveFlagHooks = append(serveFlagHooks, func(fs *pflag.FlagSet, cfg *server.Config) { ... }) }
var serveFlagHooks []func(fs *pflag.FlagSet, cfg *server.Config)

type serveOptions struct {
	IO *IOStreams

	// Cfg receives the flags. Flags given on the command line override the
	// config file, which overrides the defaults.
	Cfg        server.Config
	Data       string
	ConfigFile string
	Trace      bool
	Quiet      bool
	JSON       bool

	// flags holds what was given on the command line, to lay it over the
	// config file.
	flags *pflag.FlagSet
	// ready, when set, is called with the started server (tests).
	ready func(*server.MTA)
	// readyLab is ready for --lab (serve_lab.go).
	readyLab func(*server.Lab)
}

const serveLong = `Run a real mail server on your own machine to practise against: it receives
mail over SMTP for its domains, queues it durably and delivers it into the
users' Maildirs, where POP3, IMAP, mutt or Dovecot can read it.

With no flags it serves the domain mailx.test for the practice accounts alice
(password hungry) and bob (password burger):

  SMTP        127.0.0.1:2525   for other servers, and for you typing SMTP by hand
  submission  127.0.0.1:2587   for mail programs: log in (AUTH) first, then send anywhere
  POP3        127.0.0.1:1100   download mail (user/pass/list/retr/dele/quit)
  IMAP        127.0.0.1:1430   folders and flags kept on the server

Each new mailbox starts with a welcome message from postmaster@ the domain
that says what to try, so a first POP3 or IMAP session finds mail
(--no-welcome leaves new mailboxes empty).

With --lab it starts a small Internet instead: crepes.test (alice) and
hamburger.test (bob), each its own server, and a lab DNS that publishes
their MX records, so mail from Alice to Bob is relayed over real SMTP.

It listens on loopback only. It is strict and explains itself: every refusal
carries the RFC 3463 code and what to do (503 5.5.1 Send MAIL FROM first, 554
5.7.1 relay access denied, ...). It is not an open relay: mail for other
domains is accepted only after AUTH. --trace shows every session's lines,
annotated like mailx smtp talk, with the server's decisions.

Data (accounts, queue, Maildirs, transcripts of every session, log, TLS
certificate) lives in the state directory's serve/ folder, or --data DIR.
A config file (--config, or mailx.conf in the data directory) can set
everything; mailx serve --example-config prints one with every key explained.
Flags override the file.

Transcripts are kept within 100 MiB and 14 days, the oldest removed first;
a connection that closes before sending anything is only counted in the log.
To keep everything for a lab: --transcripts-max-size unlimited
--transcripts-max-age unlimited. All protocols share one budget of sessions
(--max-sessions, 1000), each at most 100 from one address
(--max-sessions-per-client); a client over it hears "busy, try later".

Ctrl-C stops the server; messages already acknowledged stay in the queue and
are delivered at the next start.`

const serveExample = `  mailx serve
  mailx serve --trace
  mailx serve --domain crepes.test --user alice:secret --smtp 127.0.0.1:2626
  mailx serve --data ./lab --max-size 1M
  mailx serve --public --smtp 0.0.0.0:2525    # a classroom server
  mailx serve --public --trusted-net 10.0.0.0/8   # ten typos in the room do not lock it out
  mailx serve --transcripts-max-size unlimited --transcripts-max-age unlimited   # keep every transcript
  mailx serve --example-config > mailx.conf   # every setting, commented; then --config mailx.conf
  mailx serve --lab --trace --time-scale 60   # Alice -> Bob through two servers and a lab DNS
  mailx serve user add carol`

func newServeCmd(ios *IOStreams, runF func(context.Context, *serveOptions) error) *cobra.Command {
	opts := &serveOptions{IO: ios}
	var example bool
	c := &cobra.Command{
		Use:     "serve",
		Short:   "Run a practice mail server (SMTP, submission, POP3, IMAP, Maildir) on this machine",
		Long:    serveLong,
		Example: serveExample,
		Args:    noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if example {
				fmt.Fprint(opts.IO.Out, server.ExampleConfig)
				return nil
			}
			opts.flags = c.Flags()
			if runF == nil {
				runF = runServe
			}
			return runF(c.Context(), opts)
		},
	}
	fs := c.Flags()
	bindServeFlags(fs, &opts.Cfg)
	fs.StringVar(&opts.Data, "data", "", "data directory (default: the state directory's serve/)")
	fs.StringVar(&opts.ConfigFile, "config", "", "config file (default: mailx.conf in the data directory, if present)")
	fs.BoolVar(&opts.Trace, "trace", false, "print every session's lines, annotated, with the server's decisions")
	fs.BoolVar(&opts.Quiet, "quiet", false, "with --trace: raw lines and decisions only, no explanations")
	fs.BoolVar(&opts.JSON, "json", false, "print the start-up report and the trace as JSON lines")
	fs.BoolVar(&example, "example-config", false, "print a config file with every key explained, and exit")
	c.AddCommand(newServeUserCmd(ios))
	c.AddCommand(newServeScenarioCmd(ios, nil))
	for _, sub := range serveSubcommands {
		c.AddCommand(sub(ios))
	}
	return c
}

// serveSubcommands let other files add subcommands to mailx serve.
var serveSubcommands []func(*IOStreams) *cobra.Command

// bindServeFlags defines the flags that set the server's Config. It is
// called twice: for the command line, and to lay the command line over the
// config file.
func bindServeFlags(fs *pflag.FlagSet, cfg *server.Config) {
	fs.StringSliceVar(&cfg.Domains, "domain", nil, "mail domain delivered here; repeat for more (default mailx.test)")
	fs.StringVar(&cfg.Hostname, "hostname", "", "the server's name in greetings and Received: (default: the first domain)")
	fs.StringVar(&cfg.SMTPAddr, "smtp", "", `SMTP listen address, or "off" (default `+server.DefaultSMTPAddr+")")
	fs.StringVar(&cfg.SubmissionAddr, "submission", "", `submission listen address, AUTH required, or "off" (default `+server.DefaultSubmissionAddr+")")
	fs.StringVar(&cfg.SMTPSAddr, "smtps", "", "submission over implicit TLS (RFC 8314), e.g. 127.0.0.1:2465 (default off)")
	fs.Var(&userList{cfg: cfg}, "user", "account NAME:PASSWORD; repeat for more (replaces the practice accounts)")
	fs.Var(&sizeValue{p: &cfg.Limits.MessageSize}, "max-size", "largest message accepted, e.g. 10485760, 512K, 10M (default 10M)")
	fs.IntVar(&cfg.Limits.Recipients, "max-recipients", 0, "recipients per message (default 100)")
	fs.IntVar(&cfg.Limits.Errors, "max-errors", 0, "failed commands before the server hangs up (default 20)")
	fs.IntVar(&cfg.Limits.CommandLine, "max-line", 0, "longest command line in octets (default 2048)")
	fs.DurationVar(&cfg.Limits.Idle, "idle-timeout", 0, "how long to wait for a command (default 5m)")
	fs.DurationVar(&cfg.Limits.Data, "data-timeout", 0, "how long to wait for each line of message text (default 3m)")
	fs.IntVar(&cfg.Limits.Sessions, "max-sessions", 0, "concurrent sessions of all protocols together (default 1000)")
	fs.IntVar(&cfg.Limits.SessionsPerClient, "max-sessions-per-client", 0, "concurrent sessions of one protocol from one address (default 100)")
	fs.Var(&netList{cfg: cfg}, "relay-net", "client network allowed to relay without AUTH, e.g. 10.0.0.0/8; repeat for more")
	fs.BoolVar(&cfg.VRFY, "vrfy", false, "answer VRFY truthfully instead of 252")
	fs.BoolVar(&cfg.NoTranscripts, "no-transcripts", false, "do not keep session transcripts in the data directory")
	cfg.Welcome = true
	fs.Var(&negatedBool{p: &cfg.Welcome}, "no-welcome", "do not put a welcome message into new accounts' INBOX")
	fs.Lookup("no-welcome").NoOptDefVal = "true"
	fs.BoolVar(&cfg.AllowPublic, "public", false, "allow listen addresses other machines can reach (a classroom server)")
	for _, h := range serveFlagHooks {
		h(fs, cfg)
	}
}

// userList is --user NAME:PASSWORD, repeatable.
type userList struct{ cfg *server.Config }

func (u *userList) String() string {
	var names []string
	for _, c := range u.cfg.Users {
		names = append(names, c.Name+":***")
	}
	return strings.Join(names, ",")
}
func (u *userList) Type() string { return "NAME:PASSWORD" }
func (u *userList) Set(s string) error {
	c, err := accounts.ParseCredential(s)
	if err != nil {
		return err
	}
	u.cfg.Users = append(u.cfg.Users, c)
	return nil
}

// negatedBool is a --no-X flag that clears the bool it points to; the bool
// itself defaults to true.
type negatedBool struct{ p *bool }

func (n *negatedBool) String() string { return fmt.Sprint(!*n.p) }
func (n *negatedBool) Type() string   { return "bool" }
func (n *negatedBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*n.p = !v
	return nil
}

// netList is --relay-net, repeatable.
type netList struct{ cfg *server.Config }

func (n *netList) String() string {
	var s []string
	for _, p := range n.cfg.RelayNets {
		s = append(s, p.String())
	}
	return strings.Join(s, ",")
}
func (n *netList) Type() string { return "CIDR" }
func (n *netList) Set(s string) error {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil {
			return fmt.Errorf("%q is not a network such as 10.0.0.0/8", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	n.cfg.RelayNets = append(n.cfg.RelayNets, p.Masked())
	return nil
}

// sizeValue is an octet count with K/M/G suffixes.
type sizeValue struct{ p *int64 }

func (v *sizeValue) String() string {
	if v.p == nil || *v.p == 0 {
		return ""
	}
	return fmt.Sprint(*v.p)
}
func (v *sizeValue) Type() string { return "BYTES" }
func (v *sizeValue) Set(s string) error {
	n, err := server.ParseSize(s)
	if err != nil {
		return err
	}
	*v.p = n
	return nil
}

// buildConfig is the config file (if any) with the command line on top.
func (opts *serveOptions) buildConfig() (server.Config, error) {
	data, err := queueDataDir(opts.IO, opts.Data)
	if err != nil {
		return server.Config{}, err
	}
	// The banner, the log and mailx serve scenario print and compare it:
	// an absolute path reads the same from any directory.
	if abs, err := filepath.Abs(data); err == nil {
		data = abs
	}
	file := opts.ConfigFile
	if file == "" {
		if p := filepath.Join(data, "mailx.conf"); fileExists(p) {
			file = p
		}
	}
	if file == "" {
		cfg := opts.Cfg
		cfg.Data = data
		return cfg, nil
	}
	// Binding sets every field to its flag's zero default, so bind first,
	// then read the file, then lay the flags given on the command line over it.
	var cfg server.Config
	over := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	bindServeFlags(over, &cfg)
	if err := server.LoadConfigFile(file, &cfg); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return cfg, failure("Check the file name, or write one with: mailx serve --example-config > "+file, "config file %s does not exist", file)
		}
		return cfg, failure("Fix that line (mailx serve --example-config shows every key), or start without --config.", "%s", strings.TrimPrefix(err.Error(), "config: "))
	}
	var ferr error
	if opts.flags == nil {
		cfg.Data = data
		return cfg, nil
	}
	opts.flags.Visit(func(f *pflag.Flag) {
		nf := over.Lookup(f.Name)
		if nf == nil || ferr != nil {
			return
		}
		switch v := f.Value.(type) {
		case pflag.SliceValue:
			ferr = nf.Value.(pflag.SliceValue).Replace(v.GetSlice())
		case *userList:
			cfg.Users = opts.Cfg.Users
		case *netList:
			cfg.RelayNets = opts.Cfg.RelayNets
		default:
			ferr = nf.Value.Set(f.Value.String())
		}
	})
	cfg.Data = data
	return cfg, ferr
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func runServe(ctx context.Context, opts *serveOptions) error {
	cfg, err := opts.buildConfig()
	if err != nil {
		return err
	}
	if cfg.Lab {
		return runServeLab(ctx, opts, cfg)
	}
	r := opts.IO.RendererWith(render.Options{JSON: opts.JSON, Quiet: opts.Quiet})
	if opts.Trace {
		cfg.Trace = newTraceRenderer(r).hook
	}
	m, err := server.New(cfg)
	if err != nil {
		return serveError(err, cfg)
	}
	if err := m.Start(context.WithoutCancel(ctx)); err != nil {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		m.Shutdown(sctx)
		cancel()
		return serveError(err, cfg)
	}
	printBanner(r, m, opts.Trace)
	if opts.ready != nil {
		opts.ready(m)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	if !opts.JSON {
		r.Blank()
		r.Notef("stopping: sessions receiving a message get %s to finish; the queue is kept for the next start", server.ShutdownGrace)
	}
	sctx, cancel := context.WithTimeout(context.Background(), server.ShutdownGrace)
	defer cancel()
	if err := m.Shutdown(sctx); err != nil {
		return failure("Messages acknowledged with 250 are safe in the queue; look at the log in the data directory.", "shutdown: %w", err)
	}
	if !opts.JSON {
		r.Success("stopped")
	}
	return nil
}

// serveError turns start-up errors into messages that say what to do.
func serveError(err error, cfg server.Config) error {
	var pe *server.PublicError
	var le *server.ListenError
	var ce *server.ConfigError
	switch {
	case errors.As(err, &pe):
		return usageError("Add --public if you mean to let other machines connect (a classroom server), or use 127.0.0.1.", "%s", pe.Error())
	case errors.As(err, &ce):
		return usageError(ce.Hint, "%s", ce.Error())
	case errors.As(err, &le):
		flag := le.Flag
		if flag == "" {
			flag = le.Service
		}
		cause := errors.Unwrap(le.Err)
		if cause == nil {
			cause = le.Err
		}
		off := `, or "off"`
		if flag == "dns" {
			off = ""
		}
		return failure(fmt.Sprintf("Is another server (or another mailx serve) using that port? Choose another with --%s HOST:PORT%s.", flag, off),
			"cannot listen for %s on %s: %v", le.Service, le.Addr, cause)
	case errors.Is(err, queue.ErrLocked):
		return failure("Stop the other server (Ctrl-C in its terminal), or give this one its own --data directory.", "%s", err)
	}
	return failure("Check the data directory "+cfg.Data+" (--data) is writable.", "cannot start the server: %w", err)
}

// serviceRoles say what each service is for, in the banner.
var serviceRoles = map[string]string{
	"smtp":       "mail from other servers, and you typing SMTP by hand",
	"submission": "mail programs send here after logging in (AUTH)",
	"smtps":      "submission over TLS from the first byte (RFC 8314)",
	"pop3":       "download mail (user/pass/list/retr/dele/quit)",
	"imap":       "folders and flags kept on the server",
	"pop3s":      "POP3 over TLS from the first byte",
	"imaps":      "IMAP over TLS from the first byte",
}

// serveReport is the start-up banner as JSON.
type serveReport struct {
	Event       string               `json:"event"`
	Listen      []server.ServiceAddr `json:"listen"`
	Domains     []string             `json:"domains"`
	Accounts    []server.Account     `json:"accounts"`
	Data        string               `json:"data"`
	Certificate string               `json:"certificate"`
	Fingerprint string               `json:"fingerprint"`
	Log         string               `json:"log"`
	Public      bool                 `json:"public,omitempty"`
	Next        string               `json:"next"`
}

func printBanner(r *render.Renderer, m *server.MTA, trace bool) {
	cfg := m.Config()
	addrs := m.Addrs()
	next := selfCommand() + " smtp talk " + reachable(m.Addr("smtp"))
	if m.Addr("smtp") == "" && len(addrs) > 0 {
		next = selfCommand() + " smtp talk " + reachable(addrs[0].Addr)
	}
	cert := m.Certificate()
	if r.JSONMode() {
		r.JSON(serveReport{Event: "started", Listen: addrs, Domains: m.Directory().Domains(), Accounts: m.Accounts(),
			Data: cfg.Data, Certificate: cert.CertFile, Fingerprint: cert.Fingerprint, Log: filepath.Join(cfg.Data, "log", "mailx.log"),
			Public: cfg.AllowPublic, Next: next})
		return
	}
	r.Heading("mailx serve: mail for " + strings.Join(m.Directory().Domains(), ", "))
	for _, a := range addrs {
		addr := a.Addr
		if a.Name == "web" {
			scheme := "http://"
			if a.ImplicitTLS {
				scheme = "https://"
			}
			addr = scheme + reachable(addr)
		}
		r.Field(a.Name, addr+"   "+serviceRoles[a.Name])
	}
	var accts []string
	for _, a := range m.Accounts() {
		if a.Password != "" {
			accts = append(accts, fmt.Sprintf("%s (password %s)", a.Name, a.Password))
		} else {
			accts = append(accts, a.Name)
		}
	}
	r.Field("accounts", strings.Join(accts, ", "))
	r.Field("data", cfg.Data)
	made := "kept from an earlier start"
	if cert.Created {
		made = "created now"
	}
	r.Field("certificate", fmt.Sprintf("%s (self-signed, %s)", cert.CertFile, made))
	r.Field("log", filepath.Join(cfg.Data, "log", "mailx.log"))
	if cfg.AllowPublic {
		for _, a := range addrs {
			if exposed(a.Addr) {
				r.Warning(fmt.Sprintf("%s on %s can be reached from other machines: anyone who can reach it can try passwords and send mail to these users", a.Name, a.Addr))
			}
		}
	}
	hint := "Ctrl-C stops the server."
	if !trace {
		hint += " Restart with --trace to watch every session."
	}
	r.Note(note.Note{Summary: hint, Next: next + "   (in another terminal)"})
}

// exposed reports whether a bound address can be reached from other
// machines: anything but a loopback address.
func exposed(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err != nil || !ip.IsLoopback()
}

// reachable turns a wildcard listen address (0.0.0.0:2525, [::]:2525) into
// one a client on this machine can connect to.
func reachable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip, err := netip.ParseAddr(host); host == "" || err == nil && ip.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}
