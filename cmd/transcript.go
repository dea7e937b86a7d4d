package cmd

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/explore"
	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/explore/report"
	"github.com/mailx-edu/mailx/proto/transcript"
)

func newTranscriptCmd(ios *IOStreams) *cobra.Command {
	c := groupCmd("transcript", "Turn recorded sessions into files for lab reports",
		"  mailx smtp talk 127.0.0.1:2525 --record lab1.txt\n  mailx transcript export lab1.txt --html")
	c.Long = `Work with session transcripts: the C:/S: files that 'mailx smtp talk --record',
'pop3 talk --record' and 'imap talk --record' write.`
	c.AddCommand(newTranscriptExportCmd(ios, nil))
	return c
}

type transcriptExportOptions struct {
	IO     *IOStreams
	File   string // the recorded transcript
	HTML   bool
	MD     bool
	Output string // -o FILE; default: FILE with .html or .md
}

const transcriptExportLong = `Write a recorded session as a file for a lab report, with every line explained
as the explorer explains it:

  --html  one self-contained web page (no script, nothing loaded from
          elsewhere): a header with the date, the server and mailx's version,
          then the C: and S: lines in the colours of the terminal, each with
          its notes. It prints well too.
  --md    Markdown: the raw lines in a fenced code block, then the notes as a
          list that names the line each one explains.

The notes come from replaying the transcript through the explorer, exactly
as 'mailx smtp replay' shows them. To write a report straight from a live
session, give the talk command --report FILE.html or --report FILE.md.`

func newTranscriptExportCmd(ios *IOStreams, runF func(context.Context, *transcriptExportOptions) error) *cobra.Command {
	opts := &transcriptExportOptions{IO: ios}
	c := &cobra.Command{
		Use:   "export FILE (--html | --md) [-o OUT]",
		Short: "Write a recorded session as an HTML page or Markdown, explained",
		Long:  transcriptExportLong,
		Example: `  mailx smtp talk 127.0.0.1:2525 --record lab1.txt
  mailx transcript export lab1.txt --html            # writes lab1.html
  mailx transcript export lab1.txt --md -o report.md
  mailx transcript export lab1.txt --md -o -         # Markdown on standard output`,
		Args: exactArgs(1, "the transcript FILE (recorded with --record)"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.File = args[0]
			if opts.HTML == opts.MD {
				return usageError("Give --html for a web page or --md for Markdown.", "choose one format: --html or --md")
			}
			if runF == nil {
				runF = runTranscriptExport
			}
			return runF(c.Context(), opts)
		},
	}
	c.Flags().BoolVar(&opts.HTML, "html", false, "write one self-contained HTML page")
	c.Flags().BoolVar(&opts.MD, "md", false, "write Markdown")
	c.Flags().StringVarP(&opts.Output, "output", "o", "", "write to `OUT` (\"-\": standard output); default: FILE with .html or .md")
	return c
}

func runTranscriptExport(ctx context.Context, opts *transcriptExportOptions) error {
	if fi, err := os.Stat(opts.File); err == nil && fi.IsDir() {
		return usageError("Give the transcript file inside it, as written by --record.", "%s is a directory, not a transcript", opts.File)
	}
	f, err := os.Open(opts.File)
	if err != nil {
		return failure("Record one with: mailx smtp talk HOST --record FILE", "cannot read %s: %w", opts.File, err)
	}
	t, err := transcript.Read(f)
	f.Close()
	if err != nil {
		return failure("A transcript starts with '# mailx transcript v1', then C: and S: lines, as --record writes it.", "%s: %w", opts.File, err)
	}
	s, err := ReplayForReport(ctx, t)
	if err != nil {
		return failure("The file may be cut short or edited by hand.", "%s: %w", opts.File, err)
	}
	s.Header.Version = Version()
	format := "html"
	if opts.MD {
		format = "md"
	}
	out := opts.Output
	if out == "-" {
		return report.Write(opts.IO.Out, format, s)
	}
	if out == "" {
		out = strings.TrimSuffix(opts.File, filepath.Ext(opts.File)) + "." + format
		if out == opts.File {
			out += "." + format
		}
	}
	if f, err := report.Format(out); err != nil || f != format {
		return usageError(fmt.Sprintf("Name it like report.%s, or use -o - for standard output.", format), "-o %s does not end in .%s", out, format)
	}
	if err := report.WriteFile(out, s); err != nil {
		return failure("Check the free space and permissions there.", "cannot write %s: %w", out, err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "mailx: wrote %s (%d lines)%s\n", out, len(s.Events), reportHint(out))
	return nil
}

// ReplayForReport replays a recorded transcript through the explorer to
// collect its lines with their notes and colours, as a report.Session.
// Lessons can use it, with report.WriteFile, to export a session they
// recorded.
func ReplayForReport(ctx context.Context, t *transcript.Transcript) (report.Session, error) {
	var p explore.Protocol
	switch t.Header.Protocol {
	case "", "smtp":
		p = explore.NewSMTP()
	case "pop3":
		p = explore.NewPOP3()
	case "imap":
		p = explore.NewIMAP()
	default:
		return report.Session{}, fmt.Errorf("protocol %q is not smtp, pop3 or imap", t.Header.Protocol)
	}
	var c report.Collector
	err := explore.Replay(ctx, t, explore.Options{Protocol: p, Render: render.New(io.Discard, render.Options{}), Hook: c.Hook})
	h := report.Header{Protocol: p.Name(), TLS: t.Header.TLS, Started: t.Header.Started}
	if t.Header.Host != "" {
		h.Server = t.Header.Host
		if t.Header.Port != 0 {
			h.Server = net.JoinHostPort(t.Header.Host, strconv.Itoa(t.Header.Port))
		}
	}
	return report.Session{Header: h, Events: c.Events()}, err
}
