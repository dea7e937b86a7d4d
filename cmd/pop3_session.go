package cmd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/explore"
	"github.com/mailx-edu/mailx/explore/render"
)

// accessTalkOptions are what `mailx pop3 talk` and `mailx imap talk` share:
// the two access protocols differ only in the Protocol and the default ports.
type accessTalkOptions struct {
	IO   *IOStreams
	Addr string // HOST[:PORT], from the argument
	connFlags
	sessionFlags

	// now pins the clock in tests.
	now func() time.Time
}

// accessProto describes one access protocol to the shared runner.
type accessProto struct {
	name      string // "pop3", "imap"
	plainPort int    // 110, 143
	tlsPort   int    // 995, 993
	newProto  func() explore.Protocol
	pushes    bool // the server may write while the prompt waits (IMAP IDLE)
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
	o.connFlags.register(c, ap.tlsPort, "upgrade to TLS right after the greeting (same as typing \\tls)")
	o.sessionFlags.register(c, ap.name)
}

func (o *accessTalkOptions) validate(*cobra.Command) error { return o.connFlags.check() }

// runAccessTalk runs one interactive or scripted session.
func runAccessTalk(ctx context.Context, o *accessTalkOptions, ap accessProto) error {
	def := ap.plainPort
	if o.TLS {
		def = ap.tlsPort
	}
	host, port, err := splitHostPort(o.Addr, 0, def)
	if err != nil {
		return usageError(fmt.Sprintf("Example: mailx %s talk 127.0.0.1:%d", ap.name, ap.plainPort), "%v", err)
	}
	now := o.now
	if now == nil {
		now = time.Now
	}
	return runTalkSession(ctx, o.IO, &o.connFlags, &o.sessionFlags, talkSpec{
		name:   ap.name,
		proto:  ap.newProto(),
		pushes: ap.pushes,
		now:    now,
		connect: func(ctx context.Context, r *render.Renderer) (*explore.Conn, error) {
			conn, err := explore.Dial(ctx, host, port, explore.DialOptions{Timeout: o.Timeout, TLS: o.TLS, Insecure: o.Insecure})
			if err != nil {
				return nil, connFailure(err)
			}
			if !o.JSON {
				how := "plain TCP"
				if o.TLS {
					how = "TLS"
				}
				r.Heading(fmt.Sprintf("%s session with %s (%s)", strings.ToUpper(ap.name), conn.Addr(), how))
				for _, n := range conn.TLSNotes(now()) {
					r.Note(n)
				}
			}
			return conn, nil
		},
	})
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
	c.Flags().BoolVarP(&o.Quiet, "quiet", "q", false, "raw lines only: leave out the explanations")
	return c
}

func runAccessReplay(ctx context.Context, o *accessReplayOptions, ap accessProto) error {
	t, err := readTranscript(o.File, ap.name)
	if err != nil {
		return err
	}
	opts := explore.Options{Protocol: ap.newProto(), Render: o.IO.RendererWith(render.Options{JSON: o.JSON, Quiet: o.Quiet, Width: terminalWidth(o.IO)}), Input: replayInput(o.IO, o.JSON)}
	if err := explore.Replay(ctx, t, opts); err != nil {
		return failure("The file may be cut short or edited by hand; the lines above show where replay stopped.", "replay of %s stopped: %w", o.File, err)
	}
	return nil
}
