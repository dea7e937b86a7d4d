package cmd

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/explore/mimeview"
	"github.com/mailx-edu/mailx/proto/mime"
)

type mimeEncodeOptions struct {
	IO        *IOStreams
	From      string
	To, Cc    []string
	Subject   string
	Text      string
	TextFile  string
	HTMLFile  string
	Attach    []string // FILE[;type=T][;name=N]
	Headers   []string // "Name: value"
	Output    string   // -o FILE; "" is stdout
	CRLF      bool
	Explain   bool
	JSON      bool
	Date      string // --date, RFC 5322 or RFC 3339; "" is now
	MessageID string
}

const mimeEncodeLong = `Build a complete RFC 5322 message and write it to standard output (or -o FILE):
Date, Message-ID and MIME-Version are added; text alone makes text/plain, text
and HTML make multipart/alternative, attachments make multipart/mixed.

Each attachment's Content-Type is guessed from its extension, then from its
first bytes; override it with --attach 'FILE;type=TYPE', and the name the
recipient sees with ';name=NAME'. Each part gets the transfer encoding it needs:
7bit for short-lined ASCII, quoted-printable for mostly-ASCII text, base64 for
binary data or text that is mostly not ASCII. Non-ASCII header text becomes RFC
2047 encoded-words, and lines stay within 78 characters (never over 998).

Lines end in LF, as files do; --crlf ends them in CRLF, as SMTP sends them.
--explain prints the message annotated instead: what each header field is for,
where each part starts and why its encoding was chosen (with -o, the message
itself still goes to the file). --json with --explain prints {message, layout}.

Exit status: 0 written; 1 an attachment or file could not be read or the output
written; 2 bad flags or addresses.`

func newMimeEncodeCmd(ios *IOStreams, runF func(context.Context, *mimeEncodeOptions) error) *cobra.Command {
	opts := &mimeEncodeOptions{IO: ios}
	c := &cobra.Command{
		Use:   "encode --from ADDR --to ADDR [flags]",
		Short: "Build a MIME message with text, HTML and attachments",
		Long:  mimeEncodeLong,
		Example: `  mailx mime encode --from alice@crepes.fr --to bob@hamburger.edu --subject "Picture of yummy crêpe" \
      --text "Dear Bob, please find a picture of a crêpe." --attach crepe.jpg -o crepe.eml
  mailx mime encode --from alice@crepes.fr --to bob@hamburger.edu --subject News \
      --text-file news.txt --html-file news.html --explain
  mailx mime encode --from alice@crepes.fr --to bob@hamburger.edu --attach 'notes.dat;type=text/plain;name=notes.txt' --crlf`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			// Checked here rather than with MarkFlagRequired, whose error
			// comes after the point that tells usage errors from failures.
			if opts.From == "" || len(opts.To) == 0 {
				return usageError("Example: mailx mime encode --from alice@crepes.fr --to bob@hamburger.edu --text 'Dear Bob'",
					"--from and --to are required")
			}
			if opts.Text != "" && opts.TextFile != "" {
				return usageError("Give the text inline with --text or from a file with --text-file, not both.", "--text and --text-file cannot be combined")
			}
			if opts.JSON && !opts.Explain {
				return usageError("--json describes the message with --explain; without it the message itself is the output.", "--json needs --explain")
			}
			if runF == nil {
				runF = runMimeEncode
			}
			return runF(c.Context(), opts)
		},
	}
	f := c.Flags()
	f.StringVar(&opts.From, "from", "", "author `ADDRESS`, e.g. \"Alice <alice@crepes.fr>\" (required)")
	f.StringArrayVar(&opts.To, "to", nil, "recipient `ADDRESS` (repeat, or separate with commas; required)")
	f.StringArrayVar(&opts.Cc, "cc", nil, "copy recipient `ADDRESS` (repeatable)")
	f.StringVar(&opts.Subject, "subject", "", "subject `TEXT` (any language)")
	f.StringVar(&opts.Text, "text", "", "the plain-text body")
	f.StringVar(&opts.TextFile, "text-file", "", "read the plain-text body from `FILE` (- for standard input)")
	f.StringVar(&opts.HTMLFile, "html-file", "", "read an HTML body from `FILE`")
	f.StringArrayVar(&opts.Attach, "attach", nil, "attach `FILE[;type=TYPE][;name=NAME]` (repeatable)")
	f.StringArrayVar(&opts.Headers, "header", nil, "add a header field `'Name: value'` (repeatable)")
	f.StringVarP(&opts.Output, "output", "o", "", "write the message to `FILE` instead of standard output")
	f.BoolVar(&opts.CRLF, "crlf", false, "end lines with CRLF, as on the wire")
	f.BoolVar(&opts.Explain, "explain", false, "print the message annotated: headers, parts, encodings")
	f.BoolVar(&opts.JSON, "json", false, "with --explain: print the message and its layout as JSON")
	f.StringVar(&opts.Date, "date", "", "the Date field, RFC 5322 or RFC 3339 (default: now)")
	f.StringVar(&opts.MessageID, "message-id", "", "the Message-ID, as `<id@domain>` (default: a random one)")
	return c
}

func runMimeEncode(ctx context.Context, opts *mimeEncodeOptions) error {
	m := mime.Message{From: opts.From, To: opts.To, Cc: opts.Cc, Subject: opts.Subject, Text: opts.Text,
		CRLF: opts.CRLF, MessageID: opts.MessageID}
	if opts.Date != "" {
		d, err := mail.ParseDate(opts.Date)
		if err != nil {
			if d, err = time.Parse(time.RFC3339, opts.Date); err != nil {
				return usageError(`Write it like "Fri, 01 Mar 2024 12:00:00 +0000" or 2024-03-01T12:00:00Z.`, "--date %q is not a date", opts.Date)
			}
		}
		m.Date = d
	}
	if opts.TextFile != "" {
		b, err := readAllInput(opts.IO, opts.TextFile)
		if err != nil {
			return err
		}
		m.Text = string(b)
	}
	if opts.HTMLFile != "" {
		b, err := readAllInput(opts.IO, opts.HTMLFile)
		if err != nil {
			return err
		}
		m.HTML = string(b)
	}
	for _, h := range opts.Headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return usageError(`Write it as --header 'Reply-To: alice@crepes.fr'.`, "--header %q has no colon", h)
		}
		m.Headers = append(m.Headers, mime.Field{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	}
	for _, a := range opts.Attach {
		att, err := parseAttach(a)
		if err != nil {
			return err
		}
		if _, err := os.Stat(att.Path); err != nil {
			return failure("Check the path of the file to attach.", "cannot attach %s: %w", att.Path, unwrapPathErr(err))
		}
		m.Attachments = append(m.Attachments, att)
	}

	if !opts.Explain {
		// Stream: attachments of any size pass through without being held.
		if opts.Output == "" {
			_, err := mime.Encode(opts.IO.Out, m)
			return encodeError(err)
		}
		f, err := os.Create(opts.Output)
		if err != nil {
			return failure("Choose a file you may write to.", "cannot write %s: %w", opts.Output, unwrapPathErr(err))
		}
		lay, err := mime.Encode(f, m)
		if cerr := f.Close(); err == nil && cerr != nil {
			err = failure("", "cannot write %s: %w", opts.Output, cerr)
		}
		if err != nil {
			os.Remove(opts.Output)
			return encodeError(err)
		}
		st, _ := os.Stat(opts.Output)
		fmt.Fprintf(opts.IO.ErrOut, "wrote %s (%d bytes, %d parts)\n", opts.Output, st.Size(), len(lay.Parts))
		return nil
	}
	var buf bytes.Buffer
	lay, err := mime.Encode(&buf, m)
	if err != nil {
		return encodeError(err)
	}
	if opts.Output != "" {
		if err := os.WriteFile(opts.Output, buf.Bytes(), 0o644); err != nil {
			return failure("Choose a file you may write to.", "cannot write %s: %w", opts.Output, unwrapPathErr(err))
		}
	}
	return mimeview.Composed(opts.IO.Renderer(opts.JSON), buf.Bytes(), lay)
}

// encodeError turns Compose's errors into usage errors (the command line
// asked for something impossible) or failures (a file could not be read).
func encodeError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*UserError); ok {
		return err
	}
	msg := strings.TrimPrefix(err.Error(), "compose: ")
	for _, s := range []string{"address", "header field", "Message-ID", "subject", "written by mailx", "content type", "valid UTF-8"} {
		if strings.Contains(msg, s) {
			return usageError("Run 'mailx mime encode --help' for examples.", "%s", msg)
		}
	}
	return failure("", "%s", msg)
}

// parseAttach reads FILE[;type=TYPE][;name=NAME]. The options are peeled
// off the end, so a file name may itself contain ";".
func parseAttach(spec string) (mime.Attachment, error) {
	var a mime.Attachment
	path := spec
	for {
		i := strings.LastIndexByte(path, ';')
		if i < 0 {
			break
		}
		k, v, ok := strings.Cut(path[i+1:], "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || (k != "type" && k != "name") {
			break
		}
		if k == "type" {
			a.ContentType = strings.TrimSpace(v)
		} else {
			a.Name = strings.TrimSpace(v)
		}
		path = path[:i]
	}
	if path == "" {
		return a, usageError("Write it as --attach FILE or --attach 'FILE;type=image/png;name=picture.png'.", "--attach %q names no file", spec)
	}
	a.Path = path
	return a, nil
}

// unwrapPathErr drops the "open FILE:" prefix an *os.PathError repeats.
func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
