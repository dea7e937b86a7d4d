package mime

import (
	"bytes"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, never
// fail on content (only read errors fail), respect its limits, and keep
// the sizes it reports consistent with the content it streamed.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.eml")
	bounces, _ := filepath.Glob("testdata/bounces/*.eml")
	for _, s := range append(seeds, bounces...) {
		b, _ := os.ReadFile(s)
		f.Add(b)
	}
	f.Add([]byte(hdr + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\nin\r\n--b--\r\n"))
	f.Add([]byte(hdr + "Content-Transfer-Encoding: quoted-printable\r\n\r\nab=3D=\r\ncd=C3=A9\r\n"))
	f.Add([]byte("Subject: =?utf-8?b?w6k=?= =?iso-2022-jp?q?=1B$B$3=1B(B?=\n\n"))
	lim := Limits{Depth: 8, Parts: 50, HeaderBytes: 4 << 10}
	f.Fuzz(func(t *testing.T, data []byte) {
		streamed := map[string]int64{}
		tree, err := Parse(bytes.NewReader(data), Options{Limits: lim, RawPreview: 64, OnPart: func(p *Part, c io.Reader) error {
			n, _ := io.Copy(io.Discard, c)
			streamed[p.Number] += n
			return nil
		}})
		if err != nil {
			t.Fatalf("Parse failed on content: %v", err)
		}
		if tree.Size != int64(len(data)) {
			t.Fatalf("Size %d, input %d", tree.Size, len(data))
		}
		if tree.Parts > lim.Parts+1 {
			t.Fatalf("%d parts, limit %d", tree.Parts, lim.Parts)
		}
		tree.Body.Walk(func(p *Part) {
			if strings.Count(p.Number, ".") > lim.Depth+1 {
				t.Fatalf("part %s deeper than %d", p.Number, lim.Depth)
			}
			if p.RawSize > int64(len(data)) || p.DecodedSize > int64(len(data)) {
				t.Fatalf("part %s sizes %d/%d exceed input %d", p.Number, p.RawSize, p.DecodedSize, len(data))
			}
			if !p.IsMultipart() && p.Message == nil && streamed[p.Number] < p.DecodedSize {
				t.Fatalf("part %s: DecodedSize %d but %d bytes streamed", p.Number, p.DecodedSize, streamed[p.Number])
			}
			if !utf8.ValidString(p.Preview) || len(p.RawPreview) > 64 {
				t.Fatalf("part %s: bad preview", p.Number)
			}
		})
	})
}

// FuzzWords checks that header text of any kind comes back unchanged
// through EncodeWords and DecodeWords, and that every line fits.
func FuzzWords(f *testing.F) {
	for _, s := range []string{"Crêpes à Paris", " leading", "=?utf-8?q?x?=", "a  b\tc", "😀😀😀 long " + strings.Repeat("word ", 30)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n") {
			return
		}
		enc := EncodeWords(s, len("Subject: "))
		for i, l := range strings.Split("Subject: "+enc, "\r\n") {
			if len(l) > MaxLine && strings.Contains(enc, "=?") {
				t.Fatalf("line %d is %d long: %q", i, len(l), l)
			}
		}
		unfolded := strings.ReplaceAll(enc, "\r\n", "")
		got, err := DecodeWords(unfolded)
		if err != nil || got != s {
			t.Fatalf("DecodeWords(EncodeWords(%q)) = %q, %v (encoded %q)", s, got, err, enc)
		}
	})
}

// FuzzReceived must never panic on any Received field.
func FuzzReceived(f *testing.F) {
	f.Add("from a (b [1.2.3.4]) by c with ESMTPS id x for <d@e>; Fri, 1 Mar 2024 12:00:00 +0000")
	f.Add("(((\\")
	f.Fuzz(func(t *testing.T, s string) {
		h := ParseReceived(s)
		if h.Raw != s {
			t.Fatal("Raw changed")
		}
	})
}

// FuzzB64Reader checks the chunked base64 decoder against the standard
// library's own stream decoder, with white space anywhere.
func FuzzB64Reader(f *testing.F) {
	f.Add([]byte("QUJD\r\nREVG\r\n"), uint8(3))
	f.Add([]byte("QU JD\tRA==\n"), uint8(1))
	f.Add([]byte("QUJ*"), uint8(7))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		got, gerr := io.ReadAll(newB64Reader(&chunkReader{b: in, n: int(chunk)%9 + 1}))
		clean := bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, in)
		want, werr := io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(clean)))
		if (gerr == nil) != (werr == nil) || (gerr == nil && !bytes.Equal(got, want)) {
			t.Fatalf("b64Reader(%q) = %q, %v; base64.NewDecoder = %q, %v", in, got, gerr, want, werr)
		}
	})
}

// chunkReader returns at most n bytes per Read, to cross every boundary.
type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[k:]
	return k, nil
}
