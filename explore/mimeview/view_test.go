package mimeview

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/mime"
)

// crlf turns a readable test message into one with wire line ends.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// view parses msg and renders it as `mailx mime decode` does, colour off.
func view(t *testing.T, msg string, po mime.Options, o Options) string {
	t.Helper()
	tree, err := mime.Parse(strings.NewReader(msg), po)
	if err != nil {
		t.Fatalf("mime.Parse: %v", err)
	}
	var b bytes.Buffer
	if err := Tree(render.New(&b, render.Options{}), tree, o); err != nil {
		t.Fatalf("Tree: %v", err)
	}
	return b.String()
}

// inOrder checks that each want is a whole line of out, in this order,
// and returns their line numbers.
func inOrder(t *testing.T, out string, want ...string) []int {
	t.Helper()
	lines := strings.Split(out, "\n")
	var at []int
	from := 0
	for _, w := range want {
		found := -1
		for i := from; i < len(lines); i++ {
			if lines[i] == w {
				found = i
				break
			}
		}
		if found < 0 {
			t.Fatalf("no line %q after line %d in:\n%s", w, from, out)
		}
		at = append(at, found)
		from = found + 1
	}
	return at
}

// lineWith returns the first line of out holding sub, failing without one.
func lineWith(t *testing.T, out, sub string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	t.Fatalf("no line holds %q in:\n%s", sub, out)
	return ""
}

const alternative = `From: Alice <alice@crepes.test>
To: bob@hamburger.test
Date: Tue, 01 Dec 2026 10:00:00 +0000
Message-ID: <alt@crepes.test>
Subject: =?utf-8?q?Cr=C3=AApes?= tonight
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Caf=C3=A9 tonight?
--alt
Content-Type: text/html; charset=utf-8

<p>Caf&eacute; tonight?</p>
--alt--
`

func TestTreeAlternative(t *testing.T) {
	out := view(t, crlf(alternative), mime.Options{}, Options{Source: "alt.eml"})
	inOrder(t, out,
		"== Header",
		"  Subject: =?utf-8?q?Cr=C3=AApes?= tonight",
		"    decoded: Crêpes tonight",
		"== Body",
		`body  multipart/alternative  boundary="alt"  2 parts, 202 bytes`,
		"  1  text/plain; charset=utf-8  quoted-printable  18 bytes raw, 14 bytes decoded",
		"    | Café tonight?", // the preview is decoded, and belongs to part 1
		"  2  text/html; charset=utf-8  7bit (default)  27 bytes raw",
		"    | <p>Caf&eacute; tonight?</p>",
	)
	first := strings.SplitN(out, "\n", 2)[0]
	if !strings.HasPrefix(first, "== Message alt.eml: ") || !strings.HasSuffix(first, ", lines end in CRLF, 3 parts") {
		t.Errorf("first line = %q; want the source, the line ends and 3 parts (the multipart counts)", first)
	}
	// A well-formed message gets no warning.
	if strings.Contains(out, "warning:") {
		t.Errorf("a well-formed message got a warning:\n%s", out)
	}
	// What multipart/alternative means is explained, right under it.
	alt := inOrder(t, out, `body  multipart/alternative  boundary="alt"  2 parts, 202 bytes`)[0]
	next := strings.Split(out, "\n")[alt+1]
	if !strings.HasPrefix(next, "   note: multipart/alternative: ") || !strings.Contains(next, "[RFC 2046 §5.1.4]") {
		t.Errorf("line after the multipart = %q; want its note with the RFC", next)
	}
}

const attachments = `From: alice@crepes.test
To: bob@hamburger.test
Date: Tue, 01 Dec 2026 10:00:00 +0000
Message-ID: <att@crepes.test>
Subject: the pictures
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mix"

--mix
Content-Type: text/plain; charset=us-ascii

Two files attached.
--mix
Content-Type: application/pdf
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename*=utf-8''caf%C3%A9.pdf

JVBERi0xLjQK
--mix
Content-Type: image/png; name="dot.png"
Content-Transfer-Encoding: base64
Content-Disposition: inline
Content-ID: <dot@crepes.test>

iVBORw0KGgo=
--mix--
`

func TestTreeAttachments(t *testing.T) {
	out := view(t, crlf(attachments), mime.Options{}, Options{})
	inOrder(t, out,
		`body  multipart/mixed  boundary="mix"  3 parts, 396 bytes`,
		"  1  text/plain; charset=us-ascii  7bit (default)  19 bytes raw",
		"    | Two files attached.",
		// The RFC 2231 file name is decoded; the sizes show what base64 costs.
		`  2  application/pdf  base64  12 bytes raw, 9 bytes decoded  attachment "café.pdf"`,
		`  3  image/png; name=dot.png  base64  12 bytes raw, 8 bytes decoded  inline "dot.png"`,
	)
	// A part's own field beyond the Content-Type/Encoding/Disposition trio
	// is shown under it (the parser may canonicalise the name's case).
	lines := strings.Split(out, "\n")
	p3 := inOrder(t, out, `  3  image/png; name=dot.png  base64  12 bytes raw, 8 bytes decoded  inline "dot.png"`)[0]
	if !strings.EqualFold(lines[p3+1], "    Content-ID: <dot@crepes.test>") {
		t.Errorf("line after part 3 = %q; want its Content-ID field", lines[p3+1])
	}
	for _, l := range lines {
		if strings.Contains(l, "Content-Transfer-Encoding") || strings.Contains(l, "Content-Disposition") {
			t.Errorf("a part's Content-* field repeated as a line of its own: %q", l)
		}
	}
	// base64 is explained once, at its first use, however many parts use it.
	if n := strings.Count(out, "note: base64:"); n != 1 {
		t.Errorf("the base64 note appears %d times; want once:\n%s", n, out)
	}
	// An attachment's content is never previewed: only the text part has "|" lines.
	if n := strings.Count(out, "| "); n != 1 {
		t.Errorf("%d preview lines; want 1 (the text part's):\n%s", n, out)
	}
}

const nested = `From: alice@crepes.test
To: bob@hamburger.test
Date: Tue, 01 Dec 2026 10:00:00 +0000
Message-ID: <fwd@crepes.test>
Subject: Fwd: lunch
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain

See below.
--outer
Content-Type: message/rfc822

From: carol@x.test
Subject: =?utf-8?q?d=C3=A9jeuner?=
Content-Type: multipart/mixed; boundary="inner"

--inner
Content-Type: text/plain

inner text
--inner
Content-Type: image/png; name=dot.png
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--inner--
--outer--
`

func TestTreeNestedMessage(t *testing.T) {
	out := view(t, crlf(nested), mime.Options{}, Options{})
	inOrder(t, out,
		"  1  text/plain; charset=us-ascii  7bit (default)  10 bytes raw",
		"  2  message/rfc822",
		"    enclosed message header:",
		"      From: carol@x.test",
		"      Subject: =?utf-8?q?d=C3=A9jeuner?=",
		"        decoded: déjeuner",
		// The enclosed message's body is one level deeper, numbered as IMAP does.
		`    body  multipart/mixed  boundary="inner"  2 parts, 157 bytes`,
		"      2.1  text/plain; charset=us-ascii  7bit (default)  10 bytes raw",
		"        | inner text",
		`      2.2  image/png; name=dot.png  base64  12 bytes raw, 8 bytes decoded  file "dot.png"`,
	)
	if !strings.Contains(out, ", 6 parts\n") {
		t.Errorf("the part count misses the enclosed parts:\n%s", strings.SplitN(out, "\n", 2)[0])
	}
	// The outer From field was explained; the enclosed one is not explained again.
	if n := strings.Count(out, "note: From:"); n != 1 {
		t.Errorf("From explained %d times; want once", n)
	}
	if n := strings.Count(out, "note: multipart/mixed:"); n != 1 {
		t.Errorf("multipart/mixed explained %d times; want once", n)
	}
}

func TestTreeBadInput(t *testing.T) {
	msg := crlf("Subject: bad \xff\x1b[31mred\n" +
		"Content-Type: multipart/mixed; boundary=b\n" +
		"\n" +
		"--b\n" +
		"Content-Type: text/plain; charset=x-klingon\n" +
		"Content-Transfer-Encoding: base64\n" +
		"\n" +
		"!!!notbase64\n" +
		"--b\n" +
		"Content-Type: text/plain\n" +
		"\n" +
		"hi \x1b[2J there\n")
	out := view(t, msg, mime.Options{}, Options{})
	// Terminal escapes in the header or the body never reach the terminal.
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\xff") {
		t.Errorf("raw control or non-UTF-8 bytes in the output: %q", out)
	}
	inOrder(t, out,
		`  Subject: bad \xFF\x1B[31mred`,
		"    | hi \\x1B[2J there",
	)
	for _, want := range []string{
		"warning: Subject holds 8-bit bytes that are not UTF-8",
		"warning: no From field",
		"warning: no Date field",
		`warning: the closing boundary "--b--" is missing`,
		`warning: unknown charset "x-klingon"`,
		"warning: bad base64 at encoded character 0",
	} {
		lineWith(t, out, want)
	}
	// Each warning sits under the part it is about: the charset and base64
	// ones under part 1, before part 2 begins.
	lines := strings.Split(out, "\n")
	p1 := inOrder(t, out, "  1  text/plain; charset=x-klingon  base64  12 bytes raw, 0 bytes decoded")[0]
	p2 := inOrder(t, out, "  2  text/plain; charset=us-ascii  7bit (default)  13 bytes raw")[0]
	between := strings.Join(lines[p1:p2], "\n")
	if !strings.Contains(between, "x-klingon\": the text") || !strings.Contains(between, "bad base64") {
		t.Errorf("part 1's warnings are not under part 1:\n%s", between)
	}
}

func TestTreeEmptyAndHeaderOnly(t *testing.T) {
	out := view(t, "", mime.Options{}, Options{})
	inOrder(t, out,
		"== Message: 0 bytes, 1 part",
		"== Header",
		"== Body",
		"1  text/plain; charset=us-ascii  7bit (default)  0 bytes raw",
	)
	lineWith(t, out, "warning: the message has no header fields")

	out = view(t, "Subject: only a header", mime.Options{}, Options{})
	if strings.Contains(out, "lines end in") {
		t.Errorf("a single unterminated line has no line-end style to report:\n%s", out)
	}
	lineWith(t, out, "  Subject: only a header")
}

func TestTreePreviewIsCappedWithHint(t *testing.T) {
	var body strings.Builder
	for i := 1; i <= 20; i++ {
		body.WriteString("line " + strings.Repeat("x", i) + "\n")
	}
	msg := crlf("From: a@b.test\nSubject: long\n\n" + body.String())
	out := view(t, msg, mime.Options{}, Options{PreviewLines: 3, Hint: "mailx mime decode long.eml --part %s"})
	inOrder(t, out, "  | line x", "  | line xx", "  | line xxx")
	if strings.Contains(out, "| line xxxx\n") {
		t.Errorf("more than PreviewLines lines shown:\n%s", out)
	}
	// The 17 lines left out are 17 × 6 bytes plus 4+5+...+20 x's: 306 bytes.
	inOrder(t, out, "  | ... 306 bytes more; see it whole: mailx mime decode long.eml --part 1")

	// Without a hint (standard input), no command is suggested; the default is 10 lines.
	out = view(t, msg, mime.Options{}, Options{})
	if strings.Contains(out, "see it whole") {
		t.Errorf("a hint without Options.Hint:\n%s", out)
	}
	if n := strings.Count(out, "  | line "); n != 10 {
		t.Errorf("%d preview lines by default; want 10", n)
	}
}

func TestTreeRoute(t *testing.T) {
	msg := crlf(`Received: from a.test by b.test; Tue, 1 Dec 2026 10:00:00 +0000
Received: from c.test by a.test; Tue, 1 Dec 2026 09:58:00 +0000
Received: garbage without a date
From: a@c.test

hi
`)
	out := view(t, msg, mime.Options{}, Options{})
	inOrder(t, out,
		"== Route: 3 hops, from the bottom Received field up",
		"  1.",
		"     at: (no readable time)",
		"  2. from c.test by a.test",
		"     at: Tue, 01 Dec 2026 09:58:00 +0000",
		"  3. from a.test by b.test",
		"     at: Tue, 01 Dec 2026 10:00:00 +0000  (+2m0s)", // the delay since the hop before
	)
	if out2 := view(t, crlf("From: a@b.test\n\nhi\n"), mime.Options{}, Options{}); strings.Contains(out2, "Route") {
		t.Errorf("a route heading without Received fields:\n%s", out2)
	}
}

func TestTreeDeliveryStatus(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "proto", "mime", "testdata", "bounces", "postfix.eml"))
	if err != nil {
		t.Fatal(err)
	}
	out := view(t, string(b), mime.Options{}, Options{})
	inOrder(t, out,
		"  2  message/delivery-status  7bit (default)  446 bytes raw",
		"    delivery status, field by field:",
		"      Reporting-MTA: mail.example.org  (the server that wrote this report)",
		"      recipient 1 of 1:",
		"        Final-Recipient: bob@example.net  (the address delivery was tried to)",
		"        Status: 5.1.1  (permanent failure: the mailbox does not exist)",
		"        Remote-MTA: mx.example.net  (the server that gave the answer below)",
	)
	diag := lineWith(t, out, "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>")
	if !strings.HasSuffix(diag, "(that server's own reply, word for word)") {
		t.Errorf("Diagnostic-Code line = %q; want it called the server's own reply", diag)
	}
	lineWith(t, out, "note: a bounce: the receiving side's report on each recipient")
}

func TestTreeRaw(t *testing.T) {
	out := view(t, crlf(alternative), mime.Options{RawPreview: 4096}, Options{Raw: true})
	inOrder(t, out,
		"  1  text/plain; charset=utf-8  quoted-printable  18 bytes raw, 14 bytes decoded",
		"    raw: Caf=C3=A9 tonight?",
		"      = Café tonight?",
		"    | Café tonight?",
	)
	lineWith(t, out, `note: =C3=A9 is "é": 2 bytes of utf-8 making one character`)
	// Explained once: with --raw the 7bit part's encoding note is not repeated.
	if n := strings.Count(out, "note: 7bit:"); n != 1 {
		t.Errorf("the 7bit note appears %d times; want once:\n%s", n, out)
	}
}

func TestTreeJSON(t *testing.T) {
	tree, err := mime.Parse(strings.NewReader(crlf(nested)), mime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Tree(render.New(&b, render.Options{JSON: true}), tree, Options{Source: "x"}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		PartCount int `json:"part_count"`
		Body      struct {
			ContentType string `json:"content_type"`
			Parts       []struct {
				Number         string `json:"number"`
				ContentType    string `json:"content_type"`
				MessageHeaders []struct {
					Name, Decoded string
				} `json:"message_headers"`
				Parts []struct {
					Parts []struct{ Number string } `json:"parts"`
				} `json:"parts"`
			} `json:"parts"`
		} `json:"body"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("JSON mode wrote something that is not one JSON document: %v\n%s", err, b.String())
	}
	if strings.Contains(b.String(), "== ") {
		t.Errorf("text headings in JSON mode:\n%s", b.String())
	}
	if got.PartCount != 6 || got.Body.ContentType != "multipart/mixed" || len(got.Body.Parts) != 2 {
		t.Fatalf("JSON tree = %+v", got)
	}
	fwd := got.Body.Parts[1]
	if fwd.Number != "2" || fwd.ContentType != "message/rfc822" || len(fwd.MessageHeaders) != 3 ||
		fwd.MessageHeaders[1].Decoded != "déjeuner" || len(fwd.Parts) != 1 || len(fwd.Parts[0].Parts) != 2 ||
		fwd.Parts[0].Parts[1].Number != "2.2" {
		t.Errorf("enclosed message in JSON = %+v", fwd)
	}
}

func TestRawPart(t *testing.T) {
	var found *mime.Part
	_, err := mime.Parse(strings.NewReader(crlf(attachments)), mime.Options{RawPreview: 4096,
		OnPart: func(p *mime.Part, _ io.Reader) error {
			if p.Number == "2" {
				found = p
			}
			return nil
		}})
	if err != nil || found == nil {
		t.Fatalf("parse: %v, part 2 found: %v", err, found != nil)
	}
	var b bytes.Buffer
	if err := RawPart(render.New(&b, render.Options{}), found); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	inOrder(t, out,
		"== Part 2: application/pdf, base64, 12 bytes encoded",
		"raw: JVBERi0xLjQK",
		"  = 9 bytes: 25 50 44 46 2d 31 2e 34 0a", // %PDF-1.4\n
	)
	lineWith(t, out, "note: base64: each 4 characters are 3 bytes")

	b.Reset()
	if err := RawPart(render.New(&b, render.Options{JSON: true}), found); err != nil {
		t.Fatal(err)
	}
	var lines []map[string]any
	if err := json.Unmarshal(b.Bytes(), &lines); err != nil || len(lines) != 1 || lines[0]["raw"] != "JVBERi0xLjQK" {
		t.Errorf("RawPart JSON = %s (%v); want one line with its raw text", b.String(), err)
	}
}
