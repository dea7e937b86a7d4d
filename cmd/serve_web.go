package cmd

import (
	"github.com/spf13/pflag"

	"github.com/mailx-edu/mailx/server"
)

// The --web flag of mailx serve: web mail (server/web) beside the other
// listeners, for the server's own domain.
func init() {
	serveFlagHooks = append(serveFlagHooks, func(fs *pflag.FlagSet, cfg *server.Config) {
		fs.StringVar(&cfg.WebAddr, "web", server.WebAuto, `web mail listen address (mailx web, beside IMAP and submission), or "off" (default `+server.DefaultWebAddr+")")
	})
	serviceRoles["web"] = "web mail: open it in a browser; its bridge pane shows the IMAP and SMTP behind each click"
}
