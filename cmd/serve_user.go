package cmd

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/mailx-edu/mailx/server/accounts"
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
and ignores the file.`
	for _, sub := range []*cobra.Command{
		newServeUserAddCmd(ios, nil, "add", "Create an account (asks for the password)"),
		newServeUserAddCmd(ios, nil, "passwd", "Change an account's password"),
		newServeUserDelCmd(ios, nil),
		newServeUserListCmd(ios, nil),
	} {
		c.AddCommand(sub)
	}
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

func newServeUserAddCmd(ios *IOStreams, runF func(context.Context, *serveUserOptions) error, action, short string) *cobra.Command {
	opts := &serveUserOptions{IO: ios, Action: action}
	c := &cobra.Command{
		Use:     action + " NAME",
		Short:   short,
		Example: fmt.Sprintf("  mailx serve user %s carol\n  mailx serve user %s carol --password s3cret\n  echo s3cret | mailx serve user %s carol", action, action, action),
		Args:    exactArgs(1, "the user name"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = strings.ToLower(args[0])
			if runF == nil {
				runF = runServeUser
			}
			return runF(c.Context(), opts)
		},
	}
	userDataFlag(c, &opts.Data)
	c.Flags().StringVar(&opts.Password, "password", "", "the password (default: asked for, or read from standard input)")
	return c
}

func newServeUserDelCmd(ios *IOStreams, runF func(context.Context, *serveUserOptions) error) *cobra.Command {
	opts := &serveUserOptions{IO: ios, Action: "del"}
	c := &cobra.Command{
		Use:     "del NAME",
		Short:   "Remove an account (its Maildir is kept)",
		Example: "  mailx serve user del carol",
		Args:    exactArgs(1, "the user name"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = strings.ToLower(args[0])
			if runF == nil {
				runF = runServeUser
			}
			return runF(c.Context(), opts)
		},
	}
	userDataFlag(c, &opts.Data)
	return c
}

func newServeUserListCmd(ios *IOStreams, runF func(context.Context, *serveUserOptions) error) *cobra.Command {
	opts := &serveUserOptions{IO: ios, Action: "list"}
	c := &cobra.Command{
		Use:     "list",
		Short:   "List the accounts",
		Example: "  mailx serve user list\n  mailx serve user list --json",
		Args:    noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if runF == nil {
				runF = runServeUser
			}
			return runF(c.Context(), opts)
		},
	}
	userDataFlag(c, &opts.Data)
	c.Flags().BoolVar(&opts.JSON, "json", false, "print as JSON")
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

// readPassword takes --password, else asks on a terminal without echo, else
// reads the first line of standard input.
func readPassword(opts *serveUserOptions) (string, error) {
	if opts.Password != "" {
		return opts.Password, nil
	}
	if f, ok := opts.IO.In.(*os.File); ok && opts.IO.StdinTTY {
		fmt.Fprintf(opts.IO.ErrOut, "Password for %s: ", opts.Name)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(opts.IO.ErrOut)
		if err != nil {
			return "", failure("Give it with --password instead.", "cannot read the password: %w", err)
		}
		if len(b) == 0 {
			return "", usageError("Type a password, or give one with --password.", "empty password")
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(opts.IO.In).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usageError("Pipe the password in (echo s3cret | mailx serve user add carol) or use --password.", "no password given")
	}
	_ = err
	return line, nil
}
