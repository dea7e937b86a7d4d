package cmd

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"

	"github.com/spf13/cobra"
)

// newMimeB64Cmd is `mailx mime b64 encode|decode`: base64 (RFC 2045 §6.8)
// by hand, to see what an attachment looks like on the wire.
func newMimeB64Cmd(ios *IOStreams) *cobra.Command {
	c := groupCmd("b64", "Encode or decode base64, the encoding of attachments (RFC 2045 §6.8)",
		"  mailx mime b64 encode crepe.jpg\n  printf 'AGFsaWNlAHNlY3JldA==' | mailx mime b64 decode")
	var wrap int
	enc := &cobra.Command{
		Use:     "encode [FILE|-]",
		Short:   "Encode FILE (or standard input) as base64 in 76-character lines",
		Example: "  mailx mime b64 encode crepe.jpg\n  printf '\\0alice\\0secret' | mailx mime b64 encode   # an AUTH PLAIN string",
		Args:    maxArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			b, err := readAllInput(ios, firstArg(args))
			if err != nil {
				return err
			}
			s := base64.StdEncoding.EncodeToString(b)
			var out bytes.Buffer
			for wrap > 0 && len(s) > wrap {
				out.WriteString(s[:wrap] + "\n")
				s = s[wrap:]
			}
			out.WriteString(s + "\n")
			_, err = ios.Out.Write(out.Bytes())
			return err
		},
	}
	enc.Flags().IntVar(&wrap, "wrap", 76, "line length (76 in MIME; 0 for one line, as SMTP AUTH wants)")
	dec := &cobra.Command{
		Use:     "decode [FILE|-]",
		Short:   "Decode base64 from FILE (or standard input); line breaks and spaces are ignored",
		Example: "  echo 'RGVhciBCb2IsCg==' | mailx mime b64 decode\n  mailx mime b64 decode part.b64 > picture.jpg",
		Args:    maxArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			b, err := readAllInput(ios, firstArg(args))
			if err != nil {
				return err
			}
			clean := bytes.Join(bytes.Fields(b), nil)
			out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
			n, err := base64.StdEncoding.Decode(out, clean)
			if err != nil {
				var ce base64.CorruptInputError
				if errors.As(err, &ce) {
					return failure("base64 uses only A-Z a-z 0-9 + / and = padding at the end (RFC 2045 §6.8).",
						"not valid base64 at character %d (white space not counted)", int64(ce)+1)
				}
				return failure("", "not valid base64: %w", err)
			}
			_, err = ios.Out.Write(out[:n])
			return err
		},
	}
	c.AddCommand(enc, dec)
	return c
}

func firstArg(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

// writeAll writes b to w, for helpers whose whole output is one buffer.
func writeAll(w io.Writer, b []byte) error {
	_, err := w.Write(b)
	return err
}
