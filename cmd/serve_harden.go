package cmd

import (
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mailx-edu/mailx/server"
)

// addHardenFlags defines the flags of mailx serve that bound what clients
// can make it keep and try: the transcript budget, and the networks the
// login throttle trusts.
func addHardenFlags(fs *pflag.FlagSet, cfg *server.Config) {
	fs.Var(&limitSize{p: &cfg.TranscriptsMaxSize}, "transcripts-max-size",
		`remove the oldest transcripts beyond this total, e.g. 1G, or "unlimited" (default 100M)`)
	fs.Var(&limitAge{p: &cfg.TranscriptsMaxAge}, "transcripts-max-age",
		`remove transcripts older than this, e.g. 30d or 36h, or "unlimited" (default 14d)`)
	fs.Var(&limitSize{p: &cfg.LogMaxSize}, "log-max-size",
		`start a new DATA/log/mailx.log (the old one becomes mailx.log.1) at this size, e.g. 64M, or "unlimited" (default 16M)`)
	fs.Var(&trustedNets{cfg: cfg}, "trusted-net",
		"a classroom's network, e.g. 10.0.0.0/8: failed logins there never block the whole address (each account still is), and it may announce another client address with XCLIENT as loopback may; repeat for more")
}

// limitSize is a budget size: 100M, or "unlimited".
type limitSize struct{ p *int64 }

func (v *limitSize) String() string {
	if v.p == nil || *v.p == 0 {
		return ""
	}
	return server.FormatLimitSize(*v.p)
}
func (v *limitSize) Type() string { return "SIZE" }
func (v *limitSize) Set(s string) error {
	n, err := server.ParseLimitSize(s)
	if err != nil {
		return err
	}
	*v.p = n
	return nil
}

// limitAge is a budget age: 14d, 36h, or "unlimited".
type limitAge struct{ p *time.Duration }

func (v *limitAge) String() string {
	if v.p == nil || *v.p == 0 {
		return ""
	}
	return server.FormatLimitAge(*v.p)
}
func (v *limitAge) Type() string { return "AGE" }
func (v *limitAge) Set(s string) error {
	d, err := server.ParseLimitAge(s)
	if err != nil {
		return err
	}
	*v.p = d
	return nil
}

// trustedNets is --trusted-net, repeatable; a comma list is read as several.
// The first --trusted-net replaces the config file's trusted_networks.
type trustedNets struct {
	cfg *server.Config
	set bool
}

func (n *trustedNets) String() string {
	var s []string
	for _, p := range n.cfg.TrustedNets {
		s = append(s, p.String())
	}
	return strings.Join(s, ",")
}
func (n *trustedNets) Type() string { return "CIDR" }
func (n *trustedNets) Set(s string) error {
	p, err := server.ParseNets(s)
	if err != nil {
		return err
	}
	if !n.set {
		n.cfg.TrustedNets, n.set = nil, true
	}
	n.cfg.TrustedNets = append(n.cfg.TrustedNets, p...)
	return nil
}
