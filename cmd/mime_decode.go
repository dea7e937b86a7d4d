package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/explore/mimeview"
	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/mime"
)

type mimeDecodeOptions struct {
	IO      *IOStreams
	File    string // the argument; "" or "-" is standard input
	Part    string // --part N: print that part's content whole
	Raw     bool   // --raw: show encoded lines beside their decoding
	Extract string // --extract DIR: save attachments there
	JSON    bool
}

const mimeDecodeLong = `Take a message apart and show every layer, explained: the header fields (each
RFC 2047 encoded-word raw and decoded, the fields that matter explained), the
relays it passed through (Received fields read bottom-up, with the delay
between hops), and the part tree: numbers (1, 1.2, ...), Content-Type and
parameters, charset, transfer encoding, disposition and file name, raw and
decoded size, and the start of each text part decoded to UTF-8.

Text is converted from its charset (UTF-8, ISO-8859-x, Windows-125x, KOI8-R,
GB2312/GBK, Big5, Shift_JIS, ISO-2022-JP, EUC-KR, ...). Malformed messages are
decoded as far as possible, with warnings: a missing closing boundary, an
unknown charset, bad base64, bare LF line ends, 8-bit data in a 7bit part.
Nesting depth, header size and the number of parts are limited.

--part N prints the decoded content of part N whole (text converted to UTF-8,
binary as it is: redirect it to a file). --raw shows encoded lines beside what
they decode to, with an explanation of the encoding; with --part, for that part
only (up to its first 1 MiB). --extract DIR saves every attachment in DIR under
a safe name (no directories, nothing overwritten: an existing name gets a
" (1)" suffix) and says what it wrote. --json prints the tree for scripts.

Memory stays small for any size of message: content is streamed, never held.

Exit status: 0 decoded (warnings included), 1 the input is missing, unreadable
or not a message, or a part could not be written; 2 bad flags.`

func newMimeDecodeCmd(ios *IOStreams, runF func(context.Context, *mimeDecodeOptions) error) *cobra.Command {
	opts := &mimeDecodeOptions{IO: ios}
	c := &cobra.Command{
		Use:   "decode [FILE|-]",
		Short: "Show a message's header, route and MIME part tree, explained",
		Long:  mimeDecodeLong,
		Example: `  mailx mime decode message.eml
  mailx mime decode message.eml --part 2 > picture.jpg
  mailx mime decode message.eml --part 1 --raw
  mailx mime decode message.eml --extract attachments/
  mailx mime encode --from a@example.org --to b@example.org --text hi | mailx mime decode`,
		Args: maxArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.File = args[0]
			}
			if opts.Part != "" && opts.JSON {
				return usageError("--part prints content; --json prints the tree. Use one of them.", "--part and --json cannot be combined")
			}
			if opts.Part != "" && opts.Extract != "" {
				return usageError("Use --part N > FILE for one part, or --extract DIR for all attachments.", "--part and --extract cannot be combined")
			}
			if runF == nil {
				runF = runMimeDecode
			}
			return runF(c.Context(), opts)
		},
	}
	c.Flags().StringVar(&opts.Part, "part", "", "print the decoded content of part `N` (e.g. 1.2) whole")
	c.Flags().BoolVar(&opts.Raw, "raw", false, "show encoded lines beside what they decode to")
	c.Flags().StringVar(&opts.Extract, "extract", "", "save attachments in `DIR` (created if needed; nothing is overwritten)")
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the tree as JSON")
	return c
}

// extracted is one attachment --extract wrote.
type extracted struct {
	Part  string `json:"part"`
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
}

func runMimeDecode(ctx context.Context, opts *mimeDecodeOptions) error {
	in, name, err := openInput(opts.IO, opts.File)
	if err != nil {
		return err
	}
	defer in.Close()
	if (opts.File == "" || opts.File == "-") && opts.IO.StdinTTY {
		return usageError("Give a message file, or pipe one in: mailx mime encode ... | mailx mime decode",
			"no message: standard input is a terminal")
	}
	br := bufio.NewReaderSize(in, 64<<10)
	if err := looksLikeMessage(br, name); err != nil {
		return err
	}
	if opts.Extract != "" {
		if err := os.MkdirAll(opts.Extract, 0o755); err != nil {
			return failure("Choose a directory you may write to.", "cannot create %s: %w", opts.Extract, err)
		}
	}
	po := mime.Options{}
	if opts.Raw {
		po.RawPreview = 16 << 10
		if opts.Part != "" {
			po.RawPreview = 1 << 20
		}
	}
	var written []extracted
	var partFound *mime.Part
	po.OnPart = func(p *mime.Part, content io.Reader) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case opts.Part != "" && p.Number == opts.Part:
			partFound = p
			if opts.Raw {
				return nil // shown from the raw preview below
			}
			return writePart(opts.IO, p, content, name)
		case opts.Extract != "" && p.IsAttachment():
			x, err := extractPart(opts.Extract, p, content)
			if err != nil {
				return err
			}
			written = append(written, x)
		}
		return nil
	}
	tree, err := mime.Parse(br, po)
	if err != nil {
		var ue *UserError
		if errors.As(err, &ue) || errors.Is(err, context.Canceled) {
			return err
		}
		return failure("", "cannot read %s: %w", name, err)
	}
	r := opts.IO.RendererWith(render.Options{JSON: opts.JSON, Width: terminalWidth(opts.IO)})
	if opts.Part != "" {
		if partFound == nil {
			return noSuchPart(tree, opts.Part)
		}
		if opts.Raw {
			return mimeview.RawPart(r, partFound)
		}
		return nil
	}
	if opts.JSON {
		return r.JSONIndent(struct {
			*mime.Tree
			Extracted []extracted `json:"extracted,omitempty"`
		}{tree, written})
	}
	hint := "mailx mime decode " + shellQuote(opts.File) + " --part %s"
	if opts.File == "" || opts.File == "-" {
		hint = ""
	}
	if err := mimeview.Tree(r, tree, mimeview.Options{Source: displayName(opts.File), Raw: opts.Raw, Hint: hint}); err != nil {
		return err
	}
	mimeAuthSection(r, tree.Headers, opts.File) // mime_auth.go
	if opts.Extract != "" {
		r.Blank()
		r.Heading("Extracted to " + opts.Extract)
		if len(written) == 0 {
			r.Notef("no attachments in this message")
		}
		for _, x := range written {
			r.Success(fmt.Sprintf("part %s: wrote %s (%d bytes)", x.Part, x.Path, x.Bytes))
		}
	}
	return nil
}

func displayName(file string) string {
	if file == "" || file == "-" {
		return "(standard input)"
	}
	return file
}

// shellQuote quotes a path for a command line the user may copy.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writePart prints one part's content whole: text converted to UTF-8,
// anything else as it is (but not onto a terminal).
func writePart(ios *IOStreams, p *mime.Part, content io.Reader, name string) error {
	if !p.IsText() && ios.StdoutTTY {
		return failure(fmt.Sprintf("Redirect it to a file: mailx mime decode %s --part %s > %s\nor save every attachment with --extract DIR.",
			shellQuote(name), p.Number, mime.SafeFilename(p.Filename, p.Number, p.ContentType)),
			"part %s is %s, binary data that would garble the terminal", p.Number, p.ContentType)
	}
	src := content
	if p.IsText() {
		src, _ = mime.NewCharsetReader(content, p.Charset)
	}
	if _, err := io.Copy(ios.Out, src); err != nil {
		return failure("", "cannot write part %s: %w", p.Number, err)
	}
	return nil
}

// extractPart writes an attachment into dir under a safe name that does
// not exist yet, streaming it.
func extractPart(dir string, p *mime.Part, content io.Reader) (extracted, error) {
	name := mime.SafeFilename(p.Filename, p.Number, p.ContentType)
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for i := 0; i < 1000; i++ {
		cand := name
		if i > 0 {
			cand = fmt.Sprintf("%s (%d)%s", stem, i, ext)
		}
		path := filepath.Join(dir, cand)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return extracted{}, failure("Choose a directory you may write to.", "cannot write %s: %w", path, err)
		}
		n, err := io.Copy(f, content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return extracted{}, failure("", "cannot write %s: %w", path, err)
		}
		return extracted{Part: p.Number, Path: path, Bytes: n}, nil
	}
	return extracted{}, failure("Empty the directory or choose another.", "too many files named like %s in %s", name, dir)
}

func noSuchPart(tree *mime.Tree, want string) error {
	var leaves, containers []string
	tree.Body.Walk(func(p *mime.Part) {
		if p.Number == "" {
			return
		}
		if p.IsMultipart() || p.Message != nil {
			containers = append(containers, p.Number)
		} else {
			leaves = append(leaves, p.Number)
		}
	})
	for _, c := range containers {
		if c == want {
			return failure("Pick one of the parts inside it: "+strings.Join(leaves, ", "), "part %s is a container, not content", want)
		}
	}
	return failure("This message has the parts: "+strings.Join(leaves, ", ")+" (run without --part to see the tree)",
		"no part %s in this message", want)
}
