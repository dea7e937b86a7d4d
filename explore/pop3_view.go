package explore

import (
	"fmt"
	"strings"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/mime"
	"github.com/mailx-edu/mailx/proto/note"
)

// viewPreviewLines is how many lines of each text part \view shows.
const viewPreviewLines = 8

// viewMessage shows a retrieved message through the MIME decoder: its header
// fields one by one with what each means, then its tree of parts with the
// start of each text part decoded. Nothing is sent to the server.
func viewMessage(r *render.Renderer, title, msg string) error {
	tree, err := mime.Parse(strings.NewReader(msg), mime.Options{})
	if err != nil {
		r.Warning(fmt.Sprintf("cannot decode %s: %v", title, err))
		return nil
	}
	if r.JSONMode() {
		return r.JSON(tree)
	}
	r.Heading(fmt.Sprintf("%s: %d octets, %d header fields, %d MIME part(s)", title, tree.Size, len(tree.Headers), tree.Parts))
	for _, h := range tree.Headers {
		r.Field(h.Name, h.Value())
		if n, ok := mime.HeaderNote(h.Name, h.Raw); ok {
			r.Note(n)
		}
	}
	r.Heading("body: the MIME tree")
	viewPart(r, tree.Body, 0)
	for _, w := range tree.Warnings {
		r.Note(w)
	}
	r.Note(note.Note{Summary: "the decoded view undoes transfer encodings (base64, quoted-printable) and charsets; RETR showed the raw lines",
		Next: "mailx mime decode FILE takes a saved message apart in full", Ref: "RFC 2045"})
	return nil
}

func viewPart(r *render.Renderer, p *mime.Part, depth int) {
	if p == nil {
		return
	}
	indent := strings.Repeat("  ", depth)
	desc := p.ContentType
	if p.Charset != "" {
		desc += "; charset=" + p.Charset
	}
	if p.Encoding != "" {
		desc += ", " + p.Encoding
	}
	if !p.IsMultipart() {
		desc += fmt.Sprintf(", %d octets", p.RawSize)
		if p.DecodedSize != p.RawSize {
			desc += fmt.Sprintf(" (%d decoded)", p.DecodedSize)
		}
	}
	if p.Filename != "" {
		desc += fmt.Sprintf(", file %q", p.Filename)
	}
	num := p.Number
	if num == "" {
		num = "-"
	}
	r.Text(fmt.Sprintf("%s[%s] %s", indent, num, desc))
	if p.IsText() && p.Preview != "" {
		lines := strings.Split(strings.TrimRight(p.Preview, "\r\n"), "\n")
		more := len(lines) > viewPreviewLines
		if more {
			lines = lines[:viewPreviewLines]
		}
		for _, l := range lines {
			r.Text(indent + "    | " + render.Printable(strings.TrimSuffix(l, "\r")))
		}
		if more || p.PreviewOmitted > 0 {
			r.Text(indent + "    | ...")
		}
	}
	for _, w := range p.Warnings {
		r.Note(w)
	}
	for _, c := range p.Parts {
		viewPart(r, c, depth+1)
	}
}
