package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/explore"
	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// accessTalkOptions are what `mailx pop3 talk` and `mailx imap talk` share:
// the two access protocols have the same front ends and flags, and differ
// only in the Protocol and the default ports.
type accessTalkOptions struct {
	IO              *IOStreams
	Addr            string        // HOST[:PORT], from the argument
	TLS             bool          // --tls: implicit TLS (995, 993)
	StartTLS        bool          // --starttls: upgrade after the greeting (STLS, STARTTLS)
	Insecure        bool          // --insecure: accept an unverified certificate
	JSON            bool          // --json
	Quiet           bool          // --quiet: raw lines only
	Script          string        // --script FILE; "-" is stdin
	Record          string        // --record FILE
	Timeout         time.Duration // --timeout: connect and TLS handshake
	ResponseTimeout time.Duration // --response-timeout: wait for each response

	// now pins the clock in tests.
	now func() time.Time
}

// interactiveFold is how many body lines of a retrieved message an
// interactive session shows before summarising the rest: about one screen.
const interactiveFold = 30

// accessProto describes one access protocol to the shared runner.
type accessProto struct {
	name      string // "pop3", "imap"
	plainPort int    // 110, 143
	tlsPort   int    // 995, 993
	newProto  func() explore.Protocol
	// group and talk hold the help texts of `mailx NAME` and `mailx NAME talk`.
	groupShort, groupExample         string
	talkShort, talkLong, talkExample string
}

// newAccessGroupCmd is `mailx pop3` or `mailx imap`: talk and replay.
func newAccessGroupCmd(ios *IOStreams, ap accessProto) *cobra.Command {
	c := groupCmd(ap.name, ap.groupShort, ap.groupExample)
	c.AddCommand(newAccessTalkCmd(ios, ap, nil), newAccessReplayCmd(ios, ap, nil))
	return c
}

func newAccessTalkCmd(ios *IOStreams, ap accessProto, runF func(context.Context, *accessTalkOptions) error) *cobra.Command {
	o := &accessTalkOptions{IO: ios}
	c := &cobra.Command{
		Use:     "talk HOST[:PORT]",
		Short:   ap.talkShort,
		Long:    ap.talkLong,
		Example: ap.talkExample,
		Args:    exactArgs(1, "the server, as HOST or HOST:PORT"),
		RunE: func(c *cobra.Command, args []string) error {
			o.Addr = args[0]
			if err := o.validate(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(c.Context(), o)
			}
			return runAccessTalk(c.Context(), o, ap)
		},
	}
	addAccessTalkFlags(c, o, ap)
	return c
}

func addAccessTalkFlags(c *cobra.Command, o *accessTalkOptions, ap accessProto) {
	f := c.Flags()
	f.BoolVar(&o.TLS, "tls", false, fmt.Sprintf("connect with TLS at once (implicit TLS; default port %d)", ap.tlsPort))
	f.BoolVar(&o.StartTLS, "starttls", false, "upgrade to TLS right after the greeting (same as typing \\tls)")
	f.BoolVar(&o.Insecure, "insecure", false, "accept a certificate that cannot be verified (a lab server's self-signed one)")
	f.BoolVar(&o.JSON, "json", false, "one JSON object per line: each line sent and received, with its notes")
	f.BoolVar(&o.Quiet, "quiet", false, "raw lines only: leave out the explanations (warnings stay)")
	f.StringVar(&o.Script, "script", "", "read the lines to send from FILE (\"-\": standard input) instead of the keyboard")
	f.StringVar(&o.Record, "record", "", "write the session to FILE as a C:/S: transcript (replay it with 'mailx "+ap.name+" replay FILE')")
	f.DurationVar(&o.Timeout, "timeout", 15*time.Second, "how long to wait for the connection and the TLS handshake")
	f.DurationVar(&o.ResponseTimeout, "response-timeout", 60*time.Second, "how long to wait for each response before giving up")
}

// splitHostPort reads HOST[:PORT], with IPv6 addresses in brackets
// ([::1]:110), and fills in the default port.
func splitHostPort(addr string, def int) (string, int, error) {
	host, port := addr, ""
	if h, p, err := net.SplitHostPort(addr); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		host = addr[1 : len(addr)-1]
	} else if strings.Count(addr, ":") > 1 {
		host = addr // a bare IPv6 address
	} else if strings.Contains(addr, ":") {
		return "", 0, fmt.Errorf("%q is not HOST or HOST:PORT", addr)
	}
	if host == "" {
		return "", 0, fmt.Errorf("%q has no host name", addr)
	}
	if port == "" {
		return host, def, nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return host, n, nil
}

func (o *accessTalkOptions) validate(c *cobra.Command) error {
	if o.TLS && o.StartTLS {
		return usageError("--tls starts TLS at once (ports 995/993); --starttls upgrades a plain connection (ports 110/143). Pick one.", "--tls and --starttls cannot be used together")
	}
	if o.Timeout <= 0 || o.ResponseTimeout <= 0 {
		return usageError(fmt.Sprintf("Run '%s --help' to see its flags.", c.CommandPath()), "timeouts must be positive")
	}
	return nil
}

// runAccessTalk runs one interactive or scripted session.
func runAccessTalk(ctx context.Context, o *accessTalkOptions, ap accessProto) error {
	def := ap.plainPort
	if o.TLS {
		def = ap.tlsPort
	}
	host, port, err := splitHostPort(o.Addr, def)
	if err != nil {
		return usageError(fmt.Sprintf("Example: mailx %s talk 127.0.0.1:%d", ap.name, ap.plainPort), "%v", err)
	}
	now := o.now
	if now == nil {
		now = time.Now
	}

	in, r, closeIn, err := o.frontEnd(ap.name)
	if err != nil {
		return err
	}
	defer closeIn()

	p := ap.newProto()
	if f, ok := p.(interface{ SetFold(int) }); ok && in.Interactive() {
		// On a screen, a long RETR shows its first lines and a note; scripts
		// and pipes get every line.
		f.SetFold(interactiveFold)
	}
	opts := explore.Options{Protocol: p, Render: r, Input: in, ResponseTimeout: o.ResponseTimeout, Now: now}
	if o.Record != "" {
		f, err := os.Create(o.Record)
		if err != nil {
			return failure("Check the directory exists and you may write there.", "cannot create %s: %w", o.Record, err)
		}
		defer f.Close()
		mode := "none"
		if o.TLS {
			mode = "implicit"
		}
		tw, err := transcript.NewWriter(f, transcript.Header{Protocol: ap.name, Host: host, Port: port, Started: now(), TLS: mode})
		if err != nil {
			return failure("", "cannot write %s: %w", o.Record, err)
		}
		opts.Hook = func(e transcript.Event) { tw.Write(e.Dir, e.Line) }
		defer func() {
			if err := tw.Err(); err != nil {
				fmt.Fprintf(o.IO.ErrOut, "mailx: the recording in %s is incomplete: %v\n", o.Record, err)
			}
		}()
	}

	conn, err := explore.Dial(ctx, host, port, explore.DialOptions{Timeout: o.Timeout, TLS: o.TLS, Insecure: o.Insecure})
	if err != nil {
		return connFailure(err)
	}
	defer conn.Close()
	if !o.JSON {
		how := "plain TCP"
		if o.TLS {
			how = "TLS"
		}
		r.Heading(fmt.Sprintf("%s session with %s (%s)", strings.ToUpper(ap.name), conn.Addr(), how))
		if conn.TLSState != nil {
			for _, n := range conn.TLSNotes(now()) {
				r.Note(n)
			}
		}
	}
	s := explore.NewSession(conn, opts)
	if o.StartTLS {
		if _, err := s.Start(ctx); err != nil {
			return sessionFailure(err, ap)
		}
		if err := s.StartTLS(ctx); err != nil {
			return sessionFailure(err, ap)
		}
		if conn.TLSState == nil {
			return failure("Drop --starttls to continue without TLS (on this machine only), or use --tls with the TLS port.", "the server did not agree to start TLS")
		}
	}
	err = s.Run(ctx)
	if errors.Is(err, explore.ErrInputEnded) && in.Interactive() && !s.Ended() {
		// Ctrl-D: end the session politely, as \quit would.
		_, err = s.Exchange(ctx, p.Quit())
	}
	if err == nil {
		if g := s.Greeting(); g != nil && g.Tone == render.Negative || g != nil && g.Status == "BYE" && s.Last() == g {
			return failure("The greeting above says why; try again later or another server.", "the server refused the session")
		}
		if last := s.Last(); last != nil && last.Status == "BYE" {
			return failure("The server's BYE above says why (an idle timeout, a shutdown); connect again.", "the server ended the session before %s", p.Quit())
		}
	}
	return sessionFailure(err, ap)
}

// frontEnd picks where the student's lines come from and where output goes:
// --script, else readline on a terminal, else stdin as a script.
func (o *accessTalkOptions) frontEnd(name string) (explore.Input, *render.Renderer, func(), error) {
	ropts := render.Options{JSON: o.JSON, Quiet: o.Quiet}
	noop := func() {}
	switch {
	case o.Script == "-":
		return explore.NewScriptInput(o.IO.In), o.IO.RendererWith(ropts), noop, nil
	case o.Script != "":
		f, err := os.Open(o.Script)
		if err != nil {
			return nil, nil, noop, failure("Give the path of a text file with one line to send per line.", "cannot read the script: %w", err)
		}
		return explore.NewScriptInput(f), o.IO.RendererWith(ropts), func() { f.Close() }, nil
	case o.IO.StdinTTY && !o.JSON:
		hist := ""
		if d, err := o.IO.StateDir(); err == nil {
			hist = filepath.Join(d, "history", name)
		}
		stdin, _ := o.IO.In.(io.ReadCloser)
		repl, err := explore.NewREPL(explore.REPLOptions{HistoryFile: hist, Stdin: stdin, Stdout: o.IO.Out, Stderr: o.IO.ErrOut})
		if err != nil {
			return nil, nil, noop, failure("Use --script FILE to send lines from a file instead.", "cannot start the interactive prompt: %w", err)
		}
		ropts.Color = o.IO.ColorEnabled()
		return repl, render.New(repl.Stdout(), ropts), func() { repl.Close() }, nil
	}
	return explore.NewScriptInput(o.IO.In), o.IO.RendererWith(ropts), noop, nil
}

// connFailure turns a dial error into a message with a hint.
func connFailure(err error) error {
	var ce *explore.ConnError
	if errors.As(err, &ce) {
		msg, hint := ce.Explain()
		return &UserError{Msg: msg, Hint: hint, Code: ExitFailure, Err: err}
	}
	return err
}

// sessionFailure maps how a session ended to an exit status: 0 when it ran
// to QUIT/LOGOUT, 1 otherwise, with a message saying what to try.
func sessionFailure(err error, ap accessProto) error {
	var silent *explore.SilentError
	quit := "QUIT"
	if ap.name == "imap" {
		quit = "LOGOUT"
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, explore.ErrInputEnded):
		return failure(fmt.Sprintf("End the script with %s so the server finishes the session (a POP3 server deletes nothing without QUIT).", quit),
			"the input ended before the session was over")
	case errors.Is(err, explore.ErrServerClosed):
		return failure("The lines above show the server's last words; it may have timed out or refused the session.", "the server closed the connection before %s", quit)
	case errors.As(err, &silent):
		return failure("Check the last line sent; --response-timeout sets how long mailx waits.", "the server sent nothing for %s", silent.After)
	case errors.Is(err, context.Canceled):
		return err
	}
	return connFailure(err)
}

type accessReplayOptions struct {
	IO    *IOStreams
	File  string
	JSON  bool
	Quiet bool
}

func newAccessReplayCmd(ios *IOStreams, ap accessProto, runF func(context.Context, *accessReplayOptions) error) *cobra.Command {
	o := &accessReplayOptions{IO: ios}
	c := &cobra.Command{
		Use:   "replay FILE",
		Short: fmt.Sprintf("Step through a recorded %s session with every line explained", strings.ToUpper(ap.name)),
		Long: fmt.Sprintf(`Show a session recorded with 'mailx %s talk --record FILE' (or written by hand
in the same C:/S: format) with the same explanations as a live session, without
connecting anywhere. On a terminal it pauses after each response (Enter goes
on, q stops); otherwise it prints everything.`, ap.name),
		Example: fmt.Sprintf("  mailx %s talk 127.0.0.1:%d --record lab.txt\n  mailx %s replay lab.txt", ap.name, ap.plainPort, ap.name),
		Args:    exactArgs(1, "the transcript FILE"),
		RunE: func(c *cobra.Command, args []string) error {
			o.File = args[0]
			if runF != nil {
				return runF(c.Context(), o)
			}
			return runAccessReplay(c.Context(), o, ap)
		},
	}
	c.Flags().BoolVar(&o.JSON, "json", false, "one JSON object per line instead of text")
	c.Flags().BoolVar(&o.Quiet, "quiet", false, "raw lines only: leave out the explanations")
	return c
}

func runAccessReplay(ctx context.Context, o *accessReplayOptions, ap accessProto) error {
	f, err := os.Open(o.File)
	if err != nil {
		return failure(fmt.Sprintf("Record one with: mailx %s talk HOST --record FILE", ap.name), "cannot read %s: %w", o.File, err)
	}
	defer f.Close()
	t, err := transcript.Read(f)
	if err != nil {
		return failure("A transcript starts with '# mailx transcript v1', then C: and S: lines.", "%s: %w", o.File, err)
	}
	if p := t.Header.Protocol; p != "" && p != ap.name {
		return failure(fmt.Sprintf("Replay it with: mailx %s replay %s", p, o.File), "%s records a %s session, not %s", o.File, p, ap.name)
	}
	opts := explore.Options{Protocol: ap.newProto(), Render: o.IO.RendererWith(render.Options{JSON: o.JSON, Quiet: o.Quiet})}
	if o.IO.StdinTTY && !o.JSON {
		opts.Input = &pauseInput{in: explore.NewScriptInput(o.IO.In), out: o.IO.Out}
	}
	if err := explore.Replay(ctx, t, opts); err != nil {
		return failure("The file may be cut short or edited by hand; the lines above show where replay stopped.", "replay of %s stopped: %w", o.File, err)
	}
	return nil
}

// pauseInput lets a replay on a terminal wait for Enter between steps.
type pauseInput struct {
	in  *explore.ScriptInput
	out io.Writer
}

// ReadLine shows the prompt and reads one line.
func (p *pauseInput) ReadLine(prompt string) (string, error) {
	fmt.Fprint(p.out, prompt)
	return p.in.ReadLine(prompt)
}

// Interactive reports true: a person presses Enter.
func (p *pauseInput) Interactive() bool { return true }
