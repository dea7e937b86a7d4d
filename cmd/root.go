package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"
)

// Main runs mailx with args (without the program name) on the given streams
// and returns the process exit code: ExitOK, ExitFailure or ExitUsage.
// It never panics and never calls os.Exit.
func Main(args []string, ios *IOStreams) (code int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return run(ctx, args, ios)
}

func run(ctx context.Context, args []string, ios *IOStreams) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(ios.ErrOut, "mailx: internal error: %v\nThis is a bug in mailx; please report it with the command you ran.\n", r)
			code = ExitFailure
		}
	}()

	// started records that argument and flag checks passed and a command's
	// own code ran, which separates usage errors (exit 2) from failures (exit 1).
	started := false
	root := newRootCmd(ios, &started)
	root.SetArgs(args)
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)

	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var silent *SilentError
	if errors.As(err, &silent) {
		return silent.Code
	}
	var ue *UserError
	if errors.As(err, &ue) {
		fmt.Fprintf(ios.ErrOut, "mailx: %s\n", ue.Msg)
		if ue.Hint != "" {
			fmt.Fprintln(ios.ErrOut, ue.Hint)
		}
		if ue.Code == 0 {
			return ExitFailure
		}
		return ue.Code
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(ios.ErrOut, "mailx: interrupted")
		return ExitFailure
	}
	fmt.Fprintf(ios.ErrOut, "mailx: %s\n", err)
	if !started {
		fmt.Fprintln(ios.ErrOut, "Run 'mailx --help' (or add --help to the command) to see its usage.")
		return ExitUsage
	}
	return ExitFailure
}

func newRootCmd(ios *IOStreams, started *bool) *cobra.Command {
	root := &cobra.Command{
		Use:   "mailx",
		Short: "Learn and practise Internet e-mail by hand, with every line explained",
		Long: `mailx makes e-mail hands-on: look up where mail for a domain goes, talk SMTP,
POP3 and IMAP by hand with every reply explained, take messages apart into their
MIME layers, and run a real mail server on your own machine to practise against.

Colours follow the terminal: they are off when output is not a terminal, when
NO_COLOR is set, or with --no-color.

Exit codes: 0 success, 1 the operation failed, 2 the command line was wrong.`,
		Example: `  mailx mx lookup gmail.com
  mailx serve
  mailx smtp talk 127.0.0.1:2525`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// PersistentPreRun runs after cobra has checked flags and arguments;
		// subcommands must not define their own, or this would be skipped.
		PersistentPreRun: func(c *cobra.Command, args []string) { *started = true },
	}
	// --version answers like `mailx version`, as users of other tools expect.
	root.Version = Version()
	root.SetVersionTemplate(versionLine() + "\n")
	root.Flags().BoolP("version", "v", false, "print the mailx version (same as 'mailx version')")
	root.PersistentFlags().BoolVar(&ios.NoColor, "no-color", false, "never colour the output (also: NO_COLOR=1, or output not a terminal)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError(fmt.Sprintf("Run '%s --help' to see its flags.", c.CommandPath()), "%s", err)
	})
	root.CompletionOptions.HiddenDefaultCmd = false

	for _, add := range []func(*IOStreams) *cobra.Command{
		newVersionCmd,
		newSMTPCmd,
		newMXCmd,
		newQueueCmd,
		newPOP3Cmd,
		newIMAPCmd,
		func(ios *IOStreams) *cobra.Command { return newServeCmd(ios, nil) },
		// Commands register here, one line each.
		newMimeCmd,
		newLessonsCmd,
		newTranscriptCmd,
		func(ios *IOStreams) *cobra.Command { return newWebCmd(ios, nil) },
		newDNSBLCmd,
		newAuthCmd,
		newSpamCmd,
	} {
		root.AddCommand(add(ios))
	}
	return root
}

// exactArgs is cobra.ExactArgs with a message that names what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		hint := fmt.Sprintf("Usage: %s\nRun '%s --help' for examples.", c.UseLine(), c.CommandPath())
		if len(args) < n {
			return usageError(hint, "missing %s", what)
		}
		return usageError(hint, "too many arguments: %s", strings.Join(args[n:], " "))
	}
}

// maxArgs allows at most n arguments, naming the extra ones when there are more.
func maxArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) <= n {
			return nil
		}
		hint := fmt.Sprintf("Usage: %s\nRun '%s --help' for examples.", c.UseLine(), c.CommandPath())
		return usageError(hint, "too many arguments: %s", strings.Join(args[n:], " "))
	}
}

// noArgs refuses any argument, for commands that take flags only.
func noArgs(c *cobra.Command, args []string) error { return maxArgs(0)(c, args) }

// groupCmd returns a parent command such as `mailx smtp` that only holds
// subcommands; run without one, it prints its help, and with an unknown one it
// says so and exits 2.
func groupCmd(use, short, example string) *cobra.Command {
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			return usageError(fmt.Sprintf("Run '%s --help' to see its subcommands.", c.CommandPath()),
				"unknown command %q for %q", args[0], c.CommandPath())
		},
		RunE: func(c *cobra.Command, args []string) error { return c.Help() },
	}
}
