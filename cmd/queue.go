package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/note"
	"github.com/mailx-edu/mailx/server/control"
	"github.com/mailx-edu/mailx/server/queue"
)

// newQueueCmd is the `mailx queue` group: look at and manage the queue of a
// `mailx serve` data directory.
func newQueueCmd(ios *IOStreams) *cobra.Command {
	c := groupCmd("queue", "Look into the mail server's queue: list, show and delete messages",
		"  mailx queue list\n  mailx queue show 00063F2A1B2C3D4E\n  mailx queue delete 00063F2A1B2C3D4E")
	c.Long = `The queue holds every message mailx serve has accepted (answered 250) and not
yet delivered to all its recipients, with each recipient's state: pending,
deferred (a temporary failure; tried again at the next attempt time), held,
delivered, failed or bounced, and the history of attempts.

The commands work on the data directory of mailx serve (--data, default the
same as serve's). When a server runs there, they go through it; when none
runs, they open the queue files directly, and changes take effect when the
server next starts. Opening them first finishes what a crash left undone, as
the server's own start does: messages answered 250 but not yet written into
their local Maildirs (kept in the intake journal) are delivered then.`
	for _, sub := range []*cobra.Command{
		newQueueListCmd(ios, nil),
		newQueueShowCmd(ios, nil),
		newQueueDeleteCmd(ios, nil),
		newQueueRetryCmd(ios), newQueueHoldCmd(ios), newQueueReleaseCmd(ios), newQueueBounceCmd(ios),
		// Further queue subcommands register here, one line each.
	} {
		c.AddCommand(sub)
	}
	return c
}

// queueDataFlag adds --data to a queue subcommand.
func queueDataFlag(c *cobra.Command, data *string) {
	c.Flags().StringVar(data, "data", "", "the server's data directory (default: mailx serve's, under the mailx state directory)")
}

// queueDataDir is --data, or serve's default data directory: the state
// directory's "serve".
func queueDataDir(ios *IOStreams, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	d, err := ios.StateDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "serve"), nil
}

// openQueueAdmin reaches the queue of the data directory, through the running
// server if there is one, with errors that say what to do.
func openQueueAdmin(ctx context.Context, ios *IOStreams, dataFlag string) (control.QueueAdmin, string, error) {
	data, err := queueDataDir(ios, dataFlag)
	if err != nil {
		return nil, "", err
	}
	if _, err := os.Stat(filepath.Join(data, "queue")); errors.Is(err, os.ErrNotExist) {
		return nil, "", failure("Start the server once with 'mailx serve', or pass the --data directory your server uses.",
			"no queue in %s: mailx serve has never run with this data directory", data)
	}
	admin, err := control.OpenQueue(ctx, data)
	switch {
	case err == nil:
		return admin, data, nil
	case errors.Is(err, queue.ErrLocked):
		return nil, "", failure("A server owns that queue but its control endpoint does not answer; if it is still starting, try again in a moment.",
			"the queue in %s is in use by a running mailx serve", data)
	default:
		return nil, "", failure("Check --data: it must be the directory mailx serve uses (its banner shows it).",
			"cannot open the queue in %s: %w", data, err)
	}
}

// queueError turns an admin call's error into one for the user.
func queueError(id string, err error) error {
	if errors.Is(err, queue.ErrNotFound) {
		return failure("Run 'mailx queue list' to see the ids of queued messages; a delivered message leaves the queue.",
			"no message %s in the queue", id)
	}
	return failure("", "%w", err)
}

// queueTime formats a time in the queue listings.
func queueTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05 MST")
}

type queueListOptions struct {
	IO   *IOStreams
	Data string // --data
	JSON bool   // --json
}

func newQueueListCmd(ios *IOStreams, runF func(context.Context, *queueListOptions) error) *cobra.Command {
	opts := &queueListOptions{IO: ios}
	c := &cobra.Command{
		Use:   "list",
		Short: "List queued messages and each recipient's state (like mailq)",
		Long: `List the messages in the queue, oldest first: id, size, arrival time and
sender, then one line per recipient with its state, the number of attempts,
the next attempt time and the last error.

--json prints a JSON array of {id, size, envelope {from, to, received,
client_addr, helo, auth_user, session, body, smtputf8}, recipients [{addr,
state, user, next_attempt, attempts [{time, host, code, reply}]}],
delivering}.`,
		Example: `  mailx queue list
  mailx queue list --data ./lab-data
  mailx queue list --json`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if runF == nil {
				runF = runQueueList
			}
			return runF(c.Context(), opts)
		},
	}
	queueDataFlag(c, &opts.Data)
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the queue as JSON")
	return c
}

func runQueueList(ctx context.Context, opts *queueListOptions) error {
	admin, data, err := openQueueAdmin(ctx, opts.IO, opts.Data)
	if err != nil {
		return err
	}
	defer admin.Close()
	list, err := admin.List(ctx)
	if err != nil {
		return queueError("", err)
	}
	r := opts.IO.Renderer(opts.JSON)
	if opts.JSON {
		if list == nil {
			list = []queue.Snapshot{}
		}
		return r.JSON(list)
	}
	if len(list) == 0 {
		r.Text("The queue is empty.")
		r.Notef("every accepted message has been delivered (queue in %s)", filepath.Join(data, "queue"))
		return nil
	}
	r.Heading(fmt.Sprintf("%s in the queue (%s)", note.Count(len(list), "message"), queueSource(admin, data)))
	r.Text(fmt.Sprintf("%-16s  %9s  %-23s  %s", "ID", "SIZE", "ARRIVED", "SENDER"))
	for _, m := range list {
		from := m.Envelope.From
		if from == "" {
			from = "<> (a bounce)"
		}
		busy := ""
		if m.Busy {
			busy = "  (being delivered)"
		}
		r.Text(fmt.Sprintf("%-16s  %9d  %-23s  %s%s", m.ID, m.Size, queueTime(m.Envelope.Received), from, busy))
		for _, rc := range m.Recipients {
			r.Text("    " + recipientLine(rc))
		}
	}
	return nil
}

// recipientLine is one recipient in list and show: address, state, attempts,
// next attempt, last error.
func recipientLine(rc queue.Recipient) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s", rc.Addr, rc.State)
	if n := len(rc.Attempts); n > 0 {
		fmt.Fprintf(&b, " after %s", note.Count(n, "attempt"))
	}
	if rc.State == queue.Deferred && !rc.NextAttempt.IsZero() {
		fmt.Fprintf(&b, ", next attempt %s", queueTime(rc.NextAttempt))
	}
	if e := rc.LastError(); e != "" {
		fmt.Fprintf(&b, "; last: %s", render.Printable(e))
	}
	return b.String()
}

func queueSource(admin control.QueueAdmin, data string) string {
	if admin.Live() {
		return "live, from the server running on " + data
	}
	return "no server running; read from " + filepath.Join(data, "queue")
}

type queueShowOptions struct {
	IO   *IOStreams
	ID   string // the argument
	Data string // --data
	JSON bool   // --json
}

func newQueueShowCmd(ios *IOStreams, runF func(context.Context, *queueShowOptions) error) *cobra.Command {
	opts := &queueShowOptions{IO: ios}
	c := &cobra.Command{
		Use:   "show ID",
		Short: "Show a queued message: envelope, headers and every delivery attempt",
		Long: `Show one queued message: its envelope (what MAIL FROM and RCPT TO said, and
where it came from), each recipient's state with its full attempt history
(time, host, reply), and the message's header section as it will be
delivered, starting with the Received: line mailx serve added.

--json prints {id, size, envelope, recipients, delivering, header}, the same
fields as 'mailx queue list --json' plus the raw header text.`,
		Example: `  mailx queue show 00063F2A1B2C3D4E
  mailx queue show 00063F2A1B2C3D4E --json`,
		Args: exactArgs(1, "the message ID (see 'mailx queue list')"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.ID = args[0]
			if runF == nil {
				runF = runQueueShow
			}
			return runF(c.Context(), opts)
		},
	}
	queueDataFlag(c, &opts.Data)
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the message's state as JSON")
	return c
}

func runQueueShow(ctx context.Context, opts *queueShowOptions) error {
	admin, _, err := openQueueAdmin(ctx, opts.IO, opts.Data)
	if err != nil {
		return err
	}
	defer admin.Close()
	m, err := admin.Show(ctx, strings.ToUpper(opts.ID))
	if err != nil {
		return queueError(opts.ID, err)
	}
	r := opts.IO.Renderer(opts.JSON)
	if opts.JSON {
		return r.JSON(m)
	}
	env := m.Envelope
	r.Heading("message " + m.ID)
	r.Field("size", fmt.Sprintf("%d octets", m.Size))
	r.Field("arrived", queueTime(env.Received))
	from := "<" + env.From + ">"
	if env.From == "" {
		from = "<> (the null sender: this is a bounce or other notification)"
	}
	r.Field("from", from)
	for _, k := range [][2]string{{"client", env.ClientAddr}, {"helo", env.Helo}, {"authenticated as", env.AuthUser}, {"session", env.SessionID}, {"body", env.BodyType}} {
		if k[1] != "" {
			r.Field(k[0], k[1])
		}
	}
	if env.SMTPUTF8 {
		r.Field("smtputf8", "yes")
	}
	if m.Busy {
		r.Notef("a delivery attempt is under way right now")
	}
	r.Heading("recipients")
	for _, rc := range m.Recipients {
		r.Text(recipientLine(rc))
		for _, a := range rc.Attempts {
			r.Text(fmt.Sprintf("    %s  %s  %s", queueTime(a.Time), a.Host, render.Printable(a.Reply)))
		}
	}
	r.Heading("header")
	for _, l := range strings.Split(strings.TrimRight(m.Header, "\r\n"), "\n") {
		r.Text(render.Printable(strings.TrimSuffix(l, "\r")))
	}
	return nil
}

type queueDeleteOptions struct {
	IO   *IOStreams
	ID   string // the argument
	Data string // --data
	JSON bool   // --json
}

func newQueueDeleteCmd(ios *IOStreams, runF func(context.Context, *queueDeleteOptions) error) *cobra.Command {
	opts := &queueDeleteOptions{IO: ios}
	c := &cobra.Command{
		Use:   "delete ID",
		Short: "Remove a message from the queue without delivering it further",
		Long: `Remove a message from the queue. Recipients it was already delivered to keep
their copy; the others never get it, and no bounce is sent (use this for
mail that should not go anywhere, like a test sent to a wrong address).

--json prints {"deleted": ID}.`,
		Example: `  mailx queue delete 00063F2A1B2C3D4E`,
		Args:    exactArgs(1, "the message ID (see 'mailx queue list')"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.ID = args[0]
			if runF == nil {
				runF = runQueueDelete
			}
			return runF(c.Context(), opts)
		},
	}
	queueDataFlag(c, &opts.Data)
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	return c
}

func runQueueDelete(ctx context.Context, opts *queueDeleteOptions) error {
	admin, _, err := openQueueAdmin(ctx, opts.IO, opts.Data)
	if err != nil {
		return err
	}
	defer admin.Close()
	id := strings.ToUpper(opts.ID)
	if err := admin.Delete(ctx, id); err != nil {
		return queueError(opts.ID, err)
	}
	r := opts.IO.Renderer(opts.JSON)
	if opts.JSON {
		return r.JSON(map[string]string{"deleted": id})
	}
	r.Success("deleted " + id + " from the queue")
	return nil
}
