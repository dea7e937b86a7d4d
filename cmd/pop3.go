package cmd

import (
	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/explore"
)

var pop3Proto = accessProto{
	name: "pop3", plainPort: 110, tlsPort: 995,
	newProto:     func() explore.Protocol { return explore.NewPOP3() },
	groupShort:   "Read a mailbox by hand with POP3, every line explained",
	groupExample: "  mailx pop3 talk 127.0.0.1:1100\n  mailx pop3 replay lab.txt",
	talkShort:    "Type POP3 by hand and see every response explained",
	talkLong:     pop3TalkLong,
	talkExample: `  mailx pop3 talk 127.0.0.1:1100
  mailx pop3 talk pop.example.com --tls
  mailx pop3 talk mail.example.com --starttls --record lab.txt
  mailx pop3 talk 127.0.0.1:1100 --report lab2.md --brief
  printf 'USER alice\nPASS hungry\nLIST\nRETR 1\nQUIT\n' | mailx pop3 talk 127.0.0.1:1100`,
}

// newPOP3Cmd is the `mailx pop3` group.
func newPOP3Cmd(ios *IOStreams) *cobra.Command { return newAccessGroupCmd(ios, pop3Proto) }

const pop3TalkLong = `Connect to a POP3 server and type the protocol by hand: every line you send
and every line the server answers is shown as it travels (C: and S:) and
explained, with the session state in the prompt (AUTHORIZATION, TRANSACTION).

mailx knows which answers are multi-line (CAPA, LIST and UIDL without a
number, RETR, TOP, AUTH without a mechanism) and reads them up to the line
holding only "."; lines the server byte-stuffed (a doubled leading ".") are
pointed out. DELE only marks a message: the server deletes it when you QUIT,
and a connection that drops before QUIT deletes nothing.

Meta-commands (never sent as typed; \help lists them all):
  \apop USER SECRET      log in with APOP: the MD5 digest of the greeting's timestamp and SECRET
  \auth plain USER PASS  log in with AUTH PLAIN (RFC 5034)
  \view N                show message N, retrieved with RETR N, as header fields and MIME parts
  \print N               print message N, retrieved with RETR N, in full (on a terminal a long
                         message shows its first 30 body lines and a note)
  \tls                   upgrade to TLS with STLS (RFC 2595)
  \explain TOPIC         explain a command, +OK/-ERR, a [CODE] or a CAPA keyword
  \quit                  send QUIT and exit

The port is 110, or 995 with --tls. With a terminal, lines are read with
editing and history; otherwise (a pipe, or --script FILE) one line is sent
after each response has arrived.

Exit status: 0 when the session ran to QUIT; 1 when it could not connect, the
server refused the session, closed or went silent, the input ended before
QUIT, or (with --strict) any answer was -ERR; 2 for a bad command line.`
