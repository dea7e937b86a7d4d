package cmd

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/auth"
	"github.com/mailx-edu/mailx/proto/mx"
	"github.com/mailx-edu/mailx/server"
)

// newAuthCmd is the `mailx auth` group.
func newAuthCmd(ios *IOStreams) *cobra.Command {
	c := groupCmd("auth", "Sender authentication (SPF, DKIM, DMARC) of a message, redone and explained",
		"  mailx auth explain message.eml\n  mailx auth explain message.eml --json")
	c.AddCommand(newAuthExplainCmd(ios, nil))
	return c
}

type authExplainOptions struct {
	IO       *IOStreams
	File     string
	Env      auth.Envelope
	Server   string
	Timeout  time.Duration
	JSON     bool
	resolver auth.Resolver // tests inject one
}

func newAuthExplainCmd(ios *IOStreams, runF func(context.Context, *authExplainOptions) error) *cobra.Command {
	opts := &authExplainOptions{IO: ios}
	c := &cobra.Command{
		Use:   "explain FILE",
		Short: "Redo a received message's SPF, DKIM and DMARC checks step by step against DNS",
		Long: `Take a message as it was received (a file from a Maildir, or "Show original"
saved from a web mail) and redo, step by step against DNS, what the receiving
server checked:

SPF (RFC 7208): the envelope sender's domain (from Return-Path:) and its SPF
record term by term, the client address (from the topmost Received: field
that records one) and which term matched, and the verdict.

DKIM (RFC 6376): each DKIM-Signature's tags and what they mean, the body hash
computed here under the signature's canonicalization against its bh=, the
key fetched from SELECTOR._domainkey.DOMAIN, and the verdict. A body hash that
differs means the body changed after signing (a list footer); a matching one
with a failed signature means a signed header field changed.

DMARC (RFC 7489): the From: domain people see, its organisational domain, the
policy record, whether SPF's and DKIM's domains are aligned with it (relaxed:
same organisational domain; strict: identical), and the final verdict.

It also lists the Authentication-Results fields already in the message: what
the receiving servers concluded at the time, which can differ from today's
verdict if keys or records changed since.

Domains under .test are asked at the lab DNS (127.0.0.1:5300), others through
the system's resolver, unless --server says otherwise. --ip, --helo and
--mail-from give the envelope when the trace fields lack it.

--json prints {envelope, verdicts: {spf, dkim, dmarc}, spf_terms, earlier}.`,
		Example: `  mailx auth explain ~/.local/state/mailx/lab/hamburger.test/mail/bob/new/1796...
  mailx auth explain saved.eml --server 127.0.0.1:5300
  mailx auth explain saved.eml --ip 203.0.113.66 --mail-from alice@crepes.test --json`,
		Args: exactArgs(1, "FILE (a received message; - for standard input)"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF == nil {
				runF = runAuthExplain
			}
			return runF(c.Context(), opts)
		},
	}
	c.Flags().StringVar(&opts.Env.IP, "ip", "", "the client's address (default: from the message's Received: field)")
	c.Flags().StringVar(&opts.Env.Helo, "helo", "", "the client's HELO name (default: from Received:)")
	c.Flags().StringVar(&opts.Env.MailFrom, "mail-from", "", "the envelope sender (default: from Return-Path:)")
	c.Flags().StringVar(&opts.Server, "server", "", "DNS server HOST[:PORT] to ask (default: the lab DNS for .test domains, else the system's)")
	c.Flags().DurationVar(&opts.Timeout, "timeout", 5*time.Second, "how long to wait for each DNS answer")
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	return c
}

// labOrSystem picks the lab DNS for .test domains, else the system's.
func labOrSystem(flag string, domains ...string) string {
	if flag != "" {
		return flag
	}
	for _, d := range domains {
		if strings.HasSuffix(strings.ToLower(d), ".test") {
			return server.DefaultLabDNS
		}
	}
	return ""
}

func runAuthExplain(ctx context.Context, opts *authExplainOptions) error {
	in, name, err := openInput(opts.IO, opts.File)
	if err != nil {
		return err
	}
	msg, err := io.ReadAll(io.LimitReader(in, 64<<20+1))
	in.Close()
	if err != nil {
		return failure("", "cannot read %s: %w", name, err)
	}
	if len(msg) > 64<<20 {
		return failure("", "%s is over 64 MiB, too big to be a message", name)
	}
	header, _ := auth.SplitMessage(msg)
	fields := auth.Fields(header)
	if len(fields) == 0 {
		return failure("Give a whole message as received: header fields, a blank line, the body.", "%s has no header fields", name)
	}
	res := opts.resolver
	if res == nil {
		from, _ := auth.FromDomain(fields)
		env := auth.EnvelopeFromTrace(fields)
		res = &mx.Resolver{Server: labOrSystem(opts.Server, from, auth.DomainOf(env.MailFrom), auth.DomainOf(opts.Env.MailFrom)), Timeout: opts.Timeout}
	}
	rep := auth.Investigate(ctx, res, msg, opts.Env)
	r := opts.IO.Renderer(opts.JSON)
	if opts.JSON {
		return r.JSONIndent(rep)
	}
	renderAuthReport(r, rep)
	return nil
}

// renderAuthReport shows a report; mime decode shows the same.
func renderAuthReport(r *render.Renderer, rep auth.Report) {
	v := rep.Verdicts
	r.Heading("Envelope")
	r.Field("client address", orDash(rep.Envelope.IP))
	r.Field("HELO", orDash(rep.Envelope.Helo))
	r.Field("MAIL FROM", orDash(rep.Envelope.MailFrom))
	for _, s := range rep.Envelope.Source {
		r.Notef("%s", s)
	}

	r.Heading(fmt.Sprintf("SPF: may %s send mail for %s?", orDash(v.SPF.IP), orDash(v.SPF.Domain)))
	if v.SPF.Identity == "helo" {
		r.Notef("the envelope sender is empty (a bounce), so SPF checks the HELO name instead (RFC 7208 §2.3)")
	}
	if v.SPF.Record != "" {
		r.Field("record", v.SPF.Record)
		for _, t := range rep.SPFTerms {
			r.Field("  "+t.Text, t.Meaning)
		}
		if rep.SPFError != "" {
			r.Warning(rep.SPFError)
		}
	}
	for _, s := range v.SPF.Steps {
		r.Text("  " + s)
	}
	if v.SPF.Matched != "" {
		r.Field("decided by", v.SPF.Matched)
	}
	if v.SPF.Error != "" {
		r.Field("error", v.SPF.Error)
	}
	r.Note(auth.Explain("spf", v.SPF.Result))

	if len(v.DKIM.Signatures) == 0 {
		r.Heading("DKIM: no signature")
		r.Note(auth.Explain("dkim", "none"))
	}
	for i, s := range v.DKIM.Signatures {
		r.Heading(fmt.Sprintf("DKIM: signature %d of %d (d=%s s=%s)", i+1, len(v.DKIM.Signatures), s.Domain, s.Selector))
		for _, t := range s.Tags {
			val := t.Value
			if (t.Name == "b" || t.Name == "bh") && len(val) > 24 {
				val = strings.Join(strings.Fields(val), "")
				val = val[:20] + "..."
			}
			r.Field(fmt.Sprintf("  %s=%s", t.Name, val), auth.DKIMTagMeaning[t.Name])
		}
		if s.ComputedBodyHash != "" {
			r.Field("body hash signed (bh=)", s.BodyHash)
			r.Field("body hash computed", s.ComputedBodyHash+" ("+s.Canon+")")
			if s.BodyHashMatches {
				r.Success("the body is exactly as signed")
			} else {
				r.Warning("the body hash differs: the body changed after signing (a footer added, lines rewrapped, a re-encoding)")
			}
		}
		r.Field("key", s.KeyName)
		if s.KeyRecord != "" {
			rec := s.KeyRecord
			if len(rec) > 70 {
				rec = rec[:70] + "..."
			}
			r.Field("  record", rec)
			if s.KeyBits > 0 {
				r.Field("  key", fmt.Sprintf("%s, %d bits", s.KeyType, s.KeyBits))
			}
		} else {
			r.Warning("no key record found at " + s.KeyName)
		}
		if s.Error != "" {
			r.Field("error", s.Error)
		}
		r.Note(auth.Explain("dkim", s.Result))
	}

	d := v.DMARC
	r.Heading(fmt.Sprintf("DMARC: is the From: domain %s authenticated?", orDash(d.FromDomain)))
	if d.OrgDomain != "" {
		r.Field("organisational domain", d.OrgDomain)
	}
	if d.Record != "" {
		r.Field("record", d.RecordDomain+" TXT "+d.Record)
		r.Field("policy", fmt.Sprintf("p=%s (pct=%d), alignment adkim=%s aspf=%s", d.Policy, d.Percent, d.ADKIM, d.ASPF))
	}
	for _, s := range d.Reasons {
		r.Text("  " + s)
	}
	r.Note(auth.Explain("dmarc", d.Result))
	if d.Result == "fail" {
		r.Field("disposition", d.Disposition+" (what the From: domain asks receivers to do)")
	}

	if len(rep.Earlier) > 0 {
		r.Heading("Authentication-Results already in the message")
		for _, e := range rep.Earlier {
			var parts []string
			for _, k := range []string{"spf", "dkim", "dmarc"} {
				if x, ok := e.Results[k]; ok {
					parts = append(parts, k+"="+x)
				}
			}
			r.Field(orDash(e.AuthservID), strings.Join(parts, " "))
		}
	}
	r.Heading("Summary")
	r.Text(fmt.Sprintf("spf=%s dkim=%s dmarc=%s", v.SPF.Result, v.DKIM.Result, d.Result))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
