package mime

import (
	"time"

	"github.com/mailx-edu/mailx/proto/dsn"
	"github.com/mailx-edu/mailx/proto/note"
)

// Tree is a parsed message: its header, the hops its Received fields
// describe, and its body as a tree of parts. It holds no content beyond
// short previews, so it stays small for any size of message; the content
// itself is handed to Options.OnPart as it streams past.
type Tree struct {
	Size     int64       `json:"size"`    // bytes read
	Headers  []Header    `json:"headers"` // in the order written
	Hops     []Hop       `json:"hops,omitempty"`
	Body     *Part       `json:"body"`
	Parts    int         `json:"part_count"` // every part, multiparts included
	Warnings []note.Note `json:"warnings,omitempty"`
	// LineEnds says how lines end: "CRLF" (as on the wire), "LF" (a file
	// saved on Unix), "mixed", or "" when there is a single line.
	LineEnds string `json:"line_ends"`
}

// Header is one header field as written and as decoded.
type Header struct {
	Name    string `json:"name"`
	Raw     string `json:"raw"`               // the value, unfolded, encoded-words as written
	Decoded string `json:"decoded,omitempty"` // with encoded-words decoded, when that differs
	Words   []Word `json:"words,omitempty"`   // each encoded-word, raw and decoded
}

// Value returns the decoded value when there is one, else the raw value.
func (h Header) Value() string {
	if h.Decoded != "" {
		return h.Decoded
	}
	return h.Raw
}

// Part is one node of the MIME tree: a leaf with content, a multipart with
// child parts, or a message/rfc822 with the enclosed message's header and body.
type Part struct {
	// Number is the part's IMAP-style number (RFC 3501 §6.4.5): "1", "1.2".
	// A multipart that is a message's body has no number ("").
	Number  string   `json:"number"`
	Headers []Header `json:"headers,omitempty"`

	ContentType string            `json:"content_type"` // lower case, e.g. "text/plain"
	Params      map[string]string `json:"params,omitempty"`
	Charset     string            `json:"charset,omitempty"`  // text parts: as declared, or the default
	Encoding    string            `json:"encoding,omitempty"` // Content-Transfer-Encoding, lower case
	Disposition string            `json:"disposition,omitempty"`
	Filename    string            `json:"filename,omitempty"` // decoded, as the sender gave it

	RawSize     int64 `json:"raw_size"`     // bytes of the body as it travels
	DecodedSize int64 `json:"decoded_size"` // bytes after the transfer decoding
	RawLines    int64 `json:"raw_lines"`

	// Preview is the start of a text part, decoded to UTF-8; PreviewOmitted
	// counts the decoded bytes left out of it.
	Preview        string `json:"preview,omitempty"`
	PreviewOmitted int64  `json:"preview_omitted,omitempty"`
	// RawPreview is the start of the encoded body, when Options.RawPreview
	// asks for it (mailx mime decode --raw).
	RawPreview        string `json:"raw_preview,omitempty"`
	RawPreviewOmitted int64  `json:"raw_preview_omitted,omitempty"`

	// Message holds the header of an enclosed message (message/rfc822);
	// its body is Parts[0].
	Message []Header `json:"message_headers,omitempty"`
	Parts   []*Part  `json:"parts,omitempty"`

	// DeliveryStatus holds the fields of a message/delivery-status part (a
	// bounce's machine-readable heart, RFC 3464): the reporting server and,
	// per recipient, the action taken, the status code and the diagnostic.
	DeliveryStatus *dsn.Report `json:"delivery_status,omitempty"`

	Warnings []note.Note `json:"warnings,omitempty"`
}

// IsMultipart reports whether the part is a multipart/* container.
func (p *Part) IsMultipart() bool {
	return len(p.ContentType) > 10 && p.ContentType[:10] == "multipart/"
}

// IsText reports whether the part's content is text (text/*).
func (p *Part) IsText() bool { return len(p.ContentType) > 5 && p.ContentType[:5] == "text/" }

// IsAttachment reports whether the part is meant to be saved as a file:
// it says so (Content-Disposition: attachment), has a file name, or is a
// leaf that is neither text nor a container.
func (p *Part) IsAttachment() bool {
	if p.IsMultipart() || p.Message != nil {
		return false
	}
	return p.Disposition == "attachment" || p.Filename != "" || !p.IsText()
}

// Walk calls fn for p and every part below it, depth first in order.
func (p *Part) Walk(fn func(*Part)) {
	if p == nil {
		return
	}
	fn(p)
	for _, c := range p.Parts {
		c.Walk(fn)
	}
}

// Find returns the part with the given number, or nil.
func (t *Tree) Find(number string) *Part {
	var found *Part
	t.Body.Walk(func(p *Part) {
		if found == nil && p.Number == number {
			found = p
		}
	})
	return found
}

// Hop is one relay a message passed through, from one Received field
// (RFC 5321 §4.4). Hops are numbered from the first relay, the bottom field.
type Hop struct {
	N     int           `json:"n"`
	From  string        `json:"from,omitempty"` // the host that sent, as it said and as seen
	By    string        `json:"by,omitempty"`   // the host that received
	Via   string        `json:"via,omitempty"`
	With  string        `json:"with,omitempty"` // protocol: SMTP, ESMTP, ESMTPS, ESMTPSA, LMTP...
	ID    string        `json:"id,omitempty"`
	For   string        `json:"for,omitempty"`
	Time  time.Time     `json:"time,omitzero"`
	Delay time.Duration `json:"delay_ns,omitempty"` // since the previous hop
	// HasDelay is false for the first hop and when either time is unknown.
	HasDelay bool   `json:"has_delay"`
	Raw      string `json:"raw"`
}
