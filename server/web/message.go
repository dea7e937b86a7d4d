package web

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/microcosm-cc/bluemonday"

	"github.com/mailx-edu/mailx/proto/mime"
	"github.com/mailx-edu/mailx/proto/note"
)

// maxPartKept bounds the decoded content of one part held in memory for
// the views and downloads; the raw tab always has the whole message.
const maxPartKept = 16 << 20

// maxInlineImage bounds an image a message's HTML refers to by cid: that
// is put into the cleaned HTML as a data: URL.
const maxInlineImage = 2 << 20

// Message is one message as the pages and the API show it.
type Message struct {
	Folder    string            `json:"folder"`
	UID       uint32            `json:"uid"`
	Flags     []string          `json:"flags"`
	Size      int               `json:"size"`
	Subject   string            `json:"subject"`
	From      string            `json:"from"`
	To        string            `json:"to,omitempty"`
	Cc        string            `json:"cc,omitempty"`
	Date      string            `json:"date,omitempty"`
	MessageID string            `json:"message_id,omitempty"`
	Headers   []HeaderView      `json:"headers"`
	Parts     []PartView        `json:"parts"`
	Text      string            `json:"text,omitempty"`
	HasHTML   bool              `json:"has_html"`
	Warnings  []note.Note       `json:"warnings,omitempty"`
	Raw       []byte            `json:"-"`
	tree      *mime.Tree        `json:"-"`
	content   map[string][]byte // decoded content by part number
	html      string
	refs      string
	replyTo   string
	fromAddr  string
}

// HeaderView is a header field with its explanation.
type HeaderView struct {
	Name    string     `json:"name"`
	Value   string     `json:"value"`
	Raw     string     `json:"raw,omitempty"`
	Note    *note.Note `json:"note,omitempty"`
	Explain string     `json:"-"`
}

// PartView is one node of the MIME tree.
type PartView struct {
	Number      string      `json:"number"`
	Depth       int         `json:"depth"`
	ContentType string      `json:"content_type"`
	Charset     string      `json:"charset,omitempty"`
	Encoding    string      `json:"encoding,omitempty"`
	Disposition string      `json:"disposition,omitempty"`
	Filename    string      `json:"filename,omitempty"`
	Size        int64       `json:"size"`
	Leaf        bool        `json:"leaf"`
	Notes       []note.Note `json:"notes,omitempty"`
}

// parseMessage reads raw into a Message with its tree, text and parts.
func parseMessage(folder string, uid uint32, flags []string, raw []byte) (*Message, error) {
	m := &Message{Folder: folder, UID: uid, Flags: flags, Size: len(raw), Raw: raw, content: map[string][]byte{}}
	tree, err := mime.Parse(bytes.NewReader(raw), mime.Options{Preview: -1, OnPart: func(p *mime.Part, r io.Reader) error {
		b, err := io.ReadAll(io.LimitReader(r, maxPartKept))
		if err != nil {
			return err
		}
		m.content[p.Number] = b
		return nil
	}})
	if err != nil {
		return nil, fmt.Errorf("parse message: %w", err)
	}
	m.tree = tree
	m.Warnings = tree.Warnings
	for _, h := range tree.Headers {
		hv := HeaderView{Name: h.Name, Value: h.Value()}
		if h.Decoded != "" {
			hv.Raw = h.Raw
		}
		if n, ok := mime.HeaderNote(h.Name, h.Value()); ok {
			hv.Note = &n
		}
		m.Headers = append(m.Headers, hv)
		switch strings.ToLower(h.Name) {
		case "subject":
			m.Subject = h.Value()
		case "from":
			m.From = h.Value()
			if a, err := mail.ParseAddress(h.Raw); err == nil {
				m.fromAddr = a.Address
			}
		case "to":
			m.To = h.Value()
		case "cc":
			m.Cc = h.Value()
		case "date":
			m.Date = h.Value()
		case "message-id":
			m.MessageID = strings.TrimSpace(h.Raw)
		case "references":
			m.refs = strings.TrimSpace(h.Raw)
		case "reply-to":
			if a, err := mail.ParseAddress(h.Raw); err == nil {
				m.replyTo = a.Address
			}
		}
	}
	var walk func(p *mime.Part, depth int)
	walk = func(p *mime.Part, depth int) {
		if p == nil {
			return
		}
		pv := PartView{Number: p.Number, Depth: depth, ContentType: p.ContentType, Charset: p.Charset, Encoding: p.Encoding,
			Disposition: p.Disposition, Filename: p.Filename, Size: p.DecodedSize, Leaf: len(p.Parts) == 0}
		pv.Notes = append(pv.Notes, mime.TypeNote(p.ContentType))
		if p.Encoding != "" {
			pv.Notes = append(pv.Notes, mime.EncodingNote(p.Encoding))
		}
		pv.Notes = append(pv.Notes, p.Warnings...)
		m.Parts = append(m.Parts, pv)
		if pv.Leaf && !p.IsAttachment() {
			switch p.ContentType {
			case "text/plain":
				if m.Text == "" {
					m.Text = decodeText(m.content[p.Number], p.Charset)
				}
			case "text/html":
				if m.html == "" {
					m.html = decodeText(m.content[p.Number], p.Charset)
				}
			}
		}
		for _, c := range p.Parts {
			walk(c, depth+1)
		}
	}
	walk(tree.Body, 0)
	m.HasHTML = m.html != ""
	if m.Text == "" && m.html != "" {
		m.Text = htmlToText(m.html)
	}
	return m, nil
}

func decodeText(b []byte, charset string) string {
	if s, ok := mime.DecodeCharset(b, charset); ok {
		return s
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// part returns a part's description and decoded content.
func (m *Message) part(number string) (*mime.Part, []byte, bool) {
	p := m.tree.Find(number)
	if p == nil || len(p.Parts) > 0 {
		return nil, nil, false
	}
	return p, m.content[number], true
}

// contentIDs maps each part's Content-ID (without <>) to the part.
func (m *Message) contentIDs() map[string]*mime.Part {
	ids := map[string]*mime.Part{}
	m.tree.Body.Walk(func(p *mime.Part) {
		if id := mime.Get(p.Headers, "Content-ID"); id != "" {
			ids[strings.Trim(strings.TrimSpace(id), "<>")] = p
		}
	})
	return ids
}

// Cleaned is a message's HTML made safe to show.
type Cleaned struct {
	HTML          string
	RemoteBlocked int // remote images replaced because the user has not allowed them
	RemoteAllowed int
}

var (
	strictPolicy = bluemonday.StrictPolicy()
	spaceRun     = regexp.MustCompile(`\n{3,}`)
)

// htmlToText is the text of an HTML body for the plain tab, when the
// message has no text/plain part.
func htmlToText(h string) string {
	h = regexp.MustCompile(`(?i)<(br|/p|/div|/tr|/h[1-6]|/li)[^>]*>`).ReplaceAllString(h, "$0\n")
	t := strictPolicy.Sanitize(h)
	t = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&nbsp;", " ").Replace(t)
	return strings.TrimSpace(spaceRun.ReplaceAllString(t, "\n\n"))
}

// cleanHTML sanitises the message's HTML with bluemonday: no scripts, no
// event handlers, no javascript: or other active URLs, no forms, no <base>,
// <meta> or <style>, styles limited to properties and values that cannot
// fetch or run anything. Images that refer to the message's own parts
// (cid:) become data: URLs, so the sandboxed frame needs no cookie to show
// them; remote images are replaced unless remote is true, because loading
// them tells the sender when and where the message was read (a tracking
// pixel).
func (m *Message) cleanHTML(remote bool) Cleaned {
	var c Cleaned
	ids := m.contentIDs()
	var mu sync.Mutex
	p := mailPolicy()
	p.RewriteSrc(func(u *url.URL) {
		mu.Lock()
		defer mu.Unlock()
		switch strings.ToLower(u.Scheme) {
		case "cid":
			id := u.Opaque
			if id == "" {
				id = strings.TrimPrefix(u.String(), "cid:")
			}
			id, _ = url.PathUnescape(id)
			if part, ok := ids[id]; ok && strings.HasPrefix(part.ContentType, "image/") && len(m.content[part.Number]) <= maxInlineImage {
				*u = url.URL{Scheme: "data", Opaque: part.ContentType + ";base64," + base64.StdEncoding.EncodeToString(m.content[part.Number])}
				return
			}
			*u = url.URL{Scheme: "data", Opaque: ","}
		case "data":
			if !strings.HasPrefix(strings.ToLower(u.Opaque), "image/") {
				*u = url.URL{Scheme: "data", Opaque: ","}
			}
		case "http", "https":
			if remote {
				c.RemoteAllowed++
				return
			}
			c.RemoteBlocked++
			*u = url.URL{Scheme: "data", Opaque: ","}
		default:
			// Relative URLs have nothing to resolve against in a mail.
			*u = url.URL{Scheme: "data", Opaque: ","}
		}
	})
	c.HTML = p.Sanitize(m.html)
	return c
}

// mailPolicy is bluemonday's policy for user-generated content, plus the
// presentational attributes and styles HTML mail is written with.
func mailPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("http", "https", "mailto", "cid")
	p.AllowDataURIImages()
	p.AllowAttrs("cid").OnElements("img")
	p.AllowAttrs("align", "valign", "bgcolor", "width", "height", "border", "cellpadding", "cellspacing").OnElements("table", "td", "th", "tr", "img", "div", "p")
	p.AllowAttrs("color", "face", "size").OnElements("font")
	p.AllowElements("font", "center")
	p.AllowStyles("color", "background-color", "font-family", "font-size", "font-weight", "font-style", "text-align",
		"text-decoration", "line-height", "margin", "margin-top", "margin-bottom", "margin-left", "margin-right",
		"padding", "padding-top", "padding-bottom", "padding-left", "padding-right", "border", "border-collapse",
		"width", "max-width", "height", "vertical-align", "display", "white-space").Globally()
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}

// envelopeDate formats a message date for the list.
func envelopeDate(t time.Time, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.Local()
	if y, m, d := t.Date(); func() bool { ny, nm, nd := now.Date(); return y == ny && m == nm && d == nd }() {
		return t.Format("15:04")
	}
	if t.Year() == now.Year() {
		return t.Format("2 Jan")
	}
	return t.Format("2 Jan 2006")
}
