package mime

import (
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// LookupCharset returns the decoder for a MIME charset label such as
// "ISO-8859-1", "windows-1252", "KOI8-R", "GB2312", "Shift_JIS",
// "ISO-2022-JP" or "EUC-KR", and its canonical name. ok is false when the
// label is unknown or the text package has no codec for it.
//
// The IANA registry (RFC 2978) is consulted first because it is the one MIME
// uses; the WHATWG table that browsers use comes second, because mail written
// by web mail often carries its aliases (for example "x-sjis").
func LookupCharset(label string) (enc encoding.Encoding, name string, ok bool) {
	l := strings.ToLower(strings.Trim(strings.TrimSpace(label), `"`))
	switch l {
	case "", "us-ascii", "ascii", "utf-8", "utf8":
		// UTF-8 is a superset of US-ASCII, so one decoder serves both.
		return unicode.UTF8, canonicalASCII(l), true
	}
	if e, err := ianaindex.MIME.Encoding(l); err == nil && e != nil {
		n, _ := ianaindex.MIME.Name(e)
		if n == "" {
			n = label
		}
		return e, n, true
	}
	if e, err := htmlindex.Get(l); err == nil && e != nil {
		n, _ := htmlindex.Name(e)
		return e, n, true
	}
	return nil, label, false
}

func canonicalASCII(l string) string {
	if l == "" || l == "us-ascii" || l == "ascii" {
		return "us-ascii"
	}
	return "utf-8"
}

// charsetReader adapts LookupCharset to mime.WordDecoder.CharsetReader, so
// that encoded-words in any supported charset decode to UTF-8.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	enc, _, ok := LookupCharset(charset)
	if !ok {
		return nil, &UnknownCharsetError{Charset: charset}
	}
	return transform.NewReader(input, enc.NewDecoder()), nil
}

// UnknownCharsetError reports a charset label mailx cannot decode.
type UnknownCharsetError struct{ Charset string }

func (e *UnknownCharsetError) Error() string { return "unknown charset " + strqv(e.Charset) }

// DecodeCharset converts b from the named charset to UTF-8. With an unknown
// charset it returns b with invalid UTF-8 replaced by U+FFFD and ok false.
func DecodeCharset(b []byte, charset string) (s string, ok bool) {
	enc, _, known := LookupCharset(charset)
	if !known {
		return strings.ToValidUTF8(string(b), "\uFFFD"), false
	}
	out, _, err := transform.Bytes(enc.NewDecoder(), b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD"), false
	}
	if !utf8.Valid(out) {
		return strings.ToValidUTF8(string(out), "\uFFFD"), true
	}
	return string(out), true
}

// NewCharsetReader returns r decoded from charset to UTF-8, for streaming a
// whole text part (`mailx mime decode --part`). ok is false for an unknown
// charset, in which case r is returned unchanged.
func NewCharsetReader(r io.Reader, charset string) (io.Reader, bool) {
	enc, _, ok := LookupCharset(charset)
	if !ok {
		return r, false
	}
	if enc == unicode.UTF8 {
		return r, true
	}
	return transform.NewReader(r, enc.NewDecoder()), true
}

// strqv quotes s for messages, shortening very long hostile values.
func strqv(s string) string {
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}
