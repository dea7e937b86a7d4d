package imap

import (
	"bufio"
	"bytes"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"

	"github.com/mailx-edu/mailx/proto/mime"
)

// maxDepth is how deeply multiparts and enclosed messages may nest before
// the rest of a message counts as one opaque part: the same limit `mailx
// mime decode` uses (proto/mime.DefaultLimits.Depth). go-imap's structure
// helpers cost time quadratic in the depth (a 16,000-deep message took
// minutes); RFC 9051 lets a server show what it cannot analyse as opaque.
var maxDepth = mime.DefaultLimits.Depth

// meta is what FETCH ENVELOPE and BODYSTRUCTURE need of a message,
// computed once and cached: a message never changes once stored.
type meta struct {
	env *imap.Envelope
	bs  imap.BodyStructure
	// header is the message's header with the blank line that ends it
	// (CRLF line ends), when at most maxCachedHeader octets: FETCH
	// BODY.PEEK[HEADER], RFC822.HEADER and HEADER.FIELDS are answered from
	// it without opening the file. Nil when longer.
	header []byte
}

// maxCachedHeader bounds the header a meta keeps (50,000 of them at most).
const maxCachedHeader = 8 << 10

// headerOfMessage returns the header block of a message with CRLF line
// ends, blank line included, or nil if it is longer than maxCachedHeader.
func headerOfMessage(buf []byte) []byte {
	end := len(buf)
	switch {
	case bytes.HasPrefix(buf, []byte("\r\n")):
		end = 2 // no header fields at all
	default:
		if i := bytes.Index(buf, []byte("\r\n\r\n")); i >= 0 {
			end = i + 4
		}
	}
	if end > maxCachedHeader {
		return nil
	}
	return bytes.Clone(buf[:end])
}

// metaCache holds meta by folder directory and message key, bounded: when
// full, the oldest half is dropped.
type metaCache struct {
	mu    sync.Mutex
	m     map[string]*meta
	order []string
	max   int
}

func newMetaCache(max int) *metaCache { return &metaCache{m: map[string]*meta{}, max: max} }

func (c *metaCache) get(key string) *meta {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key]
}

func (c *metaCache) put(key string, v *meta) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; ok {
		c.m[key] = v
		return
	}
	if len(c.order) >= c.max {
		drop := c.order[:len(c.order)/2]
		for _, k := range drop {
			delete(c.m, k)
		}
		c.order = append([]string(nil), c.order[len(drop):]...)
	}
	c.m[key] = v
	c.order = append(c.order, key)
}

// computeMeta parses a message (with CRLF line ends) for ENVELOPE and
// BODYSTRUCTURE.
func computeMeta(buf []byte) *meta {
	md := &meta{env: envelope(buf), header: headerOfMessage(buf)}
	tree, _ := mime.Parse(bytes.NewReader(buf), mime.Options{Preview: -1})
	if tree != nil && tree.Body != nil && partDepth(tree.Body) >= maxDepth {
		md.bs = treeStructure(tree.Body)
	} else {
		md.bs = imapserver.ExtractBodyStructure(bytes.NewReader(buf))
	}
	md.bs = fixStructure(md.bs)
	encodeParams(md.bs)
	return md
}

// fixStructure makes a structure safe for go-imap's writer, which panics
// (and drops the connection) on a multipart without parts, as go-imap's
// own parser returns for "Content-Type: multipart/mixed" with no boundary:
// such a part is shown as the empty text it effectively is. Single parts
// get the extension data the writer expects.
func fixStructure(bs imap.BodyStructure) imap.BodyStructure {
	switch b := bs.(type) {
	case *imap.BodyStructureMultiPart:
		if len(b.Children) == 0 {
			return &imap.BodyStructureSinglePart{Type: "text", Subtype: "plain", Params: map[string]string{"charset": "us-ascii"},
				Encoding: "7BIT", Text: &imap.BodyStructureText{}, Extended: &imap.BodyStructureSinglePartExt{}}
		}
		for i, c := range b.Children {
			b.Children[i] = fixStructure(c)
		}
		if b.Extended == nil {
			b.Extended = &imap.BodyStructureMultiPartExt{}
		}
	case *imap.BodyStructureSinglePart:
		if b.Extended == nil {
			b.Extended = &imap.BodyStructureSinglePartExt{}
		}
		if b.MessageRFC822 != nil {
			if b.MessageRFC822.BodyStructure == nil {
				b.MessageRFC822.BodyStructure = fixStructure(&imap.BodyStructureMultiPart{})
			} else {
				b.MessageRFC822.BodyStructure = fixStructure(b.MessageRFC822.BodyStructure)
			}
			if b.MessageRFC822.Envelope == nil {
				b.MessageRFC822.Envelope = &imap.Envelope{}
			}
		}
	case nil:
		return fixStructure(&imap.BodyStructureMultiPart{})
	}
	return bs
}

// partDepth is how many levels of parts a tree has.
func partDepth(p *mime.Part) int {
	d := 0
	for _, c := range p.Parts {
		if cd := partDepth(c); cd > d {
			d = cd
		}
	}
	return d + 1
}

// treeStructure builds BODYSTRUCTURE from proto/mime's tree, which stops at
// maxDepth and shows what lies deeper as one leaf.
func treeStructure(p *mime.Part) imap.BodyStructure {
	typ, sub, _ := strings.Cut(p.ContentType, "/")
	if p.IsMultipart() && len(p.Parts) > 0 {
		mp := &imap.BodyStructureMultiPart{Subtype: sub, Extended: &imap.BodyStructureMultiPartExt{Params: p.Params}}
		for _, c := range p.Parts {
			mp.Children = append(mp.Children, treeStructure(c))
		}
		return mp
	}
	if typ == "" {
		typ, sub = "text", "plain"
	}
	sp := &imap.BodyStructureSinglePart{
		Type: typ, Subtype: sub, Params: p.Params, Encoding: strings.ToUpper(p.Encoding),
		Size: uint32(p.RawSize),
		ID:   mime.Get(p.Headers, "Content-Id"), Description: mime.Get(p.Headers, "Content-Description"),
	}
	if sp.Encoding == "" {
		sp.Encoding = "7BIT"
	}
	switch {
	case p.Message != nil && len(p.Parts) > 0:
		var h textproto.Header
		for i := len(p.Message) - 1; i >= 0; i-- {
			h.Add(p.Message[i].Name, p.Message[i].Raw)
		}
		sp.MessageRFC822 = &imap.BodyStructureMessageRFC822{Envelope: envelopeOf(h), BodyStructure: treeStructure(p.Parts[0]), NumLines: p.RawLines}
	case typ == "text" || p.Message != nil:
		sp.Text = &imap.BodyStructureText{NumLines: p.RawLines}
	}
	sp.Extended = &imap.BodyStructureSinglePartExt{} // go-imap writes it for BODYSTRUCTURE
	if p.Disposition != "" {
		sp.Extended.Disposition = &imap.BodyStructureDisposition{Value: p.Disposition}
		if p.Filename != "" {
			sp.Extended.Disposition.Params = map[string]string{"filename": p.Filename}
		}
	}
	return sp
}

// encodeParams writes parameter values outside ASCII as RFC 2231 extended
// parameters ("filename*" "utf-8”Entw%C3%BCrfe.pdf"), as RFC 9051 §7.5.2
// asks for clients that did not enable UTF8=ACCEPT and as Dovecot sends
// them; go-imap would send the raw UTF-8 in a literal.
func encodeParams(bs imap.BodyStructure) {
	switch b := bs.(type) {
	case *imap.BodyStructureMultiPart:
		for _, c := range b.Children {
			encodeParams(c)
		}
		if b.Extended != nil {
			b.Extended.Params = rfc2231(b.Extended.Params)
			if b.Extended.Disposition != nil {
				b.Extended.Disposition.Params = rfc2231(b.Extended.Disposition.Params)
			}
		}
	case *imap.BodyStructureSinglePart:
		b.Params = rfc2231(b.Params)
		if b.Extended != nil && b.Extended.Disposition != nil {
			b.Extended.Disposition.Params = rfc2231(b.Extended.Disposition.Params)
		}
		if b.MessageRFC822 != nil && b.MessageRFC822.BodyStructure != nil {
			encodeParams(b.MessageRFC822.BodyStructure)
		}
	}
}

func rfc2231(params map[string]string) map[string]string {
	var out map[string]string
	for k, v := range params {
		ascii := true
		for i := 0; i < len(v); i++ {
			if v[i] >= 0x80 || v[i] < 0x20 {
				ascii = false
				break
			}
		}
		if ascii {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(params))
			for k2, v2 := range params {
				out[k2] = v2
			}
		}
		delete(out, k)
		if !utf8.ValidString(v) {
			v = strings.ToValidUTF8(v, "\uFFFD")
		}
		out[k+"*"] = "utf-8''" + pctEncode(v)
	}
	if out == nil {
		return params
	}
	return out
}

// pctEncode writes a value as RFC 2231 §4 extended-other-values: octets
// other than letters, digits and a few marks as %XX.
func pctEncode(v string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~!#$&+^`{|}", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// envelopeOf builds ENVELOPE from a header already read.
func envelopeOf(h textproto.Header) *imap.Envelope {
	env := imapserver.ExtractEnvelope(h)
	env.Subject = rawField(h, "Subject")
	env.From = addressList(h, "From")
	env.Sender = addressList(h, "Sender")
	env.ReplyTo = addressList(h, "Reply-To")
	env.To = addressList(h, "To")
	env.Cc = addressList(h, "Cc")
	env.Bcc = addressList(h, "Bcc")
	return env
}

// headerOf reads a message's header section.
func headerOf(buf []byte) (textproto.Header, bool) {
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(buf)))
	return h, err == nil
}
