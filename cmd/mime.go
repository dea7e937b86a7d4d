package cmd

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// newMimeCmd is the `mailx mime` group: build messages, take them apart,
// and the small codecs MIME is made of.
func newMimeCmd(ios *IOStreams) *cobra.Command {
	c := groupCmd("mime", "Build messages with attachments, and take any message apart into its MIME layers",
		`  mailx mime decode message.eml
  mailx mime encode --from alice@crepes.fr --to bob@hamburger.edu --subject "Crêpe" --text "Dear Bob" --attach crepe.jpg
  echo 'Caf=C3=A9' | mailx mime qp decode`)
	c.AddCommand(newMimeDecodeCmd(ios, nil), newMimeEncodeCmd(ios, nil),
		newMimeB64Cmd(ios), newMimeQPCmd(ios), newMimeWordsCmd(ios))
	return c
}

// openInput opens FILE, or standard input for "" and "-". The name it
// returns is for messages ("standard input" or the path).
func openInput(ios *IOStreams, file string) (io.ReadCloser, string, error) {
	if file == "" || file == "-" {
		return io.NopCloser(ios.In), "standard input", nil
	}
	f, err := os.Open(file)
	if err != nil {
		hint := "Check the path. To read standard input instead, give - or pipe the message in."
		if os.IsNotExist(err) {
			return nil, file, failure(hint, "cannot open %s: no such file", file)
		}
		return nil, file, failure(hint, "cannot open %s: %w", file, err)
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, file, usageError(fmt.Sprintf("Give one message file inside it, such as %s, or pipe a message in.", filepath.Join(file, "message.eml")),
			"%s is a directory, not a message file", file)
	}
	return f, file, nil
}

// readAllInput reads FILE or standard input whole, for the small codecs
// (their input is a header value or a snippet, not a mailbox).
func readAllInput(ios *IOStreams, file string) ([]byte, error) {
	r, name, err := openInput(ios, file)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, 64<<20+1))
	if err != nil {
		return nil, failure("", "cannot read %s: %w", name, err)
	}
	if len(b) > 64<<20 {
		return nil, failure("For whole messages use: mailx mime decode FILE", "%s is over 64 MiB, too big for this helper", name)
	}
	return b, nil
}

// looksLikeMessage checks the start of the input before a long parse: a
// message starts with a header field ("Name: value") or an mbox "From " line.
func looksLikeMessage(br *bufio.Reader, name string) error {
	head, _ := br.Peek(1024)
	if len(head) == 0 {
		return failure("Give a file that holds one message (a .eml file), or pipe one in.", "%s is empty: there is no message to decode", name)
	}
	line := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		line = head[:i]
	}
	if bytes.HasPrefix(line, []byte("From ")) {
		return nil
	}
	colon := bytes.IndexByte(line, ':')
	if colon > 0 {
		ok := true
		for _, c := range line[:colon] {
			if c <= ' ' || c >= 0x7f {
				ok = false
				break
			}
		}
		if ok {
			return nil
		}
	}
	return failure("A message starts with header fields such as \"From: alice@crepes.fr\", then an empty line, then the body.\n"+
		"To build one, try: mailx mime encode --from you@example.org --to friend@example.org --text hello",
		"%s does not look like an e-mail message: its first line %s is not a header field", name, quoteLine(line))
}

func quoteLine(b []byte) string {
	if len(b) > 40 {
		b = b[:40]
	}
	return fmt.Sprintf("%q", bytes.TrimRight(b, "\r"))
}
