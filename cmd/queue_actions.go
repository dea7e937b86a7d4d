package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// queueActionOptions are the options of mailx queue retry|hold|release|bounce.
type queueActionOptions struct {
	IO     *IOStreams
	Action string // "retry", "hold", "release", "bounce"
	ID     string // "" means every message (not for bounce)
	Reason string // bounce: the reply quoted in the notification
	Data   string // --data
	JSON   bool   // --json
}

// queueActions describes each action for its command.
var queueActions = map[string]struct {
	use, short, long, example string
	needID                    bool
}{
	"retry": {
		use:   "retry [ID]",
		short: "Try deferred recipients again now instead of at their next attempt time",
		long: `Make the deferred recipients of message ID (of every message without ID) due
now, like Postfix's postqueue -f. A recipient that failed for good (5xx) is
never tried again: that is what a permanent failure means.`,
		example: "  mailx queue retry\n  mailx queue retry 00063F2A1B2C3D4E",
	},
	"hold": {
		use:   "hold [ID]",
		short: "Put messages aside: they stay queued but are not tried until released",
		long: `Hold the recipients of message ID (of every message without ID) that are not
yet delivered or bounced: the queue keeps them but does not try them. They do
not expire while held; once released, a message older than the queue lifetime
is bounced at its next temporary failure.`,
		example: "  mailx queue hold 00063F2A1B2C3D4E\n  mailx queue hold",
	},
	"release": {
		use:     "release [ID]",
		short:   "Release held messages: they are tried again at once",
		long:    `Release the held recipients of message ID (of every message without ID); they are tried at once.`,
		example: "  mailx queue release 00063F2A1B2C3D4E\n  mailx queue release",
	},
	"bounce": {
		use:   "bounce ID",
		short: "Give up on a message now and send its sender a bounce",
		long: `Fail every recipient of message ID that is not yet delivered, as if each had
got a permanent (5xx) reply, and send the sender an RFC 3464 delivery status
notification saying so (never to the null sender <>: a bounce is not bounced).`,
		example: "  mailx queue bounce 00063F2A1B2C3D4E\n  mailx queue bounce 00063F2A1B2C3D4E --reason \"554 5.0.0 the party was cancelled\"",
		needID:  true,
	},
}

// newQueueActionCmd builds one of the four action commands.
func newQueueActionCmd(ios *IOStreams, action string, runF func(context.Context, *queueActionOptions) error) *cobra.Command {
	spec := queueActions[action]
	opts := &queueActionOptions{IO: ios, Action: action}
	args := maxArgs(1)
	if spec.needID {
		args = exactArgs(1, "the queue id of the message (see mailx queue list)")
	}
	c := &cobra.Command{
		Use:     spec.use,
		Short:   spec.short,
		Long:    spec.long,
		Example: spec.example,
		Args:    args,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.ID = args[0]
			}
			if runF == nil {
				runF = runQueueAction
			}
			return runF(c.Context(), opts)
		},
	}
	queueDataFlag(c, &opts.Data)
	c.Flags().BoolVar(&opts.JSON, "json", false, `print {"action", "id", "live"} as JSON`)
	if action == "bounce" {
		c.Flags().StringVar(&opts.Reason, "reason", "", `the reply quoted in the bounce (default "554 5.0.0 returned to sender by the mail administrator")`)
	}
	return c
}

func newQueueRetryCmd(ios *IOStreams) *cobra.Command   { return newQueueActionCmd(ios, "retry", nil) }
func newQueueHoldCmd(ios *IOStreams) *cobra.Command    { return newQueueActionCmd(ios, "hold", nil) }
func newQueueReleaseCmd(ios *IOStreams) *cobra.Command { return newQueueActionCmd(ios, "release", nil) }
func newQueueBounceCmd(ios *IOStreams) *cobra.Command  { return newQueueActionCmd(ios, "bounce", nil) }

// queueActionResult is the --json output.
type queueActionResult struct {
	Action string `json:"action"`
	ID     string `json:"id,omitempty"` // empty: every message
	Live   bool   `json:"live"`         // done by a running server
}

func runQueueAction(ctx context.Context, opts *queueActionOptions) error {
	admin, _, err := openQueueAdmin(ctx, opts.IO, opts.Data)
	if err != nil {
		return err
	}
	defer admin.Close()
	switch opts.Action {
	case "retry":
		err = admin.Retry(ctx, opts.ID)
	case "hold":
		err = admin.Hold(ctx, opts.ID)
	case "release":
		err = admin.Release(ctx, opts.ID)
	case "bounce":
		err = admin.Bounce(ctx, opts.ID, opts.Reason)
	default:
		return fmt.Errorf("unknown queue action %q", opts.Action)
	}
	if err != nil {
		return queueError(opts.ID, err)
	}
	r := opts.IO.Renderer(opts.JSON)
	if opts.JSON {
		return r.JSON(queueActionResult{Action: opts.Action, ID: opts.ID, Live: admin.Live()})
	}
	what := "message " + opts.ID
	if opts.ID == "" {
		what = "every queued message"
	}
	switch opts.Action {
	case "retry":
		r.Success(fmt.Sprintf("deferred recipients of %s are due now", what))
	case "hold":
		r.Success(fmt.Sprintf("%s is on hold: nothing is tried until 'mailx queue release'", what))
	case "release":
		r.Success(fmt.Sprintf("held recipients of %s are released and due now", what))
	case "bounce":
		r.Success(fmt.Sprintf("%s is returned to its sender: its undelivered recipients failed and a bounce is queued (unless the sender is <>)", what))
	}
	if !admin.Live() {
		r.Notef("no server is running on this data directory: the change is saved and takes effect when mailx serve starts")
	}
	return nil
}
