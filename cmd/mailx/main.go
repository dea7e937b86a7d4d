// Command mailx is a toolkit for learning and practising Internet e-mail by hand:
// annotated SMTP, POP3 and IMAP sessions, MX lookups, MIME, and a local MTA.
package main

import (
	"os"

	"github.com/mailx-edu/mailx/cmd"
)

func main() {
	os.Exit(cmd.Main(os.Args[1:], cmd.SystemIO()))
}
