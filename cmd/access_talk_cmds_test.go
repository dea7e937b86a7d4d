package cmd

import (
	"context"

	"github.com/spf13/cobra"
)

// newPOP3TalkCmd and newIMAPTalkCmd build `mailx pop3 talk` and `mailx imap
// talk` alone, with a runF, for the flag tests; the command tree builds them
// inside their groups (newAccessGroupCmd).
func newPOP3TalkCmd(ios *IOStreams, runF func(context.Context, *accessTalkOptions) error) *cobra.Command {
	return newAccessTalkCmd(ios, pop3Proto, runF)
}

func newIMAPTalkCmd(ios *IOStreams, runF func(context.Context, *accessTalkOptions) error) *cobra.Command {
	return newAccessTalkCmd(ios, imapProto, runF)
}
