package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/explore"
	"github.com/mailx-edu/mailx/explore/render"
)

type smtpTalkOptions struct {
	IO   *IOStreams
	Addr string // HOST[:PORT], from the argument; "" with --mx
	As   string // --as ADDRESS: announce this client address with XCLIENT (smtp_talk_as.go)
	Conn smtpConnFlags
	sessionFlags
}

const smtpTalkLong = `Open an SMTP session and type the commands yourself, as with telnet, but with
every line explained: what your command does (and a warning when it is likely
wrong; it is still sent exactly as typed, because seeing the server's answer is
the lesson), and what each reply code means here.

Lines starting with a backslash are mailx's own meta-commands, never sent:
\help, \explain CODE|COMMAND, \b64 TEXT, \unb64 TEXT, \auth plain|login USER PASS,
\send FILE (in DATA), \tls (STARTTLS), \quit.

After "DATA" and the server's 354, what you type is the message: header lines,
a blank line, the body, and "." alone on a line to end it. A line you type that
starts with "." is sent with one more "." (dot-stuffing), and you are told.

When stdin is not a terminal (a pipe) or with --script FILE, one line is sent
after each reply has arrived, so auto-graded labs can pipe a whole session in.
The exit status is 0 when the session ran to QUIT; 1 when the connection
failed, the server refused the session (a 554 or 421 greeting), went silent or
closed early, the input ended before QUIT, or (with --strict) any reply was a
4xx or 5xx failure; 2 for a bad command line.

--mx DOMAIN looks up the domain's mail exchangers and connects to the most
preferred one that answers, as an MTA would. --record FILE saves the session
in the textbook C:/S: format for 'mailx smtp replay'. --json prints one JSON
object per line: {"dir":"C"|"S"|"#","line":...,"code":...,"notes":[...]}.`

func newSMTPTalkCmd(ios *IOStreams, runF func(context.Context, *smtpTalkOptions) error) *cobra.Command {
	opts := &smtpTalkOptions{IO: ios}
	c := &cobra.Command{
		Use:   "talk HOST[:PORT]",
		Short: "Type SMTP by hand and see every reply explained",
		Long:  smtpTalkLong,
		Example: `  mailx smtp talk 127.0.0.1:2525
  mailx smtp talk mail.example.edu --starttls
  mailx smtp talk --mx example.edu
  printf 'EHLO me\nMAIL FROM:<a@hill.test>\nRCPT TO:<bob@mailx.test>\nDATA\nSubject: hi\n\nHello\n.\nQUIT\n' | mailx smtp talk 127.0.0.1:2525
  mailx smtp talk 127.0.0.1:2525 --script lab1.txt --record lab1.transcript --strict
  mailx smtp talk 127.0.0.1:2526 --as 203.0.113.66     # play the lab's spammer (XCLIENT)
  mailx smtp talk 127.0.0.1:2525 --report lab1.html     # the session as a web page, for a lab report
  mailx smtp talk 127.0.0.1:2525 --brief                # one short note per reply`,
		Args: maxArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Addr = args[0]
			}
			if opts.Addr == "" && opts.Conn.MX == "" {
				return usageError("Give the server as HOST[:PORT] (for example 127.0.0.1:2525), or --mx DOMAIN.", "missing HOST[:PORT]")
			}
			if opts.Addr != "" && opts.Conn.MX != "" {
				return usageError("--mx DOMAIN finds the host itself: give either HOST or --mx.", "both HOST and --mx given")
			}
			if err := opts.Conn.check(); err != nil {
				return err
			}
			if runF == nil {
				runF = runSMTPTalk
			}
			return runF(c.Context(), opts)
		},
	}
	opts.Conn.register(c, "connect to the mail exchanger of DOMAIN instead of HOST")
	c.Flags().StringVar(&opts.As, "as", "", "play a client at this address: EHLO, then XCLIENT ADDR=ADDRESS (servers allow it from loopback), e.g. 203.0.113.66")
	opts.sessionFlags.register(c, "smtp")
	return c
}

func runSMTPTalk(ctx context.Context, opts *smtpTalkOptions) error {
	var prelude func(context.Context, *explore.Session) error
	if opts.As != "" {
		a, err := parseAs(opts.As)
		if err != nil {
			return err
		}
		prelude = xclientPrelude(a, opts.Conn.helo())
	}
	return runTalkSession(ctx, opts.IO, &opts.Conn.connFlags, &opts.sessionFlags, talkSpec{
		prelude:   prelude,
		name:      "smtp",
		proto:     explore.NewSMTP(),
		beforeTLS: []string{"EHLO " + opts.Conn.helo()},
		connect: func(ctx context.Context, r *render.Renderer) (*explore.Conn, error) {
			return connectSMTP(ctx, r, &opts.Conn, opts.Addr)
		},
	})
}
