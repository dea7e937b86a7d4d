package cmd

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mailx-edu/mailx/server"
	"github.com/mailx-edu/mailx/server/control"
)

// addSpamFlags defines the sender-authentication and spam flags of mailx
// serve. This file also has its subcommands `mailx serve dkim show` and
// `mailx serve blocklist`.
func addSpamFlags(fs *pflag.FlagSet, cfg *server.Config) {
	fs.StringVar(&cfg.Spam.Checks, "checks", "", `check incoming mail (SPF, DKIM, DMARC, blocklists, spam score): "on" or "off" (default on with --lab or --dnsbl, else off)`)
	fs.BoolVar(&cfg.Spam.NoSign, "no-dkim-sign", false, "do not sign outgoing mail with DKIM (keys are in the data directory's dkim/; see mailx serve dkim show)")
	fs.Var(&dnsblList{cfg: cfg}, "dnsbl", "DNS blocklist zone to ask about each client, as ZONE[=WEIGHT], e.g. bl.lab.test or zen.spamhaus.org=4; repeat for more (--lab: bl.lab.test)")
	fs.StringVar(&cfg.Spam.DNSBLAction, "dnsbl-action", "", `what a listing does: "reject" (554 at RCPT, as Postfix's reject_rbl_client; default) or "score" (add the weight to the spam score)`)
	fs.Float64Var(&cfg.Spam.Threshold, "spam-threshold", 0, "spam score from which mail goes to the Junk folder (default 5.0)")
	fs.Float64Var(&cfg.Spam.Reject, "spam-reject", 0, "spam score from which mail is refused with 550 5.7.1 (default 15.0; -1: never)")
}

// dnsblList is --dnsbl ZONE[=WEIGHT], repeatable.
type dnsblList struct{ cfg *server.Config }

func (d *dnsblList) String() string {
	var s []string
	for _, z := range d.cfg.Spam.DNSBL {
		s = append(s, z.Zone)
	}
	return strings.Join(s, ",")
}
func (d *dnsblList) Type() string { return "ZONE[=WEIGHT]" }
func (d *dnsblList) Set(v string) error {
	z, err := server.ParseDNSBL(v)
	if err != nil {
		return err
	}
	d.cfg.Spam.DNSBL = append(d.cfg.Spam.DNSBL, z)
	return nil
}

type serveDKIMOptions struct {
	IO     *IOStreams
	Data   string
	Domain string
	JSON   bool
}

func newServeDKIMCmd(ios *IOStreams) *cobra.Command {
	g := groupCmd("dkim", "Show the DKIM keys mailx serve signs with, as DNS records to publish",
		"  mailx serve dkim show\n  mailx serve dkim show --domain example.org --data /srv/mailx")
	opts := &serveDKIMOptions{IO: ios}
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the DNS TXT records that publish the server's DKIM keys",
		Long: `Print, for each domain of the server, the TXT records to publish so that
receivers can verify the DKIM signatures mailx serve adds to outgoing mail:
one Ed25519 key (RFC 8463) and one RSA-2048 key, each at
SELECTOR._domainkey.DOMAIN, in zone-file form (long records split into
strings of at most 255 characters, which DNS servers join again).

mailx serve makes the keys on its first start and keeps them in the data
directory's dkim/DOMAIN/SELECTOR.key (private: mode 0600, never print them).
In the lab the lab DNS publishes them by itself; for a real domain, add the
records at your DNS provider, along with SPF ("v=spf1 ip4:YOUR.ADDRESS -all")
and DMARC ("_dmarc.DOMAIN TXT v=DMARC1; p=none; ..." to start).`,
		Example: "  mailx serve dkim show\n  mailx serve dkim show --domain crepes.test --json",
		Args:    noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return runServeDKIMShow(c.Context(), opts)
		},
	}
	queueDataFlag(show, &opts.Data)
	show.Flags().StringVar(&opts.Domain, "domain", "", "show only this domain's keys")
	show.Flags().BoolVar(&opts.JSON, "json", false, "print the keys as JSON")
	g.AddCommand(show)
	return g
}

// dkimDataDirs are the data directories whose keys to show: the given or
// default one, and each lab domain's.
func dkimDataDirs(ios *IOStreams, flag string) ([]string, error) {
	d, err := queueDataDir(ios, flag)
	if err != nil {
		return nil, err
	}
	dirs := []string{d}
	labs := []string{filepath.Join(d, "*")}
	if flag == "" {
		labs = append(labs, filepath.Join(filepath.Dir(d), "lab", "*"))
	}
	for _, pat := range labs {
		m, _ := filepath.Glob(pat)
		for _, x := range m {
			if st, err := os.Stat(filepath.Join(x, "dkim")); err == nil && st.IsDir() {
				dirs = append(dirs, x)
			}
		}
	}
	return dirs, nil
}

func runServeDKIMShow(ctx context.Context, opts *serveDKIMOptions) error {
	dirs, err := dkimDataDirs(opts.IO, opts.Data)
	if err != nil {
		return err
	}
	var keys []server.DKIMKey
	for _, d := range dirs {
		doms, _ := os.ReadDir(server.DKIMDir(d))
		for _, e := range doms {
			if !e.IsDir() || opts.Domain != "" && !strings.EqualFold(e.Name(), opts.Domain) {
				continue
			}
			ks, err := server.ReadDKIM(d, e.Name())
			if err != nil {
				return failure("Move the damaged key file away; mailx serve makes a new one on its next start (then publish the new record).", "%v", err)
			}
			keys = append(keys, ks...)
		}
	}
	if len(keys) == 0 {
		what := "no DKIM keys"
		if opts.Domain != "" {
			what = "no DKIM keys for " + opts.Domain
		}
		return failure("mailx serve makes them on its first start; start it once (or pass the --data directory it uses).", "%s in %s", what, strings.Join(dirs, ", "))
	}
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].Domain < keys[j].Domain })
	r := opts.IO.Renderer(opts.JSON)
	if opts.JSON {
		return r.JSON(keys)
	}
	for _, k := range keys {
		r.Heading(fmt.Sprintf("%s: %s key, selector %s", k.Domain, k.Type, k.Selector))
		r.Text(k.Name + ". IN TXT " + zoneStrings(k.Record))
		r.Notef("private key: %s (keep it secret)", k.Path)
	}
	r.Notef("check a published key with: dig +short TXT %s", keys[0].Name)
	return nil
}

// zoneStrings writes a TXT value as zone-file strings of at most 255
// characters each.
func zoneStrings(s string) string {
	var parts []string
	for len(s) > 255 {
		parts = append(parts, `"`+s[:255]+`"`)
		s = s[255:]
	}
	parts = append(parts, `"`+s+`"`)
	if len(parts) == 1 {
		return parts[0]
	}
	return "( " + strings.Join(parts, " ") + " )"
}

type serveBlocklistOptions struct {
	IO     *IOStreams
	Op     string
	Addr   string
	Reason string
	Data   string
	JSON   bool
}

func newServeBlocklistCmd(ios *IOStreams) *cobra.Command {
	opts := &serveBlocklistOptions{IO: ios}
	c := &cobra.Command{
		Use:   "blocklist add|del|list [ADDRESS]",
		Short: "Manage the lab's DNS blocklist zone bl.lab.test",
		Long: `List or unlist an address in the lab DNS's blocklist zone, bl.lab.test, laid
out as RFC 5782 says: ADDRESS reversed under the zone (66.113.0.203.bl.lab.test)
answers 127.0.0.2 with a TXT record giving the reason. The lab's servers ask
it about every client (mailx serve --dnsbl) and refuse listed ones at RCPT
with 554 5.7.1, as Postfix's reject_rbl_client does.

The RFC's test entries are always there: 127.0.0.2 is listed, 127.0.0.1 is
not (and cannot be). The list is kept in the lab's directory between runs.
It talks to the running mailx serve --lab through its control endpoint; when
the lab is not running it edits the saved list, published at the next start.`,
		Example: `  mailx serve blocklist add 203.0.113.66 --reason "open relay abused"
  mailx serve blocklist list
  mailx dnsbl check 203.0.113.66
  mailx serve blocklist del 203.0.113.66`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("Say add ADDRESS, del ADDRESS or list.", "missing the operation")
			}
			switch args[0] {
			case "add", "del":
				if len(args) != 2 {
					return usageError("Example: mailx serve blocklist "+args[0]+" 203.0.113.66", "%s needs one ADDRESS", args[0])
				}
				if _, err := netip.ParseAddr(args[1]); err != nil {
					return usageError("Give an IPv4 or IPv6 address, such as 203.0.113.66.", "%q is not an IP address", args[1])
				}
			case "list":
				if len(args) != 1 {
					return usageError("list takes no address.", "too many arguments")
				}
			default:
				return usageError("Say add ADDRESS, del ADDRESS or list.", "unknown operation %q", args[0])
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			opts.Op = args[0]
			if len(args) > 1 {
				opts.Addr = args[1]
			}
			return runServeBlocklist(c.Context(), opts)
		},
	}
	c.Flags().StringVar(&opts.Reason, "reason", "", "why the address is listed, published as the TXT record (with add)")
	c.Flags().StringVar(&opts.Data, "data", "", "the lab's data directory (default: the state directory's lab/)")
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	return c
}

func runServeBlocklist(ctx context.Context, opts *serveBlocklistOptions) error {
	base := opts.Data
	if base == "" {
		d, err := queueDataDir(opts.IO, "")
		if err != nil {
			return err
		}
		base = filepath.Join(filepath.Dir(d), "lab")
	}
	var cl *control.Client
	dirs, _ := filepath.Glob(filepath.Join(base, "*", "control.json"))
	for _, f := range dirs {
		if c, err := control.Dial(ctx, filepath.Dir(f)); err == nil {
			cl = c
			break
		}
	}
	args := server.BlocklistArgs{Op: opts.Op, Addr: opts.Addr, Reason: opts.Reason}
	var res server.BlocklistResult
	offline := false
	switch {
	case cl != nil:
		if err := cl.Call(ctx, server.CallBlocklist, args, &res); err != nil {
			var ce *control.Error
			if errors.As(err, &ce) {
				return failure("", "%s", ce.Message)
			}
			return failure("", "%w", err)
		}
	default:
		if st, err := os.Stat(base); err != nil || !st.IsDir() {
			return failure("Start the lab once (mailx serve --lab), or pass --data with the lab's directory.", "no lab in %s", base)
		}
		var err error
		if res, err = server.EditBlocklistFile(base, args); err != nil {
			return failure("", "%v", err)
		}
		offline = true
	}
	r := opts.IO.Renderer(opts.JSON)
	if opts.JSON {
		return r.JSON(res)
	}
	switch opts.Op {
	case "add":
		r.Success(fmt.Sprintf("%s is now listed in %s", opts.Addr, res.Zone))
		if offline {
			r.Notef("the lab is not running: the listing is saved and published at its next start")
		}
		r.Notef("published as %s A 127.0.0.2 (and TXT with the reason); see it with: mailx dnsbl check %s", res.Query, opts.Addr)
	case "del":
		if res.Changed {
			r.Success(fmt.Sprintf("%s is no longer listed in %s", opts.Addr, res.Zone))
		} else {
			r.Warning(fmt.Sprintf("%s was not listed in %s", opts.Addr, res.Zone))
		}
	default:
		if offline {
			r.Notef("the lab is not running: this is the list it publishes at its next start")
		}
		for _, e := range res.Entries {
			reason := e.Reason
			if e.Test {
				reason += " (RFC 5782 test entry)"
			}
			r.Field(e.Addr.String(), reason)
		}
	}
	return nil
}
