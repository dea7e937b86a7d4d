package mime

import (
	"bytes"
	"github.com/mailx-edu/mailx/proto/note"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// parseFile parses a testdata message and collects each leaf's content.
func parseFile(t *testing.T, name string) (*Tree, map[string][]byte) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return parseCollect(t, f)
}

func parseCollect(t *testing.T, r io.Reader) (*Tree, map[string][]byte) {
	t.Helper()
	content := map[string][]byte{}
	tree, err := Parse(r, Options{OnPart: func(p *Part, c io.Reader) error {
		b, err := io.ReadAll(c)
		content[p.Number] = b
		return err
	}})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tree, content
}

func TestParseCrepe(t *testing.T) {
	tree, content := parseFile(t, "testdata/crepe.eml")
	if got := tree.Body.ContentType; got != "multipart/mixed" {
		t.Fatalf("body type = %q, want multipart/mixed", got)
	}
	if len(tree.Body.Parts) != 2 {
		t.Fatalf("got %d parts, want 2", len(tree.Body.Parts))
	}
	text, img := tree.Body.Parts[0], tree.Body.Parts[1]
	if text.Number != "1" || text.ContentType != "text/plain" || text.Encoding != "quoted-printable" || text.Charset != "us-ascii" {
		t.Errorf("part 1 = %+v", text)
	}
	if want := "Dear Bob,\nPlease find a picture of a crepe."; string(content["1"]) != want || text.Preview != want {
		t.Errorf("part 1 content %q preview %q, want %q", content["1"], text.Preview, want)
	}
	jpg := content["2"]
	if img.Number != "2" || img.ContentType != "image/jpeg" || !bytes.HasPrefix(jpg, []byte{0xff, 0xd8}) || !bytes.HasSuffix(jpg, []byte{0xff, 0xd9}) {
		t.Errorf("part 2 = %+v, content starts % x", img, jpg[:min(4, len(jpg))])
	}
	if img.DecodedSize != int64(len(jpg)) || img.RawSize <= img.DecodedSize {
		t.Errorf("part 2 sizes raw %d decoded %d, content %d", img.RawSize, img.DecodedSize, len(jpg))
	}
	if tree.LineEnds != "LF" || !hasWarning(tree, "bare LF") || !hasWarning(tree, "no Date") {
		t.Errorf("line ends %q, warnings %v", tree.LineEnds, tree.Warnings)
	}
	if len(img.Warnings)+len(text.Warnings)+len(tree.Body.Warnings) != 0 {
		t.Errorf("unexpected part warnings: %v %v %v", tree.Body.Warnings, text.Warnings, img.Warnings)
	}
}

func TestParseNewsletter(t *testing.T) {
	tree, content := parseFile(t, "testdata/newsletter.eml")
	if tree.LineEnds != "CRLF" {
		t.Errorf("line ends = %q, want CRLF", tree.LineEnds)
	}
	if got := Get(tree.Headers, "subject"); got != "Vote for your favourite café ☕" {
		t.Errorf("Subject = %q", got)
	}
	if tree.Body.ContentType != "multipart/alternative" || len(tree.Body.Parts) != 2 {
		t.Fatalf("body = %s with %d parts", tree.Body.ContentType, len(tree.Body.Parts))
	}
	text := string(content["1"])
	if !strings.HasPrefix(text, "\uFEFFEat, shop and stay") || !strings.Contains(text, "live music, comedy") ||
		!strings.Contains(text, "cafés") || !strings.Contains(text, "Poll — your favourite") || !strings.Contains(text, "?m=001HGjy") {
		t.Errorf("text part decoded wrongly:\n%s", text)
	}
	html := string(content["2"])
	if !strings.Contains(html, `content="width=device-width, initial-scale=1.0"`) || !strings.Contains(html, "favourite café</h1>") {
		t.Errorf("html part decoded wrongly:\n%s", html)
	}
	if len(tree.Hops) != 3 {
		t.Fatalf("got %d hops, want 3", len(tree.Hops))
	}
	h := tree.Hops
	if !strings.HasPrefix(h[0].From, "scheduler.mailer.example") || h[2].By != "imap.hamburger.edu" || h[1].With != "ESMTPS" || h[1].For != "<bob@hamburger.edu>" {
		t.Errorf("hops = %+v", h)
	}
	if h[0].HasDelay || !h[1].HasDelay || h[1].Delay != 2*time.Second || h[2].Delay != 3*time.Second {
		t.Errorf("delays = %v %v %v", h[0].Delay, h[1].Delay, h[2].Delay)
	}
	if len(tree.Warnings) != 0 {
		t.Errorf("unexpected warnings: %v", tree.Warnings)
	}
	if n, ok := HeaderNote("DKIM-Signature", Get(tree.Headers, "DKIM-Signature")); !ok || !strings.Contains(n.Summary, "riverside-market.example") {
		t.Errorf("DKIM note = %+v", n)
	}
}

// TestLFFileIsNotSuspicious: a message saved with LF line ends, as mailx
// mime encode writes one, gets a note, not a warning about smuggling;
// mixed line ends still get the warning.
func TestLFFileIsNotSuspicious(t *testing.T) {
	lf, _ := parseCollect(t, strings.NewReader("From: a@b.c\nDate: Fri, 01 Mar 2024 12:00:00 +0000\nMessage-ID: <1@b.c>\n\nbody\n"))
	for _, w := range lf.Warnings {
		if w.Severity != note.Info || strings.Contains(w.Detail, "smuggle") {
			t.Errorf("an LF file gets %v %q: %s", w.Severity, w.Summary, w.Detail)
		}
	}
	mixed, _ := parseCollect(t, strings.NewReader("From: a@b.c\r\n\r\nbody\nmore\r\n"))
	if !hasWarning(mixed, "mixed line ends") {
		t.Errorf("mixed line ends: warnings %v", mixed.Warnings)
	}
}

func hasWarning(tree *Tree, sub string) bool {
	for _, w := range tree.Warnings {
		if strings.Contains(w.Summary, sub) {
			return true
		}
	}
	return false
}
