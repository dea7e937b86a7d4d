package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/proto/mime"
)

// newMimeWordsCmd is `mailx mime words encode|decode`: RFC 2047
// encoded-words, how non-ASCII text travels in header fields.
func newMimeWordsCmd(ios *IOStreams) *cobra.Command {
	c := groupCmd("words", "Encode or decode RFC 2047 encoded-words, non-ASCII text in header fields",
		"  mailx mime words encode 'Crêpes à Paris'\n  mailx mime words decode '=?utf-8?q?Cr=C3=AApes?='")
	var field string
	enc := &cobra.Command{
		Use:   "encode [TEXT...|-]",
		Short: "Encode TEXT (or standard input) for a header field such as Subject",
		Long: `Encode text for an unstructured header field such as Subject: plain ASCII words
stay as they are, the others become =?utf-8?q?...?= (or ?b? when shorter), and
the result is folded so that no line passes 78 characters with the field name
(--field, default Subject) in front.`,
		Example: "  mailx mime words encode 'Crêpes à Paris'\n  echo 'Привет, Боб' | mailx mime words encode --field Subject",
		RunE: func(c *cobra.Command, args []string) error {
			text, err := textArgs(ios, args)
			if err != nil {
				return err
			}
			v := mime.EncodeWords(text, len(field)+2)
			fmt.Fprintf(ios.Out, "%s: %s\n", field, strings.ReplaceAll(v, "\r\n", "\n"))
			return nil
		},
	}
	enc.Flags().StringVar(&field, "field", "Subject", "the header field `NAME` the text is for (sets where lines fold)")
	dec := &cobra.Command{
		Use:     "decode [TEXT...|-]",
		Short:   "Decode the encoded-words in TEXT (or standard input), in any charset",
		Example: "  mailx mime words decode '=?ISO-8859-1?Q?Andr=E9?= Pirard'\n  mailx mime words decode 'Subject: =?UTF-8?B?0J/RgNC40LLQtdGC?='",
		RunE: func(c *cobra.Command, args []string) error {
			text, err := textArgs(ios, args)
			if err != nil {
				return err
			}
			// Unfold first, as a reader of a header does (RFC 5322 §2.2.3).
			text = strings.NewReplacer("\r\n", "", "\n", "").Replace(text)
			for _, w := range mime.FindWords(text) {
				if w.Error != "" {
					fmt.Fprintf(ios.ErrOut, "mailx: cannot decode %s: %s\n", w.Raw, w.Error)
				}
			}
			s, err := mime.DecodeWords(text)
			fmt.Fprintln(ios.Out, s)
			if err != nil {
				return &SilentError{Code: ExitFailure}
			}
			return nil
		},
	}
	c.AddCommand(enc, dec)
	return c
}

// textArgs joins the arguments, or reads standard input for none or "-".
func textArgs(ios *IOStreams, args []string) (string, error) {
	if len(args) > 0 && !(len(args) == 1 && args[0] == "-") {
		return strings.Join(args, " "), nil
	}
	b, err := readAllInput(ios, "-")
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
