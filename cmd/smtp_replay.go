package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/explore"
	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/transcript"
)

type smtpReplayOptions struct {
	IO      *IOStreams
	File    string // the argument
	Example string // --example NAME
	List    bool   // --list
	Quiet   bool
	JSON    bool
}

const smtpReplayLong = `Step through a recorded SMTP session with every line explained, without any
network: a file saved with 'mailx smtp talk --record FILE', or one of the
built-in examples (--list shows them; they include the textbook dialogues
between hill.test and town.test, and between crepes.test and hamburger.test).

On a terminal it pauses after each server reply: press Enter for the next
step, q to stop. Otherwise (a pipe, a file) it prints everything at once.

The file format is the textbook one: "S: " for a server line, "C: " for a
client line, after a "# mailx transcript v1" header; see 'mailx smtp talk --help'.`

func newSMTPReplayCmd(ios *IOStreams, runF func(context.Context, *smtpReplayOptions) error) *cobra.Command {
	opts := &smtpReplayOptions{IO: ios}
	c := &cobra.Command{
		Use:   "replay [FILE]",
		Short: "Step through a recorded SMTP session, explained",
		Long:  smtpReplayLong,
		Example: `  mailx smtp replay --list
  mailx smtp replay --example hill
  mailx smtp replay --example modern --quiet
  mailx smtp talk 127.0.0.1:2525 --record lab1.transcript
  mailx smtp replay lab1.transcript`,
		Args: maxArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.File = args[0]
			}
			n := 0
			for _, set := range []bool{opts.File != "", opts.Example != "", opts.List} {
				if set {
					n++
				}
			}
			if n != 1 {
				return usageError("Give a FILE recorded with --record, --example NAME, or --list.", "replay needs exactly one of FILE, --example or --list")
			}
			if runF == nil {
				runF = runSMTPReplay
			}
			return runF(c.Context(), opts)
		},
	}
	c.Flags().StringVar(&opts.Example, "example", "", "replay a built-in example (see --list)")
	c.Flags().BoolVar(&opts.List, "list", false, "list the built-in examples")
	c.Flags().BoolVarP(&opts.Quiet, "quiet", "q", false, "show the raw lines only")
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the session as JSON lines: dir, line, code, notes")
	return c
}

func runSMTPReplay(ctx context.Context, opts *smtpReplayOptions) error {
	r := opts.IO.RendererWith(render.Options{JSON: opts.JSON, Quiet: opts.Quiet, Width: terminalWidth(opts.IO)})
	if opts.List {
		exs := explore.Examples()
		if opts.JSON {
			var list []map[string]string
			for _, ex := range exs {
				list = append(list, map[string]string{"name": ex.Name, "title": ex.Title})
			}
			return r.JSON(list)
		}
		r.Heading("Built-in SMTP sessions (mailx smtp replay --example NAME)")
		for _, ex := range exs {
			r.Field(fmt.Sprintf("%-8s", ex.Name), ex.Title)
		}
		return nil
	}
	var t *transcript.Transcript
	if opts.Example != "" {
		ex, ok := explore.LookupExample(opts.Example)
		if !ok {
			var names []string
			for _, e := range explore.Examples() {
				names = append(names, e.Name)
			}
			return usageError("The examples are: "+strings.Join(names, ", ")+" (mailx smtp replay --list).", "no example called %q", opts.Example)
		}
		t = ex.Transcript
		if ex.Title != "" && !opts.JSON {
			r.Heading(ex.Title)
		}
	} else {
		var err error
		if t, err = readTranscript(opts.File, "smtp"); err != nil {
			return err
		}
	}
	input := replayInput(opts.IO, opts.JSON)
	err := explore.Replay(ctx, t, explore.Options{Protocol: explore.NewSMTP(), Render: r, Input: input})
	if err != nil {
		return failure("The file may be damaged or edited by hand; the line number says where.", "replay: %v", err)
	}
	return nil
}
