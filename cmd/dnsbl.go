package cmd

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/dnsbl"
	"github.com/mailx-edu/mailx/proto/mx"
	"github.com/mailx-edu/mailx/server"
)

// newDNSBLCmd is the `mailx dnsbl` group.
func newDNSBLCmd(ios *IOStreams) *cobra.Command {
	c := groupCmd("dnsbl", "Ask DNS blocklists about an address (RFC 5782), explained",
		"  mailx dnsbl check 203.0.113.66\n  mailx dnsbl check 127.0.0.2 --zone zen.spamhaus.org")
	c.AddCommand(newDNSBLCheckCmd(ios, nil))
	return c
}

type dnsblCheckOptions struct {
	IO      *IOStreams
	Addr    netip.Addr
	Zones   []string
	Server  string
	Timeout time.Duration
	JSON    bool
}

func newDNSBLCheckCmd(ios *IOStreams, runF func(context.Context, *dnsblCheckOptions) error) *cobra.Command {
	opts := &dnsblCheckOptions{IO: ios}
	c := &cobra.Command{
		Use:   "check ADDRESS",
		Short: "Is this address on a blocklist? Shows the query, the answer and what it means",
		Long: `Ask one or more DNS blocklists whether ADDRESS is listed, the way a mail
server does when a client connects (RFC 5782): the address's octets reversed
under the list's zone make the name to look up (203.0.113.66 in bl.lab.test is
66.113.0.203.bl.lab.test); an A record in 127.0.0.0/8 (usually 127.0.0.2) means
listed, and the TXT record at the same name says why; NXDOMAIN means not listed.

Every list lists 127.0.0.2 and never 127.0.0.1, so checking those two tests
that a zone works. Without --zone it asks the lab's bl.lab.test; zones under
.test are asked at the lab DNS (127.0.0.1:5300) unless --server says otherwise,
other zones through the system's resolver.

Public lists such as zen.spamhaus.org refuse queries sent through big public
resolvers (8.8.8.8, 1.1.1.1) and answer 127.255.255.254 instead: mailx says so.

--json prints a list of {addr, zone, query, listed, answers, reason, meaning,
error}.`,
		Example: `  mailx dnsbl check 203.0.113.66
  mailx dnsbl check 127.0.0.2
  mailx dnsbl check 127.0.0.2 --zone zen.spamhaus.org --zone bl.spamcop.net
  mailx dnsbl check 203.0.113.66 --server 127.0.0.1:5300 --json`,
		Args: exactArgs(1, "ADDRESS"),
		RunE: func(c *cobra.Command, args []string) error {
			a, err := netip.ParseAddr(strings.Trim(args[0], "[]"))
			if err != nil {
				return usageError("Give an IPv4 or IPv6 address, such as 203.0.113.66 (blocklists list addresses, not names).", "%q is not an IP address", args[0])
			}
			opts.Addr = a.Unmap()
			if len(opts.Zones) == 0 {
				opts.Zones = []string{server.LabBlocklist}
			}
			for _, z := range opts.Zones {
				if _, err := server.ParseDNSBL(z); err != nil {
					return usageError("Give a zone such as bl.lab.test or zen.spamhaus.org.", "%v", err)
				}
			}
			if runF == nil {
				runF = runDNSBLCheck
			}
			return runF(c.Context(), opts)
		},
	}
	c.Flags().StringSliceVar(&opts.Zones, "zone", nil, "blocklist zone to ask; repeat for more (default bl.lab.test)")
	c.Flags().StringVar(&opts.Server, "server", "", "DNS server HOST[:PORT] to ask (default: the lab DNS for .test zones, else the system's)")
	c.Flags().DurationVar(&opts.Timeout, "timeout", 5*time.Second, "how long to wait for each answer")
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the results as JSON")
	return c
}

func runDNSBLCheck(ctx context.Context, opts *dnsblCheckOptions) error {
	r := opts.IO.Renderer(opts.JSON)
	var results []dnsbl.Result
	failed := 0
	for _, z := range opts.Zones {
		z = strings.ToLower(strings.TrimSuffix(z, "."))
		srv := opts.Server
		if srv == "" && strings.HasSuffix(z, ".test") {
			srv = server.DefaultLabDNS
		}
		res := dnsbl.Check(ctx, &mx.Resolver{Server: srv, Timeout: opts.Timeout}, opts.Addr, z)
		if res.Error != "" {
			failed++
		}
		results = append(results, res)
		if opts.JSON {
			continue
		}
		where := srv
		if where == "" {
			where = "the system's resolver"
		}
		r.Heading(z)
		r.Sent(res.Query + " A?   (asked " + where + ")")
		switch {
		case res.Error != "":
			r.Error(res.Error)
			if strings.HasSuffix(z, ".test") && opts.Server == "" {
				r.Notef("is the lab running? Start it with: mailx serve --lab")
			}
		case len(res.Answers) == 0:
			r.Received("NXDOMAIN", render.Neutral)
		default:
			r.Received("A "+strings.Join(res.Answers, " "), render.Neutral)
			if res.Reason != "" {
				r.Received("TXT \""+res.Reason+"\"", render.Neutral)
			}
		}
		if res.Listed {
			r.Warning(res.Meaning)
			r.Notef("a server using this list refuses the client at RCPT: 554 5.7.1 %s", dnsbl.RejectText(opts.Addr, z, res.Reason))
		} else {
			r.Notef("%s", res.Meaning)
		}
	}
	if opts.JSON {
		if err := r.JSON(results); err != nil {
			return err
		}
	}
	if failed == len(results) {
		return failure("Check the DNS server (--server) and the zone's name.", "no blocklist could be asked")
	}
	return nil
}
