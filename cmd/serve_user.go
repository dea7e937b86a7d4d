package cmd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/mailx-edu/mailx/server"
	"github.com/mailx-edu/mailx/server/accounts"
	"github.com/mailx-edu/mailx/server/control"
	"github.com/mailx-edu/mailx/server/maildir"
)

// newServeUserCmd is `mailx serve user`: manage the accounts file of a
// data directory. A running server picks the changes up within a second.
func newServeUserCmd(ios *IOStreams) *cobra.Command {
	c := groupCmd("user", "Add, remove and list the mail server's accounts",
		"  mailx serve user list\n  mailx serve user add carol\n  echo s3cret | mailx serve user passwd alice\n  mailx serve user del carol")
	c.Long = `Accounts live in the data directory's accounts file, one NAME:HASH line each
(bcrypt hashes, never passwords). A running mailx serve notices changes within
a second. Each account gets a Maildir in DATA/mail/NAME with the folders
Sent, Drafts, Trash and Junk. A server started with --user uses only those users
and ignores the file: while one runs, add, passwd and del refuse and say so.

On a terminal the password is asked twice, without echo.`
	passwordExample := func(action string) string {
		return fmt.Sprintf("  mailx serve user %s carol\n  mailx serve user %s carol --password s3cret\n  echo s3cret | mailx serve user %s carol", action, action, action)
	}
	c.AddCommand(
		newServeUserActionCmd(ios, nil, "add", "Create an account (asks for the password)", passwordExample("add")),
		newServeUserActionCmd(ios, nil, "passwd", "Change an account's password", passwordExample("passwd")),
		newServeUserActionCmd(ios, nil, "del", "Remove an account (its Maildir is kept)", "  mailx serve user del carol"),
		newServeUserActionCmd(ios, nil, "list", "List the accounts", "  mailx serve user list\n  mailx serve user list --json"),
	)
	return c
}

type serveUserOptions struct {
	IO       *IOStreams
	Data     string
	Name     string
	Password string
	Action   string // "add", "passwd", "del", "list"
	JSON     bool
}

func userDataFlag(c *cobra.Command, data *string) {
	c.Flags().StringVar(data, "data", "", "the server's data directory (default: mailx serve's, under the mailx state directory)")
}

// newServeUserActionCmd builds one subcommand of mailx serve user: add and
// passwd take NAME and --password, del takes NAME, list takes --json. All
// of them run runServeUser with their action.
func newServeUserActionCmd(ios *IOStreams, runF func(context.Context, *serveUserOptions) error, action, short, example string) *cobra.Command {
	opts := &serveUserOptions{IO: ios, Action: action}
	takesName := action != "list"
	c := &cobra.Command{
		Use:     action,
		Short:   short,
		Example: example,
		Args:    noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if takesName {
				opts.Name = strings.ToLower(args[0])
			}
			if runF == nil {
				runF = runServeUser
			}
			return runF(c.Context(), opts)
		},
	}
	if takesName {
		c.Use += " NAME"
		c.Args = exactArgs(1, "the user name")
	}
	userDataFlag(c, &opts.Data)
	switch action {
	case "add", "passwd":
		c.Flags().StringVar(&opts.Password, "password", "", "the password (default: asked for, or read from standard input)")
	case "list":
		c.Flags().BoolVar(&opts.JSON, "json", false, "print as JSON")
	}
	return c
}

// userEntry is one account in `user list --json`.
type userEntry struct {
	Name    string `json:"name"`
	Maildir string `json:"maildir"`
	// Practice is set while the account still has its practice password.
	Practice bool `json:"practice_password,omitempty"`
}

func runServeUser(ctx context.Context, opts *serveUserOptions) error {
	data, err := queueDataDir(opts.IO, opts.Data)
	if err != nil {
		return err
	}
	path := filepath.Join(data, "accounts")
	f, err := accounts.Load(path)
	if err != nil {
		return failure("Fix or delete that line; mailx serve user add recreates users.", "%s", err)
	}
	r := opts.IO.Renderer(opts.JSON)
	if opts.Action != "list" {
		if err := refuseWhenFlagsHoldAccounts(ctx, data, opts); err != nil {
			return err
		}
	}
	switch opts.Action {
	case "list":
		return listUsers(r, f, data)
	case "del":
		if !f.Delete(opts.Name) {
			return failure("mailx serve user list shows the accounts.", "no user %q in %s", opts.Name, path)
		}
		if err := f.Save(); err != nil {
			return failure("Check that the data directory is writable.", "%w", err)
		}
		r.Success(fmt.Sprintf("removed %s; the mail in %s is kept", opts.Name, maildir.Root(data, opts.Name)))
		return nil
	}
	if err := accounts.ValidName(opts.Name); err != nil {
		return usageError("Use lower-case letters, digits, and . _ - after the first character.", "%s", err)
	}
	switch {
	case opts.Action == "add" && f.Has(opts.Name):
		return failure("To change the password: mailx serve user passwd "+opts.Name, "user %s already exists", opts.Name)
	case opts.Action == "passwd" && !f.Has(opts.Name):
		return failure("To create it: mailx serve user add "+opts.Name, "no user %q in %s", opts.Name, path)
	}
	pass, err := readPassword(opts)
	if err != nil {
		return err
	}
	if err := f.Set(opts.Name, pass); err != nil {
		return usageError("Choose a password of 1 to 72 bytes.", "%s", err)
	}
	if err := f.Save(); err != nil {
		return failure("Check that the data directory is writable.", "%w", err)
	}
	if err := maildir.Create(maildir.Root(data, opts.Name)); err != nil {
		return failure("Check that the data directory is writable.", "cannot create the Maildir: %w", err)
	}
	if opts.Action == "add" {
		r.Success(fmt.Sprintf("added %s (mail for %s@<each domain> lands in %s)", opts.Name, opts.Name, maildir.Root(data, opts.Name)))
	} else {
		r.Success("changed the password of " + opts.Name)
	}
	return nil
}

func listUsers(r interface {
	JSONMode() bool
	JSON(any) error
	Text(string)
}, f *accounts.File, data string) error {
	var out []userEntry
	practice := map[string]string{}
	for _, c := range accounts.Practice {
		practice[c.Name] = c.Password
	}
	for _, u := range f.Users() {
		e := userEntry{Name: u, Maildir: maildir.Root(data, u)}
		if p, ok := practice[u]; ok {
			d, err := accounts.New(accounts.Config{Domains: []string{"mailx.test"}, Users: map[string][]byte{u: f.Hashes()[u]}})
			e.Practice = err == nil && d.Authenticate(u, p)
		}
		out = append(out, e)
	}
	if r.JSONMode() {
		if out == nil {
			out = []userEntry{}
		}
		return r.JSON(out)
	}
	if len(out) == 0 {
		r.Text("no accounts yet: mailx serve creates alice and bob on its first start, or: mailx serve user add NAME")
		return nil
	}
	for _, e := range out {
		line := fmt.Sprintf("%-16s %s", e.Name, e.Maildir)
		if e.Practice {
			line += "   (practice password " + practice[e.Name] + ")"
		}
		r.Text(line)
	}
	return nil
}

// refuseWhenFlagsHoldAccounts stops add, passwd and del when a server runs on
// this data directory with accounts given by --user (or the config file's
// users): that server never reads the accounts file, so the change would
// say "ok" and still not let anyone log in.
func refuseWhenFlagsHoldAccounts(ctx context.Context, data string, opts *serveUserOptions) error {
	cl, err := control.Dial(ctx, data)
	if err != nil {
		return nil // no server running: the file is what the next start reads
	}
	var res server.AccountsResult
	if err := cl.Call(ctx, server.CallAccounts, nil, &res); err != nil || res.Source != "flags" {
		return nil
	}
	return failure(fmt.Sprintf("That server knows only the accounts it was started with (%s) and ignores %s.\n"+
		"Stop it (Ctrl-C) and either start it again with --user %s:PASSWORD added, or start it without --user\n"+
		"to use the accounts file (then: mailx serve user %s %s).",
		strings.Join(res.Users, ", "), filepath.Join(data, "accounts"), opts.Name, opts.Action, opts.Name),
		"the mail server running on %s (pid %d) was started with --user accounts: %s %s would have no effect",
		data, cl.Info().PID, opts.Action, opts.Name)
}

// readPassword takes --password, else asks on a terminal without echo, else
// reads the first line of standard input.
func readPassword(opts *serveUserOptions) (string, error) {
	if opts.Password != "" {
		return opts.Password, nil
	}
	if f, ok := opts.IO.In.(*os.File); ok && opts.IO.StdinTTY {
		return askPasswordTwice(opts.IO.ErrOut, opts.Name, func() ([]byte, error) { return term.ReadPassword(int(f.Fd())) })
	}
	line, err := bufio.NewReader(opts.IO.In).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usageError("Pipe the password in (echo s3cret | mailx serve user add carol) or use --password.", "no password given")
	}
	_ = err
	return line, nil
}

// askPasswordTwice asks for a password on a terminal (read reads one line
// without echo) and again to confirm it, as passwd(1) does: a typo nobody
// can see would otherwise lock the account's owner out.
func askPasswordTwice(prompt io.Writer, name string, read func() ([]byte, error)) (string, error) {
	fmt.Fprintf(prompt, "Password for %s: ", name)
	first, err := read()
	fmt.Fprintln(prompt)
	if err != nil {
		return "", failure("Give it with --password instead.", "cannot read the password: %w", err)
	}
	if len(first) == 0 {
		return "", usageError("Type a password, or give one with --password.", "empty password")
	}
	fmt.Fprintf(prompt, "Again, to be sure: ")
	second, err := read()
	fmt.Fprintln(prompt)
	if err != nil {
		return "", failure("Give it with --password instead.", "cannot read the password: %w", err)
	}
	if string(first) != string(second) {
		return "", usageError("Run the command again and type the same password twice.", "the two passwords differ; nothing was changed")
	}
	return string(first), nil
}
