package mime

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"sort"
	"strings"

	"github.com/mailx-edu/mailx/proto/dsn"
	"github.com/mailx-edu/mailx/proto/note"
)

// Limits bound what Parse holds and how deep it goes, so a hostile or broken
// message costs little memory and time. Each default has its reason.
type Limits struct {
	// Depth is how deeply multiparts and enclosed messages may nest. Real
	// mail rarely passes 5 levels; each level holds a read buffer, and deep
	// nesting is a known way to exhaust MIME parsers.
	Depth int
	// Parts caps the number of parts (multiparts included). A thousand is
	// far beyond any real message and keeps the tree small.
	Parts int
	// HeaderBytes caps one header block. 100 KiB is Postfix's
	// header_size_limit: a bigger header would not have been relayed.
	HeaderBytes int
}

// DefaultLimits are the limits Parse uses for zero fields of Options.Limits.
var DefaultLimits = Limits{Depth: 20, Parts: 1000, HeaderBytes: 100 << 10}

// Options control Parse. The zero value is ready to use.
type Options struct {
	Limits Limits
	// Preview is how many decoded bytes of each text part the tree keeps
	// (default 2048; negative keeps none).
	Preview int
	// RawPreview is how many bytes of each leaf's encoded body the tree
	// keeps, to show an encoding at work (default none).
	RawPreview int
	// OnPart, if set, is called for every leaf part as Parse reaches it,
	// with the content after the transfer decoding (base64 or
	// quoted-printable undone; the charset is not converted). The part's
	// sizes and preview are filled in after OnPart returns. Whatever OnPart
	// does not read is skipped; an error from OnPart stops Parse and is
	// returned.
	OnPart func(p *Part, content io.Reader) error
}

// Parse reads a message (RFC 5322 header and body, MIME per RFC 2045-2049)
// and returns its tree. It streams: memory stays bounded whatever the size
// of the message. Malformed input is decoded as far as possible and
// described in warnings; the only errors are read errors and OnPart's.
func Parse(r io.Reader, o Options) (*Tree, error) {
	if o.Limits.Depth <= 0 {
		o.Limits.Depth = DefaultLimits.Depth
	}
	if o.Limits.Parts <= 0 {
		o.Limits.Parts = DefaultLimits.Parts
	}
	if o.Limits.HeaderBytes <= 0 {
		o.Limits.HeaderBytes = DefaultLimits.HeaderBytes
	}
	if o.Preview == 0 {
		o.Preview = 2048
	}
	src := &lineCounter{r: r}
	p := &parser{o: o, src: src, tree: &Tree{}}
	br := bufio.NewReaderSize(src, 64<<10)
	hdrs, rest, warns := readHeader(br, o.Limits.HeaderBytes)
	p.tree.Headers = hdrs
	p.tree.Warnings = append(p.tree.Warnings, warns...)
	p.tree.Warnings = append(p.tree.Warnings, checkHeaders(hdrs)...)
	p.tree.Hops = Hops(hdrs)
	body, err := p.entity(rest, hdrs, "", "", true, 0, defaultType)
	body.Headers = nil // the message's own fields are Tree.Headers
	p.tree.Body = body
	p.tree.Parts = p.parts
	if err != nil {
		return p.tree, err
	}
	if src.err != nil {
		return p.tree, src.err
	}
	p.tree.Size = src.n
	p.tree.LineEnds = src.lineEnds()
	if src.lf > 0 {
		p.tree.Warnings = append(p.tree.Warnings, bareLFNote(src))
	}
	return p.tree, nil
}

const defaultType = "text/plain; charset=us-ascii" // RFC 2045 §5.2

func bareLFNote(src *lineCounter) note.Note {
	if src.crlf == 0 {
		// A file that uses LF throughout is a message saved the Unix way
		// (mailx mime encode writes one): normal on disk, so it is a note,
		// not a warning. Only mixed line ends are suspicious.
		return note.Note{Severity: note.Info,
			Summary: fmt.Sprintf("lines end in a bare LF (%d lines), as files on Unix do: fine on disk; on the wire every line ends in CRLF", src.lf),
			Detail:  "mailx smtp send converts them when it sends the message.",
			Ref:     "RFC 5322 §2.1"}
	}
	return note.Note{Severity: note.Warning,
		Summary: fmt.Sprintf("mixed line ends: %d lines end in CRLF and %d in a bare LF", src.crlf, src.lf),
		Detail:  "A message should use CRLF throughout. Mixed line ends usually mean part of it was edited or\nassembled by a program that did not care; some servers reject such messages.",
		Ref:     "RFC 5322 §2.1; RFC 5321 §2.3.8"}
}

type parser struct {
	o     Options
	src   *lineCounter
	tree  *Tree
	parts int
}

// numberChild returns the number of the i-th (1-based) child of a part.
func numberChild(parent string, i int) string {
	if parent == "" {
		return fmt.Sprint(i)
	}
	return fmt.Sprintf("%s.%d", parent, i)
}

// entity parses one entity whose header fields are hdrs: a part numbered
// number, or (isBody) the body of a message whose parts are numbered from
// base, as IMAP does: a single-part body is base.1 ("1" at the top), and a
// multipart body has no number of its own, its parts being base.1, base.2.
func (p *parser) entity(r io.Reader, hdrs []Header, number, base string, isBody bool, depth int, dflt string) (*Part, error) {
	p.parts++
	part := &Part{Number: number}
	if isBody {
		part.Number = numberChild(base, 1)
	}
	cr := &countReader{r: r}
	ctRaw := headerValue(hdrs, "Content-Type")
	if ctRaw == "" {
		ctRaw = dflt
	}
	mt, params, err := ParseMediaType(ctRaw)
	switch {
	case err != nil && mt == "":
		part.warn(note.Note{Summary: fmt.Sprintf("Content-Type %s cannot be parsed (%v); reading the part as text/plain", strqv(ctRaw), err),
			Ref: "RFC 2045 §5.2"})
		mt, params = "text/plain", map[string]string{}
	case err != nil:
		part.warn(note.Note{Summary: fmt.Sprintf("Content-Type %s has a malformed parameter: %v", strqv(ctRaw), err), Ref: "RFC 2045 §5.1"})
	}
	if !strings.Contains(mt, "/") {
		part.warn(note.Note{Summary: fmt.Sprintf("Content-Type %s is not type/subtype; reading the part as text/plain", strqv(mt)), Ref: "RFC 2045 §5.1"})
		mt = "text/plain"
	}
	part.ContentType, part.Params = mt, params
	if len(params) == 0 {
		part.Params = nil
	}
	part.Encoding = strings.ToLower(strings.TrimSpace(headerValue(hdrs, "Content-Transfer-Encoding")))
	if disp := headerValue(hdrs, "Content-Disposition"); disp != "" {
		d, dp, err := ParseMediaType(disp)
		if err != nil && d == "" {
			part.warn(note.Note{Summary: fmt.Sprintf("Content-Disposition %s cannot be parsed: %v", strqv(disp), err), Ref: "RFC 2183"})
		}
		part.Disposition = d
		part.Filename = dp["filename"]
	}
	if part.Filename == "" && params["name"] != "" {
		part.Filename = params["name"] // the older way, still common (RFC 2046 §4.5.1 deprecated it)
	}
	if strings.Contains(part.Filename, "=?") {
		if s, err := DecodeWords(part.Filename); err == nil {
			part.Filename = s // not standard in a parameter, but what many mailers write
		}
	}
	if part.IsText() {
		part.Charset = params["charset"]
		if part.Charset == "" {
			part.Charset = "us-ascii"
		}
		if _, _, ok := LookupCharset(part.Charset); !ok {
			part.warn(note.Note{Summary: fmt.Sprintf("unknown charset %s: the text is shown as it is, unknown bytes as \uFFFD", strqv(part.Charset)),
				Ref: "RFC 2046 §4.1.2"})
		}
	}

	var perr error
	switch {
	case strings.HasPrefix(mt, "multipart/") && depth < p.o.Limits.Depth && params["boundary"] != "":
		if isBody {
			part.Number = ""
		}
		perr = p.multipart(part, cr, params["boundary"], mt == "multipart/digest", depth, base)
	case (mt == "message/rfc822" || mt == "message/global") && depth < p.o.Limits.Depth && (part.Encoding == "" || isIdentity(part.Encoding)):
		perr = p.message(part, cr, depth)
	default:
		if strings.HasPrefix(mt, "multipart/") && params["boundary"] == "" {
			part.warn(note.Note{Summary: "multipart without a boundary parameter: its parts cannot be found, so it is read as one opaque part",
				Ref: "RFC 2046 §5.1.1"})
		} else if (strings.HasPrefix(mt, "multipart/") || mt == "message/rfc822" || mt == "message/global") && depth >= p.o.Limits.Depth {
			part.warn(limitNote("nesting depth", p.o.Limits.Depth, "the rest is read as one opaque part"))
		} else if mt == "message/rfc822" || mt == "message/global" {
			part.warn(note.Note{Summary: fmt.Sprintf("an enclosed message must not have Content-Transfer-Encoding %s; it is shown as one opaque part", part.Encoding),
				Detail: "Only 7bit, 8bit and binary are allowed on message/rfc822, so that relays never have to\nre-encode a message inside a message.",
				Ref:    "RFC 2046 §5.2.1"})
		}
		perr = p.leaf(part, cr)
	}
	part.RawSize, part.RawLines = cr.n, cr.lines
	part.Headers = hdrs
	return part, perr
}

func isIdentity(enc string) bool { return enc == "7bit" || enc == "8bit" || enc == "binary" }

func limitNote(what string, limit int, then string) note.Note {
	return note.Note{Severity: note.Warning,
		Summary: fmt.Sprintf("limit reached: %s over %d; %s", what, limit, then),
		Detail:  "mailx limits what it reads so that a hostile message cannot exhaust memory or time."}
}

func (part *Part) warn(n note.Note) {
	n.Severity = note.Warning
	part.Warnings = append(part.Warnings, n)
}

func (p *parser) multipart(part *Part, r *countReader, boundary string, digest bool, depth int, base string) error {
	if part.Number != "" {
		base = part.Number
	}
	if part.Encoding != "" && !isIdentity(part.Encoding) {
		part.warn(note.Note{Summary: fmt.Sprintf("a multipart must not have Content-Transfer-Encoding %s; it is ignored", part.Encoding),
			Ref: "RFC 2045 §6.4"})
	}
	hf := newHeaderFilter(r, boundary)
	mr := multipart.NewReader(hf, boundary)
	dflt := defaultType
	if digest {
		dflt = "message/rfc822" // RFC 2046 §5.1.5
	}
	for i := 1; ; i++ {
		raw, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if i == 1 {
				part.warn(note.Note{Summary: fmt.Sprintf("no part found: the boundary %s never occurs as \"--%s\" on a line of its own", strqv(boundary), boundary),
					Ref: "RFC 2046 §5.1.1"})
			} else if strings.Contains(err.Error(), "EOF") {
				part.warn(note.Note{Summary: fmt.Sprintf("the closing boundary \"--%s--\" is missing: the message may be cut short", boundary),
					Ref: "RFC 2046 §5.1.1"})
			} else {
				part.warn(note.Note{Summary: fmt.Sprintf("part %s: %v; the rest of the multipart is skipped", numberChild(base, i), err),
					Ref: "RFC 2046 §5.1.1"})
			}
			break
		}
		if p.parts >= p.o.Limits.Parts {
			part.warn(limitNote("number of parts", p.o.Limits.Parts, "the remaining parts are skipped"))
			break
		}
		child, err := p.entity(raw, partHeaders(raw.Header), numberChild(base, i), "", false, depth+1, dflt)
		part.Parts = append(part.Parts, child)
		if n := hf.notField[i]; n > 0 {
			child.warn(note.Note{Summary: fmt.Sprintf("%d %s of its header %s not a \"Name: value\" field; shown as %s", n, plural(n, "line", "lines"), plural(n, "is", "are"), notAField),
				Ref: "RFC 5322 §2.2"})
		}
		if n := hf.fixed[i]; n > 0 {
			child.warn(note.Note{Summary: fmt.Sprintf("its header holds %d control %s (such as NUL) that no header may contain; shown as \"?\"", n, plural(n, "character", "characters")),
				Detail: "A header line is printable text. Control bytes there are a sign of a broken or hostile sender:\nsome programs stop reading at a NUL and would miss what follows.",
				Ref:    "RFC 5322 §2.2; RFC 2045 §5.1"})
		}
		if err != nil {
			return err
		}
		if child.truncated() {
			part.warn(note.Note{Summary: fmt.Sprintf("the closing boundary \"--%s--\" is missing: the message may be cut short", boundary),
				Ref: "RFC 2046 §5.1.1"})
			break
		}
	}
	// The epilogue, and anything after a limit, is read and counted.
	_, err := io.Copy(io.Discard, r)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil
	}
	return err
}

// truncated reports whether the part's content ended without its boundary.
func (part *Part) truncated() bool {
	for _, w := range part.Warnings {
		if w.Summary == truncatedSummary {
			return true
		}
	}
	return false
}

const truncatedSummary = "the part ends where the message ends, without the boundary that should close it"

func (p *parser) message(part *Part, r *countReader, depth int) error {
	br := bufio.NewReaderSize(r, 4<<10)
	hdrs, rest, warns := readHeader(br, p.o.Limits.HeaderBytes)
	part.Message = hdrs
	part.Warnings = append(part.Warnings, warns...)
	child, err := p.entity(rest, hdrs, "", part.Number, true, depth+1, defaultType)
	child.Headers = nil // they are the enclosed message's, shown once in Message
	part.Parts = []*Part{child}
	return err
}

// leaf undoes the transfer encoding of a part's content, hands it to OnPart
// and keeps the sizes and a preview.
func (p *parser) leaf(part *Part, r *countReader) error {
	insp := &inspector{r: r, keep: max(p.o.RawPreview, 0)}
	var dec io.Reader
	switch part.Encoding {
	case "", "7bit", "8bit", "binary":
		dec = insp
	case "base64":
		dec = newB64Reader(insp)
	case "quoted-printable":
		dec = quotedprintable.NewReader(insp)
	default:
		part.warn(note.Note{Summary: fmt.Sprintf("unknown Content-Transfer-Encoding %s: the content is shown as it is", strqv(part.Encoding)),
			Ref: "RFC 2045 §6.1"})
		dec = insp
	}
	keep := p.o.Preview
	if !part.IsText() {
		keep = 0 // binary content has no useful text preview
	}
	status := isDeliveryStatus(part.ContentType)
	if status {
		keep = dsn.MaxStatusSize + 1 // read whole, to explain its fields
	}
	tee := &previewReader{r: dec, keep: max(keep, 0)}
	var cbErr error
	if p.o.OnPart != nil {
		cbErr = p.o.OnPart(part, tee)
	}
	_, derr := io.Copy(io.Discard, tee)
	if cbErr != nil && tee.err != nil && errors.Is(cbErr, tee.err) {
		// OnPart only passed on the decoding error: a warning, not a failure.
		cbErr, derr = nil, tee.err
	}
	if cbErr != nil {
		return cbErr
	}
	if derr == nil {
		derr = tee.err
	}
	if derr != nil {
		if p.src.err != nil {
			return p.src.err
		}
		part.warn(decodeNote(part.Encoding, derr))
		io.Copy(io.Discard, insp) // count the rest of the raw content
	}
	part.DecodedSize = tee.n
	if insp.truncated {
		part.warn(note.Note{Summary: truncatedSummary, Ref: "RFC 2046 §5.1.1"})
	}
	if insp.eightBit > 0 && (part.Encoding == "" || part.Encoding == "7bit") {
		part.warn(note.Note{Summary: fmt.Sprintf("%d bytes above 127 in a part declared 7bit", insp.eightBit),
			Detail: "7bit promises ASCII only. The sender should have declared 8bit (if the server offers 8BITMIME)\nor used quoted-printable or base64.",
			Ref:    "RFC 2045 §2.7; RFC 6152"})
	}
	if insp.longest > MaxLineHard {
		part.warn(note.Note{Summary: fmt.Sprintf("a line of %d bytes: more than the 998 that SMTP allows", insp.longest),
			Detail: "A relay may break the line or reject the message; quoted-printable or base64 would have kept lines short.",
			Ref:    "RFC 5322 §2.1.1"})
	}
	if status && derr == nil {
		part.readDeliveryStatus(tee.kept, tee.n)
	}
	if part.IsText() && keep > 0 {
		s, _ := DecodeCharset(tee.kept, part.Charset)
		part.Preview = strings.TrimRight(s, "\uFFFD") // a character cut in half at the end
		part.PreviewOmitted = tee.n - int64(len(tee.kept))
	}
	if p.o.RawPreview > 0 {
		part.RawPreview = string(insp.kept)
		part.RawPreviewOmitted = insp.n - int64(len(insp.kept))
	}
	return nil
}

// isDeliveryStatus reports the media types of the machine-readable part of
// a bounce: RFC 3464 §2 and RFC 6533 §6.2 (its UTF-8 form).
func isDeliveryStatus(mt string) bool {
	return mt == "message/delivery-status" || mt == "message/global-delivery-status"
}

// readDeliveryStatus reads the fields of a delivery-status part (n bytes,
// of which body holds the first ones) into DeliveryStatus, or says why they
// cannot be read.
func (part *Part) readDeliveryStatus(body []byte, n int64) {
	if n > dsn.MaxStatusSize {
		part.warn(limitNote("delivery-status part size", dsn.MaxStatusSize, "its fields are not read"))
		return
	}
	rep, err := dsn.ParseStatus(body)
	if err != nil {
		part.warn(note.Note{Summary: fmt.Sprintf("the delivery-status fields cannot all be read: %s", strings.TrimPrefix(err.Error(), "dsn: ")),
			Detail: "A bounce's machine-readable part holds one group of fields about the message, a blank line,\nthen one group per recipient: Final-Recipient, Action and Status at least.",
			Ref:    "RFC 3464 §2"})
	}
	if rep != nil && (rep.ReportingMTA != "" || len(rep.Recipients) > 0) {
		part.DeliveryStatus = rep
	}
}

func decodeNote(enc string, err error) note.Note {
	var ce base64.CorruptInputError
	if errors.As(err, &ce) {
		return note.Note{Summary: fmt.Sprintf("bad base64 at encoded character %d (not counting line breaks): decoding stopped there", int64(ce)),
			Detail: "base64 allows only A-Z a-z 0-9 + / and = padding at the end; line breaks are ignored.",
			Ref:    "RFC 2045 §6.8"}
	}
	if enc == "quoted-printable" {
		return note.Note{Summary: fmt.Sprintf("bad quoted-printable: %v; decoding stopped there", err),
			Detail: "\"=\" must be followed by two hex digits or end the line (a soft line break).",
			Ref:    "RFC 2045 §6.7"}
	}
	return note.Note{Summary: fmt.Sprintf("cannot decode the %s content: %v", enc, err)}
}

// headerValue returns the raw value of the first field called name.
func headerValue(hdrs []Header, name string) string {
	for _, h := range hdrs {
		if strings.EqualFold(h.Name, name) {
			return h.Raw
		}
	}
	return ""
}

// Get returns the decoded value of the first field called name in hdrs.
func Get(hdrs []Header, name string) string {
	for _, h := range hdrs {
		if strings.EqualFold(h.Name, name) {
			return h.Value()
		}
	}
	return ""
}

// partHeaders turns the map the multipart reader gives into fields in a
// stable order: the Content-* fields that matter first, then the rest.
func partHeaders(h textproto.MIMEHeader) []Header {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	rank := map[string]int{"Content-Type": 1, "Content-Transfer-Encoding": 2, "Content-Disposition": 3}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank[keys[i]], rank[keys[j]]
		if ri == 0 {
			ri = 10
		}
		if rj == 0 {
			rj = 10
		}
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	var out []Header
	for _, k := range keys {
		for _, v := range h[k] {
			out = append(out, newHeader(k, v))
		}
	}
	return out
}

func newHeader(name, raw string) Header {
	h := Header{Name: name, Raw: strings.TrimSpace(raw)}
	if strings.Contains(h.Raw, "=?") {
		h.Words = FindWords(h.Raw)
		if d, err := DecodeWords(h.Raw); err == nil && d != h.Raw {
			h.Decoded = d
		}
	}
	return h
}

// readHeader reads a header block up to and including its blank line and
// returns the fields, a reader for what follows (the body) and warnings.
func readHeader(br *bufio.Reader, limit int) ([]Header, io.Reader, []note.Note) {
	var hdrs []Header
	var warns []note.Note
	var cur *bytes.Buffer
	var curName string
	size, lineNo, over, long := 0, 0, false, false
	flush := func() {
		if cur != nil {
			hdrs = append(hdrs, newHeader(curName, cur.String()))
			cur = nil
		}
	}
	for {
		line, err := readLine(br, MaxLineHard*4)
		if len(line) == 0 && err != nil {
			break
		}
		lineNo++
		content := bytes.TrimRight(line, "\r\n")
		if len(content) == 0 && len(line) > 0 {
			break // the blank line that ends the header
		}
		if len(content) > MaxLineHard && !long {
			long = true
			warns = append(warns, note.Note{Severity: note.Warning,
				Summary: fmt.Sprintf("header line %d is %d bytes long, over the limit of 998", lineNo, len(content)),
				Ref:     "RFC 5322 §2.1.1"})
		}
		size += len(line)
		if size > limit {
			if !over {
				over = true
				flush()
				warns = append(warns, limitNote("header size", limit, "the rest of this header is skipped"))
			}
			continue
		}
		if content[0] == ' ' || content[0] == '\t' {
			if cur == nil {
				warns = append(warns, note.Note{Severity: note.Warning,
					Summary: fmt.Sprintf("header line %d starts with white space but follows no field; ignored", lineNo), Ref: "RFC 5322 §2.2.3"})
				continue
			}
			cur.Write(content) // unfolding removes only the line break (RFC 5322 §2.2.3)
			continue
		}
		colon := bytes.IndexByte(content, ':')
		if colon <= 0 || bytes.ContainsAny(content[:colon], " \t") {
			if lineNo == 1 && bytes.HasPrefix(content, []byte("From ")) {
				warns = append(warns, note.Note{Summary: "the first line is an mbox separator (\"From sender date\"), not a header field; skipped"})
				continue
			}
			flush()
			warns = append(warns, note.Note{Severity: note.Warning,
				Summary: fmt.Sprintf("line %d is not a header field (no \"Name:\"), so the header is taken to end before it", lineNo),
				Detail:  "A header ends with an empty line; every line before it must be \"Name: value\" or a continuation.",
				Ref:     "RFC 5322 §2.2"})
			return hdrs, io.MultiReader(bytes.NewReader(append([]byte(nil), line...)), br), warns
		}
		flush()
		curName = string(bytes.TrimSpace(content[:colon])) // as written; lookups ignore case
		cur = bytes.NewBuffer(append([]byte(nil), content[colon+1:]...))
		if err != nil {
			break
		}
	}
	flush()
	return hdrs, br, warns
}

// readLine reads one line including its end, at most max bytes of it kept;
// the rest of an overlong line is read and dropped.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return append([]byte(nil), line...), err
	}
	out := append([]byte(nil), line...)
	for err == bufio.ErrBufferFull {
		line, err = br.ReadSlice('\n')
		if len(out) < max {
			out = append(out, line...)
		}
	}
	return out, err
}
