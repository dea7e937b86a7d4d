package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/server/maildir"
	"github.com/mailx-edu/mailx/server/spam"
)

// newSpamCmd is the `mailx spam` group.
func newSpamCmd(ios *IOStreams) *cobra.Command {
	c := groupCmd("spam", "Train and question the learning spam filter of mailx serve",
		"  mailx spam train bob@hamburger.test --builtin\n  mailx spam explain message.eml --user bob@hamburger.test")
	c.AddCommand(newSpamTrainCmd(ios), newSpamExplainCmd(ios))
	return c
}

// spamTarget finds the filter directory and account name of USER: NAME
// (the data directory's account) or NAME@DOMAIN (the lab's DOMAIN server
// when the lab has it, else the data directory).
func spamTarget(ios *IOStreams, user, dataFlag string) (dir, name string, err error) {
	name, domain, _ := strings.Cut(strings.ToLower(user), "@")
	if !maildir.ValidUser(name) {
		return "", "", usageError("Give the account name, e.g. bob, or bob@hamburger.test for the lab.", "%q is not an account name", user)
	}
	data, err := queueDataDir(ios, dataFlag)
	if err != nil {
		return "", "", err
	}
	if domain != "" {
		for _, base := range []string{data, filepath.Join(filepath.Dir(data), "lab")} {
			if st, err := os.Stat(filepath.Join(base, domain)); err == nil && st.IsDir() {
				return filepath.Join(base, domain, "spam"), name, nil
			}
		}
	}
	return filepath.Join(data, "spam"), name, nil
}

type spamTrainOptions struct {
	IO      *IOStreams
	User    string
	Spam    []string
	Ham     []string
	Builtin bool
	Data    string
	JSON    bool
}

func newSpamTrainCmd(ios *IOStreams) *cobra.Command {
	opts := &spamTrainOptions{IO: ios}
	c := &cobra.Command{
		Use:   "train USER",
		Short: "Teach USER's filter that the messages in DIR are spam (or ham)",
		Long: `Teach USER's learning filter, as moving mail into Junk (spam) or out of it
(ham) over IMAP does: each message file in the --spam directories (or files)
is learnt as spam, each in --ham as ham. A Maildir folder works as a directory
(its new/ and cur/ are read). --builtin learns mailx's own small training set:
a dozen textbook spam messages and a dozen ordinary lab messages.

A message learnt before the other way is unlearnt first; one learnt the same
way is skipped, so training twice does no harm. The filter lives in the data
directory's spam/USER.json; a running server picks the change up at its next
message. USER is NAME, or NAME@DOMAIN for a lab domain (bob@hamburger.test).`,
		Example: `  mailx spam train bob@hamburger.test --builtin
  mailx spam train bob --spam ./junk-examples --ham ~/Maildir/cur --data ./data`,
		Args: exactArgs(1, "USER"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.User = args[0]
			if len(opts.Spam) == 0 && len(opts.Ham) == 0 && !opts.Builtin {
				return usageError("Give --spam DIR, --ham DIR or --builtin.", "nothing to learn")
			}
			return runSpamTrain(c.Context(), opts)
		},
	}
	c.Flags().StringSliceVar(&opts.Spam, "spam", nil, "directory or file of spam messages; repeat for more")
	c.Flags().StringSliceVar(&opts.Ham, "ham", nil, "directory or file of ordinary messages (ham); repeat for more")
	c.Flags().BoolVar(&opts.Builtin, "builtin", false, "learn mailx's built-in training set (spam and ham)")
	queueDataFlag(c, &opts.Data)
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	return c
}

// messageFiles lists the message files of a path: the file itself, or the
// regular files of a directory and of its new/ and cur/ (a Maildir).
func messageFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, failure("Check the path.", "cannot read %s: %v", path, err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	var out []string
	for _, d := range []string{path, filepath.Join(path, "new"), filepath.Join(path, "cur")} {
		es, _ := os.ReadDir(d)
		for _, e := range es {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
				out = append(out, filepath.Join(d, e.Name()))
			}
		}
	}
	return out, nil
}

func runSpamTrain(ctx context.Context, opts *spamTrainOptions) error {
	dir, user, err := spamTarget(opts.IO, opts.User, opts.Data)
	if err != nil {
		return err
	}
	f := spam.NewFilter(dir, spam.Corpus("ham"))
	type item struct {
		name string
		text []byte
		spam bool
	}
	var items []item
	if opts.Builtin {
		for i, m := range spam.Corpus("spam") {
			items = append(items, item{fmt.Sprintf("built-in spam %d", i+1), m, true})
		}
		for i, m := range spam.Corpus("ham") {
			items = append(items, item{fmt.Sprintf("built-in ham %d", i+1), m, false})
		}
	}
	for _, set := range []struct {
		paths []string
		spam  bool
	}{{opts.Spam, true}, {opts.Ham, false}} {
		for _, p := range set.paths {
			files, err := messageFiles(p)
			if err != nil {
				return err
			}
			for _, fn := range files {
				b, err := os.ReadFile(fn)
				if err != nil {
					return failure("", "cannot read %s: %v", fn, err)
				}
				items = append(items, item{fn, b, set.spam})
			}
		}
	}
	learnt := 0
	var last spam.TrainResult
	for _, it := range items {
		res, err := f.Train(user, it.text, it.spam)
		if err != nil {
			return failure("", "%v", err)
		}
		if res.Changed {
			learnt++
		}
		last = res
	}
	r := opts.IO.Renderer(opts.JSON)
	if opts.JSON {
		return r.JSON(map[string]any{"user": user, "filter": filepath.Join(dir, user+".json"), "messages": len(items), "learnt": learnt,
			"spam_trained": last.Spam, "ham_trained": last.Ham})
	}
	r.Success(fmt.Sprintf("%s's filter learnt %d of %d messages (%d already known)", user, learnt, len(items), len(items)-learnt))
	r.Field("trained so far", fmt.Sprintf("%d spam, %d ham", last.Spam, last.Ham))
	if last.Spam < spam.MinSpam {
		r.Notef("the filter judges once it knows %d spam messages; it knows %d", spam.MinSpam, last.Spam)
	}
	r.Notef("see what it thinks of a message: mailx spam explain FILE --user %s", opts.User)
	return nil
}

type spamExplainOptions struct {
	IO   *IOStreams
	File string
	User string
	Data string
	Top  int
	JSON bool
}

func newSpamExplainCmd(ios *IOStreams) *cobra.Command {
	opts := &spamExplainOptions{IO: ios}
	c := &cobra.Command{
		Use:   "explain FILE --user USER",
		Short: "Show how USER's filter judges a message, and the words that weighed most",
		Long: `Judge a message with USER's learning filter and show why: the spam probability
and the tokens (words of the Subject and body, the From domain, link hosts)
that weighed most, each with how many learnt spam and ham messages held it
and the probability it suggests (Robinson's f(w)). Fisher's chi-square method
combines the most telling ones into the verdict, as SpamAssassin and
bogofilter do. mailx serve turns the probability into a BAYES_ rule of the
spam score (BAYES_99 adds 5.0 points, BAYES_00 takes 2.0 away).`,
		Example: "  mailx spam explain saved.eml --user bob@hamburger.test\n  mailx spam explain saved.eml --user bob --top 10 --json",
		Args:    exactArgs(1, "FILE"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.File = args[0]
			if opts.User == "" {
				return usageError("Say whose filter: --user bob@hamburger.test (the lab) or --user bob.", "missing --user")
			}
			return runSpamExplain(c.Context(), opts)
		},
	}
	c.Flags().StringVar(&opts.User, "user", "", "whose filter (NAME, or NAME@DOMAIN in the lab)")
	c.Flags().IntVar(&opts.Top, "top", 15, "how many tokens to show")
	queueDataFlag(c, &opts.Data)
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the verdict as JSON")
	return c
}

func runSpamExplain(ctx context.Context, opts *spamExplainOptions) error {
	dir, user, err := spamTarget(opts.IO, opts.User, opts.Data)
	if err != nil {
		return err
	}
	in, name, err := openInput(opts.IO, opts.File)
	if err != nil {
		return err
	}
	msg, err := io.ReadAll(io.LimitReader(in, 64<<20))
	in.Close()
	if err != nil {
		return failure("", "cannot read %s: %v", name, err)
	}
	if _, err := os.Stat(filepath.Join(dir, user+".json")); err != nil {
		return failure("Train it first: move messages into Junk over IMAP, or mailx spam train "+opts.User+" --builtin.",
			"%s has no filter yet (no %s)", user, filepath.Join(dir, user+".json"))
	}
	v, err := spam.NewFilter(dir, nil).Classify(user, msg)
	if err != nil {
		return failure("", "%v", err)
	}
	if opts.Top > 0 && len(v.Tokens) > opts.Top {
		v.Tokens = v.Tokens[:opts.Top]
	}
	r := opts.IO.Renderer(opts.JSON)
	if opts.JSON {
		return r.JSON(v)
	}
	r.Heading(fmt.Sprintf("%s's filter (trained on %d spam, %d ham)", user, v.Spam, v.Ham))
	if !v.Trained {
		r.Warning(fmt.Sprintf("not enough training to judge: it needs %d spam and 1 ham message", spam.MinSpam))
		return nil
	}
	rule := spam.BayesRule(v.Prob)
	verdict := "uncertain: no BAYES_ rule"
	if rule != "" {
		verdict = fmt.Sprintf("%s (%+.1f points)", rule, spam.Rules[rule].Points)
	}
	r.Field("spam probability", fmt.Sprintf("%.4f → %s", v.Prob, verdict))
	for _, t := range v.Tokens {
		r.Field(fmt.Sprintf("  %-26s", t.Token), fmt.Sprintf("f(w)=%.3f  in %d spam, %d ham", t.Prob, t.Spam, t.Ham))
	}
	if len(v.Tokens) == 0 {
		r.Notef("no token of this message is telling yet: the filter has not seen its words")
	}
	return nil
}
