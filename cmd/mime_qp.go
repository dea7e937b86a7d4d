package cmd

import (
	"bytes"
	"io"
	"mime/quotedprintable"

	"github.com/spf13/cobra"
)

// newMimeQPCmd is `mailx mime qp encode|decode`: quoted-printable
// (RFC 2045 §6.7), the encoding that keeps mostly-ASCII text readable.
func newMimeQPCmd(ios *IOStreams) *cobra.Command {
	c := groupCmd("qp", "Encode or decode quoted-printable, the readable text encoding (RFC 2045 §6.7)",
		"  echo 'Café = coffee' | mailx mime qp encode\n  echo 'Caf=C3=A9 =3D coffee' | mailx mime qp decode")
	var binary, crlf bool
	enc := &cobra.Command{
		Use:   "encode [FILE|-]",
		Short: "Encode FILE (or standard input) as quoted-printable",
		Long: `Encode as quoted-printable: printable ASCII stays as it is, every other byte and
"=" itself become =XX, trailing white space is escaped, and lines longer than
76 characters are split with a soft break ("=" at the end of the line).
Line ends stay line ends (LF, or CRLF with --crlf); with --binary they are
encoded as =0D=0A too, for data whose exact bytes matter.`,
		Example: "  echo 'Café = coffee' | mailx mime qp encode\n  mailx mime qp encode letter.txt --crlf",
		Args:    maxArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			b, err := readAllInput(ios, firstArg(args))
			if err != nil {
				return err
			}
			var out bytes.Buffer
			w := quotedprintable.NewWriter(&out)
			w.Binary = binary
			w.Write(b)
			w.Close()
			res := out.Bytes()
			if !crlf {
				res = bytes.ReplaceAll(res, []byte("\r\n"), []byte("\n"))
			}
			if len(res) > 0 && res[len(res)-1] != '\n' {
				res = append(res, '\n')
			}
			return writeAll(ios.Out, res)
		},
	}
	enc.Flags().BoolVar(&binary, "binary", false, "encode line ends too (=0D=0A), keeping the exact bytes")
	enc.Flags().BoolVar(&crlf, "crlf", false, "end lines with CRLF, as on the wire")
	dec := &cobra.Command{
		Use:     "decode [FILE|-]",
		Short:   "Decode quoted-printable from FILE (or standard input)",
		Example: "  echo 'Caf=C3=A9 =3D coffee, a long line with a soft=' | mailx mime qp decode",
		Args:    maxArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			b, err := readAllInput(ios, firstArg(args))
			if err != nil {
				return err
			}
			out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
			if werr := writeAll(ios.Out, out); werr != nil {
				return werr
			}
			if err != nil {
				return failure("In quoted-printable, \"=\" must be followed by two hex digits (=3D is \"=\") or end the line (a soft break).",
					"not valid quoted-printable after %d decoded bytes: %v", len(out), err)
			}
			return nil
		},
	}
	c.AddCommand(enc, dec)
	return c
}
