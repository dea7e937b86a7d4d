package mimeview

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/dsn"
	"github.com/mailx-edu/mailx/proto/mime"
	"github.com/mailx-edu/mailx/proto/note"
)

// Options choose what Tree shows.
type Options struct {
	// Source names the message in the first heading ("crepe.eml", "message 2").
	Source string
	// Raw shows each part's encoded lines beside what they decode to; the
	// tree must have been parsed with mime.Options.RawPreview set.
	Raw bool
	// RawLines caps the encoded lines shown per part with Raw (default 8).
	RawLines int
	// PreviewLines caps the preview lines shown per text part (default 10).
	PreviewLines int
	// Hint, if set, is the command that shows part N whole, with %s for
	// the number: "mailx mime decode crepe.eml --part %s".
	Hint string
}

// Tree renders t. In JSON mode it writes the tree as one indented JSON
// document (headers raw and decoded, hops, parts, sizes, warnings).
func Tree(r *render.Renderer, t *mime.Tree, o Options) error {
	if r.JSONMode() {
		return r.JSONIndent(t)
	}
	if o.RawLines <= 0 {
		o.RawLines = 8
	}
	if o.PreviewLines <= 0 {
		o.PreviewLines = 10
	}
	v := &viewer{r: r, o: o, said: map[string]bool{}}
	title := "Message"
	if o.Source != "" {
		title += " " + o.Source
	}
	ends := ""
	if t.LineEnds != "" {
		ends = ", lines end in " + t.LineEnds
	}
	r.Heading(fmt.Sprintf("%s: %s%s, %d %s", title, size(t.Size), ends, t.Parts, plural(t.Parts, "part")))
	for _, w := range t.Warnings {
		r.Note(w)
	}
	r.Blank()
	r.Heading("Header")
	v.headers(t.Headers, "")
	if len(t.Hops) > 0 {
		r.Blank()
		v.hops(t.Hops)
	}
	r.Blank()
	r.Heading("Body")
	v.part(t.Body, "")
	return nil
}

type viewer struct {
	r    *render.Renderer
	o    Options
	said map[string]bool // explanations already given once
}

// once returns whether key has not been explained yet, marking it.
func (v *viewer) once(key string) bool {
	if v.said[key] {
		return false
	}
	v.said[key] = true
	return true
}

// noteOnce gives n unless a note with the same summary was given already.
func (v *viewer) noteOnce(n note.Note) {
	if v.once("note:" + n.Summary) {
		v.r.Note(n)
	}
}

func (v *viewer) headers(hs []mime.Header, indent string) {
	for _, h := range hs {
		v.r.Text(indent + "  " + render.Printable(h.Name) + ": " + render.Printable(h.Raw))
		if h.Decoded != "" {
			v.r.Text(indent + "    decoded: " + render.Printable(h.Decoded))
			if len(h.Words) > 0 && v.once("encoded-word") {
				v.r.Note(note.Note{Summary: "=?charset?Q or B?text?= is an RFC 2047 encoded-word: non-ASCII text in a header",
					Detail: "Q is like quoted-printable with \"_\" for a space; B is base64. White space between two\nencoded-words is dropped when they are decoded.",
					Ref:    "RFC 2047 §2"})
			}
			if len(h.Words) > 1 {
				for _, w := range h.Words {
					v.r.Text(fmt.Sprintf("%s      word: %s = %q (%s, %s)", indent, render.Printable(w.Raw), w.Decoded, w.Charset, w.Encoding))
				}
			}
		}
		if n, ok := mime.HeaderNote(h.Name, h.Raw); ok && v.once("h:"+strings.ToLower(h.Name)) {
			v.r.Note(n)
		}
	}
}

func (v *viewer) hops(hops []mime.Hop) {
	v.r.Heading(fmt.Sprintf("Route: %d %s, from the bottom Received field up", len(hops), plural(len(hops), "hop")))
	for _, h := range hops {
		var b strings.Builder
		fmt.Fprintf(&b, "  %d.", h.N)
		for _, kv := range [][2]string{{"from", h.From}, {"by", h.By}, {"via", h.Via}, {"with", h.With}, {"for", h.For}} {
			if kv[1] != "" {
				fmt.Fprintf(&b, " %s %s", kv[0], kv[1])
			}
		}
		v.r.Text(render.Printable(b.String()))
		switch {
		case h.Time.IsZero():
			v.r.Text("     at: (no readable time)")
		case h.HasDelay:
			v.r.Text(fmt.Sprintf("     at: %s  (+%s)", h.Time.Format(time.RFC1123Z), mime.FormatDelay(h.Delay)))
		default:
			v.r.Text("     at: " + h.Time.Format(time.RFC1123Z))
		}
	}
	if v.once("hops") {
		v.r.Note(note.Note{Summary: "each relay adds its Received field at the top, so the bottom one is the first hop",
			Detail: "A long delay shows where mail waited (a queue, a retry, greylisting). Clocks of different hosts\ncan disagree, so small or negative delays mean little.",
			Ref:    "RFC 5321 §4.4"})
	}
}

func (v *viewer) part(p *mime.Part, indent string) {
	label := p.Number
	if label == "" {
		label = "body"
	}
	line := indent + label + "  " + p.ContentType
	var params []string
	for k, val := range p.Params {
		if k == "boundary" || k == "charset" {
			continue
		}
		params = append(params, k+"="+val)
	}
	sort.Strings(params)
	if p.IsText() {
		line += "; charset=" + p.Charset
	}
	for _, s := range params {
		line += "; " + s
	}
	if p.IsMultipart() {
		line += fmt.Sprintf("  boundary=%q", p.Params["boundary"])
		line += fmt.Sprintf("  %d %s, %s", len(p.Parts), plural(len(p.Parts), "part"), size(p.RawSize))
	} else if p.Message == nil {
		enc := p.Encoding
		if enc == "" {
			enc = "7bit (default)"
		}
		line += "  " + enc + "  " + size(p.RawSize) + " raw"
		if p.DecodedSize != p.RawSize {
			line += ", " + size(p.DecodedSize) + " decoded"
		}
	}
	if p.Disposition != "" || p.Filename != "" {
		d := p.Disposition
		if d == "" {
			d = "file"
		}
		if p.Filename != "" {
			d += fmt.Sprintf(" %q", p.Filename)
		}
		line += "  " + d
	}
	v.r.Text(render.Printable(line))
	if len(p.Headers) > 0 && p.Number != "" {
		// A part's own fields beyond the Content-* ones are rare but telling.
		for _, h := range p.Headers {
			switch strings.ToLower(h.Name) {
			case "content-type", "content-transfer-encoding", "content-disposition":
				continue
			}
			v.r.Text(indent + "  " + render.Printable(h.Name+": "+h.Value()))
		}
	}
	if v.once("t:" + p.ContentType) {
		v.r.Note(mime.TypeNote(p.ContentType))
	}
	if !p.IsMultipart() && p.Message == nil && v.once("e:"+p.Encoding) {
		v.noteOnce(mime.EncodingNote(p.Encoding))
	}
	for _, w := range p.Warnings {
		v.r.Note(w)
	}
	if p.DeliveryStatus != nil {
		v.deliveryStatus(p.DeliveryStatus, indent+"  ")
	}
	if p.Message != nil {
		v.r.Text(indent + "  enclosed message header:")
		v.headers(p.Message, indent+"  ")
	}
	if v.o.Raw && p.RawPreview != "" {
		v.raw(p, indent+"  ")
	}
	if p.Preview != "" {
		v.preview(p, indent+"  ")
	}
	for _, c := range p.Parts {
		v.part(c, indent+"  ")
	}
}

// deliveryStatus shows the fields of a bounce's machine-readable part, each
// explained: who reports, and per recipient what happened and why.
func (v *viewer) deliveryStatus(rep *dsn.Report, indent string) {
	field := func(ind, name, value, meaning string) {
		if value == "" {
			return
		}
		line := ind + name + ": " + render.Printable(value)
		if meaning != "" {
			line += "  (" + meaning + ")"
		}
		v.r.Text(line)
	}
	v.r.Text(indent + "delivery status, field by field:")
	field(indent+"  ", "Reporting-MTA", rep.ReportingMTA, "the server that wrote this report")
	if !rep.ArrivalDate.IsZero() {
		field(indent+"  ", "Arrival-Date", rep.ArrivalDate.Format(time.RFC1123Z), "when it received the message")
	}
	field(indent+"  ", "Queue-ID", rep.QueueID, "its queue id: quote it to its postmaster")
	field(indent+"  ", "Original-Envelope-Id", rep.EnvelopeID, "the ENVID the sender gave with MAIL FROM")
	for i, r := range rep.Recipients {
		v.r.Text(fmt.Sprintf("%s  recipient %d of %d:", indent, i+1, len(rep.Recipients)))
		ind := indent + "    "
		if r.OriginalRecipient != "" && r.OriginalRecipient != r.FinalRecipient {
			field(ind, "Original-Recipient", r.OriginalRecipient, "the address as the sender wrote it")
		}
		field(ind, "Final-Recipient", r.FinalRecipient, "the address delivery was tried to")
		field(ind, "Action", string(r.Action), dsn.ActionMeaning(r.Action))
		field(ind, "Status", r.Status, dsn.StatusMeaning(r.Status))
		field(ind, "Remote-MTA", r.RemoteMTA, "the server that gave the answer below")
		diag := r.Diagnostic
		if diag != "" {
			typ := r.DiagnosticType
			if typ == "" {
				typ = "smtp"
			}
			meaning := "that server's own reply, word for word"
			if !strings.EqualFold(typ, "smtp") {
				meaning = "a " + typ + " diagnostic, in that system's words"
			}
			field(ind, "Diagnostic-Code", typ+"; "+diag, meaning)
		}
		if !r.LastAttempt.IsZero() {
			field(ind, "Last-Attempt-Date", r.LastAttempt.Format(time.RFC1123Z), "")
		}
		if !r.WillRetryUntil.IsZero() {
			field(ind, "Will-Retry-Until", r.WillRetryUntil.Format(time.RFC1123Z), "when the server gives up")
		}
	}
	if v.once("dsn") {
		v.r.Note(note.Note{Summary: "a bounce: the receiving side's report on each recipient, written for programs to read",
			Detail: "Status is an RFC 3463 code: 2 success, 4 temporary (still trying), 5 permanent (given up).\nDiagnostic-Code quotes the reply that made the server give up; Remote-MTA says who sent it.",
			Ref:    "RFC 3464 §2.2-2.3; RFC 3463"})
	}
}

func (v *viewer) preview(p *mime.Part, indent string) {
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(p.Preview, "\r\n", "\n"), "\n"), "\n")
	more := p.PreviewOmitted
	if len(lines) > v.o.PreviewLines {
		for _, l := range lines[v.o.PreviewLines:] {
			more += int64(len(l) + 1)
		}
		lines = lines[:v.o.PreviewLines]
	}
	for _, l := range lines {
		v.r.Text(indent + "| " + render.Printable(l))
	}
	if more > 0 {
		msg := fmt.Sprintf("%s| ... %s more", indent, size(more))
		if v.o.Hint != "" {
			msg += "; see it whole: " + fmt.Sprintf(v.o.Hint, p.Number)
		}
		v.r.Text(msg)
	}
}

func (v *viewer) raw(p *mime.Part, indent string) {
	lines := mime.DecodeRawLines(p, p.RawPreview, v.o.RawLines)
	for _, l := range lines {
		v.r.Text(indent + "raw: " + render.Printable(l.Raw))
		d := "  = " + render.Printable(l.Decoded)
		if l.Soft {
			d += "   (soft break: continues on the next line)"
		}
		v.r.Text(indent + d)
	}
	if total := strings.Count(p.RawPreview, "\n"); p.RawPreviewOmitted > 0 || total > len(lines) {
		v.r.Text(fmt.Sprintf("%sraw: ... %d of %d lines shown", indent, len(lines), p.RawLines))
	}
	if v.once("raw:" + p.Encoding) {
		for _, n := range mime.ExplainRaw(p, p.RawPreview) {
			v.noteOnce(n) // for 7bit and 8bit, the encoding note given above
		}
	}
}

func size(n int64) string {
	switch {
	case n < 10<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 10<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// RawPart shows one part's encoded body whole (as far as the tree kept it),
// each line beside what it decodes to, then how the encoding works.
func RawPart(r *render.Renderer, p *mime.Part) error {
	if r.JSONMode() {
		return r.JSON(mime.DecodeRawLines(p, p.RawPreview, 1<<30))
	}
	v := &viewer{r: r, o: Options{RawLines: 1 << 30}, said: map[string]bool{}}
	r.Heading(fmt.Sprintf("Part %s: %s, %s, %s encoded", p.Number, p.ContentType, encOrDefault(p.Encoding), size(p.RawSize)))
	v.raw(p, "")
	return nil
}

func encOrDefault(enc string) string {
	if enc == "" {
		return "7bit (default)"
	}
	return enc
}
