package cmd

import (
	"github.com/spf13/pflag"

	"github.com/mailx-edu/mailx/server"
)

// addAccessFlags defines the POP3 and IMAP flags of mailx serve: where the
// access servers listen and when they log out an idle client.
func addAccessFlags(fs *pflag.FlagSet, cfg *server.Config) {
	fs.StringVar(&cfg.POP3Addr, "pop3", "", `POP3 listen address, or "off" (default `+server.DefaultPOP3Addr+")")
	fs.StringVar(&cfg.IMAPAddr, "imap", "", `IMAP listen address, or "off" (default `+server.DefaultIMAPAddr+")")
	fs.StringVar(&cfg.POP3SAddr, "pop3s", "", "POP3 over implicit TLS, e.g. 127.0.0.1:1995 (default off)")
	fs.StringVar(&cfg.IMAPSAddr, "imaps", "", "IMAP over implicit TLS, e.g. 127.0.0.1:1993 (default off)")
	fs.DurationVar(&cfg.POP3Timeout, "pop3-timeout", 0, "close a POP3 session idle this long (default 10m, RFC 1939's minimum)")
	fs.DurationVar(&cfg.IMAPAutologout, "imap-autologout", 0, "log out an IMAP client idle this long (default 30m, RFC 9051's minimum)")
}
