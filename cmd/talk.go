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
	"golang.org/x/term"

	"github.com/mailx-edu/mailx/explore"
	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/explore/report"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// This file holds what `mailx smtp talk`, `mailx pop3 talk` and `mailx imap
// talk` share, so the three behave alike: the connection and session flags,
// the choice of front end, the --record file, --starttls, and how the end of
// a session becomes an exit status. Each protocol adds only how it connects
// (SMTP's --mx) and what it says first (SMTP's EHLO before STARTTLS).

// connFlags are the connection flags of every command that talks to a server.
type connFlags struct {
	TLS             bool          // --tls: implicit TLS
	StartTLS        bool          // --starttls: upgrade after the greeting
	Insecure        bool          // --insecure: accept an unverified certificate
	Timeout         time.Duration // --timeout: connect and TLS handshake
	ResponseTimeout time.Duration // --response-timeout: wait for each response
}

func (f *connFlags) register(c *cobra.Command, tlsPort int, startTLSHelp string) {
	fl := c.Flags()
	fl.BoolVar(&f.TLS, "tls", false, fmt.Sprintf("start TLS at once (implicit TLS; default port %d)", tlsPort))
	fl.BoolVar(&f.StartTLS, "starttls", false, startTLSHelp)
	fl.BoolVar(&f.Insecure, "insecure", false, "accept any certificate (for a lab server's self-signed one); it is still shown")
	fl.DurationVar(&f.Timeout, "timeout", 15*time.Second, "how long to wait for the connection and the TLS handshake")
	fl.DurationVar(&f.ResponseTimeout, "response-timeout", 60*time.Second, "how long to wait for each response before saying the server is silent")
}

func (f *connFlags) check() error {
	if f.TLS && f.StartTLS {
		return usageError("--tls starts TLS at once (SMTPS, POP3S, IMAPS ports); --starttls upgrades a plain connection after the greeting. Choose one.",
			"--tls and --starttls cannot be combined")
	}
	if f.Timeout <= 0 || f.ResponseTimeout <= 0 {
		return usageError("Give a positive duration, such as --timeout 10s or --response-timeout 2m.", "--timeout and --response-timeout must be positive")
	}
	return nil
}

// sessionFlags choose the front end and the output of a talk command.
type sessionFlags struct {
	Script  string // --script FILE; "-" is stdin
	Record  string // --record FILE
	Quiet   bool   // --quiet: raw lines only
	Explain bool   // --explain (default true); false is --quiet
	JSON    bool   // --json
	Strict  bool   // --strict: failures in the session fail the command
	Brief   bool   // --brief: one note line per reply
	Report  string // --report FILE.html|FILE.md: the session for a lab report
}

func (f *sessionFlags) register(c *cobra.Command, name string) {
	fl := c.Flags()
	fl.StringVar(&f.Script, "script", "", "read the lines to send from FILE (\"-\": standard input), one after each response")
	fl.StringVar(&f.Record, "record", "", fmt.Sprintf("save the session to FILE as a C:/S: transcript (for mailx %s replay)", name))
	fl.BoolVarP(&f.Quiet, "quiet", "q", false, "show the raw lines only (warnings still show)")
	fl.BoolVar(&f.Explain, "explain", true, "explain each line (--explain=false is --quiet)")
	fl.BoolVar(&f.JSON, "json", false, "print the transcript as JSON lines: dir, line, code, notes")
	fl.BoolVar(&f.Strict, "strict", false, "exit 1 if any response was a failure (4xx/5xx, -ERR, NO, BAD), for graded labs")
	fl.BoolVar(&f.Brief, "brief", false, "one short note per reply, for when you know the basics (\\brief and \\full switch in the session)")
	fl.StringVar(&f.Report, "report", "", "when the session ends, write it for a lab report to `FILE`.html (self-contained web page) or FILE.md (Markdown)")
}

// talkSpec is what one protocol adds to the shared runner.
type talkSpec struct {
	name  string // "smtp", "pop3", "imap": history file, transcript, messages
	proto explore.Protocol
	// pushes says the server may write while the prompt waits (IMAP IDLE):
	// output then goes through readline, which redraws the prompt after it.
	pushes bool
	// beforeTLS are the lines --starttls sends between the greeting and
	// STARTTLS (SMTP's EHLO).
	beforeTLS []string
	// connect dials the server and says where it connected.
	connect func(context.Context, *render.Renderer) (*explore.Conn, error)
	now     func() time.Time // the clock; time.Now when nil
	// prelude, when set, runs after the greeting (and STARTTLS) and before
	// the student types: smtp talk --as sends EHLO and XCLIENT there.
	prelude func(context.Context, *explore.Session) error
}

// interactiveFold is how many body lines of a retrieved message an
// interactive session shows before summarising the rest: about one screen.
const interactiveFold = 30

// runTalkSession runs one interactive or scripted session and maps how it ended to
// the command's result.
func runTalkSession(ctx context.Context, ios *IOStreams, cf *connFlags, sf *sessionFlags, spec talkSpec) error {
	now := spec.now
	if now == nil {
		now = time.Now
	}
	// The front end and the record file come first, so that a missing
	// script or an unwritable directory is reported without bothering a server.
	in, r, closeIn, err := talkFrontEnd(ios, sf, spec.name, spec.pushes)
	if err != nil {
		return err
	}
	defer closeIn()
	if err := checkReportPath(sf.Report); err != nil {
		return err
	}
	rec, err := createRecord(sf.Record)
	if err != nil {
		return err
	}
	conn, err := spec.connect(ctx, r)
	if err != nil {
		rec.close()
		return err
	}
	defer conn.Close()
	started := now()
	rec.start(conn, spec.name, started)
	var collected report.Collector
	hook := rec.hook
	if sf.Report != "" {
		hook = func(e transcript.Event) {
			rec.hook(e)
			collected.Hook(e)
		}
	}

	p := spec.proto
	if f, ok := p.(interface{ SetFold(int) }); ok && in.Interactive() {
		// On a screen, a long RETR shows its first lines and a note; scripts
		// and pipes get every line.
		f.SetFold(interactiveFold)
	}
	s := explore.NewSession(conn, explore.Options{
		Protocol: p, Render: r, Input: in, Hook: hook, ResponseTimeout: cf.ResponseTimeout, Now: now,
	})
	if in.Interactive() {
		r.Notef(`type %s commands (\help lists mailx's own); Ctrl-D or \quit ends the session`, strings.ToUpper(spec.name))
	}
	if cf.StartTLS {
		err = startTLSFirst(ctx, s, spec.beforeTLS)
	}
	if err == nil && spec.prelude != nil {
		err = spec.prelude(ctx, s)
	}
	if err == nil {
		err = s.Run(ctx)
	}
	if errors.Is(err, explore.ErrInputEnded) && in.Interactive() && !s.Ended() {
		// Ctrl-D at the prompt: leave politely, as a mail client would.
		_, err = s.Exchange(ctx, p.Quit())
		if err == nil && !s.Ended() {
			err = explore.ErrServerClosed
		}
	}
	if cerr := rec.close(); err == nil {
		err = cerr
	}
	if sf.Report != "" {
		// The report is written however the session ended: a session cut
		// short is exactly what a student needs to show.
		rerr := report.WriteFile(sf.Report, report.Session{
			Header: report.Header{Protocol: spec.name, Server: conn.Addr(), TLS: conn.TLSMode,
				Started: started, Ended: now(), Version: Version()},
			Events: collected.Events(),
		})
		if rerr != nil {
			if err == nil {
				err = failure("Check the free space and permissions there.", "writing the report %s: %w", sf.Report, rerr)
			}
		} else {
			fmt.Fprintf(ios.ErrOut, "mailx: the session is in %s%s\n", sf.Report, reportHint(sf.Report))
		}
	}
	if err == nil {
		err = endedBadly(s)
	}
	if err := sessionError(err, conn.Addr(), spec.name); err != nil {
		return err
	}
	if sf.Strict && s.Failures() > 0 {
		return failure("Without --strict, failures in the session do not change the exit status.",
			"%d %s got a failure response (--strict)", s.Failures(), plural(s.Failures(), "command", "commands"))
	}
	return nil
}

// startTLSFirst is --starttls: read the greeting, send what must come before
// STARTTLS, and upgrade. A student who asked for TLS must not go on in plain
// text by accident, so a refusal ends the session.
func startTLSFirst(ctx context.Context, s *explore.Session, before []string) error {
	if _, err := s.Start(ctx); err != nil {
		return err
	}
	if refused := endedBadly(s); refused != nil || s.Ended() {
		if !s.Ended() {
			s.Exchange(ctx, s.Protocol().Quit())
		}
		return refused
	}
	for _, l := range before {
		if _, err := s.Exchange(ctx, l); err != nil {
			return err
		}
	}
	if err := s.StartTLS(ctx); err != nil {
		return err
	}
	if s.Conn().TLSState == nil {
		if !s.Ended() {
			s.Exchange(ctx, s.Protocol().Quit())
		}
		return &UserError{
			Msg:  "the server did not start TLS (--starttls), so the session was stopped",
			Hint: "Its answer above says why (its capabilities show whether it offers TLS); without --starttls the session continues in plain text.",
			Code: ExitFailure,
		}
	}
	return nil
}

// endedBadly fails a session that ran to its end but was refused or cut
// short by the server: a refusing greeting (SMTP 554, POP3 -ERR, IMAP BYE),
// or an unasked BYE or 421.
func endedBadly(s *explore.Session) error {
	g, last := s.Greeting(), s.Last()
	if g != nil && (g.Tone == render.Negative || g.Tone == render.Transient || g.Status == "BYE" && last == g) {
		return failure("The greeting above says why; try again later, or another server.", "the server refused the session")
	}
	if last != nil && (last.Status == "BYE" || last.Status == "421") {
		return failure("The server's last line above says why (an idle timeout, a shutdown); connect again.",
			"the server ended the session before %s", s.Protocol().Quit())
	}
	return nil
}

// talkFrontEnd picks where the student's lines come from: --script, else
// readline when stdin and stdout are terminals, else stdin as a script.
func talkFrontEnd(ios *IOStreams, sf *sessionFlags, name string, pushes bool) (explore.Input, *render.Renderer, func(), error) {
	ropts := render.Options{JSON: sf.JSON, Quiet: sf.Quiet || !sf.Explain, Brief: sf.Brief, Width: terminalWidth(ios)}
	noop := func() {}
	switch {
	case sf.Script == "-":
	case sf.Script != "":
		f, err := os.Open(sf.Script)
		if err != nil {
			return nil, nil, noop, failure("Check the file name; a script holds one line to send per line.", "cannot read the script: %w", err)
		}
		return explore.NewScriptInput(f), ios.RendererWith(ropts), func() { f.Close() }, nil
	case ios.StdinTTY && ios.StdoutTTY && !sf.JSON:
		hist := ""
		if dir, err := ios.StateDir(); err == nil {
			hist = filepath.Join(dir, "history", name)
		}
		repl, err := explore.NewREPL(explore.REPLOptions{HistoryFile: hist, Stdin: readCloser(ios.In), Stdout: ios.Out, Stderr: ios.ErrOut})
		if err != nil {
			return nil, nil, noop, failure("Use --script FILE to send lines from a file instead.", "cannot start the interactive prompt: %w", err)
		}
		// The REPL's writer goes straight to the terminal between prompts
		// and through readline only while a prompt is shown (IMAP IDLE
		// pushes), so a reply never lands on a prompt line.
		ropts.Color = ios.ColorEnabled() && !sf.JSON
		return repl, render.New(repl.Stdout(), ropts), func() { repl.Close() }, nil
	}
	return explore.NewScriptInput(ios.In), ios.RendererWith(ropts), noop, nil
}

// checkReportPath refuses a --report file mailx could not write, before
// any server is bothered: a name that is neither .html nor .md, or a
// directory that does not exist.
func checkReportPath(path string) error {
	if path == "" {
		return nil
	}
	if _, err := report.Format(path); err != nil {
		return usageError("Name the file lab1.html for a web page (colours as on screen) or lab1.md for Markdown.",
			"--report %s: the name must end in .html or .md", path)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return usageError("Give a file name inside it, such as "+filepath.Join(path, "lab1.html")+".", "--report %s is a directory", path)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return usageError("Create the directory first, or choose a file in an existing one.", "--report %s: the directory %s does not exist", path, filepath.Dir(path))
	}
	return nil
}

// reportHint says how to look at a report.
func reportHint(path string) string {
	if f, _ := report.Format(path); f == "html" {
		return " (open it in a web browser; it needs nothing else)"
	}
	return " (Markdown: paste it into your report)"
}

// terminalWidth returns a function giving the width of the terminal on
// stdout (asked again for every note, so a resized window is followed), or
// nil when stdout is not a terminal: piped output is never wrapped, so that
// scripts and golden files see whole lines. COLUMNS is the fallback where
// the size cannot be asked.
func terminalWidth(ios *IOStreams) func() int {
	if !ios.StdoutTTY {
		return nil
	}
	return func() int {
		if f, ok := ios.Out.(*os.File); ok {
			if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
				return w
			}
		}
		if n, err := strconv.Atoi(ios.getenv("COLUMNS")); err == nil && n > 0 {
			return n
		}
		return 80
	}
}

// readCloser gives readline the ReadCloser it wants without closing stdin.
func readCloser(r io.Reader) io.ReadCloser {
	if rc, ok := r.(io.ReadCloser); ok {
		return rc
	}
	return io.NopCloser(r)
}

// recorder writes --record FILE as the session goes, so a session cut short
// still leaves what happened on disk. A nil recorder records nothing.
type recorder struct {
	path string
	f    *os.File
	tw   *transcript.Writer
}

// createRecord creates the record file before connecting; "" records nothing.
func createRecord(path string) (*recorder, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, failure("Choose a file in a directory you can write to.", "cannot create the record file: %w", err)
	}
	return &recorder{path: path, f: f}, nil
}

// start writes the header, once connected: host, port, time and TLS mode.
func (rec *recorder) start(c *explore.Conn, proto string, at time.Time) {
	if rec == nil {
		return
	}
	rec.tw, _ = transcript.NewWriter(rec.f, transcript.Header{
		Protocol: proto, Host: c.Host, Port: c.Port, Started: at, TLS: c.TLSMode,
	}) // a write error stays in the Writer; close reports it
}

func (rec *recorder) hook(e transcript.Event) {
	if rec != nil && rec.tw != nil {
		rec.tw.Write(e.Dir, e.Line)
	}
}

// close finishes the file; one without a session (the connection failed) is
// removed rather than left empty.
func (rec *recorder) close() error {
	if rec == nil {
		return nil
	}
	if rec.tw == nil {
		rec.f.Close()
		os.Remove(rec.path)
		return nil
	}
	err := rec.tw.Err()
	if cerr := rec.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return failure("Check the free space and permissions there.", "writing the record file %s: %w", rec.path, err)
	}
	return nil
}

// quitWord is the command that ends a session of proto.
func quitWord(proto string) string {
	if proto == "imap" {
		return "LOGOUT"
	}
	return "QUIT"
}

// sessionError turns how a session of proto ended into the command's
// result: nil when it ran to QUIT or LOGOUT, else a message saying what
// happened and what to try.
func sessionError(err error, addr, proto string) error {
	var silent *explore.SilentError
	var ce *explore.ConnError
	var pe *explore.ProtocolError
	var ue *UserError
	quit := quitWord(proto)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ue):
		return ue
	case errors.Is(err, explore.ErrInputEnded):
		hint := fmt.Sprintf("End the script with %s, so the server knows the session is over.", quit)
		if proto == "pop3" {
			hint += " A POP3 server deletes the messages marked with DELE only at QUIT."
		}
		return failure(hint, "the input ended before %s: the session was abandoned", quit)
	case errors.Is(err, explore.ErrServerClosed):
		return failure("The server may have hit an error, a limit or an idle timeout; its last lines above may say why.",
			"%s closed the connection before %s", addr, quit)
	case errors.As(err, &silent):
		return failure("Check the last line you sent; --response-timeout sets how long mailx waits.", "no reply from %s within %s", addr, silent.After)
	case errors.As(err, &pe):
		msg, hint := pe.Explain()
		return &UserError{Msg: msg, Hint: hint, Code: ExitFailure, Err: err}
	case errors.As(err, &ce):
		return connFailure(err)
	case errors.Is(err, context.Canceled):
		return err
	}
	return failure("", "%v", err)
}

// connFailure turns a dial or I/O error into a message with a hint.
func connFailure(err error) error {
	msg, hint := explainConnErr(err)
	return &UserError{Msg: msg, Hint: hint, Code: ExitFailure, Err: err}
}

func explainConnErr(err error) (string, string) {
	var ce *explore.ConnError
	if errors.As(err, &ce) {
		return ce.Explain()
	}
	return err.Error(), "Check the host, the port and your network."
}

// splitHostPort reads HOST, HOST:PORT, [IPv6]:PORT, [IPv6] or a bare IPv6
// address. port (a --port flag, 0 when not given) wins over the argument's;
// def is the protocol's default.
func splitHostPort(arg string, port, def int) (string, int, error) {
	host := arg
	if h, p, err := net.SplitHostPort(arg); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", 0, fmt.Errorf("%q: the port is not a number from 1 to 65535", arg)
		}
		host = h
		if port == 0 {
			port = n
		}
	} else if strings.Count(arg, ":") == 1 {
		return "", 0, fmt.Errorf("%q is not HOST or HOST:PORT", arg)
	}
	host = strings.Trim(host, "[]")
	if host == "" {
		return "", 0, fmt.Errorf("the host is missing in %q", arg)
	}
	if port == 0 {
		port = def
	}
	return host, port, nil
}

// replayInput pauses a replay between steps when a person watches it on a
// terminal; nil (everything at once) otherwise.
func replayInput(ios *IOStreams, jsonMode bool) explore.Input {
	if ios.StdinTTY && ios.StdoutTTY && !jsonMode {
		return &pauseInput{in: explore.NewScriptInput(ios.In), out: ios.Out}
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

// readTranscript reads a --record file for `mailx PROTO replay`, refusing
// one recorded for another protocol.
func readTranscript(path, proto string) (*transcript.Transcript, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, failure(fmt.Sprintf("Record one with: mailx %s talk HOST --record FILE", proto), "cannot read %s: %w", path, err)
	}
	defer f.Close()
	t, err := transcript.Read(f)
	if err != nil {
		return nil, failure(fmt.Sprintf("A transcript starts with '# mailx transcript v1', then C: and S: lines, as mailx %s talk --record writes it.", proto), "%s: %w", path, err)
	}
	if p := t.Header.Protocol; p != "" && p != proto {
		return nil, failure(fmt.Sprintf("Replay it with: mailx %s replay %s", p, path), "%s records a %s session, not %s", path, p, proto)
	}
	return t, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
