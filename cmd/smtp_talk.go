package cmd

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/explore"
	"github.com/mailx-edu/mailx/explore/render"
)

type smtpTalkOptions struct {
	IO      *IOStreams
	Addr    string // HOST[:PORT], from the argument; "" with --mx
	Conn    smtpConnFlags
	Script  string // --script FILE
	Record  string // --record FILE
	Quiet   bool   // --quiet
	Explain bool   // --explain (default true)
	JSON    bool   // --json
	Strict  bool   // --strict
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
failed, the server went silent or closed early, the input ended before QUIT,
or (with --strict) any reply was a 4xx or 5xx failure; 2 for a bad command line.

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
  mailx smtp talk 127.0.0.1:2525 --script lab1.txt --record lab1.transcript --strict`,
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
	fl := c.Flags()
	fl.StringVar(&opts.Script, "script", "", "read the lines to send from FILE, one after each reply")
	fl.StringVar(&opts.Record, "record", "", "save the session to FILE (C:/S: transcript, for mailx smtp replay)")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "show the raw lines only (warnings still show)")
	fl.BoolVar(&opts.Explain, "explain", true, "explain each line (--explain=false is --quiet)")
	fl.BoolVar(&opts.JSON, "json", false, "print the transcript as JSON lines: dir, line, code, notes")
	fl.BoolVar(&opts.Strict, "strict", false, "exit 1 if any reply was a 4xx or 5xx failure (for graded labs)")
	return c
}

func runSMTPTalk(ctx context.Context, opts *smtpTalkOptions) error {
	ropts := render.Options{JSON: opts.JSON, Quiet: opts.Quiet || !opts.Explain}
	r := opts.IO.RendererWith(ropts)

	// Choose the front end before connecting, so a missing script file is
	// reported without bothering a server.
	var input explore.Input
	var repl *explore.REPL
	switch {
	case opts.Script != "":
		f, err := os.Open(opts.Script)
		if err != nil {
			return failure("Check the file name; the script holds one SMTP line per line.", "cannot read the script: %v", err)
		}
		defer f.Close()
		input = explore.NewScriptInput(f)
	case opts.IO.StdinTTY && opts.IO.StdoutTTY && !opts.JSON:
		hist := ""
		if dir, err := opts.IO.StateDir(); err == nil {
			hist = filepath.Join(dir, "history", "smtp")
		}
		var err error
		repl, err = explore.NewREPL(explore.REPLOptions{HistoryFile: hist, Stdin: readCloser(opts.IO.In), Stdout: opts.IO.Out, Stderr: opts.IO.ErrOut})
		if err != nil {
			return failure("", "cannot start the interactive prompt: %v", err)
		}
		defer repl.Close()
		// Output goes straight to stdout, not through readline's writer: SMTP
		// never prints while the prompt waits (there is no IDLE), and
		// readline's writer would redraw a stale prompt before each reply.
		input = repl
	default:
		input = explore.NewScriptInput(opts.IO.In)
	}

	conn, err := connectSMTP(ctx, r, &opts.Conn, opts.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()

	var rec *recorder
	if opts.Record != "" {
		if rec, err = startRecording(opts.Record, conn, "smtp"); err != nil {
			return err
		}
	}
	if repl != nil {
		r.Notef(`type SMTP commands (\help lists mailx's own); Ctrl-D or \quit ends the session`)
	}
	if opts.Conn.StartTLS {
		input = &startTLSInput{lines: []string{"EHLO " + opts.Conn.helo(), `\tls`}, next: input}
	}
	s := explore.NewSession(conn, explore.Options{
		Protocol:        explore.NewSMTP(),
		Render:          r,
		Input:           input,
		Hook:            rec.hook,
		ResponseTimeout: opts.Conn.ResponseTimeout,
	})
	if st, ok := input.(*startTLSInput); ok {
		st.session = s
	}
	err = s.Run(ctx)
	if errors.Is(err, explore.ErrInputEnded) && input.Interactive() && !s.Ended() {
		// Ctrl-D at the prompt: leave politely, as a mail client would.
		_, err = s.Exchange(ctx, "QUIT")
		if err == nil && !s.Ended() {
			err = explore.ErrServerClosed
		}
	}
	if cerr := rec.close(); err == nil {
		err = cerr
	}
	if err := sessionError(err, conn.Addr()); err != nil {
		return err
	}
	if opts.Strict && s.Failures() > 0 {
		return failure("Without --strict, failures in the session do not change the exit status.",
			"%d %s got a 4xx or 5xx reply (--strict)", s.Failures(), plural(s.Failures(), "command", "commands"))
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// startTLSInput sends EHLO and \tls before the student's own lines for
// --starttls, and ends the session if the upgrade did not happen: a student
// who asked for TLS must not go on in plain text by accident.
type startTLSInput struct {
	lines   []string
	next    explore.Input
	session *explore.Session
}

func (in *startTLSInput) ReadLine(prompt string) (string, error) {
	if len(in.lines) > 0 {
		l := in.lines[0]
		in.lines = in.lines[1:]
		return l, nil
	}
	if in.session != nil && in.session.Conn().TLSState == nil {
		return "", errStartTLSRefused
	}
	in.session = nil
	return in.next.ReadLine(prompt)
}

func (in *startTLSInput) Interactive() bool { return in.next.Interactive() }

// SetCompleter passes tab completion through to the real input.
func (in *startTLSInput) SetCompleter(words func() []string) {
	if c, ok := in.next.(explore.Completer); ok {
		c.SetCompleter(words)
	}
}

var errStartTLSRefused = &UserError{
	Msg:  "the server did not start TLS (--starttls), so the session was stopped",
	Hint: "Its EHLO reply shows whether it offers STARTTLS; without --starttls the session continues in plain text.",
	Code: ExitFailure,
}

// readCloser gives readline the ReadCloser it wants without closing stdin.
func readCloser(r io.Reader) io.ReadCloser {
	if rc, ok := r.(io.ReadCloser); ok {
		return rc
	}
	return io.NopCloser(r)
}
