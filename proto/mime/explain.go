package mime

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/mailx-edu/mailx/proto/note"
)

// headerNotes explains the header fields a student meets, keyed by
// canonical name. `mailx mime decode` shows them under each field, lessons
// refer to them by key, and nobody copies the wording.
var headerNotes = map[string]note.Note{
	"From": {Summary: "From: the author of the message, as the reader's mail program shows it",
		Detail: "Not the SMTP envelope sender (MAIL FROM): the two can differ, which is why DMARC checks that\nthe From domain matches a domain SPF or DKIM vouched for.",
		Ref:    "RFC 5322 §3.6.2"},
	"Sender": {Summary: "Sender: who actually sent the message on the author's behalf (a secretary, a list, a web form)",
		Ref: "RFC 5322 §3.6.2"},
	"Reply-To": {Summary: "Reply-To: where replies should go instead of From", Ref: "RFC 5322 §3.6.2"},
	"To":       {Summary: "To: the primary recipients, as the author addressed them", Detail: "The envelope (RCPT TO) decides delivery; this field is only what the reader sees.", Ref: "RFC 5322 §3.6.3"},
	"Cc":       {Summary: "Cc: recipients who get a copy, visible to everyone", Ref: "RFC 5322 §3.6.3"},
	"Bcc":      {Summary: "Bcc: hidden recipients; a sender normally removes this field before sending", Ref: "RFC 5322 §3.6.3"},
	"Subject":  {Summary: "Subject: the topic; non-ASCII text travels as RFC 2047 encoded-words", Ref: "RFC 5322 §3.6.5"},
	"Date": {Summary: "Date: when the author's program finished the message (not when it arrived)",
		Ref: "RFC 5322 §3.6.1"},
	"Message-Id": {Summary: "Message-ID: a unique identifier, made by the sender's software, that replies and threads refer to",
		Ref: "RFC 5322 §3.6.4"},
	"In-Reply-To": {Summary: "In-Reply-To: the Message-ID of the message this one answers", Ref: "RFC 5322 §3.6.4"},
	"References":  {Summary: "References: the Message-IDs of the thread so far, oldest first; readers build threads from it", Ref: "RFC 5322 §3.6.4"},
	"Received": {Summary: "Received: one relay's stamp: who handed the message over, who took it, how and when",
		Detail: "Each server adds its field at the top, so read them from the bottom up. Only the stamps of\nservers you trust are trustworthy; lower ones may be forged. See the hop list below.",
		Ref:    "RFC 5321 §4.4"},
	"Return-Path": {Summary: "Return-Path: the envelope sender (MAIL FROM), added at final delivery; bounces go there",
		Ref: "RFC 5321 §4.4"},
	"Mime-Version": {Summary: "MIME-Version: 1.0 says the message uses MIME, so the Content-* fields apply", Ref: "RFC 2045 §4"},
	"Content-Type": {Summary: "Content-Type: what the body is (type/subtype) with parameters such as charset or boundary",
		Ref: "RFC 2045 §5"},
	"Content-Transfer-Encoding": {Summary: "Content-Transfer-Encoding: how the body was made safe for 7-bit transport",
		Ref: "RFC 2045 §6"},
	"Content-Disposition": {Summary: "Content-Disposition: show inline or offer as an attachment, and the suggested file name",
		Ref: "RFC 2183"},
	"Content-Id":          {Summary: "Content-ID: a name for this part, so HTML can show it with src=\"cid:...\"", Ref: "RFC 2045 §7; RFC 2392"},
	"Content-Description": {Summary: "Content-Description: a human-readable description of the part", Ref: "RFC 2045 §8"},
	"List-Unsubscribe": {Summary: "List-Unsubscribe: how to leave the list (a mailto: or https: address), shown by mail programs as a button",
		Ref: "RFC 2369 §3.2"},
	"List-Unsubscribe-Post": {Summary: "List-Unsubscribe-Post: one-click unsubscribe by an HTTPS POST, without a confirmation page",
		Ref: "RFC 8058"},
	"List-Id": {Summary: "List-Id: which mailing list sent this; filters match on it", Ref: "RFC 2919"},
	"Dkim-Signature": {Summary: "DKIM-Signature: a signature by the domain d= over the body and the fields in h=",
		Detail: "The receiver fetches the public key from DNS (TXT at <s>._domainkey.<d>) and checks that the\nsigned fields and body were not changed on the way.",
		Ref:    "RFC 6376 §3.5"},
	"Authentication-Results": {Summary: "Authentication-Results: what the receiving server concluded from SPF, DKIM and DMARC",
		Ref: "RFC 8601"},
	"Received-Spf": {Summary: "Received-SPF: whether the connecting host may send for the envelope sender's domain", Ref: "RFC 7208 §9.1"},
	"Arc-Seal":     {Summary: "ARC-Seal: a relay's seal over the authentication results it saw (forwarding without losing DKIM)", Ref: "RFC 8617"},
	"X-Mailer":     {Summary: "X-Mailer: the program that wrote the message (informational; X- fields are unregistered)"},
	"User-Agent":   {Summary: "User-Agent: the program that wrote the message (informational)"},
}

// HeaderNote explains a header field by name, tailored to its value where
// that helps (the DKIM signer, one-click unsubscribe). ok is false for a
// field mailx has nothing to say about.
func HeaderNote(name, value string) (note.Note, bool) {
	key := canonical(name)
	n, ok := headerNotes[key]
	if !ok {
		return note.Note{}, false
	}
	switch key {
	case "Dkim-Signature":
		tags := dkimTags(value)
		if tags["d"] != "" {
			n.Summary = fmt.Sprintf("DKIM-Signature: signed by the domain %s (selector %s)", tags["d"], tags["s"])
			n.Next = fmt.Sprintf("the public key is the TXT record at %s._domainkey.%s", tags["s"], tags["d"])
		}
	case "Mime-Version":
		if strings.TrimSpace(stripComments(value)) != "1.0" {
			n.Severity = note.Warning
			n.Summary = fmt.Sprintf("MIME-Version %s: the only version there is, is 1.0", strqv(value))
		}
	}
	return n, true
}

func canonical(name string) string {
	var b strings.Builder
	up := true
	for _, c := range strings.ToLower(name) {
		if up && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = c == '-'
		b.WriteRune(c)
	}
	return b.String()
}

// dkimTags reads the tag=value list of a DKIM-Signature (RFC 6376 §3.2).
func dkimTags(v string) map[string]string {
	tags := map[string]string{}
	for _, t := range strings.Split(v, ";") {
		k, val, ok := strings.Cut(t, "=")
		if ok {
			tags[strings.TrimSpace(k)] = strings.Join(strings.Fields(val), "")
		}
	}
	return tags
}

func stripComments(s string) string {
	var b strings.Builder
	depth := 0
	for _, c := range s {
		switch {
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// once lists the fields RFC 5322 §3.6 allows at most once.
var once = []string{"Date", "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Message-Id", "In-Reply-To", "References", "Subject"}

// addressProblem says in words what is wrong with an address field that
// net/mail refused, instead of passing on its wording ("mail: missing
// word in phrase: mail: invalid utf-8 in address").
func addressProblem(v string, err error) string {
	msg := err.Error()
	switch {
	case !utf8.ValidString(v):
		return "it holds 8-bit bytes that are not UTF-8; a display name in another charset must be an RFC 2047 encoded-word"
	case !strings.Contains(v, "@"):
		return "there is no @ in it: an address is local-part@domain"
	case strings.Contains(msg, "no angle-addr") || strings.Contains(msg, "unclosed angle-addr"):
		return "the <...> around the address is missing or not closed"
	case strings.Contains(msg, "missing word in phrase") || strings.Contains(msg, "unclosed quote"):
		return "the display name before <address> has characters that must be in double quotes (such as . , : ;)"
	case strings.Contains(msg, "trailing dot") || strings.Contains(msg, "leading dot") || strings.Contains(msg, "double dot"):
		return "the part before the @ has a dot at its start or end, or two dots in a row"
	case strings.Contains(msg, "expected comma"):
		return "two addresses must be separated by a comma"
	}
	return "it is not of the form Name <local-part@domain> or local-part@domain"
}

// checkHeaders finds what is wrong with a message's top-level header.
func checkHeaders(hdrs []Header) []note.Note {
	var warns []note.Note
	warn := func(summary, ref string) {
		warns = append(warns, note.Note{Severity: note.Warning, Summary: summary, Ref: ref})
	}
	if len(hdrs) == 0 {
		warn("the message has no header fields: this is not an RFC 5322 message", "RFC 5322 §3.6")
		return warns
	}
	count := map[string]int{}
	for _, h := range hdrs {
		count[canonical(h.Name)]++
		if !utf8.ValidString(h.Raw) {
			warns = append(warns, note.Note{Severity: note.Warning,
				Summary: fmt.Sprintf("%s holds 8-bit bytes that are not UTF-8 (shown as \\xNN): probably text in a legacy charset such as ISO-8859-1", h.Name),
				Detail:  "A header must be ASCII, with other text as RFC 2047 encoded-words (=?iso-8859-1?q?caf=E9?=),\nor UTF-8 where both ends support SMTPUTF8. Readers guess the charset of raw bytes, often wrongly.",
				Ref:     "RFC 5322 §2.2; RFC 2047; RFC 6532"})
		}
		for _, w := range h.Words {
			if w.Error != "" {
				warn(fmt.Sprintf("%s: encoded-word %s cannot be decoded: %s", h.Name, strqv(w.Raw), w.Error), "RFC 2047 §6")
			}
		}
	}
	for _, k := range once {
		if count[k] > 1 {
			warn(fmt.Sprintf("%d %s fields; a message may have only one", count[k], k), "RFC 5322 §3.6")
		}
	}
	if count["From"] == 0 {
		warn("no From field: every message must say who wrote it", "RFC 5322 §3.6")
	} else if _, err := mail.ParseAddressList(headerValue(hdrs, "From")); err != nil {
		warn(fmt.Sprintf("From %s is not a valid address: %s", strqv(headerValue(hdrs, "From")), addressProblem(headerValue(hdrs, "From"), err)), "RFC 5322 §3.4")
	}
	if count["Date"] == 0 {
		warn("no Date field: every message must say when it was written", "RFC 5322 §3.6")
	} else if _, err := mail.ParseDate(headerValue(hdrs, "Date")); err != nil {
		warn(fmt.Sprintf("Date %s cannot be read as an RFC 5322 date", strqv(headerValue(hdrs, "Date"))), "RFC 5322 §3.3")
	}
	if count["Message-Id"] == 0 {
		warn("no Message-ID field: replies cannot refer to this message (it SHOULD have one)", "RFC 5322 §3.6.4")
	}
	if count["Mime-Version"] == 0 && (count["Content-Type"] > 0 || count["Content-Transfer-Encoding"] > 0) {
		warn("Content-* fields without MIME-Version: 1.0; strict readers ignore them", "RFC 2045 §4")
	}
	return warns
}

// TypeNote explains a media type, or its top-level type.
func TypeNote(mediaType string) note.Note {
	if n, ok := typeNotes[mediaType]; ok {
		return n
	}
	top, _, _ := strings.Cut(mediaType, "/")
	if n, ok := typeNotes[top]; ok {
		return n
	}
	return note.Note{Summary: mediaType + ": a registered or private media type; mailx treats it as opaque data", Ref: "RFC 2046 §4.5"}
}

var typeNotes = map[string]note.Note{
	"multipart/mixed":         {Summary: "multipart/mixed: independent parts in order, typically the text and then attachments", Ref: "RFC 2046 §5.1.3"},
	"multipart/alternative":   {Summary: "multipart/alternative: the same content in several forms; readers show the last one they can", Ref: "RFC 2046 §5.1.4"},
	"multipart/related":       {Summary: "multipart/related: parts that belong together, such as HTML and the pictures it shows (cid:)", Ref: "RFC 2387"},
	"multipart/digest":        {Summary: "multipart/digest: a collection of messages; each part is message/rfc822 by default", Ref: "RFC 2046 §5.1.5"},
	"multipart/signed":        {Summary: "multipart/signed: content and its signature (S/MIME or OpenPGP)", Ref: "RFC 1847 §2.1"},
	"multipart/report":        {Summary: "multipart/report: a machine-readable report, such as a bounce (DSN)", Ref: "RFC 6522"},
	"message/rfc822":          {Summary: "message/rfc822: a whole message enclosed in this one (a forwarded message)", Ref: "RFC 2046 §5.2.1"},
	"message/delivery-status": {Summary: "message/delivery-status: why a delivery failed or was delayed, per recipient", Ref: "RFC 3464"},
	"text/plain":              {Summary: "text/plain: plain text, shown as it is", Ref: "RFC 2046 §4.1.3"},
	"text/html":               {Summary: "text/html: formatted text; mail programs show it with remote content blocked", Ref: "RFC 2854"},
	"text":                    {Summary: "text: readable text in the given charset", Ref: "RFC 2046 §4.1"},
	"image":                   {Summary: "image: a picture, to be shown or saved", Ref: "RFC 2046 §4.2"},
	"audio":                   {Summary: "audio: sound", Ref: "RFC 2046 §4.3"},
	"video":                   {Summary: "video: moving pictures", Ref: "RFC 2046 §4.4"},
	"application":             {Summary: "application: data for a program (a PDF, a zip file); saved rather than shown", Ref: "RFC 2046 §4.5"},
}

// EncodingNote explains a Content-Transfer-Encoding.
func EncodingNote(enc string) note.Note {
	switch enc {
	case "", "7bit":
		return note.Note{Summary: "7bit: sent as it is; ASCII only, lines up to 998 characters", Ref: "RFC 2045 §2.7"}
	case "8bit":
		return note.Note{Summary: "8bit: sent as it is, bytes above 127 allowed; needs a server that offers 8BITMIME", Ref: "RFC 2045 §2.8; RFC 6152"}
	case "binary":
		return note.Note{Summary: "binary: any bytes, any line length; needs BINARYMIME and CHUNKING (BDAT)", Ref: "RFC 2045 §2.9; RFC 3030"}
	case "quoted-printable":
		return note.Note{Summary: "quoted-printable: ASCII stays readable; other bytes become =XX, and \"=\" at a line end is a soft break",
			Ref: "RFC 2045 §6.7"}
	case "base64":
		return note.Note{Summary: "base64: every 3 bytes become 4 characters of A-Z a-z 0-9 + /, in lines of 76", Ref: "RFC 2045 §6.8"}
	}
	return note.Note{Summary: enc + ": not a standard transfer encoding", Ref: "RFC 2045 §6.1", Severity: note.Warning}
}
