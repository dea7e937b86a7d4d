package mime

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	stdmime "mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mailx-edu/mailx/proto/note"
)

// Message is what Compose turns into an RFC 5322 message. Only From is
// required; everything else has a sensible default.
type Message struct {
	From    string   // "Alice <alice@crepes.fr>" or "alice@crepes.fr"
	To      []string // each may itself be a comma-separated list
	Cc      []string
	Subject string // any UTF-8; encoded as RFC 2047 words when needed

	Text string // the plain-text body (UTF-8; line ends are normalised)
	HTML string // an HTML body; with Text it makes multipart/alternative

	Attachments []Attachment

	// Headers are extra header fields, written in order after the standard
	// ones: Reply-To, In-Reply-To, X-Anything. Address fields (Reply-To,
	// Sender, Bcc) are formatted as addresses; others as text.
	Headers []Field

	Date      time.Time // zero: now
	MessageID string    // "<id@domain>"; empty: a random one at From's domain
	CRLF      bool      // end lines with CRLF (as on the wire) instead of LF
}

// Attachment is one file in a multipart/mixed message. Give Reader or Path.
type Attachment struct {
	Name        string    // file name the recipient sees; default: base of Path
	ContentType string    // "image/jpeg"; empty: guessed from Name, then content
	Reader      io.Reader // the content, read once
	Path        string    // or a file to read the content from
}

// Field is one header field, name and value.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Layout describes the message Encode wrote, part by part in the order the
// parts appear, numbered as Parse numbers them ("" is a multipart message
// body, "1" a single-part body, "2.1" the first part inside part 2). It lets
// `mailx mime encode --explain` say why each part looks the way it does.
type Layout struct {
	Parts []PlannedPart `json:"parts"`
}

// PlannedPart is one part of a composed message and the reasons behind it.
type PlannedPart struct {
	Number      string    `json:"number"`
	ContentType string    `json:"content_type"`
	Encoding    string    `json:"encoding,omitempty"` // 7bit, quoted-printable or base64
	Boundary    string    `json:"boundary,omitempty"` // for a multipart
	Name        string    `json:"name,omitempty"`     // attachment file name
	Why         note.Note `json:"why"`                // why this type and encoding
}

// Compose returns m as a complete message: Date, From, To, Cc, Subject,
// Message-ID, MIME-Version and the body (text/plain alone, multipart/
// alternative for text plus HTML, multipart/mixed with attachments). Use
// Encode to stream a message with large attachments instead.
func Compose(m Message) ([]byte, error) {
	var b bytes.Buffer
	if _, err := Encode(&b, m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Encode writes m to w as Compose does, streaming attachments (memory stays
// small whatever their size), and returns the Layout it chose.
func Encode(w io.Writer, m Message) (*Layout, error) {
	h, err := topHeaders(&m)
	if err != nil {
		return nil, err
	}
	body, err := planBody(&m)
	if err != nil {
		return nil, err
	}
	defer body.close()

	out := bufio.NewWriterSize(w, 32<<10)
	var dst io.Writer = out
	if !m.CRLF {
		dst = &lfWriter{w: out}
	}
	for _, f := range h {
		if _, err := io.WriteString(dst, f.Name+": "+f.Value+"\r\n"); err != nil {
			return nil, err
		}
	}
	lay := &Layout{}
	if err := body.writeTop(dst, m.MessageID, lay); err != nil {
		return nil, err
	}
	if f, ok := dst.(*lfWriter); ok {
		if err := f.flush(); err != nil {
			return nil, err
		}
	}
	return lay, out.Flush()
}

// topHeaders checks m, fills its defaults and returns the top-level fields
// (without the body's Content-* fields), values already folded.
func topHeaders(m *Message) ([]Field, error) {
	if strings.TrimSpace(m.From) == "" {
		return nil, errors.New("compose: a From address is required")
	}
	from, err := formatAddresses("From", []string{m.From})
	if err != nil {
		return nil, err
	}
	if m.Date.IsZero() {
		m.Date = time.Now()
	}
	if m.MessageID == "" {
		m.MessageID = NewMessageID(m.From)
	} else if !strings.HasPrefix(m.MessageID, "<") || !strings.HasSuffix(m.MessageID, ">") || strings.ContainsAny(m.MessageID, " \r\n") {
		return nil, fmt.Errorf("compose: Message-ID %s must look like <id@domain>", strqv(m.MessageID))
	}
	if !utf8.ValidString(m.Subject) || strings.ContainsAny(m.Subject, "\r\n") {
		return nil, errors.New("compose: the subject must be one line of UTF-8 text")
	}
	fields := []Field{{"Date", m.Date.Format(time.RFC1123Z)}, {"From", from}}
	for _, a := range []struct {
		name string
		list []string
	}{{"To", m.To}, {"Cc", m.Cc}} {
		if len(a.list) == 0 {
			continue
		}
		v, err := formatAddresses(a.name, a.list)
		if err != nil {
			return nil, err
		}
		fields = append(fields, Field{a.name, v})
	}
	if m.Subject != "" {
		// Subject is optional (RFC 5322 §3.6.5): with none given, the
		// field is left out rather than written empty.
		fields = append(fields, Field{"Subject", EncodeWords(m.Subject, len("Subject: "))})
	}
	fields = append(fields, Field{"Message-ID", m.MessageID})
	for _, f := range m.Headers {
		v, err := formatExtra(f)
		if err != nil {
			return nil, err
		}
		fields = append(fields, Field{textproto.CanonicalMIMEHeaderKey(f.Name), v})
	}
	return append(fields, Field{"MIME-Version", "1.0"}), nil
}

// reserved are the fields Compose writes itself; an extra header may not
// repeat them, or the message would say two different things.
var reserved = map[string]string{
	"Date": "Date", "From": "From", "To": "To", "Cc": "Cc", "Subject": "Subject",
	"Message-Id": "MessageID", "Mime-Version": "", "Content-Type": "", "Content-Transfer-Encoding": "",
	"Content-Disposition": "",
}

var addressFields = map[string]bool{"Reply-To": true, "Sender": true, "Bcc": true, "Resent-From": true, "Resent-To": true}

func formatExtra(f Field) (string, error) {
	name := textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(f.Name))
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == ':' }) >= 0 {
		return "", fmt.Errorf("compose: %s is not a valid header field name (printable ASCII, no spaces or colon)", strqv(f.Name))
	}
	if _, ok := reserved[name]; ok {
		return "", fmt.Errorf("compose: %s is written by mailx itself; set it with its own option instead of an extra header", name)
	}
	v := strings.TrimSpace(f.Value)
	if !utf8.ValidString(v) || strings.ContainsAny(v, "\r\n") {
		return "", fmt.Errorf("compose: the value of %s must be one line of UTF-8 text", name)
	}
	if addressFields[name] {
		return formatAddresses(name, []string{v})
	}
	return EncodeWords(v, len(name)+2), nil
}

// formatAddresses parses each entry as an RFC 5322 address list and writes
// them back in canonical form (display names RFC 2047-encoded when they are
// not ASCII), folded between addresses and words.
func formatAddresses(field string, lists []string) (string, error) {
	var words []string
	for _, l := range lists {
		addrs, err := mail.ParseAddressList(l)
		if err != nil {
			return "", fmt.Errorf("compose: %s address %s: %w (write it as name@example.org or \"Name <name@example.org>\")", field, strqv(l), err)
		}
		for _, a := range addrs {
			if len(words) > 0 {
				words[len(words)-1] += ","
			}
			col := 1
			if len(words) == 0 {
				col = len(field) + 2
			}
			if a.Name != "" && !plainPhrase(a.Name) {
				// Encoded here rather than by mail.Address.String, which
				// makes words too long to fit after the field name.
				words = append(words, encodeRun(a.Name, col, true)...)
				words = append(words, "<"+a.Address+">")
				continue
			}
			s := a.String()
			if a.Name == "" {
				s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">") // bare address reads better
			}
			words = append(words, strings.Split(s, " ")...)
		}
	}
	return foldWords(words, len(field)+2), nil
}

// plainPhrase reports whether a display name is printable ASCII, which
// mail.Address.String writes as it is or as a quoted-string.
func plainPhrase(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return !strings.Contains(name, "=?")
}

// NewMessageID returns a fresh, globally unique Message-ID at the domain of
// the from address (RFC 5322 §3.6.4): 16 random bytes make a collision as
// unlikely as it gets.
func NewMessageID(from string) string {
	domain := "mailx.invalid"
	if a, err := mail.ParseAddress(from); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 && i < len(a.Address)-1 {
			domain = a.Address[i+1:]
		}
	}
	var b [16]byte
	rand.Read(b[:])
	return "<" + hex.EncodeToString(b[:]) + "@" + domain + ">"
}

// node is one planned part of the body: a leaf with content, or a multipart.
type node struct {
	ctype    string // media type with params, e.g. text/plain; charset=utf-8
	enc      string
	why      note.Note
	name     string      // attachment file name, for Content-Disposition
	text     []byte      // in-memory content (a body text), or
	att      *attContent // streamed content
	children []*node
}

type attContent struct {
	r      io.Reader
	closer io.Closer
}

func (n *node) close() {
	if n.att != nil && n.att.closer != nil {
		n.att.closer.Close()
	}
	for _, c := range n.children {
		c.close()
	}
}

func planBody(m *Message) (*node, error) {
	var body *node
	var alts []*node
	if m.Text != "" || (m.HTML == "" && len(m.Attachments) == 0) {
		n, err := textNode(m.Text, "text/plain", "the message text", m.CRLF)
		if err != nil {
			return nil, err
		}
		alts = append(alts, n)
	}
	if m.HTML != "" {
		n, err := textNode(m.HTML, "text/html", "the HTML version", m.CRLF)
		if err != nil {
			return nil, err
		}
		alts = append(alts, n)
	}
	switch len(alts) {
	case 1:
		body = alts[0]
	case 2:
		body = &node{ctype: "multipart/alternative", children: alts, why: note.Note{
			Summary: "multipart/alternative: the same content twice, plain text first, the preferred HTML last",
			Detail:  "A reader shows the last alternative it can display; text-only readers show the first.",
			Ref:     "RFC 2046 §5.1.4"}}
	}
	if len(m.Attachments) == 0 {
		return body, nil
	}
	mixed := &node{ctype: "multipart/mixed", why: note.Note{
		Summary: "multipart/mixed: independent parts in order, the body first, then each attachment",
		Ref:     "RFC 2046 §5.1.3"}}
	if body != nil {
		mixed.children = append(mixed.children, body)
	}
	for i := range m.Attachments {
		n, err := attachmentNode(&m.Attachments[i], m.CRLF)
		if err != nil {
			mixed.close()
			return nil, err
		}
		mixed.children = append(mixed.children, n)
	}
	return mixed, nil
}

func textNode(s, mediaType, what string, crlf bool) (*node, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("compose: %s is not valid UTF-8", what)
	}
	// Line ends become CRLF, the canonical form of text (RFC 2045 §2.10);
	// the writer turns them into LF afterwards when asked to.
	b := []byte(strings.ReplaceAll(s, "\r\n", "\n"))
	st := scanText(bytes.NewReader(b))
	charset := "us-ascii"
	if st.eightBit > 0 {
		charset = "utf-8"
	}
	enc, why := chooseEncoding(st, true, true, false)
	if enc == "base64" && crlf {
		// base64 carries line ends as bytes, so they are made canonical
		// (CRLF) before encoding; in an LF file they stay local (LF), as
		// the 7bit and quoted-printable lines around them do.
		b = bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
	}
	return &node{ctype: stdmime.FormatMediaType(mediaType, map[string]string{"charset": charset}), enc: enc, why: why, text: b}, nil
}

// attachmentNode opens the content, settles its type and encoding and
// leaves it ready to stream.
func attachmentNode(a *Attachment, crlf bool) (*node, error) {
	name := a.Name
	if name == "" && a.Path != "" {
		name = filepath.Base(a.Path)
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	if len(name) > 200 {
		return nil, fmt.Errorf("compose: attachment name %s is longer than 200 bytes", strqv(name))
	}
	var r io.Reader
	var closer io.Closer
	reopen := func() (io.Reader, error) { return nil, errors.New("cannot rewind") }
	switch {
	case a.Reader != nil:
		r = a.Reader
	case a.Path != "":
		f, err := os.Open(a.Path)
		if err != nil {
			return nil, fmt.Errorf("compose: attachment: %w", err)
		}
		r, closer = f, f
		reopen = func() (io.Reader, error) {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return nil, err
			}
			return f, nil
		}
	default:
		return nil, fmt.Errorf("compose: attachment %s has neither Reader nor Path", strqv(name))
	}
	n := &node{name: name, att: &attContent{r: r, closer: closer}}
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(512)
	ctype, how, err := attachmentType(a.ContentType, name, head)
	if err != nil {
		n.close()
		return nil, err
	}
	n.ctype = ctype
	mt, params, _ := stdmime.ParseMediaType(ctype)
	isText := strings.HasPrefix(mt, "text/")
	if !isText {
		n.enc, n.why = "base64", note.Note{
			Summary: how + "; base64, because " + mt + " is binary data",
			Detail:  "base64 turns every 3 bytes into 4 characters from a 64-letter ASCII alphabet, in lines of 76, so\nany bytes survive a 7-bit mail path; it costs a third more space.",
			Ref:     "RFC 2045 §6.8"}
		n.att.r = br
		return n, nil
	}
	// A text attachment is read once to choose its encoding: from a file
	// by seeking back, otherwise by holding up to 1 MiB in memory.
	var st textStats
	if a.Reader == nil {
		st = scanText(br)
		if r, err = reopen(); err != nil {
			n.close()
			return nil, fmt.Errorf("compose: attachment %s: %w", strqv(name), err)
		}
		n.att.r = r
	} else {
		buf, _ := io.ReadAll(io.LimitReader(br, 1<<20))
		st = scanText(bytes.NewReader(buf))
		if len(buf) == 1<<20 {
			st.tooBig = true
		}
		n.att.r = io.MultiReader(bytes.NewReader(buf), br)
	}
	if params["charset"] == "" && !st.tooBig {
		if st.eightBit == 0 {
			params["charset"] = "us-ascii"
		} else if st.validUTF8 {
			params["charset"] = "utf-8"
		}
		n.ctype = stdmime.FormatMediaType(mt, params)
	}
	n.enc, n.why = chooseEncoding(st, true, false, crlf)
	n.why.Summary = how + "; " + n.why.Summary
	return n, nil
}

func attachmentType(given, name string, head []byte) (ctype, how string, err error) {
	if given != "" {
		mt, params, err := stdmime.ParseMediaType(given)
		if err != nil || !strings.Contains(mt, "/") {
			return "", "", fmt.Errorf("compose: attachment %s: content type %s is not type/subtype", strqv(name), strqv(given))
		}
		return stdmime.FormatMediaType(mt, params), "type " + mt + " as given", nil
	}
	if ext := strings.ToLower(filepath.Ext(name)); ext != "" {
		if t := builtinTypes[ext]; t != "" {
			return t, "type " + t + " from the extension " + ext, nil
		}
		if t := stdmime.TypeByExtension(ext); t != "" {
			mt, params, err := stdmime.ParseMediaType(t)
			if err == nil {
				delete(params, "charset") // decided from the content instead
				t = stdmime.FormatMediaType(mt, params)
				return t, "type " + mt + " from the extension " + ext, nil
			}
		}
	}
	t := http.DetectContentType(head)
	mt, _, _ := stdmime.ParseMediaType(t)
	return mt, "type " + mt + " sniffed from the first bytes of the content", nil
}

// builtinTypes pins the common extensions, so that the guess is the same on
// every machine whatever its /etc/mime.types says.
var builtinTypes = map[string]string{
	".txt": "text/plain", ".csv": "text/csv", ".md": "text/markdown", ".html": "text/html", ".htm": "text/html",
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".webp": "image/webp",
	".svg": "image/svg+xml", ".pdf": "application/pdf", ".zip": "application/zip", ".gz": "application/gzip",
	".json": "application/json", ".xml": "application/xml", ".ics": "text/calendar", ".eml": "message/rfc822",
	".mp3": "audio/mpeg", ".wav": "audio/wav", ".mp4": "video/mp4", ".doc": "application/msword",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".odt":  "application/vnd.oasis.opendocument.text",
}

// textStats is what chooseEncoding needs to know about some content.
type textStats struct {
	size      int64
	eightBit  int64 // bytes >= 0x80
	escapes   int64 // bytes quoted-printable must escape
	maxLine   int
	nul       bool
	bareCR    bool
	crlf      bool // some line ends in CRLF
	bareLF    bool // some line ends in LF alone
	boundary  bool // contains "=_", the mark every mailx boundary carries
	validUTF8 bool
	tooBig    bool // only a prefix was scanned
}

func scanText(r io.Reader) textStats {
	st := textStats{validUTF8: true}
	br := bufio.NewReaderSize(r, 64<<10)
	var pending []byte // an incomplete UTF-8 sequence across lines
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			st.size += int64(len(line))
			body := line
			if bytes.HasSuffix(body, []byte("\n")) {
				body = body[:len(body)-1]
				if bytes.HasSuffix(body, []byte("\r")) {
					body = body[:len(body)-1]
					st.crlf = true
				} else {
					st.bareLF = true
				}
			}
			if len(body) > st.maxLine {
				st.maxLine = len(body)
			}
			if bytes.Contains(body, []byte("=_")) {
				st.boundary = true
			}
			for _, c := range body {
				switch {
				case c >= 0x80:
					st.eightBit++
					st.escapes++
				case c == 0:
					st.nul = true
					st.escapes++
				case c == '\r':
					st.bareCR = true
					st.escapes++
				case c == '=' || (c < 0x20 && c != '\t') || c == 0x7f:
					st.escapes++
				}
			}
			if st.validUTF8 {
				pending = append(pending, line...)
				if utf8.Valid(pending) {
					pending = pending[:0]
				} else if len(pending) > 4 && !utf8.Valid(pending[:len(pending)-3]) {
					st.validUTF8 = false
				}
			}
		}
		if err == bufio.ErrBufferFull {
			st.maxLine = max(st.maxLine, MaxLineHard+1)
			continue
		}
		if err != nil {
			break
		}
	}
	if len(pending) > 0 && !utf8.Valid(pending) {
		st.validUTF8 = false
	}
	return st
}

// qpReadable reports whether quoted-printable is the better choice for
// text: its output (each escape takes 3 characters for 1 byte) is at most a
// quarter longer than base64's flat 4 characters per 3 bytes. The slack is
// the price of readability: "Crêpes?" stays "Cr=C3=AApes?" instead of
// turning into "Q3LDqnBlcz8=", while mostly non-Latin text, where nearly
// every byte needs escaping, still goes as base64.
func qpReadable(st textStats) bool {
	qp := st.size + 2*st.escapes
	b64 := (st.size + 2) / 3 * 4
	return qp <= b64+b64/4
}

// chooseEncoding picks the Content-Transfer-Encoding for content with the
// given statistics. body is true for the message text, whose line ends
// Compose normalises; an attachment keeps its bytes, so it may only travel
// as text when its line ends already are the message's (crlf).
func chooseEncoding(st textStats, isText, body, crlf bool) (string, note.Note) {
	ref := "RFC 2045 §6"
	exact := !st.nul && !st.bareCR && !st.tooBig
	if !body {
		if crlf {
			exact = exact && !st.bareLF
		} else {
			exact = exact && !st.crlf
		}
	}
	switch {
	case !isText:
		return "base64", note.Note{Summary: "base64 for binary data", Ref: ref}
	case !exact:
		return "base64", note.Note{
			Summary: "base64, because the text has bytes or line ends that a text encoding would change",
			Detail:  "NUL bytes, lone CRs or line ends that differ from the message's are kept exactly only by base64.",
			Ref:     "RFC 2045 §6.8"}
	case st.eightBit == 0 && st.maxLine <= MaxLine && !st.boundary && !st.nul:
		return "7bit", note.Note{
			Summary: "7bit: plain ASCII in short lines, so the text travels as it is",
			Detail:  "Every byte is below 128 and every line is at most 78 characters, so no encoding is needed.",
			Ref:     "RFC 2045 §2.7"}
	case qpReadable(st):
		return "quoted-printable", note.Note{
			Summary: "quoted-printable: mostly ASCII, so it stays readable",
			Detail: fmt.Sprintf("%d of %d bytes need escaping as =XX (non-ASCII bytes and \"=\" itself); long lines are\n"+
				"split with a soft break (\"=\" at the end of a line). base64 would hide the readable text.", st.escapes, st.size),
			Ref: "RFC 2045 §6.7"}
	default:
		return "base64", note.Note{
			Summary: "base64: most bytes are not ASCII, so base64 is smaller than quoted-printable",
			Detail: fmt.Sprintf("%d of %d bytes would need escaping; each escape takes 3 characters, while base64\n"+
				"costs a flat 4 characters for every 3 bytes.", st.escapes, st.size),
			Ref: "RFC 2045 §6.8"}
	}
}

// header returns the node's Content-* fields and records it in lay.
func (n *node) header(seed, number string, lay *Layout) (textproto.MIMEHeader, string) {
	h := textproto.MIMEHeader{}
	p := PlannedPart{Number: number, ContentType: n.ctype, Encoding: n.enc, Name: n.name, Why: n.why}
	var boundary string
	if len(n.children) > 0 {
		boundary = makeBoundary(seed, number)
		p.Boundary, p.Encoding = boundary, ""
		h.Set("Content-Type", foldParams(stdmime.FormatMediaType(n.ctype, map[string]string{"boundary": boundary}), len("Content-Type: ")))
	} else {
		h.Set("Content-Type", foldParams(withNameParam(n.ctype, n.name), len("Content-Type: ")))
		h.Set("Content-Transfer-Encoding", n.enc)
		if n.name != "" {
			h.Set("Content-Disposition", dispositionValue(n.name))
		}
	}
	lay.Parts = append(lay.Parts, p)
	return h, boundary
}

// writeTop writes the body's Content-* fields to end the top-level header
// block, a blank line, and the body.
func (n *node) writeTop(w io.Writer, seed string, lay *Layout) error {
	number := ""
	if len(n.children) == 0 {
		number = "1" // a single-part message's body is part 1, as IMAP counts
	}
	h, boundary := n.header(seed, number, lay)
	for _, k := range []string{"Content-Type", "Content-Transfer-Encoding", "Content-Disposition"} {
		if v := h.Get(k); v != "" {
			if _, err := io.WriteString(w, k+": "+v+"\r\n"); err != nil {
				return err
			}
		}
	}
	if _, err := io.WriteString(w, "\r\n"); err != nil {
		return err
	}
	return n.writeBody(w, seed, lay, number, boundary)
}

// writeBody writes a leaf's encoded content, or a multipart's preamble,
// parts and closing delimiter.
func (n *node) writeBody(w io.Writer, seed string, lay *Layout, number, boundary string) error {
	if len(n.children) == 0 {
		return n.writeContent(w)
	}
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(boundary); err != nil {
		return err
	}
	// The preamble is for readers that know no MIME (RFC 2046 §5.1.1).
	if _, err := io.WriteString(w, "This is a multi-part message in MIME format.\r\n"); err != nil {
		return err
	}
	for i, c := range n.children {
		num := fmt.Sprint(i + 1)
		if number != "" {
			num = number + "." + num
		}
		h, b := c.header(seed, num, lay)
		if _, err := mw.CreatePart(h); err != nil {
			return err
		}
		if err := c.writeBody(w, seed, lay, num, b); err != nil {
			return err
		}
	}
	return mw.Close()
}

// makeBoundary derives a multipart boundary from the Message-ID and the
// part number, so the same message always gets the same boundaries (golden
// files stay stable). Every boundary contains "=_", which neither base64 nor
// quoted-printable can produce, and 7bit is only chosen for text without it,
// so a boundary can never occur inside a part (RFC 2046 §5.1.1).
func makeBoundary(seed, number string) string {
	sum := sha256.Sum256([]byte(seed + "\x00" + number))
	return "=_mailx_" + hex.EncodeToString(sum[:12])
}

// withNameParam adds the old name= parameter to an attachment's
// Content-Type, next to the filename of Content-Disposition. RFC 2046
// §4.5.1 deprecated it, but most mailers still write it and some readers
// (munpack, old Outlook) look nowhere else. A non-ASCII name goes in RFC
// 2047 encoded-words inside quotes: not standard in a parameter, but what
// those readers understand (Thunderbird and Outlook write it so); the
// RFC 2231 form stays in filename*= for the readers that follow the RFCs.
func withNameParam(ctype, name string) string {
	if name == "" {
		return ctype
	}
	mt, params, err := stdmime.ParseMediaType(ctype)
	if err != nil || params["name"] != "" {
		return ctype
	}
	if isASCIIPrintable(name) {
		params["name"] = name
		return stdmime.FormatMediaType(mt, params)
	}
	enc := stdmime.BEncoding.Encode("utf-8", name)
	return ctype + "; name=\"" + enc + "\""
}

func isASCIIPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// dispositionValue is "attachment; filename=..." for name, split into
// RFC 2231 continuations (filename*0*=, filename*1*=, ...) when one line
// would be too long.
func dispositionValue(name string) string {
	const col = len("Content-Disposition: ")
	v := stdmime.FormatMediaType("attachment", map[string]string{"filename": name})
	if f := foldParams(v, col); !strings.Contains(f, "\r\n") || len(f)-strings.Index(f, "\r\n") <= MaxLine+2 {
		return f
	}
	_, param, _ := strings.Cut(v, "; ")
	segs := []string{"attachment;"}
	if ext, ok := strings.CutPrefix(param, "filename*="); ok {
		// Percent-encoded UTF-8 from FormatMediaType, cut between triplets.
		for i := 0; ext != ""; i++ {
			n := min(len(ext), 60)
			for n < len(ext) && n > 2 && (ext[n-1] == '%' || ext[n-2] == '%') {
				n--
			}
			segs = append(segs, fmt.Sprintf("filename*%d*=%s;", i, ext[:n]))
			ext = ext[n:]
		}
	} else {
		for i, rest := 0, name; rest != ""; i++ {
			n := min(len(rest), 55)
			q := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(rest[:n])
			segs = append(segs, fmt.Sprintf("filename*%d=\"%s\";", i, q))
			rest = rest[n:]
		}
	}
	last := len(segs) - 1
	segs[last] = strings.TrimSuffix(segs[last], ";")
	return foldWords(segs, col)
}

// foldParams folds a header value of the form "type; a=b; c=d" after its
// semicolons where the line would pass MaxLine.
func foldParams(v string, col int) string {
	parts := strings.Split(v, "; ")
	for i := range parts[:len(parts)-1] {
		parts[i] += ";"
	}
	return foldWords(parts, col)
}

func (n *node) writeContent(w io.Writer) error {
	var src io.Reader
	if n.att != nil {
		src = n.att.r
	} else {
		src = bytes.NewReader(n.text)
	}
	switch n.enc {
	case "base64":
		lw := &lineWrapper{w: w, width: 76}
		enc := base64.NewEncoder(base64.StdEncoding, lw)
		if _, err := io.Copy(enc, src); err != nil {
			return fmt.Errorf("compose: %s: %w", n.name, err)
		}
		if err := enc.Close(); err != nil {
			return err
		}
		return lw.end()
	case "quoted-printable":
		qw := quotedprintable.NewWriter(w)
		if _, err := io.Copy(qw, src); err != nil {
			return fmt.Errorf("compose: %s: %w", n.name, err)
		}
		return qw.Close()
	default:
		_, err := io.Copy(&crlfWriter{w: w}, src)
		return err
	}
}
