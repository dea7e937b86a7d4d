package mime

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime/quotedprintable"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/mailx-edu/mailx/proto/note"
)

// RawLine is one line of a part's encoded body and what it decodes to.
type RawLine struct {
	Raw     string `json:"raw"`
	Decoded string `json:"decoded"`        // printable form: text, or hex bytes for binary
	Soft    bool   `json:"soft,omitempty"` // quoted-printable soft break: the line goes on
}

// DecodeRawLines decodes the encoded body of a part line by line, so each
// encoded line can be shown beside what it means. raw is (the start of) the
// body; at most max lines are returned.
func DecodeRawLines(p *Part, raw string, max int) []RawLine {
	var out []RawLine
	for _, l := range strings.SplitAfter(raw, "\n") {
		if l == "" || len(out) >= max {
			break
		}
		line := strings.TrimRight(l, "\r\n")
		rl := RawLine{Raw: line}
		switch p.Encoding {
		case "quoted-printable":
			trimmed := strings.TrimRight(line, " \t")
			rl.Soft = strings.HasSuffix(trimmed, "=")
			b, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(line + "\n")))
			b = bytes.TrimSuffix(b, []byte("\n"))
			rl.Decoded = printableBytes(b, p)
		case "base64":
			b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(line), ""))
			if err != nil {
				rl.Decoded = "(not a whole base64 line: " + err.Error() + ")"
			} else if p.IsText() {
				rl.Decoded = printableBytes(b, p)
			} else {
				rl.Decoded = hexPrefix(b, 12)
			}
		default:
			rl.Decoded = printableBytes([]byte(line), p)
		}
		out = append(out, rl)
	}
	return out
}

func printableBytes(b []byte, p *Part) string {
	if p.IsText() {
		s, _ := DecodeCharset(b, p.Charset)
		return s
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return hexPrefix(b, 12)
}

func hexPrefix(b []byte, n int) string {
	s := fmt.Sprintf("%d bytes: % x", len(b), b[:min(n, len(b))])
	if len(b) > n {
		s += " ..."
	}
	return s
}

var qpEscapes = regexp.MustCompile(`(=[0-9A-F]{2})+`)

// ExplainRaw says how to read a part's encoded body, using examples taken
// from the body itself: which escapes stand for which characters, where the
// soft line breaks are, how base64 lines map to bytes.
func ExplainRaw(p *Part, raw string) []note.Note {
	switch p.Encoding {
	case "quoted-printable":
		notes := []note.Note{{Summary: "quoted-printable: printable ASCII stands for itself; \"=\" followed by two hex digits is one byte",
			Ref: "RFC 2045 §6.7"}}
		seen := map[string]bool{}
		for _, m := range qpEscapes.FindAllString(raw, -1) {
			if seen[m] || len(seen) >= 6 {
				continue
			}
			seen[m] = true
			b, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(m)))
			s, _ := DecodeCharset(b, p.Charset)
			what := fmt.Sprintf("%q", s)
			switch {
			case m == "=3D":
				what = `"=" itself, which must always be escaped`
			case s == "\uFEFF":
				what = "U+FEFF, a byte-order mark: invisible, put first by some mail programs"
			case m == "=20" || m == "=09":
				what = "white space at a line end, escaped so that no relay strips it"
			case len(b) > 1 && utf8.ValidString(s):
				what = fmt.Sprintf("%q: %d bytes of %s making one character", s, len(b), p.Charset)
			}
			notes = append(notes, note.Note{Summary: fmt.Sprintf("%s is %s", m, what)})
		}
		if strings.Contains(raw, "=\n") || strings.Contains(raw, "=\r\n") {
			notes = append(notes, note.Note{Summary: "a line ending in \"=\" is a soft line break: the text goes on with the next line, no break",
				Detail: "It keeps encoded lines within 76 characters; the reader joins them back."})
		}
		return notes
	case "base64":
		return []note.Note{{Summary: "base64: each 4 characters are 3 bytes (6 bits per character from A-Z a-z 0-9 + /)",
			Detail: "A full line of 76 characters holds 57 bytes. \"=\" at the very end pads the last group when the\nlength is not a multiple of 3. Line breaks carry no data.",
			Ref:    "RFC 2045 §6.8"}}
	case "", "7bit", "8bit", "binary":
		return []note.Note{EncodingNote(p.Encoding)}
	}
	return []note.Note{EncodingNote(p.Encoding)}
}

// SafeFilename turns the file name a message suggests into one that is safe
// to create in a directory: no directories (no path traversal), no
// characters Windows forbids, no control characters, no reserved device
// names, not hidden, at most 120 bytes. With no usable name it makes one
// from the part number and type ("part-2.jpg").
func SafeFilename(suggested, number, mediaType string) string {
	name := suggested
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case r < 0x20 || r == 0x7f || r == utf8.RuneError || (r >= 0x80 && r < 0xa0):
			return -1
		case isBidiControl(r):
			// U+202E RIGHT-TO-LEFT OVERRIDE makes "invoice‮fdp.exe"
			// look like "invoiceexe.pdf": a classic way to disguise a
			// program as a document.
			return -1
		case strings.ContainsRune(`<>:"|?*`, r):
			return '_'
		}
		return r
	}, name)
	name = strings.Trim(name, ". ")
	if strings.HasPrefix(name, "-") {
		// A name starting with "-" is read as an option by the next
		// command the student runs on it (rm -rf, tar -xf ...).
		name = "_" + name
	}
	if len(name) > 120 {
		ext := filepath.Ext(name)
		if len(ext) > 10 {
			ext = ""
		}
		cut := 120 - len(ext)
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut] + ext
	}
	base := strings.ToUpper(strings.TrimSuffix(name, filepath.Ext(name)))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		name = "_" + name
	}
	if name == "" {
		name = "part-" + strings.ReplaceAll(number, ".", "-") + extensionFor(mediaType)
	}
	return name
}

func extensionFor(mediaType string) string {
	for ext, t := range builtinTypes {
		if t == mediaType && (ext != ".htm" && ext != ".jpeg") {
			return ext
		}
	}
	if strings.HasPrefix(mediaType, "text/") {
		return ".txt"
	}
	return ".bin"
}

// isBidiControl reports the Unicode characters that reorder how text is
// displayed (RFC 8264 and Unicode TR 36 §2.1 "bidirectional text
// spoofing"): they have no place in a file name.
func isBidiControl(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}
