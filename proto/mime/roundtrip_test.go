package mime

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"net/mail"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// alphabet mixes ASCII with the scripts students write in, plus the
// characters that stress encoders: "=", "?", "_", quotes, tabs.
var alphabet = []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?=_-\"'()<>@" +
	"éèêàçñüößøåÆŒ€£" + "привет" + "你好世界" + "日本語テキスト" + "한국어" + "😀☕🥞" + "\u00a0")

func randText(rng *rand.Rand, max int) string {
	n := rng.Intn(max + 1)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteRune(alphabet[rng.Intn(len(alphabet))])
	}
	return b.String()
}

// randBody is multi-line text, sometimes with very long lines, trailing
// spaces and a missing final newline.
func randBody(rng *rand.Rand) string {
	var lines []string
	for i := rng.Intn(8); i >= 0; i-- {
		l := randText(rng, 40)
		if rng.Intn(5) == 0 {
			l = strings.Repeat(l+" ", 1+rng.Intn(10))
		}
		lines = append(lines, l)
	}
	s := strings.Join(lines, "\n")
	if rng.Intn(2) == 0 {
		s += "\n"
	}
	return s
}

type wantAttachment struct {
	name string
	data []byte
}

// TestRoundTrip is the property decode(encode(x)) == x: random subjects,
// display names, bodies and binary or text attachments with non-ASCII
// names come back byte for byte from Parse, for LF and CRLF messages.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for i := 0; i < 300; i++ {
		m := Message{
			From:      fmt.Sprintf("%q <alice%d@crepes.fr>", randText(rng, 30), i),
			To:        []string{fmt.Sprintf("%q <bob@hamburger.edu>, carol@example.org", randText(rng, 20))},
			Subject:   randText(rng, 120),
			Text:      randBody(rng),
			CRLF:      rng.Intn(2) == 0,
			Date:      time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
			MessageID: fmt.Sprintf("<%d@crepes.fr>", i),
			Headers:   []Field{{"X-Note", strings.TrimSpace(randText(rng, 50))}},
		}
		if rng.Intn(4) == 0 {
			m.Subject = "  " + m.Subject + "\t x  " // whitespace that only encoding keeps
		}
		if rng.Intn(2) == 0 {
			m.HTML = "<p>" + randBody(rng) + "</p>"
		}
		var atts []wantAttachment
		for j := rng.Intn(4); j > 0; j-- {
			data := make([]byte, rng.Intn(5000))
			rng.Read(data)
			name := strings.NewReplacer("/", "", "\\", "").Replace(randText(rng, 15)) + ".bin"
			if rng.Intn(3) == 0 {
				data = []byte(randBody(rng)) // text, sent as text where it can be
				if m.CRLF {
					data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
				}
				name = strings.TrimSuffix(name, ".bin") + ".txt"
			}
			m.Attachments = append(m.Attachments, Attachment{Name: name, Reader: bytes.NewReader(data)})
			atts = append(atts, wantAttachment{name, data})
		}
		raw, err := Compose(m)
		if err != nil {
			t.Fatalf("case %d: Compose: %v", i, err)
		}
		checkLines(t, i, raw)
		tree, content := parseCollect(t, bytes.NewReader(raw))
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("case %d: %s\nmessage:\n%s", i, fmt.Sprintf(format, args...), raw)
		}
		if got := Get(tree.Headers, "Subject"); got != m.Subject {
			fail("Subject = %q, want %q", got, m.Subject)
		}
		if got := Get(tree.Headers, "X-Note"); got != m.Headers[0].Value {
			fail("X-Note = %q, want %q", got, m.Headers[0].Value)
		}
		sameAddrs(t, fail, headerValue(tree.Headers, "From"), m.From)
		sameAddrs(t, fail, headerValue(tree.Headers, "To"), m.To[0])
		if len(tree.Warnings) != 0 && m.CRLF {
			fail("warnings: %v", tree.Warnings)
		}
		eol := "\n"
		if m.CRLF {
			eol = "\r\n"
		}
		var texts []string
		var got []wantAttachment
		tree.Body.Walk(func(p *Part) {
			if len(p.Warnings) > 0 {
				fail("part %s warnings: %v", p.Number, p.Warnings)
			}
			switch {
			case p.Disposition == "attachment":
				got = append(got, wantAttachment{p.Filename, content[p.Number]})
			case p.IsText():
				texts = append(texts, string(content[p.Number]))
			}
		})
		wantTexts := []string{}
		if m.Text != "" || m.HTML == "" && len(atts) == 0 {
			wantTexts = append(wantTexts, strings.ReplaceAll(m.Text, "\n", eol))
		}
		if m.HTML != "" {
			wantTexts = append(wantTexts, strings.ReplaceAll(m.HTML, "\n", eol))
		}
		if fmt.Sprintf("%q", texts) != fmt.Sprintf("%q", wantTexts) {
			fail("texts differ:\n got %q\nwant %q", texts, wantTexts)
		}
		if len(got) != len(atts) {
			fail("%d attachments, want %d", len(got), len(atts))
		}
		for j := range atts {
			if got[j].name != atts[j].name || !bytes.Equal(got[j].data, atts[j].data) {
				fail("attachment %d = %q (%d bytes), want %q (%d bytes)", j, got[j].name, len(got[j].data), atts[j].name, len(atts[j].data))
			}
		}
	}
}

func sameAddrs(t *testing.T, fail func(string, ...any), got, want string) {
	t.Helper()
	g, err := mail.ParseAddressList(got)
	if err != nil {
		fail("parse %q: %v", got, err)
	}
	w, _ := mail.ParseAddressList(want)
	if fmt.Sprint(g) != fmt.Sprint(w) {
		fail("addresses %v, want %v", g, w)
	}
}

// checkLines enforces the line rules of RFC 5322 §2.1.1 on Compose's output:
// at most 78 characters, and 7-bit only.
func checkLines(t *testing.T, i int, raw []byte) {
	t.Helper()
	for n, l := range strings.Split(string(raw), "\n") {
		l = strings.TrimSuffix(l, "\r")
		if len(l) > MaxLine {
			t.Fatalf("case %d: line %d is %d characters: %q\n%s", i, n+1, len(l), l, raw)
		}
		for _, c := range []byte(l) {
			if c >= 0x80 || c == '\r' {
				t.Fatalf("case %d: line %d has byte %#x: %q\n%s", i, n+1, c, l, raw)
			}
		}
	}
	if !utf8.Valid(raw) {
		t.Fatalf("case %d: output is not ASCII", i)
	}
}

// TestComposeStructure checks the shapes Compose promises and the
// encodings it chooses.
func TestComposeStructure(t *testing.T) {
	base := Message{From: "alice@crepes.fr", To: []string{"bob@hamburger.edu"}, MessageID: "<x@crepes.fr>"}
	jpeg := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00")
	cases := []struct {
		name  string
		edit  func(*Message)
		types []string // content types in Layout order
		encs  []string
	}{
		{"text only", func(m *Message) { m.Text = "Dear Bob,\n" }, []string{"text/plain; charset=us-ascii"}, []string{"7bit"}},
		{"accented text", func(m *Message) { m.Text = "Chère Alice, une crêpe ?\n" }, []string{"text/plain; charset=utf-8"}, []string{"quoted-printable"}},
		{"cyrillic text", func(m *Message) { m.Text = "Привет, Боб! Как дела?\n" }, []string{"text/plain; charset=utf-8"}, []string{"base64"}},
		{"long ascii line", func(m *Message) { m.Text = strings.Repeat("word ", 40) }, []string{"text/plain; charset=us-ascii"}, []string{"quoted-printable"}},
		{"alternative", func(m *Message) { m.Text, m.HTML = "hi\n", "<p>hi</p>\n" },
			[]string{"multipart/alternative", "text/plain; charset=us-ascii", "text/html; charset=us-ascii"}, []string{"", "7bit", "7bit"}},
		{"mixed", func(m *Message) {
			m.Text = "see picture\n"
			m.Attachments = []Attachment{{Name: "crêpe.jpg", Reader: bytes.NewReader(jpeg)}, {Name: "data", Reader: bytes.NewReader([]byte("%PDF-1.4\n"))}}
		}, []string{"multipart/mixed", "text/plain; charset=us-ascii", "image/jpeg", "application/pdf"}, []string{"", "7bit", "base64", "base64"}},
		{"attachment only, type given", func(m *Message) {
			m.Attachments = []Attachment{{Name: "notes.dat", ContentType: "text/plain", Reader: strings.NewReader("line\n")}}
		}, []string{"multipart/mixed", "text/plain; charset=us-ascii"}, []string{"", "7bit"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := base
			tc.edit(&m)
			var b bytes.Buffer
			lay, err := Encode(&b, m)
			if err != nil {
				t.Fatal(err)
			}
			var types, encs []string
			for _, p := range lay.Parts {
				types = append(types, p.ContentType)
				encs = append(encs, p.Encoding)
				if p.Why.Summary == "" && p.Boundary == "" {
					t.Errorf("part %s has no reason", p.Number)
				}
			}
			if fmt.Sprint(types) != fmt.Sprint(tc.types) || fmt.Sprint(encs) != fmt.Sprint(tc.encs) {
				t.Errorf("types %q encs %q, want %q %q\n%s", types, encs, tc.types, tc.encs, b.String())
			}
			if !strings.Contains(b.String(), "MIME-Version: 1.0\n") || !strings.Contains(b.String(), "Message-ID: <x@crepes.fr>\n") {
				t.Errorf("missing MIME-Version or Message-ID:\n%s", b.String())
			}
		})
	}
}

func TestComposeErrors(t *testing.T) {
	for _, m := range []Message{
		{},
		{From: "not an address"},
		{From: "a@b.c", To: []string{"bob@"}},
		{From: "a@b.c", Subject: "two\nlines"},
		{From: "a@b.c", Headers: []Field{{"Content-Type", "text/html"}}},
		{From: "a@b.c", Headers: []Field{{"Bad Name", "x"}}},
		{From: "a@b.c", MessageID: "no-brackets"},
		{From: "a@b.c", Attachments: []Attachment{{Path: "testdata/does-not-exist"}}},
		{From: "a@b.c", Text: "\xff\xfe"},
	} {
		if _, err := Compose(m); err == nil {
			t.Errorf("Compose(%+v) succeeded, want an error", m)
		}
	}
}

func TestEncodeWords(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Hello Bob", "Hello Bob"},
		{"Crêpes à Paris", "=?utf-8?q?Cr=C3=AApes_=C3=A0?= Paris"},
		{"=?not?q?a word?=", "=?utf-8?b?PT9ub3Q/cT9h?= word?="},
		{" leading", "=?utf-8?b?IGxlYWRpbmc=?="},
	} {
		if got := EncodeWords(tc.in, 9); got != tc.want {
			t.Errorf("EncodeWords(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if back, err := DecodeWords(EncodeWords(tc.in, 9)); err != nil || back != tc.in {
			t.Errorf("DecodeWords(EncodeWords(%q)) = %q, %v", tc.in, back, err)
		}
	}
}

// TestComposeStreams checks that a large attachment is streamed from a
// reader without the composer holding it.
func TestComposeStreams(t *testing.T) {
	const size = 8 << 20
	var n countingWriter
	_, err := Encode(&n, Message{From: "a@b.c", Attachments: []Attachment{{Name: "big.bin", Reader: io.LimitReader(zeroReader{}, size)}}})
	if err != nil {
		t.Fatal(err)
	}
	if n < size*4/3 {
		t.Fatalf("wrote %d bytes, want more than %d", n, size*4/3)
	}
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }
