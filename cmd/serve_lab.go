package cmd

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/note"
	"github.com/mailx-edu/mailx/server"
	"github.com/mailx-edu/mailx/server/accounts"
	"github.com/mailx-edu/mailx/server/queue"
	"github.com/mailx-edu/mailx/server/scenario"
)

// addRelayFlags defines the relay flags of mailx serve (routes, retries,
// scenarios) and --lab.
func addRelayFlags(fs *pflag.FlagSet, cfg *server.Config) {
	fs.Var(routeMap(cfg), "route", "send a domain's mail to HOST:PORT instead of asking DNS, as DOMAIN=HOST:PORT; repeat for more")
	fs.StringVar(&cfg.Smarthost, "smarthost", "", "send all remote mail to this HOST:PORT instead of asking DNS")
	fs.StringVar(&cfg.DNSServer, "dns", "", "DNS server HOST:PORT for MX lookups (default: the system's); with --lab, where the lab DNS listens (default "+server.DefaultLabDNS+")")
	fs.Var(&timeScale{p: &cfg.TimeScale}, "time-scale", "make queue time pass faster: 60 (or 1m=1s) turns the 5-minute retry into 5 seconds")
	fs.Var(scenarioMap(cfg), "scenario", "teaching scenario of a domain as DOMAIN=NAME (down, greylist, mailbox-full, unknown-user, slow, reject-next CODE); repeat for more")
	fs.BoolVar(&cfg.Lab, "lab", false, "start the lab internet: crepes.test (alice) and hamburger.test (bob), each its own server, plus a lab DNS")
	fs.DurationVar(&cfg.RetryMin, "retry-min", 0, "first retry after a temporary failure; doubles each time (default 5m)")
	fs.DurationVar(&cfg.RetryMax, "retry-max", 0, "longest wait between retries (default 1h6m40s, Postfix's 4000s)")
	fs.DurationVar(&cfg.Lifetime, "lifetime", 0, "give up and bounce after the message has been queued this long (default 120h: 5 days)")
	fs.DurationVar(&cfg.DelayWarning, "delay-warning", 0, "tell the sender once when a message has waited this long, e.g. 4h (default off)")
}

// domainMap is a repeatable DOMAIN=VALUE flag filling one of Config's maps
// (--route, --scenario). Given again for a domain, the last value counts.
type domainMap struct {
	m       *map[string]string
	typ     string // DOMAIN=HOST:PORT, as the help shows it
	example string // a whole DOMAIN=VALUE, for the error
	// value checks one value (arg is the whole flag value, for errors) and
	// returns it as it is kept.
	value func(arg, v string) (string, error)
}

// routeMap is --route DOMAIN=HOST:PORT.
func routeMap(cfg *server.Config) *domainMap {
	return &domainMap{m: &cfg.Routes, typ: "DOMAIN=HOST:PORT", example: "hill.test=127.0.0.1:2526",
		value: func(arg, a string) (string, error) {
			if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
				return "", fmt.Errorf("%q: the route's target must be HOST:PORT, e.g. 127.0.0.1:2526", arg)
			}
			return a, nil
		}}
}

// scenarioMap is --scenario DOMAIN=NAME.
func scenarioMap(cfg *server.Config) *domainMap {
	return &domainMap{m: &cfg.Scenarios, typ: "DOMAIN=NAME", example: "hamburger.test=greylist",
		value: func(_, n string) (string, error) {
			sc, err := scenario.Parse(n)
			return sc.String(), err
		}}
}

func (f *domainMap) String() string {
	var out []string
	for d, v := range *f.m {
		out = append(out, d+"="+v)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}
func (f *domainMap) Type() string { return f.typ }
func (f *domainMap) Set(arg string) error {
	d, v, ok := strings.Cut(arg, "=")
	d = strings.ToLower(strings.TrimSpace(d))
	if !ok || d == "" {
		return fmt.Errorf("%q: write %s, e.g. %s", arg, f.typ, f.example)
	}
	v, err := f.value(arg, v)
	if err != nil {
		return err
	}
	if *f.m == nil {
		*f.m = map[string]string{}
	}
	(*f.m)[d] = v
	return nil
}

// mergeInto lays these domains' values over another map flag's (the config
// file's): buildConfig cannot pass them through String and Set, since a
// value may hold the comma String joins with.
func (f *domainMap) mergeInto(other *domainMap) {
	for d, v := range *f.m {
		if *other.m == nil {
			*other.m = map[string]string{}
		}
		(*other.m)[d] = v
	}
}

// timeScale is --time-scale N or LESSON=REAL.
type timeScale struct{ p *float64 }

func (t *timeScale) String() string {
	if t.p == nil || *t.p == 0 {
		return ""
	}
	return strconv.FormatFloat(*t.p, 'f', -1, 64)
}
func (t *timeScale) Type() string { return "N" }
func (t *timeScale) Set(v string) error {
	f, err := queue.ParseTimeScale(v)
	if err != nil {
		return err
	}
	*t.p = f
	return nil
}

// labAddr gives domain number i its listen address: the flag's address
// with the port plus i, so --smtp 127.0.0.1:2525 gives 2525, 2526, ...;
// port 0 stays 0 (every domain picks a free port) and "off" stays off.
func labAddr(flag, def string, i int) (string, error) {
	if flag == "" {
		flag = def
	}
	if strings.EqualFold(flag, "off") {
		return "off", nil
	}
	host, port, err := net.SplitHostPort(flag)
	if err != nil {
		return "", err
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return "", fmt.Errorf("%q: the port must be a number", flag)
	}
	if n == 0 {
		return flag, nil
	}
	return net.JoinHostPort(host, strconv.Itoa(n+i)), nil
}

// labConfig turns serve's configuration into the lab's.
func labConfig(opts *serveOptions, cfg server.Config) (server.LabConfig, error) {
	data := cfg.Data
	if opts.Data == "" {
		// Keep the lab apart from the single server's data.
		data = filepath.Join(filepath.Dir(cfg.Data), "lab")
	}
	lc := server.LabConfig{Data: data, DNSAddr: cfg.DNSServer, Base: cfg}
	domains := server.DefaultLabDomains()
	if len(cfg.Domains) > 0 {
		domains = nil
		for _, d := range cfg.Domains {
			domains = append(domains, server.LabDomain{Domain: strings.ToLower(d), Users: accounts.Practice})
		}
	}
	if len(cfg.Users) > 0 {
		for i := range domains {
			domains[i].Users = cfg.Users
		}
	}
	for i := range domains {
		d := &domains[i]
		var err error
		for _, a := range []struct {
			p         *string
			flag, def string
		}{
			{&d.SMTPAddr, cfg.SMTPAddr, server.DefaultSMTPAddr},
			{&d.SubmissionAddr, cfg.SubmissionAddr, server.DefaultSubmissionAddr},
			{&d.POP3Addr, cfg.POP3Addr, server.DefaultPOP3Addr},
			{&d.IMAPAddr, cfg.IMAPAddr, server.DefaultIMAPAddr},
		} {
			if *a.p, err = labAddr(a.flag, a.def, i); err != nil {
				return lc, usageError("Give listen addresses as HOST:PORT; with --lab each domain takes the next port.", "%v", err)
			}
		}
		d.Scenario = cfg.Scenarios[d.Domain]
	}
	for d := range cfg.Scenarios {
		found := false
		for _, ld := range domains {
			found = found || ld.Domain == d
		}
		if !found {
			return lc, usageError("Name one of the lab's domains: "+labNames(domains)+".", "--scenario for %s: not a lab domain", d)
		}
	}
	if len(cfg.Routes) > 0 || cfg.Smarthost != "" {
		return lc, usageError("The lab finds its servers through the lab DNS; start without --route/--smarthost.", "--route and --smarthost cannot be combined with --lab")
	}
	lc.Domains = domains
	lc.Base.Domains, lc.Base.Users = nil, nil
	return lc, nil
}

func labNames(ds []server.LabDomain) string {
	var n []string
	for _, d := range ds {
		n = append(n, d.Domain)
	}
	return strings.Join(n, ", ")
}

// runServeLab is mailx serve --lab.
func runServeLab(ctx context.Context, opts *serveOptions, cfg server.Config) error {
	lc, err := labConfig(opts, cfg)
	if err != nil {
		return err
	}
	r := opts.IO.RendererWith(render.Options{JSON: opts.JSON, Quiet: opts.Quiet})
	if opts.Trace {
		lc.Base.Trace = newTraceRenderer(r).hook
	}
	lab, err := server.NewLab(lc)
	if err != nil {
		return serveError(err, server.Config{Data: lc.Data})
	}
	if err := lab.Start(context.WithoutCancel(ctx)); err != nil {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		lab.Shutdown(sctx)
		cancel()
		return serveError(err, server.Config{Data: lc.Data})
	}
	printLabBanner(r, lab, lc, opts.Trace)
	if opts.readyLab != nil {
		opts.readyLab(lab)
	}
	return waitThenShutdown(ctx, r, opts.JSON, lab.Shutdown,
		"stopping the lab: queues are kept for the next start",
		"Messages acknowledged with 250 are safe in the queues; look at the logs in the lab's data directories.")
}

// labReport is the lab's start-up banner as JSON.
type labReport struct {
	Event     string            `json:"event"`
	DNS       string            `json:"dns"`
	Data      string            `json:"data"`
	Domains   []labDomainReport `json:"domains"`
	NullMX    []string          `json:"null_mx"`
	TimeScale float64           `json:"time_scale,omitempty"`
}

type labDomainReport struct {
	Domain    string               `json:"domain"`
	Exchanger string               `json:"exchanger"`
	Listen    []server.ServiceAddr `json:"listen"`
	Accounts  []server.Account     `json:"accounts"`
	Scenario  string               `json:"scenario"`
	Data      string               `json:"data"`
}

func printLabBanner(r *render.Renderer, lab *server.Lab, lc server.LabConfig, trace bool) {
	rep := labReport{Event: "started", DNS: lab.DNS.Addr(), Data: lc.Data, NullMX: lab.NoMail, TimeScale: lc.Base.TimeScale}
	for i, d := range lab.Domains {
		m := lab.MTAs[i]
		rep.Domains = append(rep.Domains, labDomainReport{Domain: d.Domain, Exchanger: "mx." + d.Domain, Listen: m.Addrs(),
			Accounts: m.Accounts(), Scenario: m.Scenario().String(), Data: m.Config().Data})
	}
	if r.JSONMode() {
		r.JSON(rep)
		return
	}
	r.Heading("mailx serve --lab: a small Internet on this machine")
	r.Field("lab DNS", lab.DNS.Addr()+"   MX and A records of the lab's domains")
	for _, d := range rep.Domains {
		r.Blank()
		r.Heading(d.Domain)
		for _, a := range d.Listen {
			r.Field(a.Name, a.Addr+"   "+serviceRoles[a.Name])
		}
		var accts []string
		for _, a := range d.Accounts {
			if a.Password != "" {
				accts = append(accts, fmt.Sprintf("%s@%s (password %s)", a.Name, d.Domain, a.Password))
			} else {
				accts = append(accts, a.Name+"@"+d.Domain)
			}
		}
		r.Field("accounts", strings.Join(accts, ", "))
		r.Field("exchanger", fmt.Sprintf("%s = 127.0.0.1, SMTP port %s", d.Exchanger, lab.Port(d.Exchanger)))
		labAuthField(r, lab, d.Domain) // serve_lab_auth.go
		r.Field("scenario", d.Scenario)
		r.Field("data", d.Data)
	}
	r.Blank()
	if len(lab.NoMail) > 0 {
		r.Field("null MX", strings.Join(lab.NoMail, ", ")+"   accepts no mail (RFC 7505): mail to it bounces at once")
	}
	labBlocklistField(r)
	if lc.Base.TimeScale > 1 {
		r.Field("time scale", fmt.Sprintf("%s: a 5-minute retry comes after %s", strconv.FormatFloat(lc.Base.TimeScale, 'f', -1, 64),
			queue.HumanDuration(time.Duration(float64(5*time.Minute)/lc.Base.TimeScale))))
	}
	r.Note(note.Note{
		Summary: "Every exchanger is 127.0.0.1, so the lab gives each its own SMTP port (above): DNS says which host, the port table which port; on the Internet the port is always 25.",
	})
	first, second := lab.Domains[0].Domain, lab.Domains[len(lab.Domains)-1].Domain
	hint := "Ctrl-C stops the lab."
	if !trace {
		hint += " Restart with --trace to watch both ends of every relay."
	}
	r.Note(note.Note{Summary: hint,
		Next: fmt.Sprintf("%[5]s mx lookup %[1]s --server %[2]s   then   %[5]s smtp talk %[3]s   (log in as a %[4]s user; in another terminal)",
			second, reachable(lab.DNS.Addr()), reachable(lab.MTAs[0].Addr("submission")), first, selfCommand())})
	r.Note(note.Note{Summary: "Switch a domain's scenario while the lab runs: " + selfCommand() + " serve scenario " + second + " greylist" + labDataHint(lc)})
}

func labDataHint(lc server.LabConfig) string {
	return " --data " + lc.Data
}
