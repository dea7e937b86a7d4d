package cmd

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/mailx-edu/mailx/server"
)

// The flags of mailx serve that bound what clients can make it keep: the
// transcript budget.
func init() {
	serveFlagHooks = append(serveFlagHooks, func(fs *pflag.FlagSet, cfg *server.Config) {
		fs.Var(&limitSize{p: &cfg.TranscriptsMaxSize}, "transcripts-max-size",
			`remove the oldest transcripts beyond this total, e.g. 1G, or "unlimited" (default 100M)`)
		fs.Var(&limitAge{p: &cfg.TranscriptsMaxAge}, "transcripts-max-age",
			`remove transcripts older than this, e.g. 30d or 36h, or "unlimited" (default 14d)`)
	})
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
