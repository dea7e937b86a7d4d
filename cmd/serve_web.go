package cmd

import (
	"github.com/spf13/pflag"

	"github.com/mailx-edu/mailx/server"
)

// addWebFlags defines the --web flag of mailx serve: web mail (server/web)
// beside the other listeners, for the server's own domain.
func addWebFlags(fs *pflag.FlagSet, cfg *server.Config) {
	fs.StringVar(&cfg.WebAddr, "web", server.WebAuto, `web mail listen address (mailx web, beside IMAP and submission), or "off"; "auto" is `+server.DefaultWebAddr+" when IMAP and submission are on")
}
