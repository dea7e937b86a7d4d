package cmd

import (
	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/explore"
)

var imapProto = accessProto{
	name: "imap", plainPort: 143, tlsPort: 993,
	newProto:     func() explore.Protocol { return explore.NewIMAP() },
	pushes:       true,
	groupShort:   "Work with mailboxes on the server by hand with IMAP, every line explained",
	groupExample: "  mailx imap talk 127.0.0.1:1430\n  mailx imap replay lab.txt",
	talkShort:    "Type IMAP by hand and see every response explained",
	talkLong:     imapTalkLong,
	talkExample: `  mailx imap talk 127.0.0.1:1430
  mailx imap talk imap.example.com --tls
  mailx imap talk 127.0.0.1:1430 --report lab3.html
  printf 'LOGIN alice hungry\nSELECT INBOX\nFETCH 1 BODY.PEEK[]\nLOGOUT\n' | mailx imap talk 127.0.0.1:1430`,
}

// newIMAPCmd is the `mailx imap` group.
func newIMAPCmd(ios *IOStreams) *cobra.Command { return newAccessGroupCmd(ios, imapProto) }

const imapTalkLong = `Connect to an IMAP server and type the protocol by hand: every line you send
and every line the server answers is shown as it travels (C: and S:) and
explained, with the session state in the prompt (not-authenticated,
authenticated, selected).

Tags are added for you: type LOGIN bob secret and a001 LOGIN bob secret goes
out; a tag you type yourself is kept. mailx reads the untagged "*" responses
(EXISTS, FLAGS, FETCH, SEARCH, LIST, ...) up to the tagged OK, NO or BAD, and
explains each, with the response codes in brackets ([UIDVALIDITY],
[READ-WRITE], [TRYCREATE], ...) and where IMAP differs from POP3.

Literals work both ways: a {n} from the server is read as exactly n octets;
a command you end with {n} waits for the server's "+" (or goes out as {n+}
when the server offers LITERAL+), then the lines you type are the literal's
octets, each counting its CRLF. IDLE shows updates as the server pushes them;
type DONE or press Ctrl-C to end it.

Meta-commands (never sent as typed; \help lists them all):
  \auth plain USER PASS  log in with AUTHENTICATE PLAIN
  \append MAILBOX FILE   upload a message file with APPEND and a literal
  \tls                   upgrade to TLS with STARTTLS
  \explain TOPIC         explain a command, a response, a [CODE] or a capability
  \quit                  send LOGOUT and exit

The port is 143, or 993 with --tls.

Exit status: 0 when the session ran to LOGOUT; 1 when it could not connect,
the server refused the session, closed or went silent, the input ended before
LOGOUT, or (with --strict) any answer was NO or BAD; 2 for a bad command line.`
