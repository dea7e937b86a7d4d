package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/mx"
	"github.com/mailx-edu/mailx/server"
)

// newMXCmd is the `mailx mx` group.
func newMXCmd(ios *IOStreams) *cobra.Command {
	c := groupCmd("mx", "Find where mail for a domain goes (MX records, explained)",
		"  mailx mx lookup example.com\n  mailx mx lookup bücher.de --server 1.1.1.1")
	c.AddCommand(newMXLookupCmd(ios, nil))
	return c
}

type mxLookupOptions struct {
	IO      *IOStreams
	Domain  string        // the argument, as typed
	Server  string        // --server HOST[:PORT]; "" = system resolver
	TCP     bool          // --tcp
	Timeout time.Duration // --timeout, per attempt
	Retries int           // --retries: extra attempts after a timeout
	JSON    bool          // --json
	Short   bool          // --short

	// fixedRTT replaces the measured round-trip time when set, so that
	// golden files of the plain output stay stable.
	fixedRTT *time.Duration
}

const mxLookupLong = `Look up the MX records of a domain, the way a mail server does before it
delivers a message there (RFC 5321 §5.1), and explain the answer line by line:
the question asked, the records as the DNS server returned them (name, TTL,
class, type, preference, exchanger) sorted by preference, each exchanger's A
and AAAA addresses, which rule applies and the order a sender tries the hosts.

It follows an alias (CNAME) of the domain, applies the implicit-MX rule (no MX
but an address: the domain is its own exchanger) and the null-MX rule (the
single record "0 ." means no mail accepted, RFC 7505), and warns about an MX
that points to an alias or an IP address. Internationalized names are asked in
their A-label form (bücher.test is xn--bcher-kva.test); both forms are shown.

It asks the system's DNS servers (those in /etc/resolv.conf; on Windows, those
of the connected network adapters, as ipconfig /all lists them), or the one
given with --server. UDP first, and TCP when the answer is truncated;
each question is sent 1+--retries times before giving up.

--short prints one "PREFERENCE EXCHANGER" line per record, like dig +short
(an implicit MX prints as "0 DOMAIN.", a null MX as "0 .").

--json prints one JSON object: question {name,type,class}; domain {input,
ascii,unicode}; canonical; aliases [{name,ttl,target}]; records [{name,ttl,
class,type,preference,exchange}]; exchangers [{preference,host,unicode,ttl,
implicit,alias_for,ip_literal,addresses [{name,ttl,type,ip,source}],error}];
rule ("mx", "implicit" or "null"); server; transport ("udp" or "tcp");
rtt_ms; authoritative; recursion_available; truncated; queries; warnings and
notes [{topic,summary,detail,next,ref,severity}].

Exit status: 0 when the lookup succeeded, including a null MX (the answer
"accepts no mail" is still an answer); 1 when it failed (NXDOMAIN, SERVFAIL,
REFUSED, timeout, unreachable server, no mail host); 2 for a malformed domain
or a bad flag.`

func newMXLookupCmd(ios *IOStreams, runF func(context.Context, *mxLookupOptions) error) *cobra.Command {
	opts := &mxLookupOptions{IO: ios}
	c := &cobra.Command{
		Use:   "lookup DOMAIN",
		Short: "Show and explain where mail for DOMAIN goes",
		Long:  mxLookupLong,
		Example: `  mailx mx lookup example.com
  mailx mx lookup bücher.de
  mailx mx lookup example.com --server 127.0.0.1:5353 --tcp
  mailx mx lookup example.com --short
  mailx mx lookup example.com --json --timeout 1s --retries 2`,
		Args: exactArgs(1, "the DOMAIN to look up"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Domain = args[0]
			if err := opts.check(c); err != nil {
				return err
			}
			if runF == nil {
				runF = runMXLookup
			}
			return runF(c.Context(), opts)
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Server, "server", "", "ask this DNS server, `HOST[:PORT]` (default port 53; default: the system resolver)")
	f.BoolVar(&opts.TCP, "tcp", false, "ask over TCP instead of UDP")
	f.DurationVar(&opts.Timeout, "timeout", mx.DefaultTimeout, "how long to wait for each answer")
	f.IntVar(&opts.Retries, "retries", mx.DefaultAttempts-1, "how many times to ask again after a timeout")
	f.BoolVar(&opts.JSON, "json", false, "print the result as one JSON object (see above)")
	f.BoolVar(&opts.Short, "short", false, "print only \"PREFERENCE EXCHANGER\" lines, like dig +short")
	return c
}

// check refuses flag values that cannot work, as usage errors (exit 2).
func (o *mxLookupOptions) check(c *cobra.Command) error {
	hint := fmt.Sprintf("Run '%s --help' to see its flags.", c.CommandPath())
	if o.JSON && o.Short {
		return usageError(hint, "--json and --short cannot be used together")
	}
	if o.Timeout <= 0 {
		return usageError("Give a positive duration, such as --timeout 500ms or --timeout 5s.", "--timeout must be positive, not %s", o.Timeout)
	}
	if o.Retries < 0 || o.Retries > 10 {
		return usageError("Give a number from 0 to 10, such as --retries 2.", "--retries must be from 0 to 10, not %d", o.Retries)
	}
	if c.Flags().Changed("server") {
		if _, err := mx.ServerAddr(o.Server); err != nil {
			return usageError("Give an IP address or host name, with an optional port: --server 127.0.0.1:5353 or --server 1.1.1.1.", "invalid --server: %s", err)
		}
	}
	return nil
}

func runMXLookup(ctx context.Context, opts *mxLookupOptions) error {
	r := &mx.Resolver{Server: opts.Server, TCP: opts.TCP, Timeout: opts.Timeout, Attempts: opts.Retries + 1}
	setLabDomainsHint()
	res, err := r.Lookup(ctx, opts.Domain)
	if err != nil {
		if opts.JSON {
			// A grading script parses stdout: it gets an object saying
			// what failed, as well as the exit status and the message on
			// stderr.
			opts.IO.Renderer(true).JSON(mxFailureJSON(opts.Domain, err))
		}
		return mxError(err)
	}
	if opts.fixedRTT != nil {
		res.RTT = *opts.fixedRTT
	}
	out := opts.IO.Renderer(opts.JSON)
	switch {
	case opts.JSON:
		return out.JSON(res)
	case opts.Short:
		for _, line := range mxShort(res) {
			out.Text(line)
		}
		return nil
	}
	renderMXResult(out, res)
	return nil
}

// mxFailure is the --json form of a failed lookup.
type mxFailure struct {
	Domain string `json:"domain"`
	Error  struct {
		Kind      string `json:"kind"` // malformed, nxdomain, no_mail_host, servfail, refused, timeout, unreachable, bad_response, no_resolver
		Message   string `json:"message"`
		Hint      string `json:"hint,omitempty"`
		Server    string `json:"server,omitempty"`
		Temporary bool   `json:"temporary"` // an MTA would queue and retry
	} `json:"error"`
}

func mxFailureJSON(domain string, err error) mxFailure {
	var f mxFailure
	f.Domain = domain
	f.Error.Message = err.Error()
	f.Error.Kind = "error"
	var e *mx.Error
	if errors.As(err, &e) {
		f.Error.Hint, f.Error.Server, f.Error.Temporary = e.Hint(), e.Server, e.Temporary()
		for kind, name := range map[error]string{mx.ErrMalformed: "malformed", mx.ErrNXDomain: "nxdomain", mx.ErrNoMailHost: "no_mail_host",
			mx.ErrServerFailure: "servfail", mx.ErrRefused: "refused", mx.ErrTimeout: "timeout", mx.ErrUnreachable: "unreachable",
			mx.ErrBadResponse: "bad_response", mx.ErrNoResolver: "no_resolver"} {
			if e.Kind == kind {
				f.Error.Kind = name
			}
		}
	}
	return f
}

// setLabDomainsHint tells proto/mx the lab's default domains, for its hint
// when a DNS server on this machine (the lab DNS) refuses a name.
func setLabDomainsHint() {
	labHintOnce.Do(func() {
		var names []string
		for _, d := range server.DefaultLabDomains() {
			names = append(names, d.Domain)
		}
		mx.LabDomainsHint = strings.Join(names, ", ")
	})
}

var labHintOnce sync.Once

// mxError turns a lookup failure into the one-line message and hint that
// Main prints; a malformed domain is a usage error (exit 2).
func mxError(err error) error {
	var e *mx.Error
	if !errors.As(err, &e) {
		return err
	}
	code := ExitFailure
	if e.Kind == mx.ErrMalformed {
		code = ExitUsage
	}
	return &UserError{Msg: e.Error(), Hint: e.Hint(), Code: code, Err: e}
}

// mxShort returns the --short lines: "PREF EXCHANGER." in delivery-preference order.
func mxShort(res *mx.Result) []string {
	if res.Rule == mx.RuleImplicit {
		return []string{"0 " + res.Canonical + "."}
	}
	var lines []string
	for _, rec := range res.Records {
		lines = append(lines, fmt.Sprintf("%d %s", rec.Preference, rec.Exchange))
	}
	return lines
}

// rrLine formats one resource record the way dig and zone files show it,
// with the name column padded to width.
func rrLine(width int, name string, ttl uint32, typ, data string) string {
	return fmt.Sprintf("%-*s %6d  IN  %-5s  %s", width, name, ttl, typ, data)
}

func nameWidth(names ...string) int {
	w := 20
	for _, n := range names {
		w = max(w, len(n))
	}
	return w
}

// renderMXResult prints a lookup as sections: the question, the answer, the
// exchangers' addresses and the result, each with its notes.
func renderMXResult(out *render.Renderer, res *mx.Result) {
	notes := func(topics ...string) {
		for _, t := range topics {
			for _, a := range res.Notes {
				if a.Topic == t {
					out.Note(a.Note)
				}
			}
		}
	}

	out.Heading("MX lookup for " + res.Domain.String())
	out.Field("question", fmt.Sprintf("%s %s %s", res.Question.Name, res.Question.Class, res.Question.Type))
	transport := res.Transport
	if res.Truncated {
		transport = "udp, truncated, then tcp"
	}
	out.Field("server", fmt.Sprintf("%s (%s)", res.Server, transport))
	out.Field("time", render.Duration(res.RTT))
	flags := "ra (from a recursive resolver, not authoritative)"
	switch {
	case res.Authoritative:
		flags = "aa (authoritative)"
	case !res.RecursionAvailable:
		flags = "none (not authoritative)"
	}
	out.Field("flags", flags)
	notes(mx.TopicIDN, mx.TopicTruncated)

	out.Heading(answerHeading(res))
	var owners []string
	for _, a := range res.Aliases {
		owners = append(owners, a.Name)
	}
	for _, r := range res.Records {
		owners = append(owners, r.Name)
	}
	w := nameWidth(owners...)
	for _, a := range res.Aliases {
		out.Text(rrLine(w, a.Name, a.TTL, "CNAME", a.Target))
	}
	for _, r := range res.Records {
		out.Text(rrLine(w, r.Name, r.TTL, r.Type, fmt.Sprintf("%d %s", r.Preference, r.Exchange)))
	}
	if len(res.Records) == 0 {
		out.Text(fmt.Sprintf("(no MX record for %s.)", res.Canonical))
	}
	notes(mx.TopicAlias, mx.TopicAuthority, mx.TopicPreference, mx.TopicTTL)

	if len(res.Exchangers) > 0 {
		out.Heading("Addresses of the exchangers")
		var names []string
		for _, x := range res.Exchangers {
			names = append(names, x.Host+".")
			for _, a := range x.Addresses {
				names = append(names, a.Name)
			}
			for _, a := range x.Aliases {
				names = append(names, a.Name)
			}
		}
		w := nameWidth(names...)
		for _, x := range res.Exchangers {
			switch {
			case x.IPLiteral:
				out.Text(fmt.Sprintf("%-*s (an IP address in an MX record: not looked up)", w, x.Host))
				continue
			case x.Error != "":
				out.Text(fmt.Sprintf("%-*s (lookup failed)", w, x.Host+"."))
				continue
			case len(x.Addresses) == 0:
				out.Text(fmt.Sprintf("%-*s (no A or AAAA record)", w, x.Host+"."))
				continue
			}
			for _, a := range x.Aliases {
				out.Text(rrLine(w, a.Name, a.TTL, "CNAME", a.Target))
			}
			for _, a := range x.Addresses {
				out.Text(rrLine(w, a.Name, a.TTL, a.Type, fmt.Sprintf("%-15s ; %s", a.IP, sourceText(a))))
			}
		}
		notes(mx.TopicAddresses)
	}

	out.Heading(resultHeading(res))
	for i, group := range mx.PreferenceGroups(res.Exchangers) {
		var hosts []string
		for _, x := range group {
			hosts = append(hosts, hostDisplay(x))
		}
		how := fmt.Sprintf("preference %d", group[0].Preference)
		switch {
		case group[0].Implicit:
			how += ", the domain itself"
		case len(group) > 1:
			how += ", in random order"
		}
		out.Field(fmt.Sprintf("try %d", i+1), fmt.Sprintf("%s (%s)", strings.Join(hosts, " or "), how))
	}
	notes(mx.TopicRule)
	for _, a := range res.Warnings {
		out.Note(a.Note)
	}
}

func answerHeading(res *mx.Result) string {
	switch n := len(res.Aliases) + len(res.Records); {
	case len(res.Records) == 0:
		return "Answer section (no MX record)"
	case n == 1:
		return "Answer section (1 record)"
	default:
		return fmt.Sprintf("Answer section (%d records, sorted by preference)", n)
	}
}

// sourceText says where an address came from, in the words of the notes.
func sourceText(a mx.Address) string {
	if a.Source == mx.SourceAdditional {
		return "from the additional section"
	}
	return "from an " + a.Type + " query"
}

func resultHeading(res *mx.Result) string {
	d := res.Domain.Unicode
	switch res.Rule {
	case mx.RuleNull:
		return fmt.Sprintf("Result: %s accepts no mail (null MX)", d)
	case mx.RuleImplicit:
		return fmt.Sprintf("Result: mail for %s goes to %s itself (implicit MX)", d, d)
	}
	return fmt.Sprintf("Result: mail for %s goes to its MX hosts, in this order", d)
}

// hostDisplay names an exchanger for people: Unicode, with the A-label when
// they differ, and what makes it unusable.
func hostDisplay(x mx.Exchanger) string {
	s := x.Unicode
	if x.Unicode != x.Host {
		s += " (" + x.Host + ")"
	}
	switch {
	case x.IPLiteral:
		s += " [unusable: an IP address]"
	case x.Error != "":
		s += " [unusable now: lookup failed]"
	case !x.Usable():
		s += " [unusable: no address]"
	}
	return s
}
