package mime

import (
	"encoding/base64"
	"fmt"
	stdmime "mime"
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxLine is the line length mailx aims for when it writes a message:
// RFC 5322 §2.1.1 says lines SHOULD be at most 78 characters (without CRLF)
// and MUST be at most 998. Encoded-words also keep to 75 characters
// (RFC 2047 §2).
const (
	MaxLine     = 78
	MaxLineHard = 998
	maxWordLen  = 75
)

// EncodeWords returns text as it should appear in an unstructured header
// field such as Subject, for a field whose name (with ": ") takes nameLen
// columns: unchanged when it is plain printable ASCII, otherwise with the
// words that need it turned into RFC 2047 encoded-words in UTF-8, folded so
// that each line stays within MaxLine. Lines are separated by "\r\n ".
//
// Words that are plain ASCII stay readable ("=?utf-8?q?Caf=C3=A9?= au lait").
// When whitespace itself carries meaning (leading, trailing, doubled, tabs)
// the whole text is encoded, because a reader unfolds and trims unencoded
// whitespace (RFC 5322 §3.2.2) and the text would not come back unchanged.
func EncodeWords(text string, nameLen int) string {
	if plainHeaderText(text) {
		return foldWords(strings.Split(text, " "), nameLen)
	}
	if !wordsSplittable(text) {
		return foldWords(encodeRun(text, nameLen, false), nameLen)
	}
	var out []string
	words := strings.Split(text, " ")
	for i := 0; i < len(words); {
		if plainWord(words[i]) {
			out = append(out, words[i])
			i++
			continue
		}
		// A run of words that need encoding is encoded together, spaces
		// included: whitespace between two encoded-words is dropped by the
		// reader (RFC 2047 §6.2), so it must live inside the encoding.
		j := i + 1
		for j < len(words) && !plainWord(words[j]) {
			j++
		}
		col := nameLen
		if len(out) > 0 {
			col = 1
		}
		out = append(out, encodeRun(strings.Join(words[i:j], " "), col, false)...)
		i = j
	}
	return foldWords(out, nameLen)
}

// plainHeaderText reports whether text can be written as it is.
func plainHeaderText(text string) bool {
	if !wordsSplittable(text) {
		return false
	}
	for _, w := range strings.Split(text, " ") {
		if !plainWord(w) {
			return false
		}
	}
	return true
}

// wordsSplittable reports whether text is words separated by single spaces,
// so that folding at those spaces and unfolding gives the same text back.
func wordsSplittable(text string) bool {
	if text == "" {
		return true
	}
	if strings.HasPrefix(text, " ") || strings.HasSuffix(text, " ") || strings.Contains(text, "  ") {
		return false
	}
	for i := 0; i < len(text); i++ {
		if c := text[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return utf8.ValidString(text)
}

// plainWord is printable ASCII that a reader cannot mistake for an
// encoded-word and that fits on a line.
func plainWord(w string) bool {
	if strings.Contains(w, "=?") || len(w) > MaxLine-1 {
		return false
	}
	for i := 0; i < len(w); i++ {
		if c := w[i]; c <= 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// encodeRun encodes s as one or more encoded-words, each at most 75
// characters, the first fitting after col columns where it can. Q encoding
// (readable for mostly-Latin text) is used unless B is shorter.
//
// In a phrase (the display name of an address) Q may only carry letters,
// digits and !*+-/=_ literally (RFC 2047 §5(3)); when the text has other
// specials, B is used instead.
func encodeRun(s string, col int, phrase bool) []string {
	var words []string
	first := true
	for s != "" {
		limit := maxWordLen
		if first && MaxLine-col >= 20 && MaxLine-col < limit {
			limit = MaxLine - col
		}
		first = false
		// Take as many whole runes as fit (the encoded length only grows
		// with the prefix); one rune always fits.
		n, best := 0, ""
		for end := 0; end < len(s); {
			_, size := utf8.DecodeRuneInString(s[end:])
			end += size
			w := encodeWord(s[:end], phrase)
			if len(w) > limit && n > 0 {
				break
			}
			n, best = end, w
		}
		words = append(words, best)
		s = s[n:]
	}
	return words
}

// encodeWord returns s as a single encoded-word in UTF-8, Q or B,
// whichever is shorter. The standard library's encoder leaves text that
// needs no encoding alone and splits long text itself, so plain ASCII is
// encoded here with encoding/base64 in the same "=?utf-8?b?...?=" form.
func encodeWord(s string, phrase bool) string {
	q := stdmime.QEncoding.Encode("utf-8", s)
	b := stdmime.BEncoding.Encode("utf-8", s)
	if b == s { // nothing the library thought needed encoding
		b = "=?utf-8?b?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
	}
	// Q stays readable for mostly-Latin text, so it wins unless clearly longer.
	if phrase && strings.ContainsAny(q[min(len(q), 10):], `()<>@,;:\".[]`) {
		return b
	}
	if q != s && !strings.Contains(q, " ") && len(q) <= len(b)+len(b)/3 {
		return q
	}
	return b
}

// foldWords joins words with spaces, starting a new line (CRLF SP) where the
// next word would pass MaxLine. nameLen is what precedes the first word.
func foldWords(words []string, nameLen int) string {
	var b strings.Builder
	col := nameLen
	for i, w := range words {
		if i > 0 {
			if col+1+len(w) > MaxLine {
				b.WriteString("\r\n ")
				col = 1
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}

// DecodeWords decodes the RFC 2047 encoded-words in a header value to UTF-8,
// in any charset LookupCharset knows. On error (an unknown charset, a
// malformed word) it returns what it could and the error.
func DecodeWords(value string) (string, error) {
	d := stdmime.WordDecoder{CharsetReader: charsetReader}
	s, err := d.DecodeHeader(value)
	if err != nil {
		return value, fmt.Errorf("decode encoded-words: %w", err)
	}
	return s, nil
}

// Word is one RFC 2047 encoded-word found in a header, as written and as
// decoded.
type Word struct {
	Raw      string `json:"raw"`             // "=?utf-8?q?Caf=C3=A9?="
	Charset  string `json:"charset"`         // "utf-8"
	Encoding string `json:"encoding"`        // "Q" or "B"
	Decoded  string `json:"decoded"`         // "Café"
	Error    string `json:"error,omitempty"` // why it could not be decoded
}

var encodedWordRE = regexp.MustCompile(`=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=`)

// FindWords lists the encoded-words in a header value, each decoded on its
// own, so that a student can see which raw text became which characters.
func FindWords(value string) []Word {
	var words []Word
	d := stdmime.WordDecoder{CharsetReader: charsetReader}
	for _, m := range encodedWordRE.FindAllStringSubmatch(value, 64) {
		w := Word{Raw: m[0], Charset: m[1], Encoding: strings.ToUpper(m[2])}
		s, err := d.Decode(m[0])
		if err != nil {
			w.Error = err.Error()
		} else {
			w.Decoded = s
		}
		words = append(words, w)
	}
	return words
}
