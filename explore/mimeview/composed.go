package mimeview

import (
	"fmt"
	"strings"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/mime"
	"github.com/mailx-edu/mailx/proto/note"
)

// Composed annotates a message mailx composed, line by line: what each
// header field is for, where each part starts and why it got its type and
// encoding. Message lines are shown after "| "; long encoded bodies are
// shortened to their first lines. In JSON mode it writes {"message",
// "layout"} instead.
func Composed(r *render.Renderer, msg []byte, lay *mime.Layout) error {
	if r.JSONMode() {
		return r.JSONIndent(struct {
			Message string       `json:"message"`
			Layout  *mime.Layout `json:"layout"`
		}{string(msg), lay})
	}
	starts := map[string]bool{}
	ends := map[string]string{}
	for _, p := range lay.Parts {
		if p.Boundary != "" {
			starts["--"+p.Boundary] = true
			ends["--"+p.Boundary+"--"] = p.Number
		}
	}
	// isEnd reports a closing boundary line. The message body's multipart
	// has no number, so ends maps its closing line to "": look the key up.
	isEnd := func(l string) bool {
		_, ok := ends[l]
		return ok
	}
	lines := strings.Split(strings.TrimSuffix(strings.ReplaceAll(string(msg), "\r\n", "\n"), "\n"), "\n")
	next := 0 // index in lay.Parts of the part whose header comes next
	said := map[string]bool{}
	inHeader, bodyLines := true, 0
	var field, value string
	show := func(l string) { r.Text("| " + render.Printable(l)) }
	endField := func() {
		if field == "" {
			return
		}
		if n, ok := mime.HeaderNote(field, value); ok && !said[field] && !strings.HasPrefix(strings.ToLower(field), "content-") {
			said[field] = true
			r.Note(n)
		}
		field = ""
	}
	var enc string
	for i, l := range lines {
		switch {
		case inHeader && l == "":
			endField()
			if next < len(lay.Parts) {
				p := lay.Parts[next]
				show(l)
				r.Note(partNote(p))
				enc = p.Encoding
				next++
			} else {
				show(l)
			}
			inHeader, bodyLines = false, 0
		case inHeader && (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")):
			show(l)
		case inHeader:
			endField()
			field, value, _ = strings.Cut(l, ":")
			show(l)
		case starts[l]:
			show(l)
			if next < len(lay.Parts) {
				r.Note(note.Note{Summary: fmt.Sprintf("a boundary line: part %s starts here; its header follows", lay.Parts[next].Number),
					Ref: "RFC 2046 §5.1.1"})
			}
			inHeader = true
		case isEnd(l):
			show(l)
			num := ends[l]
			if num == "" {
				num = "body"
			}
			r.Note(note.Note{Summary: fmt.Sprintf("the closing boundary: the multipart %s ends here", num), Ref: "RFC 2046 §5.1.1"})
		default:
			bodyLines++
			limit := 30
			if enc == "base64" {
				limit = 3
			}
			if bodyLines <= limit {
				show(l)
			} else if bodyLines == limit+1 {
				more := 0
				for _, rest := range lines[i:] {
					if starts[rest] || isEnd(rest) {
						break
					}
					more++
				}
				r.Text(fmt.Sprintf("| ... %d more lines of %s", more, encName(enc)))
			}
		}
	}
	return nil
}

func encName(enc string) string {
	if enc == "" {
		return "preamble"
	}
	return enc
}

func partNote(p mime.PlannedPart) note.Note {
	n := p.Why
	label := "part " + p.Number
	if p.Number == "" {
		label = "the message body"
	}
	n.Summary = label + ": " + n.Summary
	return n
}
